"""The artifacts' JSON schemas: loading them, typing markdown strings by them, validating.

The schema is the single source of truth for types: a property whose schema is the `duration`
definition is parsed as a duration, an `integer` as a whole number, and so on. Adding a typed
key to an artifact is then a schema change only.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from loopgate import codes
from loopgate.artifacts import values
from loopgate.artifacts.extract import Extracted, JsonPath
from loopgate.artifacts.quickcheck import certainly_valid
from loopgate.findings import Finding

if TYPE_CHECKING:  # jsonschema is imported only when an artifact is not certainly valid
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Schema = dict[str, Any]


def schema_names() -> list[str]:
    from importlib import resources  # noqa: PLC0415 - see schema_text

    files = resources.files("loopgate.artifacts").joinpath("schemas")
    return sorted(p.name.removesuffix(".schema.json") for p in files.iterdir() if p.name.endswith(".schema.json"))


@cache
def schema_text(name: str) -> str:
    # Read from the package's directory when it is one (always, from a wheel or a checkout):
    # importlib.resources and the zip reader it loads were a twentieth of `loopgate verify`'s start.
    folder = os.path.join(os.path.dirname(__file__), "schemas")
    if os.path.isdir(folder):
        with open(os.path.join(folder, f"{name}.schema.json"), encoding="utf-8") as handle:
            return handle.read()
    from importlib import resources  # noqa: PLC0415 - a zipped package

    return resources.files("loopgate.artifacts").joinpath("schemas").joinpath(f"{name}.schema.json").read_text("utf-8")


@cache
def load_schema(name: str) -> Schema:
    loaded: Schema = json.loads(schema_text(name))
    return loaded


@cache
def validator(name: str) -> Draft202012Validator:
    # Validate against a copy with the local `$ref`s inlined: resolving them through jsonschema's
    # `referencing` machinery on every value was a third of verify's time over many loops. The
    # shipped schemas keep their `$defs` (that is what `loopgate schema` prints and editors read).
    from jsonschema import Draft202012Validator, FormatChecker  # noqa: PLC0415

    root = load_schema(name)
    return Draft202012Validator(_inline_refs(root, root, 0), format_checker=FormatChecker())


def _inline_refs(node: Any, root: Schema, depth: int) -> Any:
    """`{"$ref": "#/$defs/x"}` replaced by the definition itself, recursively (the schemas are acyclic)."""
    if depth > 32:  # pragma: no cover - a cyclic schema: leave the rest to jsonschema
        return node
    if isinstance(node, list):
        return [_inline_refs(v, root, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
        return _inline_refs(root["$defs"][ref.removeprefix("#/$defs/")], root, depth + 1)
    return {k: _inline_refs(v, root, depth + 1) for k, v in node.items()}


def _resolve(root: Schema, node: Schema) -> Schema:
    seen = 0
    while "$ref" in node and seen < 16:
        ref = str(node["$ref"])
        if not ref.startswith("#/$defs/"):
            break
        node = root["$defs"][ref.removeprefix("#/$defs/")]
        seen += 1
    return node


def _child(root: Schema, node: Schema, key: str | int) -> Schema | None:
    node = _resolve(root, node)
    if isinstance(key, int):
        items = node.get("items")
        return _resolve(root, items) if isinstance(items, dict) else None
    props = node.get("properties", {})
    if key in props:
        return _resolve(root, props[key])
    extra = node.get("additionalProperties")
    return _resolve(root, extra) if isinstance(extra, dict) else None


_JSON_TYPES: dict[type, str] = {dict: "object", list: "array", str: "string"}


def _branch_for(root: Schema, node: Schema, value: Any) -> Schema:
    """For an `anyOf`/`oneOf` of a string or an object (an escalation category), the branch the
    markdown took: nested bullets are the object, so their values are typed by its properties."""
    resolved = _resolve(root, node)
    options = resolved.get("anyOf") or resolved.get("oneOf")
    if not isinstance(options, list) or "properties" in resolved:
        return node
    wanted = _JSON_TYPES.get(type(value))
    for option in options:
        branch = _resolve(root, option) if isinstance(option, dict) else {}
        if wanted is not None and branch.get("type") == wanted:
            return branch
    return node


class _Coercer:
    def __init__(self, root: Schema, extracted: Extracted, path: str) -> None:
        self.root = root
        self.ex = extracted
        self.path = path

    def adopt(self, value: dict[str, Any], node: Schema, here: JsonPath) -> None:
        """Read `- gates:` followed by unindented `- link check: passed` bullets as nested.

        Text copies of the article (and hand-written files) often lose the indentation of
        nested bullets. When a key that needs an object has no value, the bullets after it
        that are not keys of the enclosing object belong to it.
        """
        resolved = _resolve(self.root, node)
        known = resolved.get("properties", {})
        owner: str | None = None
        for key in list(value):
            child = _child(self.root, resolved, key)
            if value[key] == "" and child is not None and child.get("type") == "object":
                owner, value[key] = key, {}
            elif owner is not None and key not in known and isinstance(value[key], str):
                value[owner][key] = value.pop(key)
                self.ex.positions[here + (owner, key)] = self.ex.positions.pop(here + (key,))
            else:
                owner = None

    def walk(self, value: Any, node: Schema | None, here: JsonPath) -> Any:
        if node is None:
            return value
        node = _branch_for(self.root, node, value)
        if isinstance(value, dict):
            self.adopt(value, node, here)
            for key in list(value):
                value[key] = self.walk(value[key], _child(self.root, node, key), (*here, key))
            return value
        if isinstance(value, list):
            return [self.walk(v, _child(self.root, node, i), (*here, i)) for i, v in enumerate(value)]
        if isinstance(value, str):
            return self.scalar(value, node, here)
        return value

    def scalar(self, text: str, node: Schema, here: JsonPath) -> Any:
        title, kind = node.get("title"), node.get("type")
        try:
            if title == "duration":
                return values.parse_duration(text)
            if title == "money":
                return values.parse_money(text)
            if title == "percentage":
                return values.parse_percentage(text)
            if kind == "integer":
                return values.parse_integer(text)
            if kind == "number":
                return values.parse_number(text)
            if kind == "boolean":
                return values.parse_boolean(text)
            if kind == "array":
                return values.parse_list(text)
            if "enum" in node:
                return values.parse_word(text)
        except values.OutOfRange as err:
            self._refuse(codes.OUT_OF_RANGE, here, str(err))
        except ValueError as err:
            code = {"duration": codes.BAD_DURATION, "money": codes.BAD_MONEY}.get(str(title), codes.WRONG_TYPE)
            self._refuse(code, here, str(err))
        return text

    def _refuse(self, code: codes.Code, here: JsonPath, message: str) -> None:
        pos = self.ex.position(here)
        self.ex.findings.append(code.at(self.path, pos.line, pos.value_column, f"{_label(here)}: {message}"))
        self.ex.reported.add(here)


def _label(path: JsonPath) -> str:
    named = [str(p).replace("_", " ") for p in path if isinstance(p, str)]
    return named[-1] if named else "value"


def _words(choices: list[Any]) -> str:
    return ", ".join(str(c) for c in choices)


def _describe(error: ValidationError, root: Schema) -> tuple[codes.Code, str, str | None]:
    """Map a jsonschema error to (code, message, hint) in the user's terms."""
    label = _label(tuple(error.absolute_path))
    keyword, schema = error.validator, error.schema if isinstance(error.schema, dict) else {}
    if keyword == "enum":
        title = schema.get("title", "value")
        return (codes.INVALID_CHOICE, f"{label}: '{values.shown(str(error.instance))}' is not a valid {title}",
                f"Use one of: {_words(list(schema.get('enum', [])))}.")
    if keyword in ("minimum", "exclusiveMinimum"):
        need = "positive" if keyword == "exclusiveMinimum" else "zero or more"
        return codes.OUT_OF_RANGE, f"{label}: {error.instance} must be {need}", None
    if keyword == "type":
        title = schema.get("title")
        if error.instance == "" and error.validator_value in ("object", "array"):
            return (codes.WRONG_TYPE, f"{label}: has no value and no nested bullets",
                    f"Indent the bullets that belong to `{label}:` by two spaces under it.")
        if title in ("duration", "money"):
            code = codes.BAD_DURATION if title == "duration" else codes.BAD_MONEY
            return code, f"{label}: '{values.shown(str(error.instance))}' is not a {title}", None
        want = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "yes or no",
                "object": "`- key: value` bullets", "array": "a list of bullets"}.get(str(error.validator_value),
                                                                                    str(error.validator_value))
        return codes.WRONG_TYPE, f"{label}: expected {want}, got {_shown(error.instance)}", None
    if keyword == "oneOf" and "gate" in schema.get("properties", {}):
        return (codes.SCHEMA_VIOLATION, f"gate '{label}' needs exactly one of `- gate: NAME` or `- command: CMD`",
                "Give a built-in gate (`- gate: links`) or a command (`- command: pytest -q`), not both.")
    if keyword == "anyOf" and not error.absolute_path:
        options: list[dict[str, list[str]]] = list(error.validator_value)  # type: ignore[arg-type]
        wanted = " or ".join(f"`## {k.replace('_', ' ').title()}`" for option in options for k in option["required"])
        return codes.MISSING_SECTION, f"needs a {wanted} section", None
    if keyword in ("minItems", "minLength", "minProperties"):
        return codes.EMPTY_SECTION, f"{label}: is empty", None
    return codes.SCHEMA_VIOLATION, f"{label}: {error.message}", None


