"""`loopgate gate NAME ...`: one click command per registered gate, built from its Options.

Parsing only. Each Options dataclass field becomes an option (or the variadic argument) with
its type, default and help; `[tool.loopgate.gates.NAME]` in pyproject.toml supplies defaults.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from typing import Any

import click

from loopgate.cibase import ci_base, ci_note
from loopgate.cli.output import color_option, emit, report_option, use_color, write_reports
from loopgate.config import ConfigError, committed_gate_config, config_revision
from loopgate.gates.base import GateContext, GateResult, GateSpec, GateStatus, bounds_text, out_of_bounds
from loopgate.gates.registry import gate, gates
from loopgate.reporters import FORMAT_NAMES, Report
from loopgate.reporters.base import printable

_SCALARS: dict[Any, Any] = {str: click.STRING, int: click.INT, float: click.FLOAT}


def _unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(base type, optional?, repeatable?) of an Options field annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
        origin = typing.get_origin(annotation)
    if origin in (tuple, list):
        return typing.get_args(annotation)[0], optional, True
    return annotation, optional, False


def _params(options: type[Any]) -> list[click.Parameter]:
    hints = typing.get_type_hints(options)
    params: list[click.Parameter] = []
    for f in dataclasses.fields(options):
        base, _optional, many = _unwrap(hints[f.name])
        meta = f.metadata
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        if meta.get("argument"):
            params.append(click.Argument([f.name], nargs=-1, type=_SCALARS.get(base, click.STRING),
                                         metavar=f"[{meta['metavar']}]..." if meta.get("metavar") else None))
        elif base is bool:
            negative = "--no-" + flag.removeprefix("--")
            params.append(click.Option([f"{flag}/{negative}", f.name], default=None, help=meta.get("help")))
        else:
            kind = _Bounded(base, meta) if base in (int, float) else _SCALARS.get(base, click.STRING)
            params.append(click.Option([flag, f.name], type=kind, multiple=many,
                                       default=None, metavar=meta.get("metavar"), help=_with_default(f, meta)))
    return params


class _Bounded(click.ParamType[Any, Any]):
    """A whole number or a number within the option's declared range (`opt(minimum=, maximum=)`)."""

    def __init__(self, base: Any, meta: Any) -> None:
        self.inner = click.INT if base is int else click.FLOAT
        self.name = self.inner.name
        self.meta = meta

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = self.inner.convert(value, param, ctx)
        problem = out_of_bounds(number, self.meta)
        if problem:
            self.fail(problem, param, ctx)
        return number


def _with_default(f: dataclasses.Field[Any], meta: Any) -> str:
    text = str(meta.get("help") or "")
    default = f.default if f.default is not dataclasses.MISSING else None
    if default not in (None, (), "", False):
        text += f" [default: {default}]"
    if bounds_text(meta):
        text += f" [range: {bounds_text(meta)}]"
    return text


def build_options(spec: GateSpec, given: dict[str, Any], config: dict[str, Any]) -> Any:
    """Command line over `[tool.loopgate.gates.NAME]` over the dataclass defaults."""
    hints = typing.get_type_hints(spec.options)
    fields = {f.name: f for f in dataclasses.fields(spec.options)}
    known = set(fields)
    values: dict[str, Any] = {}
    for key, value in config.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"[tool.loopgate.gates.{spec.name}]: unknown option '{key}' "
                              f"(known: {', '.join(sorted(known))})")
        where = f"[tool.loopgate.gates.{spec.name}] {key}"
        values[name] = _typed(where, hints[name], value)
        problem = out_of_bounds(value, fields[name].metadata)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    for name, value in given.items():
        if value is None or (value == () and _unwrap(hints[name])[2]):
            continue
        values[name] = value
    return spec.options(**values)


