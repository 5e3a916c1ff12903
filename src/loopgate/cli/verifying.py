"""What `loopgate verify` does once its options are parsed. No click here: the click command
(cli/app.py) and the fast entry (cli/fast.py) both call `verify_command`, so the two cannot
drift apart."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from loopgate.cli.output import echo, emit, is_terminal, use_color, write_reports
from loopgate.config import ConfigError, load_config
from loopgate.reporters import FORMAT_NAMES, Report

FORMATS = ["auto", *FORMAT_NAMES]


def fail(message: str) -> NoReturn:
    """A usage or input error: one clear line on stderr, exit 2."""
    echo(f"loopgate: error: {message}", err=True)
    sys.exit(2)


def pick_format(requested: str | None, configured: Any) -> str:
    name = requested or (str(configured) if configured else "auto")
    if name not in FORMATS:
        fail(f"unknown format '{name}' in [tool.loopgate] (choose from {', '.join(FORMATS)})")
    if name == "auto":
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    return name


class _Progress:
    """`verify` over many loops shows a counter on a terminal; nothing in pipes or CI."""

    def __init__(self) -> None:
        self.on = is_terminal(sys.stderr) and not os.environ.get("CI")
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if self.on and total >= 50 and (done % 25 == 0 or done == total):
            echo(f"\rverifying loops {done}/{total}", err=True, nl=False)
            self.shown = True

    def close(self) -> None:
        if self.shown:
            echo("\r\x1b[K", err=True, nl=False)


def verify_command(paths: tuple[str, ...], strict: bool | None, output_format: str | None, color: bool | None,
                   reports: tuple[tuple[str, str], ...]) -> NoReturn:
    """`loopgate verify` with its command line parsed (see cli/app.py for what each option means)."""
    from loopgate.verify import VerifySettings, run_verify  # noqa: PLC0415

    try:
        config = load_config().section("verify")
    except ConfigError as err:
        fail(str(err))
    configured = config.get("strict", False)
    if not isinstance(configured, bool):  # `strict = "no"` would otherwise read as true
        fail(f"strict in [tool.loopgate.verify] must be true or false, not {configured!r}")
    strict_on = strict if strict is not None else (configured or _committed_strict())
    fmt = pick_format(output_format, config.get("format"))
    progress = _Progress()
    result = run_verify(VerifySettings(paths, strict_on), progress)
    progress.close()
    report = Report(result.findings, not result.failed(strict_on) and not result.input_error,
                    result.files_checked, use_color(color), strict=strict_on, command="verify",
                    exit_code=result.exit_code(strict_on))
    emit(report, fmt)
    write_reports(report, reports)
    sys.exit(report.code)


def _committed_strict() -> bool:
    """`strict` as the last commit has it: a change that drops `strict = true` is still judged strictly
    (the stricter of the commit and the working tree wins; the CLI's --no-strict still decides)."""
    from loopgate.config import config_revision  # noqa: PLC0415
    from loopgate.gitquery import head_and_toplevel  # noqa: PLC0415

    # One git process for HEAD and the top where two would do (pre-commit runs this on every commit);
    # where it cannot tell (no work tree), the lookups one by one, as before.
    revision, top = head_and_toplevel(".")
    toplevel: bytes | None = top
    if not revision and not top:
        revision, toplevel = config_revision(".", ""), None
    if not revision:  # not a repository, or no commit yet
        return False
    try:
        committed = load_config(".", revision, toplevel).section("verify").get("strict", False)
    except ConfigError:
        return False
    return committed is True