def _branch_errors(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the one `anyOf`/`oneOf` branch whose type the value has, if exactly one has it."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return None
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    typed = [errors for errors in branches.values()
             if not any(e.validator == "type" and not e.relative_path for e in errors)]
    return typed[0] if len(typed) == 1 else None


def _shown(instance: Any) -> str:
    if isinstance(instance, dict):
        return "nested bullets"
    if isinstance(instance, list):
        return "a list"
    return f"'{values.shown(str(instance))}'"


class _Validator:
    def __init__(self, name: str, extracted: Extracted, path: str) -> None:
        self.name, self.ex, self.path = name, extracted, path
        self.root = load_schema(name)
        self.out: list[Finding] = []

    def add(self, code: codes.Code, here: JsonPath, message: str, hint: str | None, *, at_key: bool) -> None:
        pos = self.ex.position(here)
        self.out.append(code.at(self.path, pos.line, pos.column if at_key else pos.value_column, message, hint))

    def error(self, error: ValidationError) -> None:
        here: JsonPath = tuple(error.absolute_path)
        if any(here[:n] in self.ex.reported for n in range(len(here) + 1)):
            return
        branch = _branch_errors(error)
        if branch is not None:  # say what is wrong inside the branch the value took, not "not valid under any"
            for sub in branch:
                self.error(sub)
            return
        if error.validator == "required":
            required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
            present = set(error.instance) if isinstance(error.instance, dict) else set()
            for missing in sorted(set(required) - present):
                if (*here, missing) in self.ex.reported:
                    continue
                self.add(codes.REQUIRED_FIELD, here, f"{_label(here)}: '{missing.replace('_', ' ')}' is missing",
                         f"Add `- {missing.replace('_', ' ')}: ...`.", at_key=True)
                # jsonschema yields one `required` error per missing key, each with the same list:
                # remember what was said so the next error does not say it again.
                self.ex.reported.add((*here, missing))
            return
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            node = error.schema if isinstance(error.schema, dict) else {}
            known = sorted(_resolve(self.root, node).get("properties", {}))
            for extra in sorted(set(error.instance) - set(known)):
                import difflib  # noqa: PLC0415 - only for a key that is not in the schema

                close = difflib.get_close_matches(extra, known, n=1)
                hint = (f"Did you mean '{close[0].replace('_', ' ')}'?" if close else
                        f"Known keys: {_words([k.replace('_', ' ') for k in known])}.")
                self.add(codes.UNKNOWN_KEY, (*here, extra),
                         f"'{extra.replace('_', ' ')}' is not a key of {_label(here)}", hint, at_key=True)
            return
        code, message, extra_hint = _describe(error, self.root)
        self.add(code, here, message, extra_hint, at_key=False)

    def run(self) -> list[Finding]:
        if certainly_valid(self.root, self.ex.data):  # the common case, without jsonschema
            return self.out
        errors = sorted(validator(self.name).iter_errors(self.ex.data), key=lambda e: list(map(str, e.path)))
        for error in errors:
            self.error(error)
        return self.out


def validate(name: str, extracted: Extracted, path: str) -> list[Finding]:
    """Type the extracted strings by the schema, then validate; both add findings."""
    _Coercer(load_schema(name), extracted, path).walk(extracted.data, load_schema(name), ())
    return extracted.findings + _Validator(name, extracted, path).run()
