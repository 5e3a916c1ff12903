"""Validate JSON, YAML and TOML files against a JSON Schema.

The schema is a file (`--schema FILE`, JSON or YAML) or one of loopgate's own (`--builtin
NAME`: BUILTIN_NAMES). Its `$schema` picks the dialect (draft 4, 6, 7, 2019-09 or
2020-12; 2020-12 when absent), and `format` is checked (`date`, `email`, `uri`, ...; turn it
off with `--no-formats`). A relative `$ref` is read from next to the schema file; remote
`$ref`s are not fetched.

Files come as arguments (as pre-commit passes them) or as directories, searched for `*.json`,
`*.yaml`, `*.yml` and `*.toml` (hidden directories and the schema file itself skipped). The
kind is the extension's. Every document of a multi-document YAML file is validated.

Each error is a finding at the offending value, with its JSON path, e.g.
`config/app.json:14:17: LG451 $.items[3].status: 'dne' is not one of ['open', 'done']`,
the best-matching error of a file first (as jsonschema's `best_match` ranks them), at most
20 a file. Lines are exact for JSON and YAML. TOML's parser keeps no positions, so the line
is the first one that sets the key (best effort; the summary says so). A file that does not
parse is a finding at the parser's line and column. A YAML file whose aliases expand it beyond
100,000 values (a "billion laughs" document) or without end (an alias inside its own anchor) is
a finding at that alias, and is not validated.

Examples:

    loopgate gate schema --schema schemas/config.schema.json config/*.yaml
    loopgate gate schema --builtin run-report .loop/reports/
    loopgate gate schema --schema schema.yaml --no-formats data/

In `.pre-commit-config.yaml`: hook `loopgate-schema` with `args: [--schema, path/to/schema.json]`.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match, relevance
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

from loopgate import codes
from loopgate.artifacts.schema import load_schema, schema_names
from loopgate.findings import Finding, Severity
from loopgate.gates._changes import not_regular
from loopgate.gates._positions import Path, Position, json_positions, toml_positions, yaml_positions
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

NAME = "schema"
E = Severity.ERROR
__doc__ = (__doc__ or "").replace("BUILTIN_NAMES", ", ".join(f"`{n}`" for n in schema_names()))
SCHEMA_VIOLATION = codes.define(
    "LG451", "schema-violation", E, "A value does not match the JSON Schema.",
    "The file parsed, but a value breaks a rule of the schema: a wrong type, a missing required key, a value "
    "outside an enum or range, a string that is not the declared `format`. The message starts with the JSON "
    "path of the value (`$.items[3].status`) and the position points at it. Of a file's errors the one "
    "jsonschema's `best_match` ranks most relevant comes first.",
    "Change the value at this path to satisfy the schema (or change the schema in a reviewed change).",
)
INVALID_SYNTAX = codes.define(
    "LG452", "invalid-file-syntax", E, "A file is not valid JSON, YAML or TOML.",
    "The parser stopped at the line and column shown, so nothing in the file was validated.",
    "Fix the syntax at the position shown (a missing comma or quote, bad indentation, a duplicate key in TOML).",
)
UNKNOWN_FILE_TYPE = codes.define(
    "LG453", "unknown-file-type", E, "A file given by name is not JSON, YAML or TOML.",
    "The gate reads a file by its extension: `.json`; `.yaml` or `.yml`; `.toml`. A file given by name with "
    "another extension cannot be validated (exit 2). Directories are searched for those extensions only.",
    "Pass only JSON, YAML or TOML files (in pre-commit: `types_or: [json, yaml, toml]`).",
    input_error=True,
)
BAD_SCHEMA = codes.define(
    "LG454", "bad-schema", E, "The schema cannot be used.",
    "The schema file is missing, unreadable, not JSON or YAML, or not a valid JSON Schema for its dialect "
    "(the message says which rule of the metaschema it breaks), or a `$ref` in it leads back to itself without "
    "going into the document (validating would never end); or no schema, two schemas, or an unknown "
    "built-in name was given. Nothing was validated (exit 2).",
    "Give exactly one of `--schema FILE` and `--builtin NAME`, and fix the schema where the message points.",
    input_error=True,
)
INPUT_NOT_FOUND = codes.define(
    "LG455", "input-not-found", E, "A file or directory to validate does not exist or cannot be read.",
    "A path given on the command line (or in the checklist's `paths:`) is not there, cannot be read, or is "
    "not a regular file or directory (a FIFO, a socket, a device: never opened, as reading a FIFO could wait "
    "for ever), so it was not validated (exit 2). Such entries found inside a directory are skipped and "
    "counted in the summary.",
    "Check the path; it is relative to the directory the gate runs in.",
    input_error=True,
)
YAML_EXPANSION = codes.define(
    "LG456", "yaml-alias-expansion", E, "A YAML file expands through its aliases without end or beyond reason.",
    "A YAML alias (`*name`) repeats the value its anchor (`&name`) marks, so a few lines can stand for an "
    "exponential number of values: a YAML document that expands through aliases to more than 100,000 values "
    "(a 'billion laughs' document), or one with an alias inside the collection it names (a recursive document, "
    "which expands without end). Validating would walk every expanded value, for minutes or for ever, so the "
    "file is not validated; other files are. The position is the alias that passes the limit, or the "
    "recursive alias.",
    "Write the repeated values out, or use fewer nested aliases; remove an alias from inside its own anchor.",
)


@dataclass(frozen=True)
class Options:
    files: tuple[str, ...] = field(default=(), metadata=opt(
        "JSON, YAML or TOML files, or directories to search for them.", argument=True, metavar="PATH"))
    schema: str = field(default="", metadata=opt(
        "The JSON Schema to validate against (a .json or .yaml file).", metavar="FILE"))
    builtin: str = field(default="", metadata=opt(
        f"Validate against a schema that ships with loopgate: {', '.join(schema_names())}.", metavar="NAME"))
    formats: bool = field(default=True, metadata=opt(
        "Check `format` keywords (date, email, uri, ...)."))
    jobs: int = field(default=0, metadata=opt(
        "Processes to validate with (0: one per CPU, for inputs large enough to gain from it).", metavar="N"))


HOOK: dict[str, Any] = {
    "id": "loopgate-schema",
    "name": "loopgate schema",
    "description": "JSON, YAML and TOML files match a JSON Schema, errors at the offending line "
    "(pass args: [--schema, path/to/schema.json]).",
    "entry": "loopgate gate schema",
    "language": "python",
    "types_or": ["json", "yaml", "toml"],
}

MAX_ERRORS = 20  # a file's errors reported; the rest are counted
KINDS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_SKIP_DIRS = {"node_modules", "__pycache__"}
# Starting a worker (a fresh interpreter importing jsonschema) costs about 0.3 s, and on a shared
# machine (or inside `loopgate check`, which runs gates side by side) the other core is often busy.
# So workers start only for inputs with about two seconds of work: ~90 us a small file with
# jsonschema alone, ~25 us when the fast path says "valid" (bench/schema.md).
PARALLEL_FROM_SECONDS = 2.0
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_YamlBase):  # type: ignore[misc]
    """The safe loader (libyaml when present), with dates left as strings: JSON Schema has no date type,
    and `format: date` expects the text."""


# A file's values after aliases are expanded; beyond this it is a "billion laughs" document.
# Far more than a real configuration holds, and low enough that a small file cannot make validating
# slow: an invalid document of 100,000 values, every one an error, takes jsonschema about 10 s.
MAX_EXPANDED_VALUES = 100_000

_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _YamlBase.yaml_implicit_resolvers.items()
}



class Raw(NamedTuple):
    """A problem found in a file, as plain data a worker process can send back."""

    kind: str  # "syntax", "schema", "ref" or "expansion"
    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class SchemaProblem:
    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class Checker:
    validator: Any
    label: str
    dialect: str
    formats: bool
    path: str  # the schema file as given; "" for a built-in schema
    source: tuple[str, str, bool, str]  # how to build it again in a worker: (schema, builtin, formats, cwd)
    fast: Callable[[Any], bool] | None = None  # "certainly valid?" (see fast_path), when the schema allows one


def kind_of(path: str) -> str | None:
    return KINDS.get(os.path.splitext(path)[1].lower())


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
        loaded = _load_schema_file(os.path.join(cwd, schema), schema)
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
        return SchemaProblem(schema, line, column, f"{schema or builtin}: the $ref {ref!r} at {_json_path(where)} "
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


def _load_schema_file(full: str, shown: str) -> Any:
    try:
        mode = os.stat(full).st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block the open below
            return SchemaProblem(shown, 1, 1, f"{shown}: cannot read the schema: {_not_a_file(mode)}")
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return SchemaProblem(shown, 1, 1, f"{shown}: cannot read the schema: {err.strerror or err}")
    parsed = _parse(kind_of(full) if kind_of(full) == "yaml" else "json", data, shown)
    if isinstance(parsed, Raw):
        return SchemaProblem(shown, parsed.line, parsed.column, f"{shown}: the schema is not valid: {parsed.message}")
    documents, _text = parsed
    if len(documents) != 1 or not isinstance(documents[0], (dict, bool)):
        return SchemaProblem(shown, 1, 1, f"{shown}: a schema is one JSON object (or true/false)")
    return documents[0]


def _invalid_schema(shown: str, full: str, err: SchemaError) -> SchemaProblem:
    where = _json_path(tuple(err.path))
    line, column = _schema_position(shown, full, tuple(err.path)) if full else (1, 1)
    return SchemaProblem(shown, line, column,
                         f"{shown or 'schema'}: not a valid JSON Schema at {where}: {_short(err.message)}")


def _schema_position(shown: str, full: str, path: Path) -> Position:
    try:
        with open(full, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return 1, 1
    if kind_of(shown) == "yaml":
        return yaml_positions(text, 0, [path], _YamlLoader)[0]
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
        loaded = _load_schema_file(path, path)
        if isinstance(loaded, SchemaProblem):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return Resource.from_contents(loaded, default_specification=specification)

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]


# -- parsing ---------------------------------------------------------------------------------------


def _parse(kind: str | None, data: bytes, shown: str) -> tuple[list[Any], str] | Raw:
    """(documents, text) or a syntax problem. `text` is "" for JSON: decoded later, only if needed."""
    try:
        if kind == "json":
            return [json.loads(data)], ""
        text = data.decode("utf-8-sig")
        if kind == "yaml":
            expansion = _alias_expansion(text, shown)
            if expansion is not None:
                return expansion
            return list(yaml.load_all(text, Loader=_YamlLoader)) or [None], text
        return [_plain(tomllib.loads(text))], text
    except json.JSONDecodeError as err:
        return Raw("syntax", shown, err.lineno, err.colno, f"invalid JSON: {err.msg}")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return Raw("syntax", shown, line, 1, f"not UTF-8 text (byte {err.start})")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return Raw("syntax", shown, line, column, f"invalid YAML: {problem}")
    except tomllib.TOMLDecodeError as err:
        found = _TOML_AT.search(str(err))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        return Raw("syntax", shown, line, column, f"invalid TOML: {_TOML_AT.sub('', str(err)).strip()}")
    except RecursionError:
        return Raw("syntax", shown, 1, 1, "nested too deeply to parse")


def _alias_expansion(text: str, shown: str) -> Raw | None:
    """A problem if the text's aliases expand it beyond MAX_EXPANDED_VALUES values, or without end.

    PyYAML shares an aliased value rather than copying it, so loading is cheap, but validating walks
    the expanded tree. Its size is counted from the parser's events, in one pass over the text: each
    anchored value's expanded size is kept, and an alias adds the size of its anchor's value. Text
    without both `&` and `*` has no aliases and skips the pass.
    """
    if "&" not in text or "*" not in text:
        return None
    counter = _Expansion()
    for event in yaml.parse(text, Loader=_YamlLoader):
        message = counter.alias(event) if isinstance(event, yaml.AliasEvent) else counter.other(event)
        if message:
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            return Raw("expansion", shown, line, column, message)
    return None


class _Expansion:
    """Counts a YAML stream's values as if every alias were written out, event by event (no recursion)."""

    def __init__(self) -> None:
        self.total = 0
        self.sizes: dict[str, int | None] = {}  # anchor -> expanded size of its value; None while still open
        self.starts: list[tuple[str | None, int]] = []  # open collections: (anchor, total before it)

    def alias(self, event: yaml.AliasEvent) -> str:
        anchor = event.anchor or ""
        if anchor in self.sizes and self.sizes[anchor] is None:
            return (f"the alias *{anchor} is inside the value it names: the document is recursive and expands "
                    "without end; not validated")
        self.total += self.sizes.get(anchor) or 0  # an undefined alias counts nothing: loading reports it
        if self.total > MAX_EXPANDED_VALUES:
            return (f"through its aliases the file expands to more than {MAX_EXPANDED_VALUES:,} values "
                    "(a 'billion laughs' document); not validated")
        return ""

    def other(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.CollectionStartEvent):
            self.starts.append((event.anchor, self.total))
            self.total += 1
            if event.anchor is not None:
                self.sizes[event.anchor] = None
        elif isinstance(event, yaml.ScalarEvent):
            self.total += 1
            if event.anchor is not None:
                self.sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = self.starts.pop()
            if anchor is not None:
                self.sizes[anchor] = self.total - before
        elif isinstance(event, yaml.DocumentEndEvent):
            self.sizes.clear()  # anchors belong to one document
        return ""


