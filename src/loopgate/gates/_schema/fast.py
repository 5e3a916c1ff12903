"""The fast path: a schema compiled into plain Python closures that say whether a document is valid.

jsonschema spends ~80 us on a small document, and milliseconds on a GitHub workflow against
GitHub's schema (oneOf over every job and step shape), mostly in its general machinery. Most
files in a repository are valid, so the schema is also compiled into closures that answer one
question: "valid?". They cover the common keywords of drafts 6, 7, 2019-09 and 2020-12; a schema
using any other keyword gets no fast path at all. Each closure gives exactly jsonschema's answer
for its keywords (comparisons written as jsonschema writes them, its own `equal` and `uniq` for
`enum`, `const` and `uniqueItems`), which is what lets `oneOf` and `not` be compiled: a negated
answer must be as right as a plain one. A file the closures call invalid is judged again by
jsonschema, which reports the errors, so the fast path never decides an error by itself; it only
skips jsonschema for files that are valid. Tests compare the two on generated schemas and
documents and on real workflows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft6Validator, Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema._utils import equal, uniq

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
_OBJECT_WORDS = ("properties", "patternProperties", "required", "additionalProperties", "minProperties",
                 "maxProperties", "dependencies")
_ARRAY_WORDS = ("items", "minItems", "maxItems", "uniqueItems")
_STRING_WORDS = ("minLength", "maxLength", "pattern")
_NUMBER_WORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_COMBINING = ("allOf", "anyOf", "oneOf", "not")
_KNOWN = frozenset({*_ANNOTATIONS, *_OBJECT_WORDS, *_ARRAY_WORDS, *_STRING_WORDS, *_NUMBER_WORDS, *_COMBINING,
                    "type", "enum", "const", "format", "$ref"})
_SIMPLE_REF = re.compile(r"#/(\$defs|definitions)/([A-Za-z0-9_.-]+)")
# Drafts whose `$ref` makes its siblings ignored (later drafts apply both).
_REF_ALONE = (Draft6Validator, Draft7Validator)
_DIALECTS = (*_REF_ALONE, Draft201909Validator, Draft202012Validator)


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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _FastCompiler:
    def __init__(self, root: Any, format_checker: Any, ref_alone: bool) -> None:
        self.root = root
        self.format_checker = format_checker
        self.ref_alone = ref_alone
        self.refs: dict[str, Fast] = {}

    def compile(self, node: Any, top: bool = False) -> Fast:
        if node is True:
            return lambda x: True
        if node is False:
            return lambda x: False
        if not isinstance(node, dict):
            raise _Unsupported
        if self.ref_alone and "$ref" in node:
            return self._ref(node)  # type: ignore[return-value]
        if not set(node) <= _KNOWN | ({"$id"} if top else set()):
            raise _Unsupported
        if "dependencies" in node and not self.ref_alone:
            raise _Unsupported  # not a keyword after draft 7 (jsonschema ignores it there)
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
        # jsonschema's own equality: it tells 1 from True, and 1 from 1.0 its own way.
        # Every keyword present is checked: a node with both `enum` and `const` must satisfy both.
        checks: list[Fast] = []
        if "enum" in node:
            if not isinstance(node["enum"], list):
                raise _Unsupported
            values = list(node["enum"])
            strings = frozenset(v for v in values if isinstance(v, str))
            others = [v for v in values if not isinstance(v, str)]
            checks.append(lambda x: x in strings if isinstance(x, str) else any(equal(x, v) for v in others))
        if "const" in node:
            const = node["const"]
            checks.append(lambda x: equal(x, const))
        return _all(checks) if checks else None

    def _object(self, node: dict[str, Any]) -> Fast | None:
        if not any(word in node for word in _OBJECT_WORDS):
            return None
        props = {name: self.compile(sub) for name, sub in node.get("properties", {}).items()}
        patterns = [(re.compile(p), self.compile(sub)) for p, sub in node.get("patternProperties", {}).items()]
        required = list(node.get("required", []))
        extra = node.get("additionalProperties", True)
        additional = None if extra is True else self.compile(extra)
        low, high = node.get("minProperties", 0), node.get("maxProperties", float("inf"))
        dependencies = self._dependencies(node.get("dependencies", {}))

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            if len(x) < low or len(x) > high or any(name not in x for name in required):
                return False
            for key, value in x.items():
                sub = props.get(key)
                if sub is not None and not sub(value):
                    return False
                matched = False
                for pattern, check_value in patterns:
                    if pattern.search(key):
                        matched = True
                        if not check_value(value):
                            return False
                if sub is None and not matched and additional is not None and not additional(value):
                    return False
            return all(dependency(x) for dependency in dependencies)

        return check

    def _dependencies(self, dependencies: Any) -> list[Fast]:
        if not isinstance(dependencies, dict):
            raise _Unsupported
        return [self._dependency(name, dependency) for name, dependency in dependencies.items()]

    def _dependency(self, name: str, dependency: Any) -> Fast:
        if isinstance(dependency, list):
            needed = list(dependency)
            return lambda x: name not in x or all(n in x for n in needed)
        sub = self.compile(dependency)
        return lambda x: name not in x or sub(x)

    def _array(self, node: dict[str, Any]) -> Fast | None:
        if not any(word in node for word in _ARRAY_WORDS):
            return None
        if isinstance(node.get("items"), list):
            raise _Unsupported  # tuple validation (draft 7's list form of `items`)
        items = self.compile(node["items"]) if "items" in node else None
        low, high, unique = node.get("minItems", 0), node.get("maxItems", float("inf")), node.get("uniqueItems")

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            if len(x) < low or len(x) > high:
                return False
            if unique and not (len(set(x)) == len(x) if all(isinstance(v, str) for v in x) else uniq(x)):
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
        if not all(_is_number(v) for _, v in bounds):
            raise _Unsupported  # draft 4's boolean exclusiveMinimum, or nonsense
        low, high = node.get("minimum"), node.get("maximum")
        above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")

        def check(x: Any) -> bool:
            # As jsonschema writes each test, so NaN passes them all as it does there.
            if not _is_number(x):
                return True
            return not ((low is not None and x < low) or (high is not None and x > high)
                        or (above is not None and x <= above) or (below is not None and x >= below))

        return check

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
        for word in ("allOf", "anyOf", "oneOf"):
            if word in node and not (isinstance(node[word], list) and node[word]):
                raise _Unsupported
        if "allOf" in node:
            checks.append(_all([self.compile(sub) for sub in node["allOf"]]))
        if "anyOf" in node:
            options = [self.compile(sub) for sub in node["anyOf"]]
            checks.append(lambda x: any(option(x) for option in options))
        if "oneOf" in node:
            alternatives = [self.compile(sub) for sub in node["oneOf"]]
            checks.append(lambda x: sum(1 for alternative in alternatives if alternative(x)) == 1)
        if "not" in node:
            negated = self.compile(node["not"])
            checks.append(lambda x: not negated(x))
        return _all(checks) if checks else None


def fast_path(validator: Any) -> Fast | None:
    """The "valid?" closure for a draft 6, 7, 2019-09 or 2020-12 schema, or None when it uses other keywords."""
    if type(validator) not in _DIALECTS or not isinstance(validator.schema, dict):
        return None
    compiler = _FastCompiler(validator.schema, validator.format_checker, type(validator) in _REF_ALONE)
    try:
        return compiler.compile(validator.schema, top=True)
    except (_Unsupported, re.error, TypeError, AttributeError, RecursionError):
        return None  # RecursionError: a schema nested too deeply to compile; jsonschema judges alone
