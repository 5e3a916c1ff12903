"""Run a build, test or lint command and pass when it exits 0.

The gate judges the exit status only. It runs the command (`--shell 'CMD'` through /bin/sh,
or the words after `--` directly) in its own process group with a timeout (`--timeout`
seconds, default 600; `0` means no limit, and a negative, `nan` or `inf` timeout is a usage
error; on expiry the whole group gets SIGTERM, then SIGKILL two seconds later, so a command
that ignores SIGTERM still ends) and keeps the tail of its output. SIGTERM or SIGINT (Ctrl-C)
to the gate ends the command's whole group the same way, and the gate exits 2 (LG467): the
command never finished judging the change, and nothing it started is left running.

It tells a real failure from an environmental one. The command exited 0: the gate passes.
It exited with any other status: the change failed (exit 1; the run loop asks the maker
again), unless one of these holds, checked in this order, in which case the command never
judged the change: an environment error (exit 2; the run loop stops):

- it could not start: the program or the working directory (`--cwd`) does not exist (LG464),
  or the program cannot be executed (LG465);
- it ran past `--timeout` and was stopped (LG466);
- it was killed by a signal (any signal), or, with `--shell`, it exited 129, 130, 131, 137 or
  143 (128 + SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM: how a shell reports a child killed
  by one) (LG467);
- it exited 127 (command not found; LG464) or 126 (not executable; LG465);
- it exited non-zero and the last MiB of its output contains, in any case, one of
  "Could not resolve host", "Temporary failure in name resolution", "Network is
  unreachable", "Name or service not known", "nodename nor servname provided",
  "No route to host", "Failed to establish a new network connection", ENOTFOUND,
  EAI_AGAIN or getaddrinfo (LG468). A suite whose real failures print such words (tests
  of DNS error handling) turns this guess off with `--no-network-errors`, so such a
  failure is a failure (exit 1).

When a failing command prints `path:line[:col]: message` lines (pytest, ruff, mypy, flake8,
eslint's unix format) or `path(line,col): message` (tsc) for files that exist under the
working directory, each becomes a finding at that place (the first 50). Otherwise the gate
reports one finding at `.` with the exit status and the last lines of output.

Credentials never reach the report: in everything the gate prints or stores (output tail,
messages, the command line) the value of each environment variable whose name says it holds
one (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `DB_PASSWORD`, ...) and whatever detect-secrets
would flag (the secrets gate's scanner) becomes `***`. The generated gate does the same.

In quality-gate-checklist.md, an entry with a `command:` (and optionally a `timeout:` such as
`5 minutes`) runs this gate.

Examples:

    loopgate gate command --shell 'npx markdownlint-cli2 "docs/**/*.md"' --timeout 300
    loopgate gate command -- pytest -q
    loopgate gate command --cwd web --tail 80 -- npm test
"""

from __future__ import annotations

import os
import re
import signal

from loopgate import codes, records
from loopgate.findings import Finding, Severity
from loopgate.gates._process import (
    BAD_TIMEOUT,
    COMMAND_KILLED,
    NO_COMMAND,
    PROCESS_CODES,
    Command,
    Interrupts,
    Outcome,
    check_command,
    check_timeout,
    environment_finding,
    last_lines,
    run_command,
)
from loopgate.gates._scrub import scrubbed
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt
from loopgate.records import field, record

NAME = "command"
RUNS_COMMANDS = True
# Codes this gate shares with the generated gate (running a command); listed in its docs.
SHARED_CODES = PROCESS_CODES
E = Severity.ERROR

COMMAND_FAILED = codes.define(
    "LG461", "command-failed", E, "The command exited with a non-zero status.",
    "The build, test or lint command ran to the end and reported failure. Its output named no file under "
    "the working directory, so the finding sits at `.`; the message gives the exit status and the hint the "
    "last lines of output (the full tail is in the report's `output_tail`).",
    "Run the command yourself, read its output and fix what it reports.",
)
COMMAND_REPORTED = codes.define(
    "LG462", "command-reported", E, "The failing command reported a problem at this place.",
    "The command exited non-zero and printed a `path:line[:col]: message` (or tsc's `path(line,col): "
    "message`) line naming a file under the working directory. The message is the command's own.",
    "Fix what the message says at this place, then run the command again.",
)

MAX_FINDINGS = 50
DEFAULT_TIMEOUT = 600.0
_COLON_STYLE = re.compile(r"^\s*(?P<path>[^\s:(][^:\n]*?):(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?P<msg>\S.*)$")
_PAREN_STYLE = re.compile(r"^\s*(?P<path>[^\s:(][^:(\n]*?)\((?P<line>\d+),(?P<col>\d+)\):\s*(?P<msg>\S.*)$")


