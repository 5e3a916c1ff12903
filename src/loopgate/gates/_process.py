"""Running a gate's command: its own process group, a timeout that ends the whole group, the
tail of its output, and the line between a real failure and an environmental one.

A command that exits non-zero has judged the change (a test failed, lint found something):
the maker should try again. A command that could not judge it at all (not found, not
executable, timed out, killed by a signal, no network) says nothing about the change: the run
loop must stop instead of burning attempts. The command and generated gates share this code.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from loopgate import codes, signals
from loopgate.findings import Finding, Severity
from loopgate.gates.base import Launcher
from loopgate.records import field, record
from loopgate.signals import STOP_SIGNALS

E = Severity.ERROR

NO_COMMAND = codes.define(
    "LG463", "no-command", E, "No command (or two) was given to run.",
    "The gate runs exactly one command: either `--shell 'CMD'` (run by /bin/sh) or the words after `--` "
    "(run directly, no shell). Neither, or both, were given (exit 2).",
    "Give one of them, e.g. `loopgate gate command --shell 'make test'` or `loopgate gate command -- pytest -q`.",
    input_error=True,
)
COMMAND_NOT_FOUND = codes.define(
    "LG464", "command-not-found", E, "The command was not found.",
    "The program (or the shell's first word) does not exist on PATH, or the shell reported exit status 127 "
    "(\"command not found\"). The command never judged the change, so this is an environment error (exit 2): "
    "the run loop stops instead of asking the maker to try again.",
    "Install the tool or fix PATH (e.g. activate the virtualenv), or correct the command's spelling.",
)
COMMAND_NOT_EXECUTABLE = codes.define(
    "LG465", "command-not-executable", E, "The command could not be executed.",
    "The program exists but cannot be run: no execute permission, a bad `#!` line, or a directory (exit "
    "status 126 from the shell). An environment error (exit 2), not a verdict on the change.",
    "`chmod +x` the script, fix its `#!` interpreter line, or call it through its interpreter.",
)
COMMAND_TIMED_OUT = codes.define(
    "LG466", "command-timed-out", E, "The command ran longer than its timeout and was stopped.",
    "The whole process group got SIGTERM, then SIGKILL after a short grace. A command that does not finish "
    "has not judged the change: an environment error (exit 2). The output tail shows where it was.",
    "Raise `--timeout` (in the checklist: `- timeout: 10 minutes`), or find what hangs (a prompt waiting for "
    "input, a server that never exits, a network call).",
)
COMMAND_KILLED = codes.define(
    "LG467", "command-killed", E, "The command was killed by a signal.",
    "Something outside the command ended it (the out-of-memory killer, a CI runner's limit, a person's "
    "Ctrl-C). It did not finish judging the change: an environment error (exit 2).",
    "Check memory and CI limits (`dmesg` shows the OOM killer) and run again.",
)
NETWORK_UNREACHABLE = codes.define(
    "LG468", "network-unreachable", E, "The command failed because the network was unreachable.",
    "The command exited non-zero and its output says a host could not be resolved or reached (\"Could not "
    "resolve host\", \"Temporary failure in name resolution\", \"Network is unreachable\", ENOTFOUND, "
    "getaddrinfo, ...). The failure is the network's, not the change's: an environment error (exit 2).",
    "Restore network access (or a package mirror/cache) and run again; or make the command work offline.",
)

BAD_TIMEOUT = codes.define(
    "LG469", "bad-timeout", E, "The timeout is not a usable number of seconds.",
    "`--timeout` (in the checklist: `timeout:`) is a finite number of seconds, 0 or more; 0 means no limit. "
    "A negative number, `nan` or `inf` would silently mean no limit, so it is refused and nothing is run "
    "(exit 2).",
    "Give the seconds as a number, e.g. `--timeout 300`, or `--timeout 0` for no limit.",
    input_error=True,
)

# Every code running a command can report: the command and generated gates list these in their docs.
PROCESS_CODES = (NO_COMMAND, BAD_TIMEOUT, COMMAND_NOT_FOUND, COMMAND_NOT_EXECUTABLE, COMMAND_TIMED_OUT,
                 COMMAND_KILLED, NETWORK_UNREACHABLE)

GRACE = 2.0  # seconds between SIGTERM and SIGKILL
GATE_TOKEN_VAR = "LOOPGATE_GATE_TOKEN"
# The signals that end a gate's run early: stop, Ctrl-C, and the terminal (or ssh session) going away.
# Enough of the output to find `path:line:` references in a long test run, without reading gigabytes.
SCAN_BYTES = 1 << 20
_NETWORK = re.compile(
    r"Could not resolve host|Temporary failure in name resolution|Network is unreachable|ENOTFOUND|"
    r"getaddrinfo|Name or service not known|nodename nor servname provided|EAI_AGAIN|"
    r"No route to host|Failed to establish a new network connection", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# The shell's way to say a command it ran died of a signal: 128 + the signal number.
_SHELL_SIGNALS = {signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGKILL, signal.SIGTERM}


@record(frozen=True)
class Command:
    shell: str = ""
    argv: tuple[str, ...] = ()
    cwd: str = "."
    timeout: float = 0.0  # seconds; 0: no limit (check_timeout refuses anything else that is not > 0)
    env: dict[str, str] | None = None
    # Whether a failure whose output names a network error is environmental (a guess from its words).
    network_errors: bool = True
    launch: Launcher | None = None  # GateContext.launch: start it inside a sandbox

    def shown(self) -> str:
        return self.shell if self.shell else shlex.join(self.argv)


@record(frozen=True)
class Outcome:
    command: Command
    returncode: int | None  # None: it never started, or it was stopped at the timeout
    output: str  # stdout and stderr interleaved, ANSI colours removed; the last SCAN_BYTES
    duration: float
    # Set when the command could not judge the change: (code, reason).
    problem: tuple[codes.Code, str] | None = None
    signal_name: str = ""

    @property
    def passed(self) -> bool:
        return self.problem is None and self.returncode == 0

    def tail(self, lines: int) -> str:
        kept = self.output.rstrip("\n").splitlines()[-lines:] if lines > 0 else []
        return "\n".join(kept)

    def status_words(self) -> str:
        if self.signal_name:
            return f"killed by {self.signal_name}"
        return "did not finish" if self.returncode is None else f"exited {self.returncode}"


@record
class _Started:
    process: subprocess.Popen[bytes]
    sink: IO[bytes]
    began: float = field(default_factory=time.perf_counter)


def check_command(shell: str, argv: tuple[str, ...]) -> str:
    """Why the pair cannot be run ("" when it can)."""
    if shell and argv:
        return "give either --shell 'CMD' or the command after `--`, not both"
    if not shell.strip() and not argv:
        return "no command given: use --shell 'CMD' or put the command after `--`"
    return ""


def check_timeout(timeout: float) -> str:
    """Why the timeout cannot be used ("" when it can): only 0 may mean "no limit", never by accident."""
    if math.isnan(timeout) or math.isinf(timeout) or timeout < 0:
        return f"--timeout must be a finite number of seconds, 0 (no limit) or more; got {timeout:g}"
    return ""


def run_command(command: Command, started: Callable[[int], None] | None = None) -> Outcome:
    """Run the command to completion or its timeout; never raises for the command's sake.

    `started` is told the process group id as soon as the command runs (to stop it from a signal handler).
    """
    if not os.path.isdir(command.cwd):
        return Outcome(command, None, "", 0.0, (COMMAND_NOT_FOUND, f"working directory not found: {command.cwd}"))
    with tempfile.TemporaryFile() as sink:
        # A file, not a pipe: a daemon the command leaves behind cannot keep us waiting for EOF,
        # and a command that prints gigabytes costs disk, not memory.
        began = time.perf_counter()
        program = "/bin/sh" if command.shell else command.argv[0]
        # Every process the command starts inherits this token, also one that leaves the process group
        # (`setsid`, a daemon's double fork): the token finds it afterwards (_end_escaped).
        token = secrets.token_hex(16)
        env = {**(command.env if command.env is not None else os.environ), GATE_TOKEN_VAR: token}
        argv = ["/bin/sh", "-c", command.shell] if command.shell else list(command.argv)
        if command.launch is not None:
            argv, env = command.launch(argv, env, command.cwd)
        try:
            process = subprocess.Popen(
                argv, cwd=command.cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True)
        except FileNotFoundError:
            return Outcome(command, None, "", time.perf_counter() - began,
                           (COMMAND_NOT_FOUND, f"command not found: {program}"))
        except PermissionError:
            return Outcome(command, None, "", time.perf_counter() - began,
                           (COMMAND_NOT_EXECUTABLE, f"command not executable: {program}"))
        except OSError as err:
            return Outcome(command, None, "", time.perf_counter() - began,
                           (COMMAND_NOT_EXECUTABLE, f"cannot run {command.shown()}: {err.strerror or err}"))
        try:
            if started is not None:
                started(process.pid)
            return _finish(command, _Started(process, sink, began))
        finally:
            _end_escaped(token)


def _finish(command: Command, started: _Started) -> Outcome:
    process = started.process
    timed_out = False
    try:
        process.wait(timeout=command.timeout if command.timeout > 0 else None)
    except subprocess.TimeoutExpired:
        timed_out = True
        _end_group(process)
    except BaseException:
        # Interrupted (Ctrl-C as KeyboardInterrupt, or any exception a signal handler raises): the
        # command's group must not outlive the gate.
        signal_group(process.pid, signal.SIGKILL)
        raise
    # Whatever the command left running in its group goes too: a gate leaves nothing behind.
    signal_group(process.pid, signal.SIGKILL)
    duration = time.perf_counter() - started.began
    output = _read_tail(started.sink)
    if timed_out:
        reason = f"timed out after {command.timeout:g}s: {command.shown()}"
        return Outcome(command, None, output, duration, (COMMAND_TIMED_OUT, reason))
    return _classify(command, process.returncode, output, duration)


def _classify(command: Command, returncode: int, output: str, duration: float) -> Outcome:
    shown = command.shown()
    if returncode < 0 or (command.shell and returncode - 128 in {int(s) for s in _SHELL_SIGNALS}):
        number = -returncode if returncode < 0 else returncode - 128
        name = _signal_name(number)
        return Outcome(command, returncode, output, duration, (COMMAND_KILLED, f"killed by {name}: {shown}"), name)
    if returncode == 127:
        return Outcome(command, returncode, output, duration,
                       (COMMAND_NOT_FOUND, f"command not found (exit 127): {shown}"))
    if returncode == 126:
        return Outcome(command, returncode, output, duration,
                       (COMMAND_NOT_EXECUTABLE, f"command not executable (exit 126): {shown}"))
    if returncode != 0 and command.network_errors and (match := _NETWORK.search(output)):
        return Outcome(command, returncode, output, duration,
                       (NETWORK_UNREACHABLE, f"network unreachable ({match.group(0)!r} in the output): {shown}"))
    return Outcome(command, returncode, output, duration)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, a short grace, then SIGKILL: a command that ignores TERM still ends."""
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=GRACE)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _end_escaped(token: str) -> None:
    """End what the command left running outside its process group: every process carrying its token.
    (A process that also empties its environment, `env -i`, cannot be told from any other: only a PID
    namespace or a cgroup could hold it, which the gates do not set up.)"""
    from loopgate.runner.maker import end_tokened  # noqa: PLC0415  (the maker's /proc scan, made for escapees)

    end_tokened(token, var=GATE_TOKEN_VAR)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group, if it is still there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, sig)


