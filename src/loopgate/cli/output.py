"""What every command shares about output: the colour decision and printing a report.

Colour, the same for every command: `--color` / `--no-color` decide; without them `NO_COLOR`
(any non-empty value) turns it off, `FORCE_COLOR` (non-empty, not `0`) turns it on, and
otherwise stdout being a terminal decides. Forced colour survives a pipe (click would strip it).

Nothing here imports click at import time: `loopgate verify` and `loopgate gate NAME` start
without it (see fast.py), and `echo` writes as click.echo does.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import re
import sys

from loopgate.reporters import REPORTER_BY_NAME, Report

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import NoReturn, TextIO

    import click

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


def echo(message: str = "", *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """click.echo(message, err=err, nl=nl, color=color), without importing click in the usual case.

    Written directly when click.echo would write the text unchanged to the stream itself: a plain
    text stream on POSIX whose encoding is not ASCII (click rewraps an ASCII one in UTF-8), and no
    ANSI sequence that click would strip (it strips them unless colour is on). Anything else is
    handed to click.echo itself, so the bytes are click's in every case.
    """
    stream = sys.stderr if err else sys.stdout
    out = message + "\n" if nl else message
    try:
        if not _plain_stream(stream) or ("\x1b" in out and color is not True):
            import click  # noqa: PLC0415 - the rare case: let click decide

            click.echo(message, err=err, nl=nl, color=color)
            return
        assert stream is not None  # _plain_stream said so; for mypy
        if out:
            stream.write(out)
        stream.flush()
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise  # a reader that went away: click's main (and fast.run_fast) end the run quietly, exit 1
        cannot_write("to stderr" if err else "to stdout", error.strerror or str(error))
    except UnicodeEncodeError as error:  # e.g. PYTHONIOENCODING=latin-1 and a path with a snowman
        cannot_write("to stderr" if err else "to stdout", str(error))


def require_cwd() -> None:
    """The working directory must still exist: every command resolves paths and finds pyproject.toml
    from it, and a directory removed under the shell makes os.getcwd() fail deep inside (a worktree
    or temp dir deleted while a terminal stayed in it). One line and exit 2 instead."""
    try:
        os.getcwd()
    except OSError as err:
        echo(f"loopgate: error: the current directory cannot be read ({err.strerror or err}): it was removed "
             "or is out of reach; cd to a directory that exists", err=True)
        sys.exit(2)


def cannot_write(what: str, reason: str) -> NoReturn:
    """Output that cannot be written (a full disk, an encoding without the report's characters): one
    line on stderr and exit 2, as for any input or environment error, never a traceback. The
    standard streams are wrapped first, so the interpreter's last flush of what is still buffered
    does not fail a second time at exit."""
    from typing import cast  # noqa: PLC0415 - an output that cannot be written only

    sys.stdout = cast("TextIO", _Unflushed(sys.stdout))
    sys.stderr = cast("TextIO", _Unflushed(sys.stderr))
    try:
        sys.stderr.write(f"loopgate: error: cannot write {what}: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is broken too: the exit status is all that is left to say it
    sys.exit(2)


class _Unflushed:
    """A standard stream whose flush gives up quietly once output has failed (see cannot_write)."""

    def __init__(self, wrapped: object) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            getattr(self.wrapped, "flush", lambda: None)()

    def __getattr__(self, attr: str) -> object:
        return getattr(self.wrapped, attr)


def _plain_stream(stream: TextIO | None) -> bool:
    """Whether click.echo would write to `stream` as it is (see echo)."""
    if stream is None or sys.platform.startswith("win") or type(stream) is not io.TextIOWrapper:
        return False
    if not isinstance(stream.encoding, str) or stream.errors is None:
        return False
    try:
        return codecs.lookup(stream.encoding).name != "ascii"
    except LookupError:
        return True  # click too keeps a stream whose encoding it cannot look up


def color_option() -> click.Option:
    import click  # noqa: PLC0415 - only the click command builders call this

    return click.Option(["--color/--no-color", "color"], default=None, help=COLOR_HELP)


def emit(report: Report, output_format: str) -> None:
    echo(REPORTER_BY_NAME[output_format]().render(report), nl=False, color=report.color)


def report_value(value: str) -> tuple[str, str] | None:
    """One `--report FORMAT=FILE` value as (format, file); None when it is not one."""
    fmt, sep, path = value.partition("=")
    if not sep or not path or fmt not in REPORTER_BY_NAME:
        return None
    return fmt, path


def parse_reports(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    parsed: list[tuple[str, str]] = []
    for value in values:
        pair = report_value(value)
        if pair is None:
            import click  # noqa: PLC0415 - a click callback: click is loaded

            raise click.BadParameter(f"'{value}': write FORMAT=FILE, FORMAT one of {', '.join(REPORTER_BY_NAME)}",
                                     ctx=ctx, param=param)
        parsed.append(pair)
    return tuple(parsed)


REPORT_HELP = ("Also write the report as FORMAT to FILE (repeatable), e.g. --report sarif=loopgate.sarif "
               "--report markdown=summary.md: one run, several views, one verdict.")


def report_option() -> click.Option:
    import click  # noqa: PLC0415 - only the click command builders call this

    return click.Option(["--report", "reports"], multiple=True, metavar="FORMAT=FILE", callback=parse_reports,
                        help=REPORT_HELP)


def write_reports(report: Report, reports: tuple[tuple[str, str], ...]) -> None:
    """Each extra view written whole or not at all; a file that cannot be written is an input error
    (exit 2) after the others are written.

    A new path or a regular file is written atomically (a temp file renamed into place), through a
    symlink to its target, so the link stays a link. A FIFO, a device or any other file that is not
    a regular one, and a file descriptor's name (`/dev/stdout`, `/dev/fd/N`, `/proc/...`: what it
    reaches is the shell's redirection, which a rename would never reach), is written to directly,
    as linters' --output-file is: renaming over it would replace the pipe or device with a file."""
    if not reports:  # the usual case: nothing to import (tempfile costs a cold start ~5 ms)
        return
    from loopgate import records  # noqa: PLC0415

    plain = records.replace(report, color=False)
    failed = []
    for fmt, path in reports:
        text = REPORTER_BY_NAME[fmt]().render(plain)  # rendered before anything is opened
        try:
            if path.endswith(os.sep):  # a folder's name: the shell's `> x/` refuses too
                raise IsADirectoryError(errno.EISDIR, "names a directory (it ends in /)")
            if _direct_target(path):
                _write_direct(path, text)
            else:
                _write_atomic(os.path.realpath(path), text)
        except OSError as err:
            failed.append(f"cannot write {path}: {err.strerror or err}")
    for message in failed:
        echo(f"loopgate: error: {message}", err=True)
    if failed:
        sys.exit(2)


# The names of an open file descriptor (/dev/stdout is /proc/self/fd/1): written through, always.
_DESCRIPTOR = re.compile(r"/dev/(stdout|stderr|stdin|fd/[^/]+)|/proc/[^/]+/fd/[^/]+")


def _direct_target(path: str) -> bool:
    """Whether `path` is written in place rather than replaced (see write_reports)."""
    import stat  # noqa: PLC0415

    if _reaches_descriptor(path):
        return True  # /dev/stdout to `> out.txt` reaches a regular file, but the shell's, not a path to replace
    try:
        mode = os.stat(path).st_mode  # through symlinks: what the path reaches
    except FileNotFoundError:
        return False  # a new file (or a dangling symlink's new target): written atomically
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)  # a directory: the rename says why not


