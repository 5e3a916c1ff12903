"""The maker's log: read while the agent runs, for its usage and final status, and capped.

The agent's output goes to maker.log (opened O_APPEND by runner/maker.py). UsageWatch reads it on
from where it last stopped, so an agent's stream is parsed once however long it grows; cap_log
keeps the file under LOG_CAP without losing what the parsers have not read yet.
"""

from __future__ import annotations

import os
import time

from loopgate.runner.agent_status import AgentStatus
from loopgate.runner.atomic import write_atomic
from loopgate.runner.pricing import Prices, SpendLimits
from loopgate.runner.report import redact
from loopgate.runner.usage import OutputUsage, Usage, from_usage_file
from loopgate.smallfile import NotRegular, TooLarge, read_small

TAIL_BYTES = 4000
LOG_CAP = 10 * 1024 * 1024  # maker.log never grows past this (documented in the README)
LOG_HEAD = 1024 * 1024  # what a capped log keeps of its start; the rest is the latest output


def redact_log(path: str, secrets: tuple[str, ...]) -> None:
    """Once the maker is gone: maker.log without the values of the variables it was handed (it may
    print its API key, as itself or encoded), like every other file the run writes. The log is
    capped (cap_log), so it is rewritten whole; what cannot be read is left as it is."""
    try:  # with no secret named, the token shapes (report.redact) are still masked
        data = read_small(path, 4 * LOG_CAP, follow=False)
    except (NotRegular, TooLarge, OSError):
        return
    text = data.decode("utf-8", "surrogateescape")
    cleaned = redact(text, secrets)
    if cleaned != text:
        write_atomic(path, cleaned)  # bytes that are not UTF-8 are written as their escapes


def tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


class UsageWatch:
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


def cap_log(watch: UsageWatch, cap: int = LOG_CAP, head: int = LOG_HEAD) -> None:
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
