"""The fast path: a schema compiled into "certainly valid?" closures."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator

# jsonschema spends ~80 us on a small document, mostly in its general machinery. Most files in a
# repository are valid, so the schema is also compiled into plain Python closures that answer one
# question: "certainly valid?". They cover the common keywords of draft 2020-12; a schema using any
# other keyword gets no fast path at all. A closure answers False whenever it is not certain, and
# jsonschema then judges the file and reports its errors, so the fast path never decides an error.

Fast = Callable[[Any], bool]


class _Unsupported(Exception):
    pass


_ANNOTATIONS = frozenset({"title", "description", "$comment", "default", "examples", "deprecated", "readOnly",
                          "writeOnly", "$defs", "definitions", "$schema"})
_TYPES: dict[str, Fast] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": lambda x: (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer()),
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}
_OBJECT_WORDS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
_ARRAY_WORDS = ("items", "minItems", "maxItems", "uniqueItems")
_STRING_WORDS = ("minLength", "maxLength", "pattern")
_NUMBER_WORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_SIMPLE_REF = re.compile(r"#/(\$defs|definitions)/([A-Za-z0-9_.-]+)")


def _all(checks: list[Fast]) -> Fast:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]

    def every(x: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop beats all() over a generator on this hot path
            if not check(x):
                return False
        return True

    return every


class _FastCompiler:
    def __init__(self, root: Any, format_checker: Any) -> None:
        self.root = root
        self.format_checker = format_checker
        self.refs: dict[str, Fast] = {}

    def compile(self, node: Any, top: bool = False) -> Fast:
        if node is True:
            return lambda x: True
        if node is False or not isinstance(node, dict):
            raise _Unsupported
        known = {*_ANNOTATIONS, *_OBJECT_WORDS, *_ARRAY_WORDS, *_STRING_WORDS, *_NUMBER_WORDS,
                 "type", "enum", "const", "format", "$ref", "allOf", "anyOf", *(("$id",) if top else ())}
        if not set(node) <= known:
            raise _Unsupported
        checks = [self._type(node), self._values(node), self._object(node), self._array(node),
                  *self._string(node), self._number(node), self._ref(node), self._combined(node)]
        return _all([c for c in checks if c is not None])

    def _type(self, node: dict[str, Any]) -> Fast | None:
        if "type" not in node:
            return None
        names = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not all(isinstance(n, str) and n in _TYPES for n in names):
            raise _Unsupported
        tests = [_TYPES[n] for n in names]
        return tests[0] if len(tests) == 1 else (lambda x: any(t(x) for t in tests))

    def _values(self, node: dict[str, Any]) -> Fast | None:
        # Certain only for strings: jsonschema's equality tells 1 from True and 1 from 1.0 its own way.
        # Every keyword present is checked: a node with both `enum` and `const` must satisfy both.
        checks: list[Fast] = []
        if "enum" in node:
            if not isinstance(node["enum"], list):
                raise _Unsupported
            allowed = frozenset(v for v in node["enum"] if isinstance(v, str))
            checks.append(lambda x: isinstance(x, str) and x in allowed)
        if "const" in node:
            const = node["const"]
            checks.append(lambda x: isinstance(x, str) and isinstance(const, str) and x == const)
        return _all(checks) if checks else None

    def _object(self, node: dict[str, Any]) -> Fast | None:
        if not any(word in node for word in _OBJECT_WORDS):
            return None
        props = {name: self.compile(sub) for name, sub in node.get("properties", {}).items()}
        required = list(node.get("required", []))
        extra = node.get("additionalProperties", True)
        additional = None if extra is True else self.compile(extra) if extra is not False else (lambda x: False)
        low, high = node.get("minProperties", 0), node.get("maxProperties", float("inf"))

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            if not low <= len(x) <= high or any(name not in x for name in required):
                return False
            for key, value in x.items():
                sub = props.get(key)
                if sub is not None:
                    if not sub(value):
                        return False
                elif additional is not None and not additional(value):
                    return False
            return True

        return check

    def _array(self, node: dict[str, Any]) -> Fast | None:
        if not any(word in node for word in _ARRAY_WORDS):
            return None
        items = self.compile(node["items"]) if "items" in node else None
        low, high, unique = node.get("minItems", 0), node.get("maxItems", float("inf")), node.get("uniqueItems")

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            if not low <= len(x) <= high:
                return False
            if unique and not (all(isinstance(v, str) for v in x) and len(set(x)) == len(x)):
                return False
            return items is None or all(items(v) for v in x)

        return check

    def _string(self, node: dict[str, Any]) -> list[Fast]:
        checks: list[Fast] = []
        if any(word in node for word in _STRING_WORDS):
            low, high = node.get("minLength", 0), node.get("maxLength", float("inf"))
            pattern = re.compile(node["pattern"]) if "pattern" in node else None
            checks.append(lambda x: not isinstance(x, str) or (
                low <= len(x) <= high and (pattern is None or pattern.search(x) is not None)))
        if "format" in node and self.format_checker is not None:
            conforms, name = self.format_checker.conforms, node["format"]
            checks.append(lambda x: conforms(x, name))
        return checks

    def _number(self, node: dict[str, Any]) -> Fast | None:
        bounds = [(word, node[word]) for word in _NUMBER_WORDS if word in node]
        if not bounds:
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for _, v in bounds):
            raise _Unsupported
        low, high = node.get("minimum", -float("inf")), node.get("maximum", float("inf"))
        above, below = node.get("exclusiveMinimum", -float("inf")), node.get("exclusiveMaximum", float("inf"))
        return lambda x: (not isinstance(x, (int, float)) or isinstance(x, bool)
                          or (low <= x <= high and above < x < below))

    def _ref(self, node: dict[str, Any]) -> Fast | None:
        if "$ref" not in node:
            return None
        target = node["$ref"]
        match = _SIMPLE_REF.fullmatch(target) if isinstance(target, str) else None
        if match is None or not isinstance(self.root.get(match.group(1)), dict):
            raise _Unsupported
        if target not in self.refs:
            holder: list[Fast] = []
            # Filled in below; a recursive schema reaches this entry while it is being compiled.
            self.refs[target] = lambda x: holder[0](x)  # noqa: PLW0108
            if match.group(2) not in self.root[match.group(1)]:
                raise _Unsupported
            holder.append(self.compile(self.root[match.group(1)][match.group(2)]))
        return self.refs[target]

    def _combined(self, node: dict[str, Any]) -> Fast | None:
        checks = []
        if "allOf" in node:
            checks.append(_all([self.compile(sub) for sub in node["allOf"]]))
        if "anyOf" in node:
            options = [self.compile(sub) for sub in node["anyOf"]]
            checks.append(lambda x: any(option(x) for option in options))
        return _all(checks) if checks else None


def fast_path(validator: Any) -> Fast | None:
    """The "certainly valid" closure for a draft 2020-12 schema, or None when it uses other keywords."""
    if type(validator) is not Draft202012Validator or not isinstance(validator.schema, dict):
        return None
    try:
        return _FastCompiler(validator.schema, validator.format_checker).compile(validator.schema, top=True)
    except (_Unsupported, re.error, TypeError, AttributeError):
        return None