def _reaches_descriptor(path: str) -> bool:
    """Whether `path`, or a symlink on the way from it, names a file descriptor: `ln -s /dev/stdout x`
    and `//dev/stdout` are the shell's redirection too (realpath would give the file it was redirected
    to, and the rename would replace it), where `/proc/self/cwd/x.json` is a plain path."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of links
        current = "/" + os.path.normpath(current).lstrip("/")  # `//dev/stdout` is /dev/stdout
        # its folder may be a link into one too (`ln -s /dev/fd d`, then `d/1`)
        in_folder = os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
        if _DESCRIPTOR.fullmatch(current) or _DESCRIPTOR.fullmatch(in_folder):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.join(os.path.dirname(current), os.readlink(current))
    return False


def _write_direct(path: str, text: str) -> None:
    """Write `text` into an existing non-regular file (or /dev/stdout): no O_CREAT, so a path that
    vanished is an error, not a new file; O_APPEND, so /dev/stdout redirected to a file adds the
    report after what loopgate printed instead of over it."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _write_atomic(path: str, text: str) -> None:
    """A temp file beside `path`, renamed over it: readers see the old file or the whole new one."""
    import tempfile  # noqa: PLC0415

    fd, tmp = tempfile.mkstemp(prefix=".loopgate-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        # the mode a file written with `>` would have: the old file's, or what the umask leaves (mkstemp
        # makes 0600, which a CI artifact uploader or web server of another user cannot read)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        os.chmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
