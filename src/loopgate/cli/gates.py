"""`loopgate gate NAME ...`: one click command per registered gate, built from its Options.

Parsing only. Each Options dataclass field becomes an option (or the variadic argument) with
its type, default and help; `[tool.loopgate.gates.NAME]` in pyproject.toml supplies defaults.
"""

from __future__ import annotations

from typing import Any

import click

from loopgate import records

# What the command does once parsed lives in gaterun.py (no click: the fast entry runs it too);
# `loopgate check` and the tests import these names from here.
from loopgate.cli.gaterun import (
    EXIT_CODES,
    build_options,
    default_format,
    gate_command,
    in_ci_base,
    option_types,
    run_gate,
)
from loopgate.cli.output import color_option, report_option
from loopgate.gates.base import GateSpec, bounds_text, out_of_bounds
from loopgate.gates.registry import gate, gates
from loopgate.reporters import FORMAT_NAMES

__all__ = ["EXIT_CODES", "build_options", "command_for", "default_format", "gate_group", "in_ci_base", "run_gate"]

_SCALARS: dict[Any, Any] = {str: click.STRING, int: click.INT, float: click.FLOAT}


def _params(options: type[Any]) -> list[click.Parameter]:
    kinds = option_types(options)
    params: list[click.Parameter] = []
    for f in records.fields(options):
        base, _optional, many = kinds[f.name]
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


def _with_default(f: records.Field[Any], meta: Any) -> str:
    text = str(meta.get("help") or "")
    default = f.default if f.default is not records.MISSING else None
    if default not in (None, (), "", False):
        text += f" [default: {default}]"
    if bounds_text(meta):
        text += f" [range: {bounds_text(meta)}]"
    return text


def command_for(spec: GateSpec) -> click.Command:
    """The click command of `loopgate gate NAME`; `loopgate check` parses checklist args with it."""
    def callback(output_format: str | None, color: bool | None, reports: tuple[tuple[str, str], ...],
                 **given: Any) -> None:
        gate_command(spec, output_format, color, reports, given)

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

