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
import time
from collections.abc import Callable
from typing import Any

from loopgate.records import field, record
from loopgate.runner.agent_status import AgentStatus
from loopgate.runner.escapees import ESCAPED_GRACE, PENDING_WAIT, TOKEN_VAR, end_tokened, tokened_pids
from loopgate.runner.makerlog import LOG_CAP, UsageWatch, cap_log, tail
from loopgate.runner.pricing import Prices, SpendLimits
from loopgate.runner.processes import kill_group, stop_group
from loopgate.runner.usage import Usage

# the escaped-process scan and the log moved to their own modules; their names stay importable here
__all__ = ["LOG_CAP", "PENDING_WAIT", "TOKEN_VAR", "MakerLimits", "MakerRun", "end_tokened", "run_maker",
           "tokened_pids", "write_prompt"]


@record
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


@record
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


def _over_budget(usage: Usage, limits: MakerLimits, agent: str) -> str:
    """Which budget the attempt's usage so far (already charged) breaks, if any."""
    if limits.max_tool_calls is not None and usage.tool_calls > limits.max_tool_calls:
        return "tool-calls"
    spend = limits.spend
    return spend.exceeded(usage) or ("unpriced" if spend.unpriceable(usage, agent) else "")


def _supervise(proc: subprocess.Popen[bytes], start: float, limits: MakerLimits, watch: UsageWatch,
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
    watch = UsageWatch(log_path, usage_file)
    try:
        stopped = _supervise(proc, start, limits, watch, should_stop)
    finally:  # also when the runner itself is interrupted mid-attempt
        kill_group(proc.pid, signal.SIGKILL)  # whatever the agent left running in the background
        end_tokened(token, min(limits.grace, ESCAPED_GRACE))  # and whatever left the group
    cap_log(watch)  # the last burst too; before the final read, which keeps the agent's final status
    usage = watch.read(final=True, prices=limits.prices)
    stopped = stopped or _over_budget(usage, limits, watch.status.agent)
    code = proc.returncode
    return MakerRun(code, time.monotonic() - start, tail(log_path), usage, stopped, status=watch.status,
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
    with open(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:  # a non-UTF-8 name a gate found
        handle.write("\n".join(lines))
