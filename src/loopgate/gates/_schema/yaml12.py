"""YAML read as YAML 1.2, the way GitHub Actions, Kubernetes and check-jsonschema read it.

PyYAML resolves plain scalars by YAML 1.1: `on`, `off`, `yes`, `no`, `y`, `n` are booleans,
`0777` is octal, `1:30` is 90, `2026-01-01` a date, `1_000` a thousand. A GitHub workflow's
`on:` key then becomes `True`, and every workflow fails GitHub's own schema. Here the parser
(libyaml, when present) is kept and only the resolver table is replaced by YAML 1.2's core
schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution):

- booleans: `true`, `True`, `TRUE`, `false`, `False`, `FALSE` (nothing else);
- null: `null`, `Null`, `NULL`, `~` and the empty value;
- integers: `[-+]?[0-9]+` (decimal, so `0777` is 777), `0o` octal, `0x` hexadecimal (signed too,
  as ruamel.yaml allows);
- floats: decimal and exponent forms, `.inf`, `-.inf`, `.nan` (any of the three spellings);
- `<<` merge keys, which ruamel.yaml (and so check-jsonschema) keeps in 1.2 too;
- everything else, dates and `1:30` included, is a string (JSON Schema has no date type, and
  `format: date` expects the text). So are `1_000`, `0b101` and `=`, where ruamel.yaml keeps YAML
  1.1's numbers (and refuses `=`): the only differences from check-jsonschema's reading.

Keeping PyYAML instead of moving to ruamel.yaml keeps libyaml's speed and PyYAML's marks
(positions stay exact) and the alias-bomb guard, which counts PyYAML's parser events.

Mapping keys become strings as JSON has only string keys: a scalar key as JSON would write its
value (`1.5`, `null`, `true`); a key that is a list or mapping is a problem, not a traceback.
Duplicate keys in one mapping (YAML 1.2 forbids them; PyYAML keeps the last) are recorded.
Marks count `\\x85`, `\\u2028` and `\\u2029` as line breaks (YAML 1.1); lines are counted
from the character offset instead, by `\\n`, `\\r\\n` and `\\r` only, as editors count them.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import sys
from typing import Any

import yaml

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_MERGE = re.compile(r"^(?:<<)$")
_TAG = "tag:yaml.org,2002:"
MERGE_TAG = _TAG + "merge"  # a `<<` key


def _resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, pattern, first in (
        ("bool", _BOOL, "tTfF"),
        ("int", _INT, "-+0123456789"),
        ("float", _FLOAT, "-+.0123456789"),
        ("null", _NULL, ["~", "n", "N", ""]),
        ("merge", _MERGE, "<"),
    ):
        for char in first:
            table.setdefault(char, []).append((_TAG + tag, pattern))
    return table


# Python turns an integer of more than this many decimal digits into text only on request
# (sys.set_int_max_str_digits), and a schema error's message is such text: a larger integer is
# refused when it is read. Hexadecimal, octal and binary literals reach it with fewer characters.
DIGITS_LIMIT: int = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_TOO_BIG: int = 10**DIGITS_LIMIT


def too_big(value: int) -> bool:
    return value >= _TOO_BIG or value <= -_TOO_BIG


class TooLong(ValueError):
    """An integer of more than DIGITS_LIMIT digits (the message names Python's limit, as its own does)."""


class ComplexKey(yaml.constructor.ConstructorError):
    """A mapping key that is a list or a mapping: JSON, and so JSON Schema, has only string keys."""


class YamlLoader(_YamlBase):  # type: ignore[misc]
    """The safe loader (libyaml's parser when present) with YAML 1.2's core schema."""

    yaml_implicit_resolvers = _resolvers()

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[yaml.Node] = []  # the key nodes that repeat a key of their mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
        if digits.startswith("0o"):
            value = sign * int(digits[2:], 8)
        elif digits.startswith("0x"):
            value = sign * int(digits[2:], 16)
        else:
            value = sign * int(digits, 10)  # beyond the digits limit: ValueError, as for JSON and TOML
        if too_big(value):
            raise TooLong(f"more than {DIGITS_LIMIT} digits")
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower()
        if text.endswith(".inf"):
            return -float("inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        self.flatten_mapping(node)  # merge keys first: what they bring in may be overridden
        mapping: dict[str, Any] = {}
        explicit: set[str] = set()
        merged = getattr(node, "merged_count", 0)
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise ComplexKey("while reading a mapping", node.start_mark,
                                 "a key that is a list or a mapping: JSON has only string keys", key_node.start_mark)
            key = key_text(self.construct_object(key_node, deep=deep))
            if index >= merged:
                if key in explicit:
                    self.duplicates.append(key_node)
                explicit.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        if hasattr(node, "merged_count"):
            return  # flattened already (an anchored mapping merged elsewhere): keep its count
        merges = [key for key, _value in node.value if key.tag == MERGE_TAG]
        # A second `<<` is a duplicate key like any other (ruamel.yaml refuses it); PyYAML would merge both.
        self.duplicates += merges[1:]
        written = len(node.value) - len(merges)
        super().flatten_mapping(node)
        # PyYAML puts the merged pairs first; a key written out may override them (not a duplicate).
        node.merged_count = len(node.value) - written  # type: ignore[attr-defined]


for _name in ("int", "float"):
    YamlLoader.add_constructor(_TAG + _name, getattr(YamlLoader, f"construct_yaml_{_name}"))
YamlLoader.add_constructor(_TAG + "map", YamlLoader.construct_yaml_map)
# Anything tagged as a date by hand (`!!timestamp`) stays its text.
YamlLoader.add_constructor(_TAG + "timestamp", YamlLoader.construct_yaml_str)


def key_text(key: Any) -> str:
    """A mapping key as a JSON object key: strings as they are, other scalars as JSON writes them."""
    if isinstance(key, str):
        return key
    if isinstance(key, float) and math.isnan(key):
        return "NaN"
    try:
        return json.dumps(key)
    except (TypeError, ValueError):
        return str(key)


def load_all(text: str) -> tuple[list[Any], list[yaml.Node]]:
    """Every document of the text, and the key nodes that repeat a key of their mapping."""
    loader = YamlLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents, loader.duplicates
    finally:
        loader.dispose()


class Lines:
    """Line and column (1-based) of a character offset, lines ended by `\\n`, `\\r\\n` or `\\r`."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n?|\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def mark_position(lines: Lines | None, mark: Any) -> tuple[int, int]:
    if mark is None:
        return 1, 1
    if lines is None or not isinstance(getattr(mark, "index", None), int):
        return mark.line + 1, mark.column + 1
    return lines.position(mark.index)
