"""Validate JSON, YAML and TOML files against a JSON Schema.

The schema is a file (`--schema FILE`, JSON or YAML) or one of loopgate's own (`--builtin
NAME`: BUILTIN_NAMES). Its `$schema` picks the dialect (draft 4, 6, 7, 2019-09 or
2020-12; 2020-12 when absent), and `format` is checked (`date`, `email`, `uri`, ...; turn it
off with `--no-formats`). A relative `$ref` is read from next to the schema file; remote
`$ref`s are not fetched.

Files come as arguments (as pre-commit passes them) or as directories, searched for `*.json`,
`*.yaml`, `*.yml` and `*.toml` (hidden directories and the schema file itself skipped; symlinked
directories not followed). The kind is the extension's. Every document of a multi-document YAML
file is validated.

YAML is read as YAML 1.2, as GitHub Actions, Kubernetes and check-jsonschema read it: only
`true`/`false` are booleans (`on:`, `yes`, `no`, `off` are strings), `0777` is decimal, `0o17`
octal, dates and `1:30` are strings. A key that is not a string (`1.5:`, `null:`) is read as its
JSON text; a key that is a list or mapping is LG459. JSON is read as RFC 8259 JSON: `NaN` and
`Infinity` are LG457 (`--json-nan` accepts them), and a key given twice in a JSON object or YAML
mapping is LG458 (`--duplicate-keys` accepts it, the last one counting); such files are still
validated. Lists and objects nested beyond about 1,000 levels, and integers of more than 4,300
digits, or TOML keys of more than 32 dotted parts, are LG460 and not validated. JSON and YAML
files may be UTF-8, UTF-16 or UTF-32 (by their byte order mark, or YAML 1.2's table without one);
TOML is UTF-8. A byte that is not text is LG452 at its line and column.

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

import os
import re
import stat
from collections.abc import Iterator
from typing import Any

from loopgate import codes, records
from loopgate.artifacts.schema import schema_names
from loopgate.findings import Finding, Severity
from loopgate.gates._schema.expansion import MAX_EXPANDED_VALUES
from loopgate.gates._schema.loading import Checker, SchemaProblem, build_checker, not_a_file
from loopgate.gates._schema.reading import KINDS, Raw, Rules, kind_of
from loopgate.gates._schema.validating import check_files
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict
from loopgate.records import field, record

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
NON_FINITE = codes.define(
    "LG457", "json-non-finite-number", E, "A JSON file holds NaN, Infinity or -Infinity.",
    "RFC 8259 JSON has no NaN or infinite numbers; Python's reader accepts them as an extension, and other "
    "readers (browsers, Go, jq, databases) refuse the file or read something else. The position is the value. "
    "The file is still validated (as Python reads it). YAML's `.nan` and `.inf` are YAML 1.2 and not reported.",
    "Write a finite number or null, or a string; or pass `--json-nan` if the file is meant for Python's reader.",
)
DUPLICATE_KEY = codes.define(
    "LG458", "duplicate-key", E, "A JSON object or YAML mapping gives the same key twice.",
    "Which of the two values counts depends on the reader: Python's json and PyYAML keep the last, other JSON "
    "readers the first or refuse the file, and YAML 1.2 forbids it (ruamel.yaml, and so check-jsonschema, "
    "refuses the file). The position is the second key. The file is still validated, with the last value. "
    "Keys brought in by a YAML merge (`<<: *defaults`) and overridden are not duplicates; a second `<<` in "
    "one mapping is (check-jsonschema refuses it too): merge a list, `<<: [*a, *b]`.",
    "Remove one of the two keys; or pass `--duplicate-keys` to accept them (the last one counting).",
)
COMPLEX_KEY = codes.define(
    "LG459", "yaml-complex-key", E, "A YAML mapping key is a list or a mapping.",
    "YAML allows any value as a key (`? [a, b]`), JSON only strings, so the document has no JSON form for the "
    "schema to judge: the file is not validated. Scalar keys that are not strings (`1.5:`, `null:`, `true:`) "
    "are read as the JSON text of their value (`\"1.5\"`, `\"null\"`, `\"true\"`), not reported.",
    "Use a string key (quote it), or restructure the data as a list of entries.",
)
BEYOND_LIMITS = codes.define(
    "LG460", "beyond-reader-limits", E, "A file nests too deeply or holds a number too long to read.",
    "Lists and objects nested more than about 1,000 levels deep (libyaml's limit, and Python's recursion limit "
    "for JSON, TOML and validating), a TOML key of more than 32 dotted parts (`a.b.c...`: the TOML reader "
    "takes time quadratic in them), or an integer of more than 4,300 decimal digits (Python's limit for "
    "turning text into an integer and back; a `0x` literal reaches it with 3,572 digits), cannot be read or "
    "reported: the file is not validated. No real configuration comes near these limits; a file that does is "
    "generated, corrupt or hostile.",
    "Nest lists and objects less deeply; write a very long number as a string.",
)


@record(frozen=True)
class Options:
    files: tuple[str, ...] = field(default=(), metadata=opt(
        "JSON, YAML or TOML files, or directories to search for them.", argument=True, metavar="PATH"))
    schema: str = field(default="", metadata=opt(
        "The JSON Schema to validate against (a .json or .yaml file).", metavar="FILE"))
    builtin: str = field(default="", metadata=opt(
        f"Validate against a schema that ships with loopgate: {', '.join(schema_names())}.", metavar="NAME"))
    formats: bool = field(default=True, metadata=opt(
        "Check `format` keywords (date, email, uri, ...)."))
    json_nan: bool = field(default=False, metadata=opt(
        "Accept NaN, Infinity and -Infinity in JSON files (RFC 8259 JSON has none; LG457 otherwise)."))
    duplicate_keys: bool = field(default=False, metadata=opt(
        "Accept a key given twice in a JSON object or YAML mapping, the last one counting (LG458 otherwise)."))
    jobs: int = field(default=0, metadata=opt(
        "Processes to validate with (0: one per CPU, for inputs large enough to gain from it; at most one a file "
        "and four a CPU).", metavar="N", minimum=0, maximum=1024))


HOOK: dict[str, Any] = {
    "id": "loopgate-schema",
    "name": "loopgate schema",
    "description": "JSON, YAML and TOML files match a JSON Schema, errors at the offending line "
    "(pass args: [--schema, path/to/schema.json]).",
    "entry": "loopgate gate schema",
    "language": "python",
    "types_or": ["json", "yaml", "toml"],
}

_SKIP_DIRS = {"node_modules", "__pycache__"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@record
class _Inputs:
    files: list[tuple[str, str]] = field(default_factory=list)  # (shown, full path)
    problems: list[Finding] = field(default_factory=list)
    schema_skipped: bool = False  # the schema file itself was among the inputs
    not_regular: int = 0  # FIFOs, sockets and devices found in directories, skipped


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    checker = build_checker(options.schema, options.builtin, options.formats, context.cwd)
    if isinstance(checker, SchemaProblem):
        message = printable(checker.message)  # it names the schema file, whose name may not be UTF-8
        finding = BAD_SCHEMA.at(printable(checker.path) or ".", checker.line, checker.column, message)
        return GateResult(NAME, GateStatus.ERROR, [finding], timer.elapsed(), "nothing validated", reason=message)
    checker = records.replace(checker, label=printable(checker.label))
    inputs = _inputs(options.files, context.cwd, checker)
    if inputs.problems:
        return GateResult(NAME, GateStatus.ERROR, inputs.problems, timer.elapsed(), "nothing validated",
                          reason="; ".join(p.message for p in inputs.problems[:3]))
    if not inputs.files:
        skipped = f"; {inputs.not_regular} not regular files skipped" if inputs.not_regular else ""
        return GateResult(NAME, GateStatus.SKIPPED, [], timer.elapsed(),
                          f"no JSON, YAML or TOML files given; nothing validated against {checker.label}{skipped}")
    outcomes = check_files(checker, inputs.files, options.jobs, Rules(options.json_nan, options.duplicate_keys))
    findings = [_finding(raw) for outcome in outcomes for raw in outcome]
    summary = _summary(checker, inputs, outcomes)
    unresolved = [f for f in findings if f.code == BAD_SCHEMA.code]
    if unresolved:
        return GateResult(NAME, GateStatus.ERROR, findings, timer.elapsed(), summary, reason=unresolved[0].message)
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


_CODES: dict[str, codes.Code] = {"syntax": INVALID_SYNTAX, "schema": SCHEMA_VIOLATION, "ref": BAD_SCHEMA,
                                 "expansion": YAML_EXPANSION, "nan": NON_FINITE, "duplicate": DUPLICATE_KEY,
                                 "complex-key": COMPLEX_KEY, "limit": BEYOND_LIMITS, "outside": INPUT_NOT_FOUND}


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
        shown = printable(os.path.normpath(given).replace(os.sep, "/"))
        try:
            mode = os.stat(full).st_mode
        except OSError:
            mode = 0
        if stat.S_ISDIR(mode):
            for rel, what in _walk(full):
                name = printable(rel if shown == "." else f"{shown}/{rel}" if rel else shown)
                if what == "unlistable":
                    inputs.problems.append(INPUT_NOT_FOUND.at(name, 1, 1, f"{name}: a directory that cannot be listed "
                                                              f"({_why_unlistable(os.path.join(full, rel))})"))
                elif what == "special":
                    inputs.not_regular += 1  # a FIFO, socket or device: never opened (a FIFO would block)
                elif is_schema(os.path.join(full, rel)):
                    inputs.schema_skipped = True
                else:
                    inputs.files.append((name, os.path.join(full, rel)))
        elif not stat.S_ISREG(mode):
            inputs.problems.append(INPUT_NOT_FOUND.at(shown, 1, 1, f"{shown}: {not_a_file(mode)}"))
        elif is_schema(full):
            inputs.schema_skipped = True  # pre-commit passes the schema too when it matches types_or
        elif kind_of(full) is None:
            inputs.problems.append(UNKNOWN_FILE_TYPE.at(
                shown, 1, 1, f"{shown}: not a JSON, YAML or TOML file (extensions: {', '.join(KINDS)})"))
        else:
            inputs.files.append((shown, full))
    return inputs



def _why_unlistable(path: str) -> str:
    try:
        os.scandir(path).close()
    except OSError as err:
        return str(err.strerror or err)
    return "it changed while it was read"


def _walk(top: str) -> Iterator[tuple[str, str]]:
    """(path relative to `top`, '/'-separated; "file", "special" or "unlistable") for each entry under
    `top` with a known extension, and each directory that cannot be listed, in a stable order: a
    directory's files, then its subdirectories. scandir's entry types cost no extra stat, so telling a
    FIFO (which would block when opened) from a file is free. A stack, not recursion: a tree may be
    deeper than Python's recursion limit."""
    pending = [""]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(os.path.join(top, rel) if rel else top) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            yield rel, "unlistable"
            continue
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith(".") and entry.name not in _SKIP_DIRS:
                    subdirs.append(f"{rel}/{entry.name}" if rel else entry.name)
            elif kind_of(entry.name) is not None and not (entry.is_symlink() and entry.is_dir()):
                # A dangling symlink counts as a file: reading it then says it cannot be read.
                regular = entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
                yield f"{rel}/{entry.name}" if rel else entry.name, "file" if regular else "special"
        pending += reversed(subdirs)


def printable(path: str) -> str:
    """A path as the findings show it. A name that is not UTF-8 (bytes the OS gave us as lone surrogates)
    and control characters (a newline, a tab, \\x01: all legal in a file name) are shown as `\\xNN`, so
    every output format stays valid (JSON, SARIF, JUnit XML, which cannot hold most control characters)
    and one finding stays one line."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        path = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", path)
