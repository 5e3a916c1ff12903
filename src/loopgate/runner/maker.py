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

from loopgate.runner.usage import OutputUsage, Usage, from_usage_file

TAIL_BYTES = 4000
TOKEN_VAR = "LOOPGATE_ATTEMPT_TOKEN"
ESCAPED_GRACE = 1.0  # SIGTERM -> SIGKILL for escaped processes: the attempt is already over
SCAN_ROUNDS = 5  # rescans after a kill, for processes forked while the previous scan ran


@dataclass
class MakerLimits:
    timeout: float  # seconds left in the runtime budget
    max_tool_calls: int | None = None
    max_cost_usd: float | None = None
    grace: float = 3.0  # SIGTERM -> SIGKILL


@dataclass
class MakerRun:
    exit_code: int | None
    duration: float
    output_tail: str
    usage: Usage
    stopped: str = ""  # "" | "timeout" | "tool-calls" | "cost" | "signal"
    started: bool = True  # False when the command could not be started at all
    error: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the whole group, then SIGKILL whatever ignores it."""
    kill_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _has_entry(pid: str, uid: int, entry: bytes) -> bool:
    """Whether process `pid` belongs to `uid` and has `entry` (NAME=value) in its environment.
    Processes vanish, turn into zombies (an empty environ) or belong to others: all read as no."""
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return False
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    # the cheap test first; then an exact entry, not a prefix of a longer value or part of another one
    return entry in data and b"\0" + entry + b"\0" in b"\0" + data + b"\0"


def tokened_pids(token: str) -> list[int]:
    """Every process of this user, except this one, whose environment holds TOKEN_VAR=token."""
    if not sys.platform.startswith("linux") or not token:
        return []
    entry, uid, me = f"{TOKEN_VAR}={token}".encode(), os.getuid(), os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit() and int(name) != me and _has_entry(name, uid, entry)]


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


def end_tokened(token: str, grace: float = ESCAPED_GRACE) -> list[int]:
    """End every process carrying this attempt's token: SIGTERM, up to `grace` seconds, SIGKILL.
    Returns the pids found. One /proc scan when nothing escaped; rescans only after a kill."""
    pids = tokened_pids(token)
    if not pids:
        return []
    found = set(pids)
    _signal_all(pids, signal.SIGTERM)
    _wait_gone(pids, grace)
    # a fresh scan, not the first list: it holds what ignored SIGTERM and what was forked since, and
    # leaves out a pid reused by an unrelated process in between
    for _ in range(SCAN_ROUNDS):
        left = tokened_pids(token)
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


def _over_budget(usage: Usage, limits: MakerLimits) -> str:
    if limits.max_tool_calls is not None and usage.tool_calls > limits.max_tool_calls:
        return "tool-calls"
    if limits.max_cost_usd is not None and usage.cost_usd > limits.max_cost_usd:
        return "cost"
    return ""


class _UsageWatch:
    """The maker's usage so far: its log read on from where the last look stopped (an agent's
    stream can grow past any fixed-size read, and its final totals come last), and the usage file."""

    def __init__(self, log_path: str, usage_file: str) -> None:
        self.log_path, self.usage_file = log_path, usage_file
        self.output = OutputUsage()
        self.offset = 0

    def read(self, final: bool = False) -> Usage:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            data = b""
        self.offset += len(data)
        self.output.feed(data)
        usage = self.output.total(final)
        reported = from_usage_file(self.usage_file) if self.usage_file else Usage()
        if reported.reported:  # the maker's own account wins where it gives one
            usage = reported if not usage.reported else _merge(usage, reported)
        return usage


def _merge(seen: Usage, reported: Usage) -> Usage:
    return Usage(max(seen.tool_calls, reported.tool_calls), max(seen.input_tokens, reported.input_tokens),
                 max(seen.output_tokens, reported.output_tokens), max(seen.cost_usd, reported.cost_usd), True)


def budget_grace(limits: MakerLimits) -> tuple[float, float]:
    """(when to send SIGTERM, how long to wait before SIGKILL) for the runtime budget.

    The budget is the deadline: SIGTERM goes out `grace` seconds before it, so even an agent
    that ignores SIGTERM is killed by the time the budget is spent, not `grace` seconds after.
    A budget shorter than twice the grace splits what is left in two."""
    grace = min(limits.grace, limits.timeout / 2)
    return limits.timeout - grace, grace


def _supervise(proc: subprocess.Popen[bytes], start: float, limits: MakerLimits, watch: _UsageWatch,
               should_stop: Callable[[], bool] | None) -> str:
    """Wait for the maker within its limits; why it was stopped, or "" when it exited on its own."""
    checked = 0.0
    term_at, budget_grace_s = budget_grace(limits)
    while proc.poll() is None:
        elapsed = time.monotonic() - start
        stopped = ""
        if elapsed >= term_at:
            _stop(proc, max(budget_grace_s - (elapsed - term_at), 0.0))
            return "timeout"
        if should_stop is not None and should_stop():
            stopped = "signal"
        elif elapsed - checked >= 0.5 and (limits.max_tool_calls is not None or limits.max_cost_usd is not None):
            checked = elapsed
            stopped = _over_budget(watch.read(), limits)
        if stopped:
            _stop(proc, limits.grace)
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
        with open(log_path, "wb") as log:
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
    usage = watch.read(final=True)
    stopped = stopped or _over_budget(usage, limits)
    code = proc.returncode
    tail = _tail(log_path)
    return MakerRun(code, time.monotonic() - start, tail, usage, stopped)


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
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
