"""The schema: read (a file or a built-in), checked against its metaschema, `$ref` loops refused,
compiled into a validator (and a fast path where the keywords allow one)."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012, specification_with

from loopgate.artifacts.loader import leaves_repository
from loopgate.artifacts.schema import load_schema, schema_names
from loopgate.gates._changes import not_regular
from loopgate.gates._positions import Path, Position, json_positions, yaml_positions
from loopgate.gates._schema.decoding import NotText, text_of
from loopgate.gates._schema.fast import fast_path
from loopgate.gates._schema.reading import Raw, Rules, kind_of, parse
from loopgate.records import record

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@record(frozen=True)
class SchemaProblem:
    path: str
    line: int
    column: int
    message: str


@record(frozen=True)
class Checker:
    validator: Any
    label: str
    dialect: str
    formats: bool
    path: str  # the schema file as given; "" for a built-in schema
    source: tuple[str, str, bool, str]  # how to build it again in a worker: (schema, builtin, formats, cwd)
    fast: Callable[[Any], bool] | None = None  # "certainly valid?" (see fast_path), when the schema allows one


def build_checker(schema: str, builtin: str, formats: bool, cwd: str) -> Checker | SchemaProblem:
    if bool(schema) == bool(builtin):
        which = "both --schema and --builtin" if schema else "no schema"
        return SchemaProblem("", 1, 1, f"{which} given: give exactly one of --schema FILE and --builtin NAME")
    if builtin:
        if builtin not in schema_names():
            return SchemaProblem("", 1, 1, f"no built-in schema '{builtin}' (known: {', '.join(schema_names())})")
        contents: Any = load_schema(builtin)
        label, base_dir = f"the built-in {builtin} schema", ""
    else:
        loaded = load_schema_file(os.path.join(cwd, schema), schema)
        if isinstance(loaded, SchemaProblem):
            return loaded
        contents, label, base_dir = loaded, schema, os.path.dirname(os.path.join(cwd, schema))
    cls = _dialect(contents)
    if cls is None:
        return SchemaProblem(schema, 1, 1, f"{schema or builtin}: unknown $schema dialect {contents['$schema']!r}")
    try:
        cls.check_schema(contents)
        loop = ref_loop(contents)
        validator = cls(contents, registry=_registry(base_dir, contents),
                        format_checker=cls.FORMAT_CHECKER if formats else None)
        fast = fast_path(validator)
    except SchemaError as err:
        return _invalid_schema(schema, os.path.join(cwd, schema) if schema else "", err)
    except RecursionError:
        return SchemaProblem(schema, 1, 1, f"{schema or builtin}: the schema is nested too deeply to use")
    if loop is not None:
        where, ref = loop
        line, column = _schema_position(schema, os.path.join(cwd, schema), where) if schema else (1, 1)
        return SchemaProblem(schema, line, column, f"{schema or builtin}: the $ref {ref!r} at {json_path(where)} "
                             "leads back to itself without going into the document, so validating would never end")
    dialect = "draft " + cls.__name__.removeprefix("Draft").removesuffix("Validator").replace("2020", "2020-")
    dialect = dialect.replace("2019", "2019-")
    return Checker(validator, label, dialect, formats, schema, (schema, builtin, formats, cwd), fast)


def _dialect(contents: Any) -> Any:
    if isinstance(contents, dict) and "$schema" in contents:
        if not isinstance(contents["$schema"], str):
            return None
        return validator_for(contents, default=None)  # type: ignore[arg-type]
    return Draft202012Validator


# Keywords whose subschemas apply to the same value as their parent: a $ref loop through these alone
# never reaches a smaller part of the document, so jsonschema would recurse until Python stops it.
_SAME_VALUE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_VALUE_ONE = ("not", "if", "then", "else")
_NOT_SCHEMAS = frozenset({"enum", "const", "default", "examples"})  # data, not subschemas


def ref_loop(contents: Any) -> tuple[Path, str] | None:
    """(where, ref) of a local `$ref` that leads back to itself through same-value keywords only, or None.

    Only fragment refs (`#`, `#/json/pointer`) are followed, and none inside a subschema with its own
    `$id` (its refs are relative to that); anything else that loops is caught when validating.
    """
    if not isinstance(contents, dict):
        return None
    paths = list(_schema_paths(contents, ()))
    known = set(paths)
    state: dict[Path, int] = {}  # 1: on the path being followed, 2: done

    def follow(path: Path, last_ref: tuple[Path, str] | None) -> tuple[Path, str] | None:
        state[path] = 1
        for step, target, ref in _same_value_steps(contents, path, known):
            here = ((*path, step), ref) if ref else last_ref
            if state.get(target) == 1:
                return here  # every loop passes a $ref: tree edges only go down
            found = None if target in state else follow(target, here)
            if found is not None:
                return found
        state[path] = 2
        return None

    for path in paths:
        found = None if path in state else follow(path, None)
        if found is not None:
            return found
    return None


def _schema_paths(node: Any, path: Path) -> Iterator[Path]:
    """Every object in the schema outside data keywords and sub-resources with their own `$id`."""
    if isinstance(node, dict):
        if path and ("$id" in node or isinstance(node.get("id"), str)):
            return
        yield path
        for key, value in node.items():
            if key not in _NOT_SCHEMAS:
                yield from _schema_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schema_paths(value, (*path, index))


def _same_value_steps(root: Any, path: Path, known: set[Path]) -> Iterator[tuple[str, Path, str]]:
    node = _at(root, path)
    for word in _SAME_VALUE_LISTS:
        if isinstance(node.get(word), list):
            for index in range(len(node[word])):
                yield word, (*path, word, index), ""
    for word in _SAME_VALUE_ONE:
        if isinstance(node.get(word), dict):
            yield word, (*path, word), ""
    ref = node.get("$ref")
    target = _pointer(root, ref) if isinstance(ref, str) else None
    if target is not None and target in known:
        yield "$ref", target, ref


def _pointer(root: Any, ref: str) -> Path | None:
    """The path a fragment-only JSON pointer `$ref` names in `root`, or None (not there, or not a pointer)."""
    if ref == "#":
        return ()
    if not ref.startswith("#/"):
        return None
    steps: list[str | int] = []
    node = root
    for part in ref[2:].split("/"):
        step = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and step in node:
            steps.append(step)
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            steps.append(int(step))
            node = node[int(step)]
        else:
            return None
    return tuple(steps)


def _at(root: Any, path: Path) -> Any:
    node = root
    for step in path:
        node = node[step]
    return node


def load_schema_file(full: str, shown: str) -> Any:
    outside = leaves_repository(full)
    if outside:
        return SchemaProblem(shown, 1, 1, f"{shown}: a symlink to {outside}, outside the repository; not read")
    try:
        mode = os.stat(full).st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block the open below
            return SchemaProblem(shown, 1, 1, f"{shown}: cannot read the schema: {not_a_file(mode)}")
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return SchemaProblem(shown, 1, 1, f"{shown}: cannot read the schema: {err.strerror or err}")
    # A schema is read as it is written (the last of two keys counts): the rules are for the data files.
    parsed = parse(kind_of(full) if kind_of(full) == "yaml" else "json", data, shown, Rules(True, True))
    if isinstance(parsed, Raw):
        return SchemaProblem(shown, parsed.line, parsed.column, f"{shown}: the schema is not valid: {parsed.message}")
    documents = parsed.documents
    if len(documents) != 1 or not isinstance(documents[0], (dict, bool)):
        return SchemaProblem(shown, 1, 1, f"{shown}: a schema is one JSON object (or true/false)")
    return documents[0]


def _invalid_schema(shown: str, full: str, err: SchemaError) -> SchemaProblem:
    where = json_path(tuple(err.path))
    line, column = _schema_position(shown, full, tuple(err.path)) if full else (1, 1)
    return SchemaProblem(shown, line, column,
                         f"{shown or 'schema'}: not a valid JSON Schema at {where}: {short(err.message)}")


def _schema_position(shown: str, full: str, path: Path) -> Position:
    kind = "yaml" if kind_of(shown) == "yaml" else "json"
    try:
        with open(full, "rb") as handle:
            text = text_of(handle.read(), kind)  # as it was read: UTF-16 too, the BOM dropped
    except (OSError, NotText):
        return 1, 1
    if kind == "yaml":
        return yaml_positions(text, 0, [path])[0]
    return json_positions(text, [path])[0]


def _registry(base_dir: str, contents: Any) -> Registry[Any]:
    """Relative `$ref`s are read from next to the schema file; nothing is fetched from the network."""
    dialect = contents.get("$schema", "") if isinstance(contents, dict) else ""
    specification = specification_with(dialect, default=DRAFT202012) if dialect else DRAFT202012

    def retrieve(uri: str) -> Resource[Any]:
        parts = urlsplit(uri)
        if parts.scheme not in ("", "file") or not base_dir:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        path = url2pathname(parts.path) if parts.scheme == "file" else os.path.join(base_dir, parts.path)
        loaded = load_schema_file(path, path)
        if isinstance(loaded, SchemaProblem):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return Resource.from_contents(loaded, default_specification=specification)

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]



def json_path(path: Path) -> str:
    out = "$"
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _IDENTIFIER.fullmatch(step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


def short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def not_a_file(mode: int) -> str:
    return "no such file or directory" if mode == 0 else not_regular(mode)
