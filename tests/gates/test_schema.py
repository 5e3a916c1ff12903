"""The schema gate on real files: JSON, YAML and TOML that pass and fail, with the line and column
of each offending value, formats, best match first, dialects, built-in schemas, broken schemas
and broken files, directories, and the CLI's exit statuses."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator
from jsonschema.exceptions import best_match

from loopgate.gates import schema
from loopgate.gates._positions import json_positions
from loopgate.gates._schema.fast import fast_path
from loopgate.gates._schema.validating import MAX_ERRORS
from loopgate.gates.base import GateContext, GateResult, GateStatus

from .conftest import Cli

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string"},
        "when": {"type": "string", "format": "date"},
        "owner": {"type": "string", "format": "email"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"enum": ["open", "done"]}, "size": {"type": "integer"}},
            },
        },
    },
}

GOOD_JSON = '{"name": "ok", "when": "2026-11-26", "owner": "a@example.org", "items": [{"status": "open"}]}\n'
BAD_JSON = """\
{
  "name": "demo",
  "items": [
    {"status": "open"},
    {"status": "done"},
    {"status": "open"},
    {"status": "closed",
     "size": 3}
  ]
}
"""
BAD_YAML = """\
# a comment line
name: demo
when: 2026-02-30
items:
  - status: open
  - status: done
    size: big
"""
BAD_TOML = """\
name = "demo"
owner = "nobody"

[[items]]
status = "open"

