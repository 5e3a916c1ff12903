"""A data file's bytes to documents: JSON, YAML or TOML by extension, or a syntax problem as a value."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, NamedTuple

import yaml

from loopgate.gates._positions import json_marks
from loopgate.gates._schema.decoding import NotText, text_of
from loopgate.gates._schema.expansion import alias_expansion
from loopgate.gates._schema.yaml12 import (
    DIGITS_LIMIT,
    MERGE_TAG,
    ComplexKey,
    Lines,
    TooLong,
    YamlLoader,
    load_all,
    mark_position,
    too_big,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
# Where a too-long integer is: a run of digits, or of hex digits after 0x/0o/0b (3,572 hex digits
# pass 10**4,300; the run found is the first long one, which is the one in practice).
_LONG_NUMBER = re.compile(rf"\d{{{DIGITS_LIMIT + 1},}}|0[xob][0-9a-fA-F_]{{{DIGITS_LIMIT * 83 // 100},}}")


# tomllib takes time quadratic in the parts of a dotted key (`a.b.c...`: 20,000 parts take 12 s, and
# a megabyte of 100-part keys 10 s), so a key of more parts than this is refused before parsing; no
# real key comes near it. Keys are found line by line, linearly: the text before `=` at the start of
# a line or after `{` or `,` (inline tables), or inside a `[table]` header, quoted parts left out.
MAX_KEY_DOTS = 32
MAX_PROBLEMS = 20  # a file's duplicate keys, or NaNs, reported; the rest are counted
_QUOTED = re.compile(r""""[^"\n]*"|'[^'\n]*'""")
_SEGMENT = re.compile(r"[{,]")


class Raw(NamedTuple):
    """A problem found in a file, as plain data a worker process can send back."""

    # "syntax", "schema", "ref", "expansion", "nan", "duplicate", "complex-key", "limit" or "outside"
    kind: str
    path: str
    line: int
    column: int
    message: str


class Rules(NamedTuple):
    """What a file may hold beyond RFC 8259 JSON and YAML 1.2 (both off by default)."""

    json_nan: bool = False  # NaN, Infinity, -Infinity in JSON (Python's extension)
    duplicate_keys: bool = False  # the same key twice in a JSON object or YAML mapping (the last wins)


class Parsed(NamedTuple):
    documents: list[Any]
    text: str  # the file's text, its BOM dropped (positions are offsets in it)
    problems: list[Raw]  # found while reading, the documents still validated (duplicate keys, NaN)


def kind_of(path: str) -> str | None:
    return KINDS.get(os.path.splitext(path)[1].lower())


def parse(kind: str | None, data: bytes, shown: str, rules: Rules = Rules()) -> Parsed | Raw:  # noqa: B008
    """The file's documents, or the one problem that stops it being read."""
    text = ""
    try:
        text = text_of(data, kind)
        if kind == "json":
            return _json(text, shown, rules)
        if kind == "yaml":
            return _yaml(text, shown, rules)
        return _toml(text, shown)
    except NotText as err:
        return Raw("syntax", shown, err.line, err.column, str(err))
    except json.JSONDecodeError as err:
        return Raw("syntax", shown, err.lineno, err.colno, f"invalid JSON: {err.msg}")
    except ComplexKey as err:
        line, column = mark_position(Lines(text), err.problem_mark)
        return Raw("complex-key", shown, line, column,
                   "a YAML mapping key that is a list or a mapping: JSON has only string keys; not validated")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        position = getattr(err, "position", None)  # a ReaderError (a control character) has an offset only
        line, column = Lines(text).position(position) if mark is None and isinstance(position, int) else \
            mark_position(Lines(text), mark)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's limit: 1,000 levels
            return Raw("limit", shown, line, column, "nested too deeply to read (over 1,000 levels); not validated")
        return Raw("syntax", shown, line, column, f"invalid YAML: {problem}")
    except tomllib.TOMLDecodeError as err:
        found = _TOML_AT.search(str(err))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        return Raw("syntax", shown, line, column, f"invalid TOML: {_TOML_AT.sub('', str(err)).strip()}")
    except RecursionError:
        return Raw("limit", shown, 1, 1, "nested too deeply to read (more than about 1,000 levels); not validated")
    except ValueError as err:  # TooLong, or Python's own limit on the digits of an integer
        if isinstance(err, TooLong) or "digits" in str(err):
            return _long_number(text, shown)
        return Raw("syntax", shown, 1, 1, f"cannot read the file: {err}")


