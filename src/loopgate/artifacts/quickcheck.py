"""A yes-or-don't-know validator for the artifacts' own schemas, so a valid loop never imports
jsonschema (about a third of `loopgate verify`'s start-up, paid on every pre-commit run).

`certainly_valid` answers True only when the instance is valid under every keyword it meets and
it knows every keyword it meets (the small subset the shipped schemas use); anything else, an
invalid value or an unknown keyword, is "don't know", and the caller asks jsonschema, which also
words the findings. So the fast path can only ever skip work whose result is certain.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
                          "deprecated", "readOnly", "writeOnly"})
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


class _Unsure(Exception):
    """A keyword or form this checker does not know: the answer is jsonschema's."""


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ref(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise _Unsure(ref)
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _valid(root: dict[str, Any], schema: Any, value: Any, depth: int) -> bool:  # noqa: C901, PLR0912
    if schema is True:
        return True
    if schema is False or depth > 64:
        return False if schema is False else _fail_unsure()
    if not isinstance(schema, dict):
        raise _Unsure(schema)
    for key, rule in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "$ref":
            ok = _valid(root, _ref(root, rule), value, depth + 1)
        elif key == "type":
            ok = any(_TYPES[t](value) for t in ([rule] if isinstance(rule, str) else rule))
        elif key == "enum":
            ok = any(value == choice and type(value) is type(choice) for choice in rule)
        elif key == "const":
            ok = value == rule and type(value) is type(rule)
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            ok = not _number(value) or {"minimum": value >= rule, "maximum": value <= rule,
                                        "exclusiveMinimum": value > rule, "exclusiveMaximum": value < rule}[key]
        elif key in ("minLength", "maxLength"):
            # JSON Schema counts code points, as len() does
            ok = not isinstance(value, str) or (len(value) >= rule if key == "minLength" else len(value) <= rule)
        elif key == "pattern":
            ok = not isinstance(value, str) or _pattern(rule).search(value) is not None
        elif key in ("minItems", "maxItems"):
            ok = not isinstance(value, list) or (len(value) >= rule if key == "minItems" else len(value) <= rule)
        elif key in ("minProperties", "maxProperties"):
            ok = not isinstance(value, dict) or (len(value) >= rule if key == "minProperties" else len(value) <= rule)
        elif key == "required":
            ok = not isinstance(value, dict) or all(k in value for k in rule)
        elif key == "properties":
            ok = not isinstance(value, dict) or all(_valid(root, sub, value[k], depth + 1)
                                                    for k, sub in rule.items() if k in value)
        elif key == "additionalProperties":
            known = set(schema.get("properties", {}))
            if "patternProperties" in schema:
                raise _Unsure(key)
            ok = not isinstance(value, dict) or all(_valid(root, rule, v, depth + 1)
                                                    for k, v in value.items() if k not in known)
        elif key == "items":
            ok = not isinstance(value, list) or all(_valid(root, rule, v, depth + 1) for v in value)
        elif key == "anyOf":
            ok = any(_valid(root, sub, value, depth + 1) for sub in rule)
        elif key == "oneOf":
            ok = sum(1 for sub in rule if _valid(root, sub, value, depth + 1)) == 1
        elif key == "not":
            ok = not _valid(root, rule, value, depth + 1)
        else:
            raise _Unsure(key)  # format, if/then, unevaluated*, dependent*: jsonschema's to decide
        if not ok:
            return False
    return True


def _fail_unsure() -> bool:
    raise _Unsure("too deep")


def certainly_valid(schema: dict[str, Any], instance: Any) -> bool:
    """True: valid, for certain. False: invalid, or not known here (ask jsonschema)."""
    try:
        return _valid(schema, schema, instance, 0)
    except (_Unsure, KeyError, TypeError, re.error):
        return False