class Interrupts:
    """SIGTERM, SIGINT and SIGHUP while a gate runs its command stop the command's whole process group, not
    the gate: the gate then ends as interrupted (exit 2) after cleaning up (the generated gate puts the tree
    back). Without this SIGTERM would end Python at once and leave the group running, and SIGINT would
    surface as KeyboardInterrupt (click: "Aborted!", exit 1). Python takes signals only in the main
    thread; a gate running in another thread (`loopgate check`'s workers) is reached through
    `stop_running`, which the main thread calls when it gets the signal."""

    def __init__(self) -> None:
        self.received = 0
        self.pgid = 0
        self.previous: dict[int, Any] = {}
        self.killer: threading.Timer | None = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self)
        signals.put_back(self.previous, bool(self.received))
        if self.killer is not None:
            self.killer.cancel()

    def started(self, pgid: int) -> None:
        self.pgid = pgid
        if self.received:  # the signal came while the generator was starting
            self._stop()

    def _handle(self, signum: int, _frame: Any = None) -> None:
        if not self.received:
            self.received = signum
            self._stop()

    def _stop(self) -> None:
        if self.pgid and self.killer is None:
            signal_group(self.pgid, signal.SIGTERM)
            # run_command's wait returns when the group leader ends; one that ignores SIGTERM gets SIGKILL.
            self.killer = threading.Timer(GRACE, signal_group, (self.pgid, signal.SIGKILL))
            self.killer.daemon = True
            self.killer.start()


