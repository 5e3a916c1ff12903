"""What `loopgate gate NAME` does once its options are parsed: options over pyproject over the
defaults, run the gate, report, exit. No click here: the click command (cli/gates.py) and the
fast entry (cli/fast.py) both call `gate_command`, so the two cannot drift apart.
"""

from __future__ import annotations

import os
import re
import sys
import types

from loopgate import records
from loopgate.cibase import ci_base, ci_note
from loopgate.cli.output import echo, emit, use_color, write_reports
from loopgate.config import ConfigError, committed_gate_config, gate_tables
from loopgate.gates.base import GateContext, GateResult, GateSpec, GateStatus, out_of_bounds
from loopgate.reporters import Report
from loopgate.reporters.base import printable

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any, NoReturn


def unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(base type, optional?, repeatable?) of an Options field annotation."""
    import typing  # noqa: PLC0415 - option_types reads the usual forms without it

    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
        origin = typing.get_origin(annotation)
    if origin in (tuple, list):
        return typing.get_args(annotation)[0], optional, True
    return annotation, optional, False


# The annotations the gates' Options use, as text (`from __future__ import annotations`): a builtin
# scalar, `tuple[X, ...]` or `list[X]`, each maybe `| None`. Read here, `typing` (2.5 ms of every
# cold start, with get_type_hints' eval of each) is not imported; any other form goes through it.
_PLAIN = re.compile(r"(str|int|float|bool)|(tuple)\[(str|int|float|bool), \.\.\.\]|(list)\[(str|int|float|bool)\]")
_BUILTIN = {"str": str, "int": int, "float": float, "bool": bool}


def option_types(options: type[Any]) -> dict[str, tuple[Any, bool, bool]]:
    """`unwrap` of each Options field's type hint, by field name (worked out once a class: the fast
    entry's parser and each `build_options` ask)."""
    kinds = _KINDS.get(options)
    if kinds is None:
        kinds = _KINDS[options] = _from_text(options) or _from_typing(options)
    return kinds


_KINDS: dict[type[Any], dict[str, tuple[Any, bool, bool]]] = {}


def _from_text(options: type[Any]) -> dict[str, tuple[Any, bool, bool]] | None:
    """The kinds read from the annotations' text; None when one is of another form, or the module
    gives a builtin's name another meaning (`str = ...`)."""
    module = sys.modules.get(options.__module__)
    if module is not None and any(name in vars(module) for name in _BUILTIN):
        return None
    out: dict[str, tuple[Any, bool, bool]] = {}
    for f in records.fields(options):
        annotation = f.type
        if isinstance(annotation, str):
            plain = _PLAIN.fullmatch(annotation.removesuffix(" | None"))
            if plain is None:
                return None
            out[f.name] = (_BUILTIN[plain[1] or plain[3] or plain[5]], annotation.endswith(" | None"),
                           plain[1] is None)
        elif isinstance(annotation, type) and annotation in _BUILTIN.values():
            out[f.name] = (annotation, False, False)
        else:
            return None
    return out


def _from_typing(options: type[Any]) -> dict[str, tuple[Any, bool, bool]]:
    import typing  # noqa: PLC0415

    return {name: unwrap(hint) for name, hint in typing.get_type_hints(options).items()}


def build_options(spec: GateSpec, given: dict[str, Any], config: dict[str, Any]) -> Any:
    """Command line over `[tool.loopgate.gates.NAME]` over the dataclass defaults."""
    kinds = option_types(spec.options)
    fields = {f.name: f for f in records.fields(spec.options)}
    known = set(fields)
    values: dict[str, Any] = {}
    for key, value in config.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"[tool.loopgate.gates.{spec.name}]: unknown option '{key}' "
                              f"(known: {', '.join(sorted(known))})")
        where = f"[tool.loopgate.gates.{spec.name}] {key}"
        values[name] = _typed(where, kinds[name], value)
        problem = out_of_bounds(value, fields[name].metadata)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    for name, value in given.items():
        if value is None or (value == () and kinds[name][2]):
            continue
        values[name] = value
    return spec.options(**values)


def _typed(where: str, kind: tuple[Any, bool, bool], value: Any) -> Any:
    """A pyproject value checked against the option's type. TOML has the types, so nothing is
    converted: `allow = "docs/**"` is refused rather than read as the patterns d, o, c, s, /, *, *."""
    base, _optional, many = kind
    if many:
        if not isinstance(value, list) or not all(_is(base, v) for v in value):
            each = "strings" if base is str else _NAMES.get(base, "values")
            raise ConfigError(f'{where}: expected a list of {each}, e.g. ["a", "b"], not {value!r}')
        return tuple(value)
    if not _is(base, value):
        raise ConfigError(f"{where}: expected {_NAMES.get(base, 'a value')}, not {value!r}")
    if base is float:
        try:
            return float(value)
        except OverflowError:  # an integer with hundreds of digits
            raise ConfigError(f"{where}: must be a finite number, not a {len(str(abs(value)))}-digit number") from None
    return value