@record(frozen=True)
class Options:
    argv: tuple[str, ...] = field(default=(), metadata=opt(
        "The command and its arguments, run directly without a shell (put them after `--`).", argument=True,
        metavar="COMMAND"))
    shell: str = field(default="", metadata=opt(
        "Run CMD with /bin/sh -c (pipes, globs, && work); instead of the words after `--`.", metavar="CMD"))
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=opt(
        "Stop the command (its whole process group) after this many seconds; 0: no limit.", metavar="SECONDS"))
    tail: int = field(default=40, metadata=opt(
        "Keep this many last lines of output in the report.", metavar="LINES", minimum=0,
        maximum=100_000))
    cwd: str = field(default="", metadata=opt(
        "Run the command in this directory (relative to where the gate runs).", metavar="DIR"))
    network_errors: bool = field(default=True, metadata=opt(
        "Count a failure whose output names a network error (\"Could not resolve host\", ENOTFOUND, ...) as "
        "environmental (exit 2); --no-network-errors: a failure is a failure whatever it prints."))


def run(options: Options, context: GateContext) -> GateResult:
    """The gate, with credentials masked in all it reports (its command's output, the command line)."""
    return scrubbed(_run(options, context), context.env)


def _run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    problem = check_command(options.shell, options.argv)
    code = NO_COMMAND
    if not problem:
        problem, code = check_timeout(options.timeout), BAD_TIMEOUT
    if problem:
        return GateResult(NAME, GateStatus.ERROR, [code.at(".", 1, 1, problem)], timer.elapsed(),
                          "nothing run", reason=problem)
    workdir = os.path.join(context.cwd, options.cwd) if options.cwd else context.cwd
    if context.progress is not None:
        context.progress(f"running {options.shell or ' '.join(options.argv)}")
    command = Command(options.shell, options.argv, workdir, options.timeout, context.env,
                      network_errors=options.network_errors, launch=context.launch)
    with Interrupts() as interrupts:
        outcome = run_command(command, started=interrupts.started)
    if interrupts.received:
        # SIGTERM or Ctrl-C to the gate: the command's group is gone, and nothing was judged (exit 2).
        name = signal.Signals(interrupts.received).name
        reason = f"interrupted by {name}: `{command.shown()}` was stopped (its whole process group)"
        outcome = records.replace(outcome, problem=(COMMAND_KILLED, reason), signal_name=name)
    return judge(NAME, outcome, options.tail, context.cwd, options.cwd, timer)


def judge(gate: str, outcome: Outcome, tail: int, cwd: str, subdir: str, timer: Timer) -> GateResult:
    """The command's verdict as a GateResult: passed, failed with findings, or an environment error."""
    shown = outcome.command.shown()
    where = f" in {subdir}" if subdir else ""
    said = f"`{shown}`{where} {outcome.status_words()} after {outcome.duration:.2f}s"
    judged = "only the exit status is judged"
    output_tail = outcome.tail(tail)
    if outcome.problem is not None:
        return GateResult(gate, GateStatus.ERROR, [environment_finding(outcome, tail)], timer.elapsed(),
                          f"{said}; the change was not judged", output_tail, outcome.problem[1])
    if outcome.passed:
        return GateResult(gate, GateStatus.PASSED, [], timer.elapsed(), f"{said}; {judged}", output_tail)
    findings = output_findings(outcome.output, cwd, subdir, shown, outcome.returncode)
    if findings:
        judged += f"; {len(findings)} file reference{'s' if len(findings) != 1 else ''} taken from its output"
    else:
        hint = COMMAND_FAILED.hint + last_lines(outcome, min(tail, 15))
        findings = [COMMAND_FAILED.at(".", 1, 1, f"`{shown}`{where} exited with status {outcome.returncode}", hint)]
    return GateResult(gate, GateStatus.FAILED, findings, timer.elapsed(), f"{said}; {judged}", output_tail)


def output_findings(output: str, cwd: str, subdir: str, shown: str, returncode: int | None) -> list[Finding]:
    """A finding for each `path:line[:col]: message` line whose path is a file under the working directory."""
    root = os.path.realpath(cwd)
    base = os.path.join(root, subdir) if subdir else root
    found: dict[tuple[str, int, int, str], Finding] = {}
    exists: dict[str, str | None] = {}
    hint = f"Reported by `{shown}` (exit {returncode}). " + COMMAND_REPORTED.hint
    for line in output.splitlines():
        match = _COLON_STYLE.match(line) or _PAREN_STYLE.match(line)
        if match is None:
            continue
        raw = match.group("path")
        if raw not in exists:
            exists[raw] = _under(raw, base, root)
        path = exists[raw]
        if path is None:
            continue
        number, column = int(match.group("line")), int(match.group("col") or 1)
        message = match.group("msg").strip()[:500]
        found.setdefault((path, number, column, message), COMMAND_REPORTED.at(path, number, column, message, hint))
        if len(found) >= MAX_FINDINGS:
            break
    return list(found.values())


def _under(raw: str, base: str, root: str) -> str | None:
    """`raw` as a path relative to the gate's directory, if it names an existing file under it."""
    full = os.path.realpath(os.path.join(base, raw))
    if not os.path.isfile(full) or os.path.commonpath([full, root]) != root:
        return None
    return os.path.relpath(full, root).replace(os.sep, "/")