_ACTIVE: set[Interrupts] = set()  # the gates running a command now, in any thread
_ACTIVE_LOCK = threading.Lock()


def stop_running(signum: int) -> None:
    """Stop every gate command running now, as if the gate had got `signum` itself: each puts back what it
    must (the generated gate: the tree) and ends as interrupted."""
    with _ACTIVE_LOCK:
        now = list(_ACTIVE)
    for interrupts in now:
        interrupts._handle(signum)  # the same path as a signal in the main thread


def running() -> bool:
    """Whether a gate is running a command (and so may still be cleaning up after `stop_running`)."""
    with _ACTIVE_LOCK:
        return bool(_ACTIVE)


def _read_tail(sink: IO[bytes]) -> str:
    size = sink.seek(0, os.SEEK_END)
    sink.seek(max(0, size - SCAN_BYTES))
    text = sink.read().decode("utf-8", "replace")
    if size > SCAN_BYTES:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    return _ANSI.sub("", text).replace("\r\n", "\n")


def environment_finding(outcome: Outcome, tail_lines: int) -> Finding:
    """The one finding for a command that could not judge the change, anchored at the working directory."""
    assert outcome.problem is not None
    code, reason = outcome.problem
    return code.at(".", 1, 1, reason, code.hint + last_lines(outcome, min(tail_lines, 10)))


def last_lines(outcome: Outcome, count: int) -> str:
    """The last lines of output for a hint, indented under it; "" when there was none."""
    last = outcome.tail(count)
    return "\n    last output:\n" + "\n".join("      " + line for line in last.splitlines()) if last else ""