def _json(text: str, shown: str, rules: Rules) -> Parsed:
    flagged: list[str] = []

    def constant(name: str) -> float:
        flagged.append("nan")
        return float(name)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) != len(items):
            flagged.append("duplicate")
        return mapping

    document = json.loads(text, parse_constant=None if rules.json_nan else constant,
                          object_pairs_hook=None if rules.duplicate_keys else pairs)
    if not flagged:
        return Parsed([document], text, [])
    constants, duplicates = json_marks(text)
    nans = [Raw("nan", shown, line, column, f"{name} is not a JSON number (RFC 8259 has no NaN or infinity)")
            for (line, column), name in constants if not rules.json_nan]
    twice = [Raw("duplicate", shown, line, column, f"the key {json.dumps(key)} is given twice in this object; "
                 "JSON readers disagree on which one counts (Python keeps the last)")
             for (line, column), key in duplicates]
    return Parsed([document], text, _capped(nans) + _capped(twice))


def _capped(problems: list[Raw], total: int | None = None) -> list[Raw]:
    """At most MAX_PROBLEMS of a file's duplicate keys or NaNs, the last saying how many more there are."""
    total = len(problems) if total is None else total
    kept = problems[:MAX_PROBLEMS]
    if total <= len(kept) or not kept:
        return kept
    last = kept[-1]
    return [*kept[:-1], last._replace(message=f"{last.message} (and {total - len(kept):,} more not shown)")]


def _toml(text: str, shown: str) -> Parsed | Raw:
    for number, line in enumerate(text.split("\n"), 1):
        if line.count(".") > MAX_KEY_DOTS and _key_dots(line) > MAX_KEY_DOTS:
            return Raw("limit", shown, number, 1, f"a dotted key of more than {MAX_KEY_DOTS} parts (a.b.c...): "
                       "nested too deeply to read; not validated")
    return Parsed([_plain(tomllib.loads(text))], text, [])


def _key_dots(line: str) -> int:
    """The most dots in one key of a TOML line (a header's, an assignment's, an inline table's)."""
    bare = _QUOTED.sub("", line).lstrip()
    if bare.startswith("["):
        return bare.partition("]")[0].count(".")
    return max((part.partition("=")[0].count(".") for part in _SEGMENT.split(bare) if "=" in part), default=0)


def _yaml(text: str, shown: str, rules: Rules) -> Parsed | Raw:
    expansion = alias_expansion(text, YamlLoader)
    if expansion is not None:
        return Raw("expansion", shown, *expansion)
    documents, duplicates = load_all(text)
    problems = []
    if duplicates and not rules.duplicate_keys:
        lines = Lines(text)
        first = sorted(duplicates, key=lambda node: node.start_mark.index)[:MAX_PROBLEMS]
        problems = _capped([Raw("duplicate", shown, *mark_position(lines, node.start_mark), _twice(node))
                            for node in first], len(duplicates))
    return Parsed(documents or [None], text, problems)


def _twice(key: yaml.Node) -> str:
    if key.tag == MERGE_TAG:
        return ("the merge key << is given twice in this mapping; YAML 1.2 forbids it (PyYAML merges both, "
                "ruamel.yaml refuses the file): merge a list instead, `<<: [*a, *b]`")
    return (f"the key {json.dumps(key.value)} is given twice in this mapping; YAML 1.2 forbids "
            "it (PyYAML keeps the last, ruamel.yaml refuses the file)")


def _long_number(text: str, shown: str) -> Raw:
    found = _LONG_NUMBER.search(text)
    line, column = Lines(text).position(found.start()) if found else (1, 1)
    size = f"of {len(found.group()):,} digits" if found and found.group().isdigit() else "that large"
    return Raw("limit", shown, line, column, f"an integer {size}: more than the {DIGITS_LIMIT:,} decimal digits "
               "Python turns into text (to report it); not validated")


def _plain(value: Any) -> Any:
    """TOML dates and times as the ISO strings JSON Schema's `format` expects."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, int) and too_big(value):  # a long 0x literal: tomllib reads it, nothing can print it
        raise TooLong(f"more than {DIGITS_LIMIT} digits")
    return value.isoformat() if hasattr(value, "isoformat") else value
