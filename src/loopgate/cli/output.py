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
    return is_terminal(sys.stdout)


def is_terminal(stream: object) -> bool:
    """Whether `stream` is a terminal; False when it was closed before we started (`loopgate ... >&-` leaves
    sys.stdout None) or cannot say."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def color_option() -> click.Option:
    return click.Option(["--color/--no-color", "color"], default=None, help=COLOR_HELP)


def emit(report: Report, output_format: str) -> None:
    click.echo(REPORTER_BY_NAME[output_format]().render(report), nl=False, color=report.color)


def parse_reports(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    parsed: list[tuple[str, str]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path or fmt not in REPORTER_BY_NAME:
            raise click.BadParameter(f"'{value}': write FORMAT=FILE, FORMAT one of {', '.join(REPORTER_BY_NAME)}",
                                     ctx=ctx, param=param)
        parsed.append((fmt, path))
    return tuple(parsed)


REPORT_HELP = ("Also write the report as FORMAT to FILE (repeatable), e.g. --report sarif=loopgate.sarif "
               "--report markdown=summary.md: one run, several views, one verdict.")


def report_option() -> click.Option:
    return click.Option(["--report", "reports"], multiple=True, metavar="FORMAT=FILE", callback=parse_reports,
                        help=REPORT_HELP)


def write_reports(report: Report, reports: tuple[tuple[str, str], ...]) -> None:
    """Each extra view written whole or not at all (a temp file renamed into place); a file that
    cannot be written is an input error (exit 2) after the others are written."""
    if not reports:  # the usual case: nothing to import (tempfile costs a cold start ~5 ms)
        return
    import dataclasses  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    plain = dataclasses.replace(report, color=False)
    failed = []
    for fmt, path in reports:
        tmp = ""
        try:
            directory = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix=".loopgate-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(REPORTER_BY_NAME[fmt]().render(plain))
            os.replace(tmp, path)
        except OSError as err:
            failed.append(f"cannot write {path}: {err.strerror or err}")
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
    for message in failed:
        click.echo(f"loopgate: error: {message}", err=True)
    if failed:
        sys.exit(2)