def _plain(value: Any) -> Any:
    """TOML dates and times as the ISO strings JSON Schema's `format` expects."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


# -- the fast path ---------------------------------------------------------------------------------
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


# -- validating ------------------------------------------------------------------------------------


def check_file(checker: Checker, shown: str, full: str) -> list[Raw]:
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return [Raw("syntax", shown, 1, 1, f"cannot read: {err.strerror or err}")]
    kind = kind_of(full)
    parsed = _parse(kind, data, shown)
    if isinstance(parsed, Raw):
        return [parsed]
    documents, text = parsed
    found: list[Raw] = []
    for index, document in enumerate(documents):
        if _certainly_valid(checker, document):
            continue
        try:
            errors = _ordered(list(checker.validator.iter_errors(document)))
        except Unresolvable as err:
            return [Raw("ref", shown, 1, 1, f"the schema's $ref {err.ref!r} cannot be resolved (not fetched)")]
        except RecursionError:
            # A $ref loop build_checker could not see (a remote or relative one), or a document nested
            # deeper than Python's stack allows for this schema.
            return [Raw("ref", shown, 1, 1, "validating recursed without end: the schema's $refs lead back to "
                        "themselves, or the document is nested too deeply")]
        if not errors:
            continue
        if kind == "json" and not text:
            text = data.decode(json.detect_encoding(data)).removeprefix("\ufeff")
        found += _raws(shown, kind or "json", text, index if len(documents) > 1 else -1, errors)
    return found


def _certainly_valid(checker: Checker, document: Any) -> bool:
    if checker.fast is None:
        return False
    try:
        return checker.fast(document)
    except RecursionError:
        return False  # not certain: jsonschema judges


def _ordered(errors: list[ValidationError]) -> list[ValidationError]:
    """The best match first (its most specific cause, as best_match descends), then the rest by relevance."""
    best = best_match(errors)
    if best is None:
        return []
    top = best
    while top.parent is not None:
        top = top.parent
    rest = [e for e in errors if e is not top]
    # Paths mixing keys and indexes at one place cannot be compared: keep jsonschema's order then.
    with contextlib.suppress(TypeError):
        rest.sort(key=relevance, reverse=True)
    return [best, *rest]


def _raws(shown: str, kind: str, text: str, document: int, errors: list[ValidationError]) -> list[Raw]:
    kept = errors[:MAX_ERRORS]
    paths: list[Path] = [tuple(e.absolute_path) for e in kept]
    positions = _locate(kind, text, max(document, 0), paths)
    prefix = f"document {document + 1}: " if document >= 0 else ""
    raws = [Raw("schema", shown, line, column, f"{prefix}{_json_path(path)}: {_short(error.message)}")
            for error, path, (line, column) in zip(kept, paths, positions, strict=True)]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        raws[-1] = raws[-1]._replace(message=f"{raws[-1].message} (and {more} more errors not shown)")
    return raws


def _locate(kind: str, text: str, document: int, paths: list[Path]) -> list[Position]:
    if kind == "json":
        return json_positions(text, paths)
    if kind == "yaml":
        return yaml_positions(text, document, paths, _YamlLoader)
    return toml_positions(text, paths)


def _json_path(path: Path) -> str:
    out = "$"
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _IDENTIFIER.fullmatch(step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


# -- running ---------------------------------------------------------------------------------------

_WORKER: dict[str, Checker] = {}


def _worker_start(source: tuple[str, str, bool, str]) -> None:
    checker = build_checker(*source)
    if isinstance(checker, Checker):
        _WORKER["checker"] = checker


def _worker_chunk(files: list[tuple[str, str]]) -> list[list[Raw]]:
    checker = _WORKER["checker"]
    return [check_file(checker, shown, full) for shown, full in files]


def check_files(checker: Checker, files: list[tuple[str, str]], jobs: int) -> list[list[Raw]]:
    """One list of problems a file, in the files' order."""
    estimate = len(files) * (25e-6 if checker.fast is not None else 90e-6)
    workers = jobs if jobs > 0 else (os.cpu_count() or 1) if estimate >= PARALLEL_FROM_SECONDS else 1
    if workers <= 1:
        return [check_file(checker, shown, full) for shown, full in files]
    return _in_parallel(checker, files, workers)