[[items]]
status = "gone"
"""


def _files(tmp_path: Path, files: dict[str, str], schema_text: str | None = None) -> Path:
    (tmp_path / "schema.json").write_text(schema_text if schema_text is not None else json.dumps(SCHEMA),
                                          encoding="utf-8")
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path


def _run(where: Path, *files: str, **options: Any) -> GateResult:
    options.setdefault("schema", "schema.json")
    return schema.run(schema.Options(files=files, **options), GateContext(cwd=str(where)))


def _places(result: GateResult) -> list[tuple[str, int, int, str, str]]:
    return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]


def test_valid_files_of_every_kind_pass(tmp_path: Path) -> None:
    where = _files(tmp_path, {
        "a.json": GOOD_JSON,
        "b.yaml": "name: ok\nwhen: 2026-11-26\nitems:\n  - status: done\n",
        "c.yml": "name: ok\nitems: []\n",
        "d.toml": 'name = "ok"\nwhen = 2026-11-26\n[[items]]\nstatus = "open"\n',
    })
    result = _run(where, "a.json", "b.yaml", "c.yml", "d.toml")
    assert result.status is GateStatus.PASSED, result.findings
    assert result.summary.startswith("4 files (1 JSON, 2 YAML, 1 TOML) validated against schema.json "
                                     "(draft 2020-12, formats checked)")


def test_json_errors_point_at_the_value(tmp_path: Path) -> None:
    result = _run(_files(tmp_path, {"bad.json": BAD_JSON}), "bad.json")
    assert result.status is GateStatus.FAILED
    assert _places(result) == [
        ("bad.json", 7, 16, "LG451", "$.items[3].status: 'closed' is not one of ['open', 'done']"),
    ]


def test_yaml_errors_point_at_the_value(tmp_path: Path) -> None:
    result = _run(_files(tmp_path, {"bad.yaml": BAD_YAML}), "bad.yaml")
    assert sorted(_places(result)) == [
        ("bad.yaml", 3, 7, "LG451", "$.when: '2026-02-30' is not a 'date'"),
        ("bad.yaml", 7, 11, "LG451", "$.items[1].size: 'big' is not of type 'integer'"),
    ]


def test_toml_errors_are_located_by_key_name(tmp_path: Path) -> None:
    result = _run(_files(tmp_path, {"bad.toml": BAD_TOML}), "bad.toml")
    assert sorted(_places(result)) == [
        ("bad.toml", 2, 1, "LG451", "$.owner: 'nobody' is not a 'email'"),
        # Best effort: the first line that sets `status`, not the second array entry's.
        ("bad.toml", 5, 1, "LG451", "$.items[1].status: 'gone' is not one of ['open', 'done']"),
    ]
    assert "TOML lines found by key name (best effort)" in result.summary


def test_missing_required_key_points_at_its_object(tmp_path: Path) -> None:
    result = _run(_files(tmp_path, {"a.json": '{"name": "x",\n "items": [\n   {"size": 1}]}'}), "a.json")
    assert _places(result) == [("a.json", 3, 4, "LG451", "$.items[0]: 'status' is a required property")]


def test_formats_are_checked_unless_turned_off(tmp_path: Path) -> None:
    where = _files(tmp_path, {"a.json": '{"name": "x", "items": [], "when": "26/11/2026", "owner": "at-nowhere"}'})
    result = _run(where, "a.json")
    assert sorted(f.message for f in result.findings) == ["$.owner: 'at-nowhere' is not a 'email'",
                                                          "$.when: '26/11/2026' is not a 'date'"]
    unchecked = _run(where, "a.json", formats=False)
    assert unchecked.status is GateStatus.PASSED
    assert "formats not checked" in unchecked.summary


def test_best_match_comes_first(tmp_path: Path) -> None:
    document = {"items": [{"status": "x"}, {"status": "open", "size": "1"}], "name": 5, "when": 3}
    where = _files(tmp_path, {"a.json": json.dumps(document, indent=1)})
    result = _run(where, "a.json")
    expected = best_match(Draft202012Validator(SCHEMA).iter_errors(document))
    assert expected is not None
    assert result.findings[0].message.endswith(expected.message)
    assert len(result.findings) == 4


def test_errors_a_file_are_capped(tmp_path: Path) -> None:
    document = {"name": "x", "items": [{"status": "bad"} for _ in range(30)]}
    result = _run(_files(tmp_path, {"a.json": json.dumps(document)}), "a.json")
    assert len(result.findings) == MAX_ERRORS
    assert result.findings[-1].message.endswith("(and 10 more errors not shown)")


def test_multi_document_yaml(tmp_path: Path) -> None:
    text = "name: one\nitems: []\n---\nname: two\nitems:\n  - status: nope\n"
    result = _run(_files(tmp_path, {"k.yaml": text}), "k.yaml")
    assert _places(result) == [
        ("k.yaml", 6, 13, "LG451", "document 2: $.items[0].status: 'nope' is not one of ['open', 'done']")]


@pytest.mark.parametrize(("name", "text", "line", "column", "start"), [
    ("a.json", '{\n  "name": "x",\n  "items": [1,,2]\n}', 3, 15, "invalid JSON: Expecting value"),
    ("b.yaml", "name: x\nitems: [a, b\nother: 1\n", 3, 6, "invalid YAML: "),
    ("c.toml", 'name = "x"\nitems = [\n  {status = }\n]\n', 3, 13, "invalid TOML: "),
    ("d.json", "", 1, 1, "invalid JSON: Expecting value"),
])
def test_invalid_syntax_is_a_finding_at_the_parsers_position(
        tmp_path: Path, name: str, text: str, line: int, column: int, start: str) -> None:
    result = _run(_files(tmp_path, {name: text}), name)
    assert result.status is GateStatus.FAILED
    [finding] = result.findings
    assert (finding.path, finding.line, finding.column, finding.code) == (name, line, column, "LG452")
    assert finding.message.startswith(start)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "x.yaml").write_bytes(b"name: ok\nitems: \xff\n")
    result = _run(tmp_path, "x.yaml")
    assert _places(result) == [("x.yaml", 2, 8, "LG452", "not UTF-8 text (byte 16)")]


def test_directories_are_searched(tmp_path: Path) -> None:
    where = _files(tmp_path, {
        "data/a.json": GOOD_JSON, "data/sub/b.yaml": BAD_YAML, "data/notes.md": "# not data\n",
        "data/.hidden/c.json": "{broken", "data/node_modules/d.json": "{broken",
    })
    (where / "data" / "schema.json").write_text(json.dumps(SCHEMA))
    result = _run(where, "data", schema="data/schema.json")
    assert {f.path for f in result.findings} == {"data/sub/b.yaml"}
    assert result.summary.startswith("2 files (1 JSON, 1 YAML)")
    assert "the schema file data/schema.json itself not validated" in result.summary


def test_a_yaml_schema_with_a_relative_ref(tmp_path: Path) -> None:
    where = _files(tmp_path, {
        "schemas/root.yaml": "type: object\nproperties:\n  item:\n    $ref: item.json\n",
        "schemas/item.json": '{"type": "object", "required": ["id"]}',
        "a.json": '{"item": {}}',
    })
    result = _run(where, "a.json", schema="schemas/root.yaml")
    assert _places(result) == [("a.json", 1, 10, "LG451", "$.item: 'id' is a required property")]


def test_the_schemas_dialect_is_honoured(tmp_path: Path) -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
              "items": [{"type": "string"}, {"type": "integer"}]}
    where = _files(tmp_path, {"a.json": '["x", "not an integer"]'}, json.dumps(draft7))
    result = _run(where, "a.json")
    assert _places(result) == [("a.json", 1, 7, "LG451", "$[1]: 'not an integer' is not of type 'integer'")]
    assert "(draft 7," in result.summary
    # The same schema read as 2020-12 is invalid: `items` must be a schema there.
    del draft7["$schema"]
    (tmp_path / "schema.json").write_text(json.dumps(draft7))
    assert _run(where, "a.json").status is GateStatus.ERROR


def test_builtin_schema(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text('{"loop": 3}')
    result = schema.run(schema.Options(files=("report.json",), builtin="run-report"), GateContext(cwd=str(tmp_path)))
    assert result.status is GateStatus.FAILED
    assert "validated against the built-in run-report schema" in result.summary
    unknown = schema.run(schema.Options(files=("report.json",), builtin="nope"), GateContext(cwd=str(tmp_path)))
    assert unknown.status is GateStatus.ERROR
    assert "no built-in schema 'nope' (known: " in unknown.reason


@pytest.mark.parametrize(("schema_text", "message", "line"), [
    ('{\n  "type": "object",\n  "properties": {\n    "a": {"type": 12}\n  }\n}',
     "schema.json: not a valid JSON Schema at $.properties.a.type: 12 is not valid under any of the given schemas",
     4),
    ('{"type": ', "schema.json: the schema is not valid: invalid JSON: Expecting value", 1),
    ("[1, 2]", "schema.json: a schema is one JSON object (or true/false)", 1),
    ('{"$schema": "https://example.org/my-dialect"}',
     "schema.json: unknown $schema dialect 'https://example.org/my-dialect'", 1),
])
def test_an_invalid_schema_is_an_error(tmp_path: Path, schema_text: str, message: str, line: int) -> None:
    result = _run(_files(tmp_path, {"a.json": "{}"}, schema_text), "a.json")
    assert result.status is GateStatus.ERROR
    [finding] = result.findings
    assert (finding.code, finding.path, finding.line, finding.message) == ("LG454", "schema.json", line, message)


@pytest.mark.parametrize(("options", "reason"), [
    ({"schema": ""}, "no schema given: give exactly one of --schema FILE and --builtin NAME"),
    ({"builtin": "run-report"}, "both --schema and --builtin given: give exactly one of --schema FILE and "
                                "--builtin NAME"),
    ({"schema": "missing.json"}, "missing.json: cannot read the schema: No such file or directory"),
])
def test_schema_options_must_name_one_schema(tmp_path: Path, options: dict[str, str], reason: str) -> None:
    result = _run(_files(tmp_path, {"a.json": "{}"}), "a.json", **options)
    assert result.status is GateStatus.ERROR
    assert result.reason == reason


def test_unknown_extension_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    where = _files(tmp_path, {"notes.txt": "hi", "a.json": GOOD_JSON})
    result = _run(where, "a.json", "notes.txt", "gone.json")
    assert result.status is GateStatus.ERROR
    assert [(f.path, f.code) for f in result.findings] == [("notes.txt", "LG453"), ("gone.json", "LG455")]
    assert _run(where).status is GateStatus.SKIPPED


def test_a_remote_ref_is_not_fetched(tmp_path: Path) -> None:
    remote = '{"properties": {"a": {"$ref": "https://schemas.example.invalid/a.json"}}}'
    result = _run(_files(tmp_path, {"x.json": '{"a": 1}'}, remote), "x.json")
    assert result.status is GateStatus.ERROR
    assert "cannot be resolved (not fetched)" in result.reason


def test_worker_processes_give_the_same_answer(tmp_path: Path) -> None:
    files = {f"f{i:02d}.json": (BAD_JSON if i % 7 == 0 else GOOD_JSON) for i in range(40)}
    names = sorted(_files(tmp_path, files).glob("f*.json"))
    args = tuple(p.name for p in names)
    one = _run(tmp_path, *args, jobs=1)
    two = _run(tmp_path, *args, jobs=2)
    assert one.findings == two.findings
    assert [f.path for f in two.findings] == ["f00.json", "f07.json", "f14.json", "f21.json", "f28.json",
                                              "f35.json"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*here, index))
    return found


@settings(max_examples=150, deadline=None)
@given(_JSON, st.sampled_from([None, 1, 2]), st.booleans())
def test_json_positions_find_every_value(document: Any, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    paths = _paths(document)
    lines = text.split("\n")
    decoder = json.JSONDecoder()
    for path, (line, column) in zip(paths, json_positions(text, paths), strict=True):
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
        value = document
        for step in path:
            value = value[step]
        assert decoder.raw_decode(text, offset)[0] == value


def test_cli_exit_codes(tmp_path: Path, cli: Cli) -> None:
    where = _files(tmp_path, {"good.json": GOOD_JSON, "bad.yaml": BAD_YAML, "x.txt": ""})
    assert cli("schema", "--schema", "schema.json", "good.json", cwd=where).returncode == 0
    failed = cli("schema", "--schema", "schema.json", "good.json", "bad.yaml", cwd=where)
    assert failed.returncode == 1
    assert "bad.yaml:3:7: LG451 $.when: '2026-02-30' is not a 'date'" in failed.stdout
    assert cli("schema", "--schema", "schema.json", "x.txt", cwd=where).returncode == 2
    (where / "broken.json").write_text('{"type": "nonsense"}')
    broken = cli("schema", "--schema", "broken.json", "good.json", cwd=where)
    assert broken.returncode == 2
    assert "not a valid JSON Schema" in broken.stderr
    assert cli("schema", "good.json", cwd=where).returncode == 2


# The fast path may only ever say "certainly valid" when jsonschema agrees; on anything else
# jsonschema judges. These schemas use every keyword it covers.
FAST_SCHEMAS: list[dict[str, Any]] = [
    SCHEMA,
    {"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                                                         "n": {"type": ["integer", "null"], "minimum": 0}},
                        "additionalProperties": False}},
     "$ref": "#/$defs/node"},
    {"type": "object", "minProperties": 1, "maxProperties": 3,
     "additionalProperties": {"anyOf": [{"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^a"},
                                        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
                                        {"enum": ["x", 1, True, None]}, {"const": "k"}]}},
    {"type": "array", "minItems": 1, "maxItems": 4, "uniqueItems": True,
     "items": {"allOf": [{"type": ["string", "integer", "boolean"]}, {"format": "email"}]}},
]
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 12) | st.sampled_from([0.0, 1.0, 2.5, -1.5, 10.0, 1e3])
    | st.sampled_from(["", "a", "ab", "abcd", "abcde", "x", "k", "open", "done", "b@c.de", "2026-11-26", "2026-02-30",
                       "status", "name", "items", "kids", "n", "a@"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "items", "status", "size", "when", "owner", "kids", "n", "a", "ab", "zz"]),
        inner, max_size=5),
    max_leaves=25)


def test_the_fast_path_covers_common_schemas_and_steps_aside_for_others() -> None:
    for fast_schema in FAST_SCHEMAS:
        assert fast_path(Draft202012Validator(fast_schema)) is not None, fast_schema
    combining: list[dict[str, Any]] = [{"not": {"type": "null"}}, {"oneOf": [{}]}, {"items": False},
                                       {"patternProperties": {"^x": {"type": "string"}}}]
    for schema_node in combining:
        assert fast_path(Draft202012Validator(schema_node)) is not None, schema_node
    assert fast_path(Draft7Validator({"dependencies": {"a": ["b"]}})) is not None
    others: list[dict[str, Any]] = [{"if": {"type": "null"}, "then": False}, {"prefixItems": [{}]},
                                    {"$ref": "other.json"}, {"properties": {"a": {"multipleOf": 2}}},
                                    {"dependencies": {"a": ["b"]}}]  # not a 2020-12 keyword: jsonschema ignores it
    for other in others:
        assert fast_path(Draft202012Validator(other)) is None, other
    assert fast_path(Draft4Validator({"type": "integer"})) is None  # draft 4: 1.0 is not an integer
    fast = fast_path(Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER))
    assert fast is not None
    assert fast(json.loads(GOOD_JSON))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(range(len(FAST_SCHEMAS))), _VALUES)
def test_the_fast_path_never_calls_an_invalid_document_valid(which: int, document: Any) -> None:
    validator = Draft202012Validator(FAST_SCHEMAS[which], format_checker=Draft202012Validator.FORMAT_CHECKER)
    fast = fast_path(validator)
    assert fast is not None
    if fast(document):
        assert validator.is_valid(document), document


@pytest.mark.parametrize(("node", "document", "valid"), [
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, True, False),
    ({"maximum": 3}, True, True),
    ({"type": "number", "maximum": 3}, True, False),
    ({"enum": [1]}, True, False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [1, 1.0], False),
])
def test_fast_path_edge_cases_agree_with_jsonschema(node: dict[str, Any], document: Any, valid: bool) -> None:
    validator = Draft202012Validator(node)
    assert validator.is_valid(document) is valid
    fast = fast_path(validator)
    assert fast is not None
    assert not fast(document) or valid


# Schemas that put several keywords on one node: the fast path must check every one of them (or step
# aside), so that no keyword is forgotten because another one on the same node answered first.
_STRINGS = st.sampled_from(["", "a", "ab", "abcd", "x", "k", "open", "done", "b@c.de", "name"])
_SCALARS = st.none() | st.booleans() | st.integers(-3, 12) | st.sampled_from([0.0, 1.0, 2.5]) | _STRINGS
_NUMBERS = st.integers(-2, 10) | st.sampled_from([0.5, 2.5])
_KEYS = st.sampled_from(["name", "items", "status", "a", "ab", "zz"])


def _words(inner: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "type": st.sampled_from(["string", "integer", "number", "object", "array", "boolean", "null"])
        | st.lists(st.sampled_from(["string", "integer", "null", "object"]), min_size=1, max_size=2, unique=True),
        "enum": st.lists(_SCALARS, min_size=1, max_size=3),
        "const": _SCALARS,
        "minLength": st.integers(0, 3), "maxLength": st.integers(0, 4),
        "pattern": st.sampled_from(["^a", "b$", "d"]),
        "format": st.sampled_from(["email", "date"]),
        "minimum": _NUMBERS, "maximum": _NUMBERS, "exclusiveMinimum": _NUMBERS, "exclusiveMaximum": _NUMBERS,
        "properties": st.dictionaries(_KEYS, inner, max_size=2),
        "required": st.lists(_KEYS, max_size=2, unique=True),
        "additionalProperties": st.just(False) | inner,
        "minProperties": st.integers(0, 2), "maxProperties": st.integers(0, 3),
        "items": inner, "minItems": st.integers(0, 2), "maxItems": st.integers(0, 3), "uniqueItems": st.booleans(),
        "allOf": st.lists(inner, min_size=1, max_size=2), "anyOf": st.lists(inner, min_size=1, max_size=2),
        "oneOf": st.lists(inner, min_size=1, max_size=3), "not": inner,
        "patternProperties": st.dictionaries(st.sampled_from(["^a", "z", "^(name|items)$"]), inner, max_size=2),
        "$ref": st.just("#/$defs/shared"),
    }


# Keywords that meet on one node in real schemas; a node draws two to four of one family, so that
# pairs such as enum + const come up often and do not rule out every document between them.
_FAMILIES = [
    ["type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf", "not"],
    ["type", "enum", "const", "minLength", "maxLength", "pattern", "format"],
    ["type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
    ["type", "properties", "required", "additionalProperties", "minProperties", "maxProperties", "$ref",
     "patternProperties", "oneOf", "not"],
    ["type", "items", "minItems", "maxItems", "uniqueItems", "allOf", "anyOf", "const"],
]


def _node(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    words = _words(inner)
    chosen = st.sampled_from(_FAMILIES).flatmap(
        lambda family: st.lists(st.sampled_from(family), min_size=2, max_size=4, unique=True))
    return chosen.flatmap(lambda names: st.fixed_dictionaries({name: words[name] for name in names}))


_NODES = st.recursive(_node(st.just({})), _node, max_leaves=6)


def _scalars_in(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars_in(v)]
    return [value]


@settings(max_examples=500, deadline=None)
@given(_NODES, _NODES, st.data())
def test_the_fast_path_checks_every_keyword_of_a_node(node: dict[str, Any], shared: dict[str, Any],
                                                      data: st.DataObject) -> None:
    # `shared` is what `$ref` points at; it refers to nothing itself, so no schema recurses for ever.
    shared = json.loads(json.dumps(shared).replace('"$ref"', '"$comment"'))
    tree = {**node, "$defs": {"shared": shared}}
    validator = Draft202012Validator(tree, format_checker=Draft202012Validator.FORMAT_CHECKER)
    fast = fast_path(validator)
    if fast is None:
        return
    # Every value the schema itself names, alone, in a list and under each key, reaches the edges of
    # enum, const and the bounds; a few random documents cover the rest.
    own = [s for s in _scalars_in(tree) if s is None or isinstance(s, (str, int, float))]
    shapes = [[value, [value], *({key: value} for key in ("name", "a", "zz"))] for value in own]
    for document in [*(d for shape in shapes for d in shape), *data.draw(st.lists(_VALUES, max_size=4))]:
        # Exactly jsonschema's answer, both ways: `not` and `oneOf` turn a wrong "invalid" into a wrong "valid".
        assert fast(document) == validator.is_valid(document), (tree, document)


@settings(max_examples=300, deadline=None)
@given(_NODES, _NODES, st.data())
def test_the_fast_path_agrees_with_jsonschema_in_draft_7(node: dict[str, Any], shared: dict[str, Any],
                                                         data: st.DataObject) -> None:
    """Draft 7: `$ref` makes its siblings ignored, `definitions`, `dependencies`."""
    shared = json.loads(json.dumps(shared).replace('"$ref"', '"$comment"').replace('"$defs/', '"definitions/'))
    tree = json.loads(json.dumps({**node, "definitions": {"shared": shared}}).replace("#/$defs/", "#/definitions/"))
    tree["$schema"] = "http://json-schema.org/draft-07/schema#"
    if "required" in tree and data.draw(st.booleans()):
        tree["dependencies"] = {key: (["zz"] if key == "a" else {"required": ["name"]}) for key in tree["required"]}
    validator = Draft7Validator(tree, format_checker=Draft7Validator.FORMAT_CHECKER)
    fast = fast_path(validator)
    if fast is None:
        return
    own = [s for s in _scalars_in(tree) if s is None or isinstance(s, (str, int, float))]
    documents = [*own, *({key: v} for v in own for key in ("name", "a")), *data.draw(st.lists(_VALUES, max_size=4))]
    for document in documents:
        assert fast(document) == validator.is_valid(document), (tree, document)


def test_the_fast_path_gives_jsonschemas_answer_on_real_workflows() -> None:
    from loopgate.gates._schema.yaml12 import load_all

    workflows = Path(__file__).resolve().parents[1] / "example-files" / "github-workflows"
    for candidate in (Path(__file__).resolve().parents[3] / "shared" / "schemas", Path("/work/shared/schemas")):
        if (candidate / "github-workflows.json").is_file():
            schema_doc = json.loads((candidate / "github-workflows.json").read_text(encoding="utf-8"))
            break
    else:
        pytest.skip("the shared workflow schema is not beside the project (test_schema_workflows covers it)")
    validator = Draft7Validator(schema_doc, format_checker=Draft7Validator.FORMAT_CHECKER)
    fast = fast_path(validator)
    assert fast is not None
    checked = 0
    for path in sorted(workflows.glob("*.y*ml")):
        document = load_all(path.read_text(encoding="utf-8"))[0][0]
        assert fast(document) == validator.is_valid(document), path.name
        # Each job and step on its own as well, and the document with each job removed.
        for job in document.get("jobs", {}).values():
            assert fast({**document, "jobs": {"only": job}}) == validator.is_valid({**document, "jobs": {"only": job}})
        checked += 1
    assert checked >= 15


def test_enum_and_const_on_one_node_are_both_checked(tmp_path: Path, cli: Cli) -> None:
    where = _files(tmp_path, {"b.json": '{"m": "b"}', "a.json": '{"m": "a"}'},
                   '{"properties": {"m": {"enum": ["a", "b"], "const": "a"}}}')
    assert cli("schema", "--schema", "schema.json", "a.json", cwd=where).returncode == 0
    failed = cli("schema", "--schema", "schema.json", "b.json", cwd=where)
    assert failed.returncode == 1
    assert "b.json:1:7: LG451 $.m: 'a' was expected" in failed.stdout


@pytest.mark.parametrize(("schema_text", "message", "line"), [
    ('{"$ref": "#/$defs/x",\n "$defs": {"x": {"$ref": "#/$defs/x"}}}',
     "schema.json: the $ref '#/$defs/x' at $[\"$defs\"].x[\"$ref\"] leads back to itself", 2),
    ('{"$ref": "#/$defs/x", "$defs": {"x": {"allOf": [{"type": "object"}, {"$ref": "#/$defs/y"}]},\n'
     ' "y": {"not": {"$ref": "#/$defs/x"}}}}',
     "schema.json: the $ref '#/$defs/x' at $[\"$defs\"].y.not[\"$ref\"] leads back to itself", 2),
    ('{"anyOf": [{"type": "string"}, {"$ref": "#"}]}', "schema.json: the $ref '#' at $.anyOf[1][\"$ref\"]", 1),
    ('{"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "#/definitions/a",\n'
     ' "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}}',
     "schema.json: the $ref '#/definitions/a' at $.definitions.b[\"$ref\"] leads back to itself", 2),
    ('{"$schema": 5}', "schema.json: unknown $schema dialect 5", 1),
])
def test_a_ref_loop_is_a_bad_schema_not_a_traceback(tmp_path: Path, cli: Cli, schema_text: str, message: str,
                                                    line: int) -> None:
    where = _files(tmp_path, {"a.json": '{"a": 1}'}, schema_text)
    result = _run(where, "a.json")
    assert result.status is GateStatus.ERROR
    [finding] = result.findings
    assert (finding.code, finding.path, finding.line) == ("LG454", "schema.json", line)
    assert finding.message.startswith(message), finding.message
    done = cli("schema", "--schema", "schema.json", "a.json", cwd=where)
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)
    assert message in done.stdout


def test_a_ref_loop_through_a_file_is_caught_when_validating(tmp_path: Path, cli: Cli) -> None:
    # The loop goes through the schema file's own name, which only jsonschema's resolver follows.
    where = _files(tmp_path, {"a.json": "{}"}, '{"allOf": [{"$ref": "schema.json"}]}')
    result = _run(where, "a.json")
    assert result.status is GateStatus.ERROR
    assert result.reason.startswith("validating recursed without end: the schema's $refs lead back to themselves")
    done = cli("schema", "--schema", "schema.json", "a.json", cwd=where)
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)


def test_recursive_schemas_that_go_into_the_document_still_work(tmp_path: Path) -> None:
    tree = '{"$ref": "#/$defs/n", "$defs": {"n": {"properties": {"kids": {"items": {"$ref": "#/$defs/n"}}, ' \
           '"v": {"type": "integer"}}}}}'
    where = _files(tmp_path, {"ok.json": '{"kids": [{"kids": [{"v": 1}]}]}',
                              "bad.json": '{"kids": [{"kids": [{"v": "x"}]}]}'}, tree)
    assert _run(where, "ok.json").status is GateStatus.PASSED
    bad = _run(where, "bad.json")
    assert [f.message for f in bad.findings] == ["$.kids[0].kids[0].v: 'x' is not of type 'integer'"]


def test_fifos_in_a_directory_are_skipped_and_counted_never_opened(tmp_path: Path, cli: Cli) -> None:
    where = _files(tmp_path, {"data/a.json": GOOD_JSON, "data/deep/b.yaml": "name: ok\nitems: []\n"})
    os.mkfifo(where / "data" / "pipe.json")  # opening it for reading would block until a writer comes
    os.mkfifo(where / "data" / "deep" / "pipe.yaml")
    result = _run(where, "data")
    assert result.status is GateStatus.PASSED, result.findings
    assert result.summary.startswith("2 files (1 JSON, 1 YAML) validated")
    assert "; 2 entries named like data files skipped: not regular files (FIFOs, sockets, devices)" in result.summary
    done = cli("schema", "--schema", "schema.json", "data", cwd=where)
    assert done.returncode == 0
    assert "2 entries named like data files skipped" in done.stdout


def test_a_fifo_given_by_name_is_an_input_error_not_a_missing_file(tmp_path: Path, cli: Cli) -> None:
    where = _files(tmp_path, {"a.json": GOOD_JSON})
    os.mkfifo(where / "pipe.json")
    result = _run(where, "a.json", "pipe.json", "gone.json")
    assert result.status is GateStatus.ERROR
    assert [(f.code, f.message) for f in result.findings] == [
        ("LG455", "pipe.json: a FIFO (named pipe), not a regular file; not opened, as reading it could wait for ever"),
        ("LG455", "gone.json: no such file or directory"),
    ]
    done = cli("schema", "--schema", "schema.json", "pipe.json", cwd=where)
    assert done.returncode == 2
    assert "pipe.json: a FIFO (named pipe), not a regular file" in done.stderr


def test_a_fifo_as_the_schema_or_behind_a_ref_is_never_opened(tmp_path: Path) -> None:
    where = _files(tmp_path, {"a.json": "{}"}, '{"$ref": "pipe.json"}')
    os.mkfifo(where / "pipe.json")
    fifo_schema = _run(where, "a.json", schema="pipe.json")
    assert fifo_schema.status is GateStatus.ERROR
    assert fifo_schema.reason == ("pipe.json: cannot read the schema: a FIFO (named pipe), not a regular file; "
                                  "not opened, as reading it could wait for ever")
    behind_a_ref = _run(where, "a.json")
    assert behind_a_ref.status is GateStatus.ERROR
    assert "the schema's $ref 'pipe.json' cannot be resolved" in behind_a_ref.reason
    assert _run(where, "a.json", schema=".").reason == ".: cannot read the schema: a directory"


# -- YAML aliases --------------------------------------------------------------------------------
# PyYAML shares an aliased value, so a few hundred bytes load at once, but validating walks the
# expanded tree: 9 nested levels of 9 aliases are 387 million values, minutes of work or more.

TREE_SCHEMA = json.dumps({
    "type": "object", "additionalProperties": {"$ref": "#/$defs/n"},
    "$defs": {"n": {"anyOf": [{"type": "string"}, {"type": "integer"},
                              {"type": "array", "items": {"$ref": "#/$defs/n"}},
                              {"type": "object", "additionalProperties": {"$ref": "#/$defs/n"}}]}},
})


def _laughs(levels: int) -> str:
    names = "abcdefghij"[:levels]
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{name}: &{name} [{','.join([f'*{before}'] * 9)}]" for before, name in itertools.pairwise(names)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_yaml_is_a_finding_and_other_files_still_validate(tmp_path: Path, cli: Cli) -> None:
    """The cli fixture's 60 s timeout fails this test if the expansion is walked (it never ended before)."""
    bomb = _laughs(10)
    assert len(bomb) < 400
    where = _files(tmp_path, {"lol.yaml": bomb, "good.yaml": "k: [1, 2]\n", "bad.json": '{"k": null}\n'},
                   TREE_SCHEMA)
    done = cli("schema", "--schema", "schema.json", "lol.yaml", "good.yaml", "bad.json", cwd=where)
    assert done.returncode == 1, done.stdout + done.stderr
    # Levels a..e expand to 74,732 values; the first *e on line 6 passes 100,000.
    assert ("lol.yaml:6:8: LG456 through its aliases the file expands to more than 100,000 values "
            "(a 'billion laughs' document); not validated") in done.stdout
    assert "bad.json:1:7: LG451 $.k: None is not valid under any of the given schemas" in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith("good.yaml:")]
    assert "1 YAML file not validated: aliases expand it without end or beyond 100,000 values" in done.stdout
    assert "Traceback" not in done.stderr