def _typed(where: str, annotation: Any, value: Any) -> Any:
    """A pyproject value checked against the option's type. TOML has the types, so nothing is
    converted: `allow = "docs/**"` is refused rather than read as the patterns d, o, c, s, /, *, *."""
    base, _optional, many = _unwrap(annotation)
    if many:
        if not isinstance(value, list) or not all(_is(base, v) for v in value):
            kind = "strings" if base is str else _NAMES.get(base, "values")
            raise ConfigError(f'{where}: expected a list of {kind}, e.g. ["a", "b"], not {value!r}')
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
        click.echo(f"loopgate: {spec.name}: {_error_kind(result)}: {printable(result.reason, False)}", err=True)
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
    base, and the gate's table is read again from that base."""
    if given.get("base") or given.get("files") or given.get("files_from") or \
            (isinstance(config, dict) and config.get("base")):
        return config, note
    base, source = ci_base(start, require=True)
    if not base:
        return config, note
    given["base"] = base
    config, note, _ = committed_gate_config(name, base, start)
    return config, (note + "; " if note else "") + ci_note(base, source)


def command_for(spec: GateSpec) -> click.Command:
    """The click command of `loopgate gate NAME`; `loopgate check` parses checklist args with it."""
    def callback(output_format: str | None, color: bool | None, reports: tuple[tuple[str, str], ...],
                 **given: Any) -> None:
        try:
            # Every gate takes its table from the committed base (HEAD, or the merge base with --base), not
            # from the change: a staged `exclude = ["**"]` must not pass the links or secrets it adds.
            judges_a_change = "base" in {f.name for f in dataclasses.fields(spec.options)}
            # In CI HEAD is the pull request's own commit: a tree gate (links, schema, ...) takes its table
            # and ignore file from the CI's base, as under `loopgate check`, not from the change it judges.
            rules_at = str(given.get("base") or ("" if judges_a_change else ci_base(".")[0]))
            config, note, working = committed_gate_config(spec.name, rules_at)
            if judges_a_change:
                config, note = in_ci_base(spec.name, given, config, note)
            build_options(spec, {}, working if isinstance(working, dict) else {})  # a typo there: say so now
            if note:
                click.echo(f"loopgate: note: {printable(note, False)}", err=True)
            if "ignore_file_at" in given and not given["ignore_file_at"]:
                # the ignore file, as the table, from the commit the table came from, not from the change
                given["ignore_file_at"] = config_revision(".", rules_at)
            options = build_options(spec, given, config if isinstance(config, dict) else {})
        except (ConfigError, TypeError, ValueError) as err:
            click.echo(f"loopgate: error: {err}", err=True)
            sys.exit(2)
        sys.exit(run_gate(spec, options, output_format or default_format(), color, reports))

    params = _params(spec.options)
    params.append(click.Option(["--format", "output_format"], type=click.Choice(FORMAT_NAMES), default=None,
                               help="Output: text, json, github, sarif, junit or markdown (default: github under "
                               "GitHub Actions, else text)."))
    params.append(color_option())
    params.append(report_option())
    return click.Command(spec.name, callback=callback, params=params, help=click_help(spec.doc),
                         short_help=spec.summary)


def click_help(doc: str) -> str:
    """Keep lists and indented examples as written: click rewraps any paragraph not marked `\\b`."""
    paragraphs = doc.split("\n\n")
    kept = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        literal = len(lines) > 1 and any(ln.startswith((" ", "-", "*", "|")) or ln[:2].strip().isdigit()
                                         for ln in lines if ln)
        kept.append("\b\n" + paragraph if literal else paragraph)
    return "\n\n".join(kept)


class _LazyGates(click.Group):
    """Builds the gate commands on first use, so other commands never import the gates."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(gates())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = gate(cmd_name)
        return command_for(spec) if spec is not None else None


@click.group(name="gate", cls=_LazyGates)
def gate_group() -> None:
    """Run one deterministic gate on its own (in pre-commit, in CI, by hand).

    Every gate prints findings in the chosen format and exits 0 (passed), 1 (failed) or 2
    (usage error, or the gate could not run for an environmental reason).
    """

