"""The schema gate's reading, from a review: a repeated `<<` merge key is a duplicate key (LG458);
YAML in UTF-16 and UTF-32 is read as YAML 1.2 requires, positions exact; a byte that is not text
is placed at its line and column in characters, in every format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loopgate.gates import schema
from loopgate.gates._schema.decoding import codec_of
from loopgate.gates._schema.yaml12 import load_all
from loopgate.gates.base import GateContext, GateStatus

from .conftest import Cli

TYPED = '{"type": "object", "properties": {"n": {"type": "integer"}}}'


def _gate(tmp_path: Path, name: str, data: bytes, schema_text: str = "{}",
          **options: Any) -> tuple[GateStatus, list[tuple[int, int, str, str]]]:
    (tmp_path / "s.json").write_text(schema_text, encoding="utf-8")
    (tmp_path / name).write_bytes(data)
    result = schema.run(schema.Options(files=(name,), schema="s.json", **options), GateContext(str(tmp_path)))
    return result.status, [(f.line, f.column, f.code, f.message) for f in result.findings]


# -- a repeated merge key --------------------------------------------------------------------------

def test_a_repeated_merge_key_is_a_duplicate_key_at_the_second(tmp_path: Path) -> None:
    status, found = _gate(tmp_path, "m.yml", b"b: &b {s: a}\nz:\n  <<: *b\n  <<: {s: b}\n")
    assert status is GateStatus.FAILED
    [(line, column, code, message)] = found
    assert (line, column, code) == (4, 3, "LG458")
    assert "merge key <<" in message and "<<: [*a, *b]" in message


def test_a_repeated_merge_key_is_accepted_with_duplicate_keys(tmp_path: Path) -> None:
    status, found = _gate(tmp_path, "m.yml", b"b: &b {s: a}\nz:\n  <<: *b\n  <<: {s: b}\n", duplicate_keys=True)
    assert (status, found) == (GateStatus.PASSED, [])


def test_merge_keys_that_are_not_repeated_stay_clean() -> None:
    # One `<<` with a list, a flow `<<`, and an anchored mapping that merges, merged again elsewhere
    # (flattened twice: its overridden key must not turn into a duplicate the second time).
    text = ("a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: [*a, *b], x: 3}\n"
            "d: {<<: &d {<<: *a, x: 4}}\ne: *d\nf: {<<: *d, x: 5}\n")
    documents, duplicates = load_all(text)
    assert duplicates == []
    assert documents[0]["c"] == {"x": 3, "y": 2}
    assert documents[0]["e"] == {"x": 4}
    assert documents[0]["f"] == {"x": 5}


def test_three_merge_keys_are_two_duplicates() -> None:
    _documents, duplicates = load_all("a: &a {x: 1}\nm:\n  <<: *a\n  <<: *a\n  <<: *a\n")
    assert [(node.start_mark.line, node.value) for node in duplicates] == [(3, "<<"), (4, "<<")]


def test_the_cli_fails_on_a_repeated_merge_key(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "any.json").write_text("{}", encoding="utf-8")
    (tmp_path / "m.yml").write_bytes(b"b: &b {s: a}\nz:\n  <<: *b\n  <<: {s: b}\n")
    done = cli("schema", "--schema", "any.json", "m.yml", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "m.yml:4:3: LG458" in done.stdout


# -- UTF-16 and UTF-32 YAML -------------------------------------------------------------------------

ENCODINGS = ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", ["d.yaml", "d.json"])
def test_utf16_and_utf32_pass(tmp_path: Path, encoding: str, name: str) -> None:
    text = "n: 1\n" if name.endswith(".yaml") else '{"n": 1}\n'
    assert _gate(tmp_path, name, text.encode(encoding), TYPED) == (GateStatus.PASSED, [])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_utf16_and_utf32_yaml_errors_are_at_their_character_position(tmp_path: Path, encoding: str) -> None:
    # A character beyond the BMP (a surrogate pair in UTF-16) before the value: one column, not two.
    text = "# \U0001f600 é\nk: \U0001f600\nn: 'x'\n"
    status, found = _gate(tmp_path, "d.yaml", text.encode(encoding), TYPED)
    assert status is GateStatus.FAILED
    assert [(line, column, code) for line, column, code, _ in found] == [(3, 4, "LG451")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-le"])
def test_utf16_yaml_syntax_errors_and_duplicates_are_placed_exactly(tmp_path: Path, encoding: str) -> None:
    _status, found = _gate(tmp_path, "d.yaml", "é: 1\né: 2\n".encode(encoding))
    assert [(line, column, code) for line, column, code, _ in found] == [(2, 1, "LG458")]
    _status, found = _gate(tmp_path, "d.yaml", "a: 1\nb: [1\n".encode(encoding))
    assert [code for _, _, code, _ in found] == ["LG452"]
    assert found[0][0] <= 3  # within the file's lines (the parser points past the last break)


@pytest.mark.parametrize(("head", "codec"), [
    (b"\x00\x00\xfe\xff", ("utf-32-be", 4)), (b"\xff\xfe\x00\x00", ("utf-32-le", 4)),
    (b"\xfe\xff", ("utf-16-be", 2)), (b"\xff\xfe", ("utf-16-le", 2)), (b"\xef\xbb\xbf", ("utf-8", 3)),
    (b"\x00\x00\x00a", ("utf-32-be", 0)), (b"a\x00\x00\x00", ("utf-32-le", 0)),
    (b"\x00a", ("utf-16-be", 0)), (b"a\x00", ("utf-16-le", 0)), (b"ab", ("utf-8", 0)), (b"", ("utf-8", 0)),
])
def test_the_encoding_is_yaml_12s_table(head: bytes, codec: tuple[str, int]) -> None:
    assert codec_of(head, "yaml") == codec


def test_toml_stays_utf8_only(tmp_path: Path) -> None:
    assert codec_of("a = 1\n".encode("utf-16"), "toml") == ("utf-8", 0)
    status, found = _gate(tmp_path, "d.toml", "n = 1\n".encode("utf-16"))
    assert status is GateStatus.FAILED
    assert [(line, column, code) for line, column, code, _ in found] == [(1, 1, "LG452")]


# -- a byte that is not text ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "line", "column", "message"), [
    ("l.yml", b"a: 1\nbb: \xff\n", 2, 5, "not UTF-8 text (byte 9)"),
    ("l.yml", "a: 1\né: \U0001f600".encode() + b"\xff\n", 2, 5, "not UTF-8 text (byte 13)"),
    ("l.yml", b"\xef\xbb\xbfa: 1\nbb: \xff\n", 2, 5, "not UTF-8 text (byte 12)"),  # the BOM is a byte, not a column
    ("l.yml", b"a: 1\rbb: \xff\n", 2, 5, "not UTF-8 text (byte 9)"),  # YAML counts a lone CR as a line break
    ("l.json", b'{"a": 1,\n "bb": "\xff"}\n', 2, 9, "not UTF-8 text (byte 17)"),
    ("l.json", b'{"a": 1,\r "bb": "\xff"}\n', 1, 18, "not UTF-8 text (byte 17)"),  # JSON's parser counts \n only
    ("l.toml", b'a = 1\nbb = "\xe9t\xe9"\n', 2, 7, "not UTF-8 text (byte 12)"),
    ("l.yml", "a: 1\nbb: x".encode("utf-16-le") + b"\x00\xdc" + "\n".encode("utf-16-le"), 2, 6,
     "not UTF-16LE text (byte 20)"),
])
def test_a_byte_that_is_not_text_is_placed_in_characters(
        tmp_path: Path, name: str, data: bytes, line: int, column: int, message: str) -> None:
    status, found = _gate(tmp_path, name, data)
    assert status is GateStatus.FAILED
    assert found == [(line, column, "LG452", message)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_a_control_character_in_yaml_is_placed_where_it_is(tmp_path: Path, encoding: str) -> None:
    """PyYAML's reader reports a control character with an offset only (no mark): it was placed at 1:1.
    check-jsonschema names offset 22 for this file: line 4, column 6."""
    text = 'a: 1\nb: [1,\n  2]\nc: "x\x01y"\n'
    _, [(line, column, code, message)] = _gate(tmp_path, "ctl.yaml", text.encode(encoding))
    assert (line, column, code) == (4, 6, "LG452")
    assert "#x0001" in message
