"""The console script's entry (`loopgate = loopgate.cli.main:main`).

`loopgate verify` and `loopgate gate NAME`, which pre-commit starts on every commit, run without
importing click when their arguments are plain (cli/fast.py); every other command line, --help
and every usage error go to the click command line in cli/app.py, as before.
"""

from __future__ import annotations

import os
import sys

from loopgate import signals

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any, NoReturn


def main() -> None:
    signals.ENTRY = True  # this process is the command and ends with it (not a test runner's CliRunner)
    if sys.argv[1:2] in (["gate"], ["verify"]):  # both ask git for HEAD first: it runs while they import
        from loopgate.gitquery import look_ahead  # noqa: PLC0415

        look_ahead()
    from loopgate.cli.fast import run_fast  # noqa: PLC0415

    try:
        run_fast(sys.argv[1:])  # exits when it ran the command
    except SystemExit as done:
        _end_now(done)
    _drop_look_ahead()  # click parses this command line: it asks git itself if it needs to
    from loopgate.cli.app import cli  # noqa: PLC0415

    cli(prog_name="loopgate")


def _end_now(done: SystemExit) -> NoReturn:
    """End the process with `done`'s status once the output is flushed, without the interpreter's
    teardown: freeing every module and object is a few milliseconds of each pre-commit run, and
    nothing is left to do (report files are closed, child processes waited for, pools shut down).
    Anything unusual (a message as the exit code, a stream that cannot be flushed) takes the
    interpreter's own way out, which says what happened."""
    _drop_look_ahead()
    code = done.code
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        raise done
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        raise done from None
    os._exit(code or 0)


def _drop_look_ahead() -> None:
    gitquery = sys.modules.get("loopgate.gitquery")
    if gitquery is not None:
        gitquery.drop_look_ahead()


def __getattr__(name: str) -> Any:
    """`from loopgate.cli.main import cli` (and the rest of the click command line, which lived here)."""
    if name.startswith("__"):  # the import system asks for __path__ and the like: not the CLI's names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from loopgate.cli import app  # noqa: PLC0415

    try:
        return getattr(app, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
