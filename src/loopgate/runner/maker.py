"""Run the maker (any agent command) in an item's worktree, inside hard limits.

The command runs in its own process group, so a timeout, a budget overrun or a stop signal
kills everything it started. Its output goes to a log file that is read while it runs: a
tool-call or cost budget is enforced mid-attempt from what the agent reports, not after.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loopgate.runner.agent_status import AgentStatus
from loopgate.runner.pricing import Prices, SpendLimits
from loopgate.runner.processes import kill_group, stop_group
from loopgate.runner.usage import OutputUsage, Usage, from_usage_file

TAIL_BYTES = 4000
LOG_CAP = 10 * 1024 * 1024  # maker.log never grows past this (documented in the README)
LOG_HEAD = 1024 * 1024  # what a capped log keeps of its start; the rest is the latest output
TOKEN_VAR = "LOOPGATE_ATTEMPT_TOKEN"
ESCAPED_GRACE = 1.0  # SIGTERM -> SIGKILL for escaped processes: the attempt is already over
SCAN_ROUNDS = 5  # rescans after a kill, for processes forked while the previous scan ran


@dataclass
class MakerLimits:
    timeout: float  # seconds left in the runtime budget
    max_tool_calls: int | None = None
    max_cost_usd: float | None = None  # what is left of the run's `max cost`, in USD
    grace: float = 3.0  # SIGTERM -> SIGKILL, inside the deadline: the agent is asked to stop `grace` before it
    max_tokens: int | None = None  # what is left of the run's `max tokens`
    prices: Prices = field(default_factory=Prices)  # to charge tokens the agent reports without a cost
    iteration_timeout: float | None = None  # `max runtime per iteration`
    stall: float | None = None  # `stalled after`: seconds without output

    @property
    def spend(self) -> SpendLimits:
        return SpendLimits(self.max_cost_usd, self.max_tokens, self.prices)

    def deadline(self) -> tuple[float, str]:
        """(seconds the attempt may run, the stop reason when it runs out): the nearer of the run's
        remaining runtime and the per-iteration limit."""
        if self.iteration_timeout is not None and self.iteration_timeout < self.timeout:
            return self.iteration_timeout, "iteration-timeout"
        return self.timeout, "timeout"

    def term_after(self) -> float:
        """When to send SIGTERM so that SIGKILL, `grace` later, still falls on the deadline; a grace
        longer than half the attempt's time is cut to half (the deadline is the deadline)."""
        seconds, _ = self.deadline()
        return seconds - min(self.grace, seconds / 2)


@dataclass
class MakerRun:
    exit_code: int | None
    duration: float
    output_tail: str
    usage: Usage
    # "" | "timeout" | "iteration-timeout" | "stalled" | "tool-calls" | "cost" | "tokens" | "unpriced" | "signal"
    # | "agent-failure" (the agent keeps retrying what retries do not fix: see AgentStatus.hopeless)
    stopped: str = ""
    started: bool = True  # False when the command could not be started at all
    error: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    status: AgentStatus = field(default_factory=AgentStatus)  # what the agent said about its own end
    cost_from: str = "none"  # "agent" | "prices" | "unknown" | "none": see SpendLimits.cost_from


PF_KTHREAD = 0x00200000  # /proc/PID/stat flags: a kernel thread (no environment, never ours)
PENDING_WAIT = 2.0  # seconds to wait for a process caught mid-exec to show its new environment


def _has_entry(pid: str, uid: int, entry: bytes) -> bool | None:
    """Whether process `pid` belongs to `uid` and has `entry` (NAME=value) in its environment;
    None when that cannot be told yet: the process is inside execve (its new memory has no
    environment until the kernel copies it in) or is exiting. Processes that vanish, are
    zombies or belong to others read as no."""
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return False
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    if not data:
        return None if _between_environments(pid) else False
    # the cheap test first; then an exact entry, not a prefix of a longer value or part of another one
    return entry in data and b"\0" + entry + b"\0" in b"\0" + data + b"\0"