_NAMES: dict[Any, str] = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _is(base: Any, value: Any) -> bool:
    if base is bool:
        return isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if base is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, base) if isinstance(base, type) else True


def default_format() -> str:
    """GitHub annotations on the pull request's diff under GitHub Actions, plain text elsewhere."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


# `loopgate gate NAME`'s exit status for each gate status. A gate run on its own that had nothing
# to judge (no data files, no changes) says so in its summary and exits 0, as linters do on no
# input; within `loopgate check` a skipped *required* gate does not pass (LG804).
EXIT_CODES = {GateStatus.PASSED: 0, GateStatus.SKIPPED: 0, GateStatus.FAILED: 1, GateStatus.ERROR: 2}


def run_gate(spec: GateSpec, options: Any, output_format: str, color: bool | None = None,
             reports: tuple[tuple[str, str], ...] = ()) -> int:
    result: GateResult = spec.run(options, GateContext(cwd="."))
    code = EXIT_CODES[result.status]
    report = Report(result.findings, code == 0, results=[result], color=use_color(color), command=f"gate {spec.name}",
                    exit_code=code)
    emit(report, output_format)
    write_reports(report, reports)
    if result.status is GateStatus.ERROR:
        echo(f"loopgate: {spec.name}: {_error_kind(result)}: {printable(result.reason, False)}", err=True)
    return code


def _error_kind(result: GateResult) -> str:
    """A gate that could not run was either given bad input (a missing --schema, a pattern that does
    not parse: the user's to fix) or met the environment (a command not found, a timeout)."""
    from loopgate import codes  # noqa: PLC0415

    known = [codes.REGISTRY.get(f.code) for f in result.findings]
    if known and all(c is not None and c.input_error for c in known):
        return "usage error"
    return "environment error"


def in_ci_base(name: str, given: dict[str, Any], config: Any, note: str, start: str = ".") -> tuple[Any, str]:
    """Under CI, the change since the CI's base instead of the (empty) staged changes: `given` gets the
    base, and the gate's table is read again from that base. Given files are judged as they are, by
    the table the CI's base holds."""
    if given.get("base") or (isinstance(config, dict) and config.get("base")):
        return config, note
    files = bool(given.get("files") or given.get("files_from"))
    base, source = ci_base(start, require=not files)
    if not base:
        return config, note
    if files:  # the files given are judged, by the table the CI's base holds (HEAD is the change's own commit);
        # a base this clone lacks is an error here (no --base for the gate to report as LG433)
        config, note, _, _ = gate_tables(name, base, start, takes_base=False)
        return config, note
    given["base"] = base
    config, note, _ = committed_gate_config(name, base, start)
    return config, (note + "; " if note else "") + ci_note(base, source)


def gate_command(spec: GateSpec, output_format: str | None, color: bool | None,
                 reports: tuple[tuple[str, str], ...], given: dict[str, Any]) -> NoReturn:
    """`loopgate gate NAME` with its command line parsed: `given` holds every Options field (None, or
    () for a repeatable one, when not given), as click passes them."""
    try:
        # Every gate takes its table from the committed base (HEAD, or the merge base with --base), not
        # from the change: a staged `exclude = ["**"]` must not pass the links or secrets it adds.
        judges_a_change = "base" in {f.name for f in records.fields(spec.options)}
        # In CI HEAD is the pull request's own commit: a tree gate (links, schema, ...) takes its table
        # and ignore file from the CI's base, as under `loopgate check`, not from the change it judges.
        rules_at = str(given.get("base") or ("" if judges_a_change else ci_base(".")[0]))
        config, note, working, revision = gate_tables(spec.name, rules_at, takes_base=judges_a_change)
        if judges_a_change:
            config, note = in_ci_base(spec.name, given, config, note)
        build_options(spec, {}, working if isinstance(working, dict) else {})  # a typo there: say so now
        if note:
            echo(f"loopgate: note: {printable(note, False)}", err=True)
        if "ignore_file_at" in given and not given["ignore_file_at"]:
            # the ignore file, as the table, from the commit the table came from, not from the change
            given["ignore_file_at"] = revision
        options = build_options(spec, given, config if isinstance(config, dict) else {})
    except (ConfigError, TypeError, ValueError) as err:
        echo(f"loopgate: error: {err}", err=True)
        sys.exit(2)
    sys.exit(run_gate(spec, options, output_format or default_format(), color, reports))