def test_aliases_just_under_the_limit_still_validate(tmp_path: Path) -> None:
    where = _files(tmp_path, {"wide.yaml": _laughs(5)}, TREE_SCHEMA)  # 74,732 values: below the limit
    result = _run(where, "wide.yaml")
    assert result.status is GateStatus.PASSED, _places(result)


@pytest.mark.parametrize(("text", "line", "column"), [
    ("a: &a [1, *a]\n", 1, 11),
    ("top:\n  b: &b {x: 1, y: *b}\n", 2, 19),
    ("- ok\n---\nc: &c\n  - d: [*c]\n", 4, 9),
])
def test_a_recursive_alias_is_a_finding_not_a_hang(tmp_path: Path, cli: Cli, text: str, line: int,
                                                   column: int) -> None:
    where = _files(tmp_path, {"loop.yaml": text}, TREE_SCHEMA)
    done = cli("schema", "--schema", "schema.json", "loop.yaml", cwd=where)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"loop.yaml:{line}:{column}: LG456 the alias *" in done.stdout
    assert "is inside the value it names: the document is recursive" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_few_aliases_and_a_merge_key_validate_as_written_out(tmp_path: Path) -> None:
    text = ("base: &base {name: x, size: 2}\n"
            "one: *base\n"
            "two: {<<: *base, size: 3}\n"
            "list: &l [a, b]\n"
            "again: [*l, *l]\n")
    where = _files(tmp_path, {"ok.yaml": text, "bad.yaml": text.replace("size: 2", "size: 2.5")},
                   json.dumps({"type": "object", "additionalProperties": {
                       "anyOf": [{"type": "object", "properties": {"size": {"type": "integer"}}},
                                 {"type": "array"}]}}))
    assert _run(where, "ok.yaml").status is GateStatus.PASSED
    bad = _run(where, "bad.yaml")
    assert bad.status is GateStatus.FAILED
    # Errors under an alias are at the anchored value; `two` overrides the bad size, `again` is arrays.
    assert _places(bad) == [
        ("bad.yaml", 1, 29, "LG451", "$.one.size: 2.5 is not of type 'integer'"),
        ("bad.yaml", 1, 7, "LG451", "$.base: {'name': 'x', 'size': 2.5} is not valid under any of the given schemas"),
    ]


def test_an_alias_bomb_as_the_schema_is_a_bad_schema(tmp_path: Path) -> None:
    nested = "".join(f"  {line}\n" for line in _laughs(8).splitlines())
    where = _files(tmp_path, {"schema.yaml": f"$defs:\n{nested}", "good.yaml": "k: 1\n"})
    result = _run(where, "good.yaml", schema="schema.yaml")
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG454"]
    assert "a 'billion laughs' document" in result.reason
