"""YAML read as YAML 1.2: GitHub workflows get check-jsonschema's verdicts, and scalars resolve as
ruamel.yaml (check-jsonschema's reader) resolves them in YAML 1.2 mode.

check-jsonschema and ruamel.yaml are test dependencies (`pip install -e '.[test]'`); without them
these tests skip on a developer machine and FAIL under CI=true.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from loopgate.gates import schema
from loopgate.gates._schema.fast import fast_path
from loopgate.gates._schema.reading import Parsed, parse
from loopgate.gates._schema.yaml12 import load_all
from loopgate.gates.base import GateContext, GateStatus

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "tests" / "example-files" / "github-workflows"


def _need(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed: pip install -e '.[test]'")
    pytest.skip(f"{what} is not installed")


def _check_jsonschema() -> str:
    beside = Path(sys.executable).parent / "check-jsonschema"
    found = str(beside) if beside.exists() else shutil.which("check-jsonschema")
    if found is None:
        _need("check-jsonschema")
    return str(found)


def _workflow_schema() -> Path:
    """GitHub's workflow schema as SchemaStore publishes it: the shared copy beside the project, else the
    copy check-jsonschema vendors (the same file)."""
    for candidate in (ROOT.parent / "shared" / "schemas", ROOT.parents[1] / "shared" / "schemas"):
        if (candidate / "github-workflows.json").is_file():
            return candidate / "github-workflows.json"
    try:
        import check_jsonschema
    except ImportError:
        _need("check-jsonschema")
    vendored = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"
    assert vendored.is_file(), vendored
    return vendored


def test_github_workflows_get_check_jsonschemas_verdicts(tmp_path: Path) -> None:
    files = sorted(p for p in WORKFLOWS.iterdir() if p.suffix in (".yml", ".yaml"))
    assert len(files) >= 15
    workflow_schema = _workflow_schema()
    done = subprocess.run([_check_jsonschema(), "--schemafile", str(workflow_schema), "-o", "json",
                           *map(str, files)], capture_output=True, text=True, check=False, timeout=120)
    report = json.loads(done.stdout)
    assert not report["parse_errors"], report["parse_errors"]
    theirs = {Path(e["filename"]).name for e in report["errors"]}

    result = schema.run(schema.Options(files=(str(WORKFLOWS),), schema=str(workflow_schema)), GateContext())
    ours = {Path(f.path).name for f in result.findings}

    assert ours == theirs
    # The fixtures mean something: the valid ones cover the triggers, the invalid ones are caught.
    assert theirs == {p.name for p in files if p.name.startswith("invalid-")}
    assert result.status is GateStatus.FAILED
    assert {f.code for f in result.findings} == {"LG451"}
    # `on:` is read as the key "on" (YAML 1.1 made it `true`, and every workflow failed).
    assert not any("True" in f.message or "'on'" in f.message for f in result.findings)


def test_a_workflow_error_points_at_the_value(tmp_path: Path) -> None:
    result = schema.run(schema.Options(files=(str(WORKFLOWS / "invalid-timeout-type.yml"),),
                                       schema=str(_workflow_schema())), GateContext())
    assert [(f.line, f.column) for f in result.findings] == [(5, 22)]
    assert "$.jobs.test" in result.findings[0].message


# Plain scalars and what YAML 1.2 (ruamel.yaml's default version) makes of them.
SCALARS = [
    "on", "off", "yes", "no", "y", "n", "On", "OFF", "Yes", "NO",  # YAML 1.1 booleans: strings now
    "true", "True", "TRUE", "false", "False", "FALSE",
    "null", "Null", "NULL", "~", "",
    "0", "7", "-3", "+12", "0777", "0o17", "0x1F", "0xff", "-0o7",
    "1.5", "-1.5", "1e3", "1.5e-3", ".5", "1.", "+.inf", "-.inf", ".inf", ".Inf", ".NaN", ".nan",
    "2026-01-01", "2026-01-01T10:00:00Z", "1:30", "12:30:00", "<<x", "0b101x", "1.2.3", "v1",
]


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_resolve_as_ruamel_yaml_12_resolves_them(scalar: str) -> None:
    try:
        from ruamel.yaml import YAML
    except ImportError:
        _need("ruamel.yaml (installed with check-jsonschema)")
    reader = YAML(typ="safe", pure=True)
    theirs = reader.load(io.StringIO(f"k: {scalar}\n"))["k"]
    ours = load_all(f"k: {scalar}\n")[0][0]["k"]
    if isinstance(theirs, float) and math.isnan(theirs):
        assert isinstance(ours, float) and math.isnan(ours)
        return
    if hasattr(theirs, "isoformat"):  # ruamel makes dates; check-jsonschema turns them back into text
        theirs = scalar
    assert (type(ours), ours) == (type(theirs), theirs)


def test_where_we_differ_from_ruamel_yaml_we_follow_the_yaml_12_core_schema() -> None:
    # ruamel.yaml reads `1_000` and `0b101` as numbers (YAML 1.1 forms it keeps) and refuses `=`
    # (a YAML 1.1 "value" tag it cannot construct); YAML 1.2's core schema makes all three strings.
    assert load_all("a: 1_000\nb: 0b101\nc: =\n")[0] == [{"a": "1_000", "b": "0b101", "c": "="}]


def test_keys_that_are_not_strings_are_read_as_json_text() -> None:
    documents, duplicates = load_all("1.5: a\nnull: b\ntrue: c\n0x10: d\n~: e\n")
    assert documents == [{"1.5": "a", "null": "e", "true": "c", "16": "d"}]
    assert [node.value for node in duplicates] == ["~"]  # `null` and `~` are the same key


def test_merge_keys_are_not_duplicates() -> None:
    documents, duplicates = load_all("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n")
    assert documents == [{"base": {"x": 1, "y": 2}, "m": {"x": 3, "y": 2}}]
    assert duplicates == []


def _yaml_gate(tmp_path: Path, text: str, schema_text: str = "{}", **options: Any) -> list[tuple[int, int, str]]:
    (tmp_path / "s.json").write_text(schema_text, encoding="utf-8")
    (tmp_path / "d.yaml").write_text(text, encoding="utf-8")
    result = schema.run(schema.Options(files=("d.yaml",), schema="s.json", **options), GateContext(str(tmp_path)))
    return [(f.line, f.column, f.code) for f in result.findings]


def test_positions_are_exact_after_yaml_11_line_breaks_inside_strings(tmp_path: Path) -> None:
    # NEL, LS and PS end lines in YAML 1.1 (and PyYAML's marks); not in YAML 1.2 nor in an editor.
    text = 'a: "x\x85y\u2028z\u2029"\nb: 1\nc: two\n'
    assert _yaml_gate(tmp_path, text, '{"properties": {"c": {"type": "integer"}}}') == [(3, 4, "LG451")]


_VALUES = st.sampled_from(["on", "yes", "no", "1", "1.5", "null", "[]", "{}", "true", "'x'", "~", "0o7", "0x1F",
                           ".inf", "2026-01-01", "[push]", "{branches: [main]}", "ubuntu-latest", "${{ x }}"])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_fast_path_agrees_with_jsonschema_on_mutated_workflows(data: st.DataObject) -> None:
    """The fast path answers "valid?" for most workflows without jsonschema: on workflows with lines
    dropped, repeated and values replaced, its answer is jsonschema's, both ways."""
    workflow_schema = json.loads(_workflow_schema().read_text(encoding="utf-8"))
    validator = Draft7Validator(workflow_schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    fast = fast_path(validator)
    assert fast is not None
    files = sorted(p for p in WORKFLOWS.iterdir() if p.suffix in (".yml", ".yaml"))
    lines = data.draw(st.sampled_from(files)).read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "repeat", "value"]))
        if action == "drop":
            del lines[at]
        elif action == "repeat":
            lines.insert(at, lines[data.draw(st.integers(0, len(lines) - 1))])
        elif ": " in lines[at]:
            lines[at] = lines[at].partition(": ")[0] + ": " + data.draw(_VALUES)
    parsed = parse("yaml", "\n".join(lines).encode(), "w.yml")
    if isinstance(parsed, Parsed):
        for document in parsed.documents:
            assert fast(document) == validator.is_valid(document), document
