"""What every command shares about output: the colour decision and printing a report.

Colour, the same for every command: `--color` / `--no-color` decide; without them `NO_COLOR`
(any non-empty value) turns it off, `FORCE_COLOR` (non-empty, not `0`) turns it on, and
otherwise stdout being a terminal decides. Forced colour survives a pipe (click would strip it).
"""

from __future__ import annotations

import os
import sys

import click

from loopgate.reporters import REPORTER_BY_NAME, Report

COLOR_HELP = ("Colour text output (default: when stdout is a terminal; NO_COLOR turns it off, FORCE_COLOR "
              "on; --color forces it even through a pipe).")


def use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR", "")
    if force and force.lower() not in ("0", "false", "no"):
        return True
    return sys.stdout.isatty()


def color_option() -> click.Option:
    return click.Option(["--color/--no-color", "color"], default=None, help=COLOR_HELP)


def emit(report: Report, output_format: str) -> None:
    click.echo(REPORTER_BY_NAME[output_format]().render(report), nl=False, color=report.color)
