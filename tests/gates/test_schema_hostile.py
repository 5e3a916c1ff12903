"""The schema gate on hostile and careless input (issue 8): a finding or an input error, never a
traceback, a hang, or a position outside the file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopgate.gates import schema
from loopgate.gates._schema.loading import Checker, build_checker
from loopgate.gates._schema.validating import check_file, workers_for
from loopgate.gates.base import GateContext, GateResult, GateStatus
from loopgate.reporters.sarif import artifact_uri

from .conftest import Cli

PATTERNED = '{"type": "object", "patternProperties": {"^[a-z0-9.]+$": {"type": "integer"}}, ' \
            '"additionalProperties": false}'


def _gate(tmp_path: Path, files: dict[str, str | bytes], schema_text: str = "{}", **options: Any) -> GateResult:
    (tmp_path / "schema.json").write_text(schema_text, encoding="utf-8")
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return schema.run(schema.Options(files=tuple(files), schema="schema.json", **options), GateContext(str(tmp_path)))


def _seen(result: GateResult) -> list[tuple[str, int, int, str]]:
    return [(f.path, f.line, f.column, f.code) for f in result.findings]


def test_yaml_keys_that_are_not_strings_meet_pattern_properties(tmp_path: Path) -> None:
    result = _gate(tmp_path, {"a.yaml": "1.5: 1\nnull: 2\ntrue: 3\n0x10: 4\n", "b.yaml": "1.5: x\nOK: 1\n"},
                   PATTERNED)
    assert result.status is GateStatus.FAILED
    assert sorted(_seen(result)) == [("b.yaml", 1, 1, "LG451"), ("b.yaml", 1, 6, "LG451")]  # `OK` matches no pattern
    assert any("$[\"1.5\"]: 'x' is not of type 'integer'" in f.message for f in result.findings)


def test_a_list_as_a_yaml_key_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    result = _gate(tmp_path, {"a.yaml": "ok: 1\n? [a, b]\n: 2\n", "b.yaml": "? {x: 1}\n: 2\n"}, PATTERNED)
    assert _seen(result) == [("a.yaml", 2, 3, "LG459"), ("b.yaml", 1, 3, "LG459")]


def test_nan_and_duplicate_json_keys_are_findings_unless_accepted(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"a.json": '{"a": NaN,\n "b": [Infinity, -Infinity],\n "a": 1}'}
    result = _gate(tmp_path, files, '{"properties": {"a": {"type": "string"}}}')
    assert _seen(result) == [("a.json", 1, 7, "LG457"), ("a.json", 2, 8, "LG457"), ("a.json", 2, 18, "LG457"),
                             ("a.json", 3, 2, "LG458"), ("a.json", 3, 7, "LG451")]  # still validated: the last "a"
    assert _seen(_gate(tmp_path, files, "{}", json_nan=True, duplicate_keys=True)) == []
    assert [f.code for f in _gate(tmp_path, files, "{}", json_nan=True).findings] == ["LG458"]


def test_duplicate_yaml_keys_are_findings_at_the_second_key(tmp_path: Path) -> None:
    text = "a: 1\nnested:\n  k: 1\n  k: 2\na: 3\n---\na: 1\n"  # the next document's `a` is not a duplicate
    assert _seen(_gate(tmp_path, {"d.yaml": text})) == [("d.yaml", 4, 3, "LG458"), ("d.yaml", 5, 1, "LG458")]
    assert _seen(_gate(tmp_path, {"d.yaml": text}, duplicate_keys=True)) == []


def test_toml_lines_are_right_after_yaml_11_line_breaks_in_a_string(tmp_path: Path) -> None:
    text = 'a = "x\u2028y\x85z"\nb = 1\nc = "s"\n'
    assert _seen(_gate(tmp_path, {"t.toml": text}, '{"properties": {"c": {"type": "integer"}}}')) == [
        ("t.toml", 3, 1, "LG451")]
    broken = 'a = "x\u2028y\x85z"\nb = 1\nc = \n'
    assert _seen(_gate(tmp_path, {"t.toml": broken})) == [("t.toml", 3, 5, "LG452")]


@pytest.mark.parametrize(("name", "text", "where"), [
    ("n.json", '{"a": ' + "9" * 5000 + "}", (1, 7)),
    ("n.yaml", "a: 1\nb: " + "9" * 5000 + "\n", (2, 4)),
    ("n.toml", "a = 1\nb = " + "9" * 5000 + "\n", (2, 5)),
    # Hexadecimal reads without Python's limit, but the number could never be printed in a message.
    ("n.yaml", "a: 1\nb: 0x" + "f" * 4000 + "\n", (2, 4)),
    ("n.toml", "a = 1\nb = 0x" + "f" * 4000 + "\n", (2, 5)),
])
def test_a_5000_digit_number_is_a_finding_without_python_advice(tmp_path: Path, name: str, text: str,
                                                                  where: tuple[int, int]) -> None:
    result = _gate(tmp_path, {name: text}, '{"properties": {"b": {"type": "string"}}}')
    assert _seen(result) == [(name, *where, "LG460")]
    assert "5,000 digits" in result.findings[0].message or "0x" in text
    assert "sys.set_int_max_str_digits" not in result.findings[0].message


@pytest.mark.parametrize(("name", "text"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.json", '{"a":' * 50_000 + "1" + "}" * 50_000),
    ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n"),
    ("deep.yaml", "".join(" " * i + "a:\n" for i in range(2_000)) + " " * 2_000 + "b\n"),
    ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    ("deep.toml", "a = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n"),
    ("deep.toml", "[" + ".".join(["a"] * 5_000) + "]\nb = 1\n"),
    ("deep.toml", "a = {" + ".".join(["b"] * 40) + " = 1}\n"),
])
def test_deep_nesting_is_a_finding(tmp_path: Path, name: str, text: str) -> None:
    result = _gate(tmp_path, {name: text}, '{"type": "object"}')
    assert [f.code for f in result.findings] == ["LG460"], result.findings
    assert result.status is GateStatus.FAILED


def test_nesting_that_parses_but_is_too_deep_to_validate(tmp_path: Path) -> None:
    text = "[" * 900 + "]" * 900  # within json's limit; jsonschema recurses several frames a level
    result = _gate(tmp_path, {"d.json": text}, '{"$ref": "#/$defs/x", "$defs": {"x": {"items": {"$ref": "#/$defs/x"}, '
                   '"minItems": 0, "multipleOf": 1}}}')
    assert _seen(result) == [("d.json", 1, 1, "LG460")]
    assert "nested too deeply to validate" in result.findings[0].message


@contextlib.contextmanager
def _chain(top: Path, name: str, levels: int) -> Iterator[int]:
    """`levels` directories `name` nested under `top`, made and removed through directory descriptors
    (paths may pass PATH_MAX; pathlib and shutil.rmtree recurse, and pytest could not clean up after
    us), yielding a descriptor of the deepest."""
    fds = [os.open(top, os.O_RDONLY)]
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fds[-1])
            fds.append(os.open(name, os.O_RDONLY, dir_fd=fds[-1]))
        yield fds[-1]
    finally:
        for entry in os.listdir(fds[-1]):
            os.unlink(entry, dir_fd=fds[-1])
        while len(fds) > 1:
            os.close(fds.pop())
            os.rmdir(name, dir_fd=fds[-1])
        os.close(fds[0])


def test_a_directory_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text('{"type": "object"}', encoding="utf-8")
    levels = sys.getrecursionlimit() + 50
    (tmp_path / "t").mkdir()
    with _chain(tmp_path / "t", "d", levels) as fd:
        with open(os.open("x.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w", encoding="utf-8") as handle:
            handle.write("[]")
        (tmp_path / "t" / "top.json").write_text("{}", encoding="utf-8")
        result = schema.run(schema.Options(files=("t",), schema="schema.json"), GateContext(str(tmp_path)))
    assert [(f.path.count("/"), f.code) for f in result.findings] == [(levels + 1, "LG451")]
    assert result.summary.startswith("2 files (2 JSON)")


def test_a_directory_that_cannot_be_listed_is_an_input_error(tmp_path: Path) -> None:
    """A tree whose path grows past PATH_MAX: its deepest directory cannot be opened by name (as a
    directory without read permission cannot, for a user that is not root)."""
    (tmp_path / "schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.json").write_text("{}", encoding="utf-8")
    with _chain(tmp_path / "t", "d" * 250, 20):  # 5,000 characters: more than PATH_MAX (4,096)
        result = schema.run(schema.Options(files=("t",), schema="schema.json"), GateContext(str(tmp_path)))
    assert result.status is GateStatus.ERROR
    assert [(f.code, f.path.count("/")) for f in result.findings] == [("LG455", 17)]
    assert "a directory that cannot be listed (File name too long)" in result.findings[0].message


def _non_utf8_tree(tmp_path: Path) -> Path:
    where = tmp_path / "data"
    where.mkdir()
    (tmp_path / "schema.json").write_text('{"type": "object"}', encoding="utf-8")
    os.makedirs(os.path.join(os.fsencode(where), b"r\xe9p"))
    with open(os.path.join(os.fsencode(where), b"r\xe9p", b"caf\xe9.json"), "wb") as handle:
        handle.write(b"[1]")
    with open(os.path.join(os.fsencode(where), b"\xff.yaml"), "wb") as handle:
        handle.write(b"a: [\n")
    (where / "new\nline\x01.json").write_text("1", encoding="utf-8")
    return where


def test_non_utf8_file_names_keep_every_output_format_valid(tmp_path: Path, cli: Cli) -> None:
    _non_utf8_tree(tmp_path)
    shown = ["data/r\\xe9p/caf\\xe9.json", "data/\\xff.yaml", "data/new\\x0aline\\x01.json"]
    for output, read in (("json", _json_paths), ("sarif", _sarif_paths), ("junit", _junit_paths),
                         ("text", _text_paths), ("github", _github_paths)):
        done = cli("schema", "--schema", "schema.json", "--format", output, "data", cwd=tmp_path)
        assert done.returncode == 1, (output, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert "\ufffd" not in done.stdout, output  # nothing was lost in decoding: the output is UTF-8
        # SARIF: the reporter's own URI for the path shown (it reads a backslash as a Windows separator).
        expected = [artifact_uri(p) for p in shown] if output == "sarif" else shown
        assert sorted(read(done.stdout)) == sorted(expected), output


def test_a_schema_file_name_that_is_not_utf8(tmp_path: Path, cli: Cli) -> None:
    with open(os.path.join(os.fsencode(tmp_path), b"\xfe.json"), "wb") as handle:
        handle.write(b'{"type": "object"}')
    (tmp_path / "bad.json").write_bytes(b'{"type": 3}')
    (tmp_path / "a.json").write_text("[]", encoding="utf-8")
    done = cli("schema", "--schema", os.fsdecode(b"\xfe.json"), "--format", "json", "a.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "validated against \\xfe.json" in json.loads(done.stdout)["gates"][0]["summary"]
    with open(os.path.join(os.fsencode(tmp_path), b"\xfd.json"), "wb") as handle:
        handle.write(b'{"type": 3}')
    done = cli("schema", "--schema", os.fsdecode(b"\xfd.json"), "--format", "sarif", "a.json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["runs"][0]["results"][0]["ruleId"] == "LG454"


def _json_paths(out: str) -> Iterator[str]:
    return (p["path"] for p in json.loads(out)["problems"])


def _sarif_paths(out: str) -> Iterator[str]:
    results = json.loads(out)["runs"][0]["results"]
    return (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def _junit_paths(out: str) -> Iterator[str]:
    # one testcase per gate; its failure lists the findings, `path:line:col: CODE message` a line
    root = ET.fromstring(out)
    return (line.split(":")[0] for failure in root.iter("failure")
            for line in (failure.text or "").splitlines() if line and not line[0].isspace())


def _text_paths(out: str) -> Iterator[str]:
    return (line.split(":")[0] for line in out.splitlines() if line.startswith("data/"))


def _github_paths(out: str) -> Iterator[str]:
    return (line.removeprefix("::error file=").split(",")[0] for line in out.splitlines()
            if line.startswith("::error file="))


# -- a fuzz of the readers --------------------------------------------------------------------------

_SEEDS = {
    "json": '{"name": "demo", "items": [{"status": "open", "size": 3}, {"status": "done"}], "on": true}\n',
    "yaml": "name: demo\non:\n  push: {branches: [main]}\nitems:\n  - status: open\n    size: 3\n  - &x {a: 1}\n"
            "  - *x\n",
    "toml": 'name = "demo"\n[[items]]\nstatus = "open"\nsize = 3\n[tool.x]\non = true\n',
}
_NASTY = st.sampled_from(["\x00", "\ufeff", "\r", "\r\n", "\t", "\x85", "\u2028", "\u2029", "\ud7ff", "é", "💥",
                          "[" * 50, "{" * 50, "- " * 30, "&a ", "*a", "? ", ": ", "NaN", "-Infinity", "1e999",
                          "9" * 4400, "-" + "9" * 300, "0x" + "f" * 3600, "0x", "0o9", ".inf", "<<: *a", "!!binary ",
                          "%YAML 1.1\n",
                          "---\n", "...\n", '"', "'", "#", "\\u00", "\\ud800", "a = ", "[[x]]", "x" * 3000])


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(_SEEDS)))
    lines = _SEEDS[kind].split("\n")
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"]))
        at = draw(st.integers(0, len(lines) - 1))
        if action == "delete" and len(lines) > 1:
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif action in ("insert", "replace"):
            piece = draw(_NASTY | st.text(max_size=8))
            column = draw(st.integers(0, len(lines[at])))
            end = column + (draw(st.integers(0, 3)) if action == "replace" else 0)
            lines[at] = lines[at][:column] + piece + lines[at][end:]
    text = "\n".join(lines)
    encoded = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        encoded = encoded.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\n"])))
    return kind, encoded


@pytest.fixture(scope="module")
def fuzz_checker() -> Checker:
    return _checker_for('{"type": "object", "properties": {"items": {"type": "array", "items": '
                         '{"required": ["status"]}}, "name": {"type": "string", "maxLength": 5}}}')


def _checker_for(schema_text: str) -> Checker:
    import tempfile

    with tempfile.TemporaryDirectory() as where:
        Path(where, "s.json").write_text(schema_text, encoding="utf-8")
        built = build_checker("s.json", "", True, where)
    assert isinstance(built, Checker)
    return built


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(_mutated())
def test_fuzzed_files_give_findings_inside_the_file_never_a_traceback_or_a_hang(
        tmp_path: Path, fuzz_checker: Checker, case: tuple[str, bytes]) -> None:
    kind, data = case
    path = tmp_path / f"fuzzed.{kind}"
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)  # generous: a linear reader takes milliseconds on these few kilobytes
    try:
        raws = check_file(fuzz_checker, path.name, str(path))
    except _Hang:
        pytest.fail(f"the {kind} reader took more than 10 s on {data[:200]!r}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    lines = data.count(b"\n") + 1
    for raw in raws:
        assert raw.kind in {"syntax", "schema", "expansion", "nan", "duplicate", "complex-key", "limit"}, raw
        assert 1 <= raw.line <= lines, (raw, data[:300])
        assert raw.column >= 1, raw


# -- linear on long input ---------------------------------------------------------------------------
_MB = 1_000_000  # TOML and YAML a third of it: their readers are slow (a few seconds a megabyte), not quadratic
_LONG = [
    # the TOML key search (a regex per line) on lines built to make it backtrack
    ("t.toml", 'pad = "' + "a. " * (_MB // 9) + '"\n' + "[" + "a." * (_MB // 12) + "b]\nk = 'x'\n"),
    ("t.toml", "x" + " " * (_MB // 3) + "= 1\nk = 'x'\n"),
    ("t.toml", "'" + "a'." * (_MB // 9) + "k' = 'x'\nk = 'x'\n"),
    # tomllib is quadratic in a dotted key's parts: keys of many parts are refused before it reads them
    ("t.toml", "".join(f"k{i}" + ".a" * 500 + " = 1\n" for i in range(_MB // 3000)) + "k = 'x'\n"),
    ("t.toml", "k = 'x'\n" + "".join(f"t{i} = {{" + "a." * 40 + "b = 1}\n" for i in range(_MB // 300))),
    # the JSON position scanner and duplicate-key marks
    ("j.json", '{"k": "x", ' + '"a": 1, ' * (_MB // 16) + '"a": 2}'),
    ("j.json", '{"k": "x", "s": "' + "\\u00e9" * (_MB // 6) + '"}'),
    # YAML positions, duplicate keys, the alias counter
    ("y.yaml", "k: x\n" + "".join(f"a{i}: &a{i} [1, 2]\nb{i}: *a{i}\n" for i in range(_MB // 180))),
    ("y.yaml", "k: x\n" + "d: 1\n" * (_MB // 15)),
    ("y.yaml", "k: x\ns: " + "a " * (_MB // 6) + "\n"),
]


@pytest.mark.parametrize(("name", "text"), _LONG, ids=[f"{n}-{i}" for i, (n, _t) in enumerate(_LONG)])
def test_long_pathological_files_take_a_bounded_time(tmp_path: Path, name: str, text: str) -> None:
    """About a megabyte built against each scanner and regex that reads the file; a quadratic one would
    take minutes. Bounded by a generous alarm, not timed: the machine is shared."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        result = _gate(tmp_path, {name: text}, '{"properties": {"k": {"type": "integer"}}}')
    except _Hang:
        pytest.fail(f"{name}: more than 30 s on {len(text):,} characters")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    found = [f.code for f in result.findings]
    assert "LG451" in found or found in (["LG460"], ["LG452"]), found
    assert found.count("LG458") <= 20  # duplicate keys: the first 20, and a count


def test_a_huge_jobs_count_starts_no_process_storm(tmp_path: Path) -> None:
    cpus = os.cpu_count() or 1
    assert workers_for(10**9, 2, fast=True) == 2  # one process a file at most
    assert workers_for(10**9, 10**6, fast=True) == 4 * cpus  # a few a CPU at most
    assert workers_for(-3, 10**6, fast=True) == workers_for(0, 10**6, fast=True) == cpus  # below 1: as 0
    assert workers_for(0, 10, fast=False) == 1
    result = _gate(tmp_path, {"a.json": "{}", "b.json": "[]"}, '{"type": "object"}', jobs=10**9)
    assert _seen(result) == [("b.json", 1, 1, "LG451")]