def _in_parallel(checker: Checker, files: list[tuple[str, str]], workers: int) -> list[list[Raw]]:
    """Workers take the later chunks while this process works through the first one.

    Workers are started with `spawn`, never `fork`: `loopgate check` runs gates in threads, and a
    forked child of a threaded process can deadlock.
    """
    share = len(files) // workers
    # This process starts at once; a spawned worker first pays its interpreter start and imports,
    # so it gets a smaller share.
    head = share + share // 3
    chunks = _split(files[head:], workers - 1)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers - 1, mp_context=context, initializer=_worker_start,
                             initargs=(checker.source,)) as pool:
        futures = [pool.submit(_worker_chunk, chunk) for chunk in chunks]
        results = [check_file(checker, shown, full) for shown, full in files[:head]]
        for future in futures:
            results += future.result()
    return results


def _split(items: list[tuple[str, str]], parts: int) -> list[list[tuple[str, str]]]:
    size = -(-len(items) // max(parts, 1))
    return [items[i:i + size] for i in range(0, len(items), size)] if items else []


@dataclass
class _Inputs:
    files: list[tuple[str, str]] = field(default_factory=list)  # (shown, full path)
    problems: list[Finding] = field(default_factory=list)
    schema_skipped: bool = False  # the schema file itself was among the inputs
    not_regular: int = 0  # FIFOs, sockets and devices found in directories, skipped


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    checker = build_checker(options.schema, options.builtin, options.formats, context.cwd)
    if isinstance(checker, SchemaProblem):
        finding = BAD_SCHEMA.at(checker.path or ".", checker.line, checker.column, checker.message)
        return GateResult(NAME, GateStatus.ERROR, [finding], timer.elapsed(), "nothing validated",
                          reason=checker.message)
    inputs = _inputs(options.files, context.cwd, checker)
    if inputs.problems:
        return GateResult(NAME, GateStatus.ERROR, inputs.problems, timer.elapsed(), "nothing validated",
                          reason="; ".join(p.message for p in inputs.problems[:3]))
    if not inputs.files:
        skipped = f"; {inputs.not_regular} not regular files skipped" if inputs.not_regular else ""
        return GateResult(NAME, GateStatus.SKIPPED, [], timer.elapsed(),
                          f"no JSON, YAML or TOML files given; nothing validated against {checker.label}{skipped}")
    outcomes = check_files(checker, inputs.files, options.jobs)
    findings = [_finding(raw) for outcome in outcomes for raw in outcome]
    summary = _summary(checker, inputs, outcomes)
    unresolved = [f for f in findings if f.code == BAD_SCHEMA.code]
    if unresolved:
        return GateResult(NAME, GateStatus.ERROR, findings, timer.elapsed(), summary, reason=unresolved[0].message)
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


_CODES: dict[str, codes.Code] = {"syntax": INVALID_SYNTAX, "schema": SCHEMA_VIOLATION, "ref": BAD_SCHEMA,
                                 "expansion": YAML_EXPANSION}


def _finding(raw: Raw) -> Finding:
    kind, path, line, column, message = raw
    return _CODES[kind].at(path, line, column, message)


def _summary(checker: Checker, inputs: _Inputs, outcomes: list[list[Raw]]) -> str:
    count = len(inputs.files)
    kinds = [kind_of(full) for _shown, full in inputs.files]
    by_kind = ", ".join(f"{kinds.count(k)} {k.upper()}" for k in ("json", "yaml", "toml") if kinds.count(k))
    bad = sum(1 for outcome in outcomes if outcome)
    exploded = sum(1 for outcome in outcomes if outcome and outcome[0].kind == "expansion")
    text = (f"{count} file{'s' if count != 1 else ''} ({by_kind}) validated against {checker.label} "
            f"({checker.dialect}, formats {'checked' if checker.formats else 'not checked'})")
    if bad:
        text += f"; {bad} invalid"
    if exploded:
        text += (f"; {exploded} YAML file{'s' if exploded != 1 else ''} not validated: aliases expand "
                 f"{'them' if exploded != 1 else 'it'} without end or beyond {MAX_EXPANDED_VALUES:,} values")
    if "toml" in kinds and bad:
        text += "; TOML lines found by key name (best effort)"
    if inputs.schema_skipped:
        text += f"; the schema file {checker.path} itself not validated"
    if inputs.not_regular:
        text += (f"; {inputs.not_regular} entr{'ies' if inputs.not_regular != 1 else 'y'} named like data files "
                 "skipped: not regular files (FIFOs, sockets, devices)")
    return text + "; remote $refs not fetched"


def _inputs(paths: tuple[str, ...], cwd: str, checker: Checker) -> _Inputs:
    inputs = _Inputs()
    schema_file = os.path.realpath(os.path.join(cwd, checker.path)) if checker.path else ""
    schema_name = os.path.basename(schema_file)

    def is_schema(full: str) -> bool:
        # realpath only for files named like the schema: thousands of inputs cost one stat each.
        return bool(schema_name) and os.path.basename(full) == schema_name and os.path.realpath(full) == schema_file

    for given in paths:
        full = given if cwd == "." else os.path.join(cwd, given)
        shown = os.path.normpath(given).replace(os.sep, "/")
        try:
            mode = os.stat(full).st_mode
        except OSError:
            mode = 0
        if stat.S_ISDIR(mode):
            for rel, regular in _walk(full):
                if not regular:
                    inputs.not_regular += 1  # a FIFO, socket or device: never opened (a FIFO would block)
                elif is_schema(os.path.join(full, rel)):
                    inputs.schema_skipped = True
                else:
                    inputs.files.append((rel if shown == "." else f"{shown}/{rel}", os.path.join(full, rel)))
        elif not stat.S_ISREG(mode):
            inputs.problems.append(INPUT_NOT_FOUND.at(shown, 1, 1, f"{shown}: {_not_a_file(mode)}"))
        elif is_schema(full):
            inputs.schema_skipped = True  # pre-commit passes the schema too when it matches types_or
        elif kind_of(full) is None:
            inputs.problems.append(UNKNOWN_FILE_TYPE.at(
                shown, 1, 1, f"{shown}: not a JSON, YAML or TOML file (extensions: {', '.join(KINDS)})"))
        else:
            inputs.files.append((shown, full))
    return inputs


def _not_a_file(mode: int) -> str:
    return "no such file or directory" if mode == 0 else not_regular(mode)


def _walk(top: str, rel: str = "") -> Iterator[tuple[str, bool]]:
    """(path relative to `top`, '/'-separated; a regular file?) for each entry under `top` with a known
    extension, in a stable order: a directory's files, then its subdirectories. scandir's entry types
    cost no extra stat, so telling a FIFO (which would block when opened) from a file is free."""
    try:
        with os.scandir(os.path.join(top, rel) if rel else top) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    subdirs = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith(".") and entry.name not in _SKIP_DIRS:
                subdirs.append(entry.name)
        elif kind_of(entry.name) is not None and not (entry.is_symlink() and entry.is_dir()):
            # A dangling symlink counts as a file: reading it then says it cannot be read.
            regular = entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
            yield f"{rel}/{entry.name}" if rel else entry.name, regular
    for name in subdirs:
        yield from _walk(top, f"{rel}/{name}" if rel else name)