def _between_environments(pid: str) -> bool:
    """Whether an empty read of /proc/PID/environ may be hiding the process's environment.

    Two moments read empty: inside execve, the new memory map has no environment until the
    kernel copies it in (stat field 51, env_end, is 0); and an environ file opened before an
    exec reads the old, released memory map. Either way a fresh read soon shows the real one.
    A process started with an empty environment (`env -i`) has env_start == env_end != 0; a
    zombie and a kernel thread have none to show. The scan used to take every empty read as
    "no token", so an escapee exec'ing `sleep` at the wrong moment outlived its attempt."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        state, flags, env_start, env_end = fields[0], int(fields[6]), int(fields[47]), int(fields[48])
    except (OSError, ValueError, IndexError):
        return False
    if state in (b"Z", b"X") or flags & PF_KTHREAD:
        return False
    return env_end == 0 or env_start != env_end


def tokened_pids(token: str, var: str = TOKEN_VAR) -> list[int]:
    """Every process of this user, except this one, whose environment holds VAR=token (the gates' commands
    use their own variable, so a gate run inside an attempt keeps the attempt's token too).

    Two scans, united: under load a process caught at the wrong instant of an execve can read as
    tokenless once (seen about 1 scan in 200 with a process that only re-execs itself); missing
    it twice running is far rarer, and a miss is an escapee that outlives its attempt."""
    return sorted(set(_scan(token, var)) | set(_scan(token, var)))


def _scan(token: str, var: str = TOKEN_VAR) -> list[int]:
    """Every process of this user, except this one, whose environment holds TOKEN_VAR=token.
    A process caught between two environments (mid-exec) is read again until it shows one, so
    a scan never misses a process for the moment it looked at it."""
    if not sys.platform.startswith("linux") or not token:
        return []
    entry, uid, me = f"{var}={token}".encode(), os.getuid(), os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    found: list[int] = []
    pending: list[str] = []
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        has = _has_entry(name, uid, entry)
        if has is None:
            pending.append(name)
        elif has:
            found.append(int(name))
    deadline = time.monotonic() + PENDING_WAIT
    while pending and time.monotonic() < deadline:
        time.sleep(0.001)
        still: list[str] = []
        for name in pending:
            has = _has_entry(name, uid, entry)
            if has is None:
                still.append(name)
            elif has:
                found.append(int(name))
        pending = still
    return sorted(found)


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _running(pid: int) -> bool:
    """Alive and not a zombie: a killed process re-parented to an init that does not reap stays a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return False
    return state != [b"Z"]


def _wait_gone(pids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def end_tokened(token: str, grace: float = ESCAPED_GRACE, var: str = TOKEN_VAR) -> list[int]:
    """End every process carrying this attempt's token: SIGTERM, up to `grace` seconds, SIGKILL.
    Returns the pids found. One /proc scan when nothing escaped; rescans only after a kill."""
    pids = tokened_pids(token, var)
    if not pids:
        return []
    found = set(pids)
    _signal_all(pids, signal.SIGTERM)
    _wait_gone(pids, grace)
    # a fresh scan, not the first list: it holds what ignored SIGTERM and what was forked since, and
    # leaves out a pid reused by an unrelated process in between
    for _ in range(SCAN_ROUNDS):
        left = tokened_pids(token, var)
        if not left:
            break
        found.update(left)
        _signal_all(left, signal.SIGKILL)
        _wait_gone(left, ESCAPED_GRACE)
    return sorted(found)


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _over_budget(usage: Usage, limits: MakerLimits, agent: str) -> str:
    """Which budget the attempt's usage so far (already charged) breaks, if any."""
    if limits.max_tool_calls is not None and usage.tool_calls > limits.max_tool_calls:
        return "tool-calls"
    spend = limits.spend
    return spend.exceeded(usage) or ("unpriced" if spend.unpriceable(usage, agent) else "")


class _UsageWatch:
    """The maker's usage so far: its log read on from where the last look stopped (an agent's
    stream can grow past any fixed-size read, and its final totals come last), and the usage file."""

    def __init__(self, log_path: str, usage_file: str) -> None:
        self.log_path, self.usage_file = log_path, usage_file
        self.output = OutputUsage()
        self.offset = 0
        self.status = AgentStatus()
        self.size, self.quiet_since = 0, time.monotonic()
        self.log_cut = 0  # bytes cap_log has cut from the log so far

    def stalled(self, seconds: float | None) -> bool:
        """No new output for `seconds`: the agent hangs (a lost connection, a prompt no one answers).
        Output is measured as the log's growth: a cap on maker.log must keep counting what the agent
        prints past it, or a chatty agent would read as stalled once the cap is reached."""
        if seconds is None:
            return False
        try:
            size = os.stat(self.log_path).st_size
        except OSError:
            size = 0
        if size != self.size:
            self.size, self.quiet_since = size, time.monotonic()
        return time.monotonic() - self.quiet_since >= seconds

    def read(self, final: bool = False, prices: Prices | None = None) -> Usage:
        """The usage so far, charged at `prices` where the agent gave tokens and no cost."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            data = b""
        self.offset += len(data)
        self.output.feed(data)
        output = self.output.final() if final else self.output
        self.status = output.status
        usage = output.usage
        reported = from_usage_file(self.usage_file) if self.usage_file else Usage()
        if reported.reported:  # the maker's own account wins where it gives one
            usage = reported if not usage.reported else _merge(usage, reported)
        return SpendLimits(prices=prices or Prices()).charge(usage)


def cap_log(watch: _UsageWatch, cap: int = LOG_CAP, head: int = LOG_HEAD) -> None:
    """Keep maker.log under `cap`: past it, the log is read for usage first, then its middle is
    cut: it keeps its first `head` bytes, a line saying how much was cut, and its latest output
    (a quarter of the cap), where an agent's final status and totals are. The agent goes on
    appending after that (its output is opened O_APPEND). A 50 MB-printing agent leaves a log
    of at most `cap` bytes."""
    try:
        size = os.stat(watch.log_path).st_size
    except OSError:
        return
    if size <= cap:
        return
    watch.read()  # nothing of what is cut goes unread by the usage and status parsers
    parsed = watch.offset
    with open(watch.log_path, "r+b") as handle:
        handle.seek(head)
        first = handle.read(1024).split(b"\n", 1)  # cut at line ends, so no JSON line is torn
        keep = head + len(first[0]) + 1 if len(first) > 1 else head
        start = max(parsed - cap // 4, keep)
        handle.seek(start)
        latest = handle.read(parsed - start)
        if start > keep and b"\n" in latest:
            latest = latest.split(b"\n", 1)[1]
        # what the agent wrote while the parsers ran: read it and cut at once, so the window in
        # which a write could be lost is two system calls wide, not a 10 MB parse
        fresh = handle.read()
        handle.truncate(keep)
        cut = parsed - keep - len(latest) + watch.log_cut
        handle.seek(keep)
        handle.write(f"[loopgate: {cut} bytes of the maker's output cut here; maker.log is capped at "
                     f"{cap} bytes]\n".encode() + latest)
        watch.offset = handle.tell()  # `fresh` is not parsed yet: the next read starts at it
        handle.write(fresh)
        watch.log_cut = cut


def _merge(seen: Usage, reported: Usage) -> Usage:
    return Usage(max(seen.tool_calls, reported.tool_calls), max(seen.input_tokens, reported.input_tokens),
                 max(seen.output_tokens, reported.output_tokens), max(seen.cost_usd, reported.cost_usd), True,
                 max(seen.cached_input_tokens, reported.cached_input_tokens), seen.priced or reported.priced,
                 seen.complete or reported.complete)


def _supervise(proc: subprocess.Popen[bytes], start: float, limits: MakerLimits, watch: _UsageWatch,
               should_stop: Callable[[], bool] | None) -> str:
    """Wait for the maker within its limits; why it was stopped, or "" when it exited on its own."""
    checked = 0.0
    (seconds, deadline_reason), term_after = limits.deadline(), limits.term_after()
    while proc.poll() is None:
        cap_log(watch)
        elapsed = time.monotonic() - start
        stopped = ""
        if elapsed >= term_after:
            # The budget is the deadline: SIGTERM gets only what is left of it, so an agent that
            # ignores TERM is killed when the budget is spent, not `grace` seconds after.
            stop_group(proc, max(seconds - elapsed, 0.0))
            return deadline_reason
        if should_stop is not None and should_stop():
            stopped = "signal"
        elif watch.stalled(limits.stall):
            stopped = "stalled"
        elif elapsed - checked >= 0.5:
            checked = elapsed
            stopped = _over_budget(watch.read(prices=limits.prices), limits, watch.status.agent) \
                or ("agent-failure" if watch.status.hopeless() else "")
        if stopped:  # whatever the reason, SIGKILL never lands after the deadline
            stop_group(proc, max(0.0, min(limits.grace, seconds - (time.monotonic() - start))))
            return stopped
        # wait() wakes the moment the maker exits; a sleep would add up to its length to every attempt
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)
    return ""


# The maker's first process waits for one line on its stdin before it runs the command: the
# runner records the process group and token first, then sends the line. A runner killed in
# between closes the pipe, the wait reads end-of-file, and nothing of the maker ever runs.
_HANDSHAKE = 'read -r _ || exit 125; exec "$@" </dev/null'


def run_maker(command: str, cwd: str, env: dict[str, str], limits: MakerLimits, log_path: str,
              should_stop: Callable[[], bool] | None = None,
              on_start: Callable[[int], None] | None = None, token: str = "",
              argv: list[str] | None = None) -> MakerRun:
    """`token` marks every process of this attempt (a fresh random one when not given); a caller that
    records it before the attempt can end an escaped process with end_tokened after a crash.
    `argv` runs the command another way than `/bin/sh -c command` (inside a sandbox)."""
    usage_file = env.get("LOOPGATE_USAGE_FILE", "")
    token = token or secrets.token_hex(16)
    env = {**env, TOKEN_VAR: token}  # a copy: the caller's env is left as it was
    start = time.monotonic()
    gated = ["/bin/sh", "-c", _HANDSHAKE, "loopgate-maker", *(argv or ["/bin/sh", "-c", command])]
    try:
        # never through a symlink: the log is opened outside any sandbox
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        with open(fd, "ab") as log:
            proc = subprocess.Popen(gated, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.PIPE, start_new_session=True)
    except OSError as err:
        return MakerRun(None, 0.0, "", Usage(), started=False, error=f"cannot start the maker: {err}")
    assert proc.stdin is not None
    try:
        if on_start is not None:
            on_start(proc.pid)  # the process group id: lets a later run kill what a crashed run left
    except BaseException:
        proc.stdin.close()  # unanswered: the maker never runs
        proc.wait()
        raise
    with contextlib.suppress(OSError):  # a maker that is already gone cannot take the line
        proc.stdin.write(b"go\n")
    with contextlib.suppress(OSError):
        proc.stdin.close()
    watch = _UsageWatch(log_path, usage_file)
    try:
        stopped = _supervise(proc, start, limits, watch, should_stop)
    finally:  # also when the runner itself is interrupted mid-attempt
        kill_group(proc.pid, signal.SIGKILL)  # whatever the agent left running in the background
        end_tokened(token, min(limits.grace, ESCAPED_GRACE))  # and whatever left the group
    cap_log(watch)  # the last burst too; before the final read, which keeps the agent's final status
    usage = watch.read(final=True, prices=limits.prices)
    stopped = stopped or _over_budget(usage, limits, watch.status.agent)
    code = proc.returncode
    tail = _tail(log_path)
    return MakerRun(code, time.monotonic() - start, tail, usage, stopped, status=watch.status,
                    cost_from=limits.spend.cost_from(usage))


def write_prompt(path: str, item: dict[str, Any], rules: list[str], feedback: str, attempt: int) -> None:
    """The rendered prompt: the item, the rules it must respect, and the last attempt's gate failures."""
    lines = [f"# Work item {item.get('id')}: {item.get('title', '')}", "", str(item.get("body", "")).strip(), "",
             f"Attempt {attempt}.", "", "## Rules", *[f"- {r}" for r in rules]]
    expected = item.get("expected_paths") or []
    if expected:
        lines += ["", "## Allowed paths", *[f"- {p}" for p in expected]]
    if feedback:
        lines += ["", "## Gate failures from the previous attempt", "", feedback.strip()]
    lines += ["", "## Item as JSON", "", "```json", json.dumps(item, indent=2), "```", ""]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)  # never through a symlink
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
