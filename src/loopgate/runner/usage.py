"""What an attempt cost, from what the agent itself reports.

Three sources, all optional: a usage file the maker may write (`$LOOPGATE_USAGE_FILE`, JSON
`{"tool_calls": n, "input_tokens": n, "output_tokens": n, "cost_usd": x}`), Claude Code's
`--output-format json` / `stream-json` output, and Codex's `exec --json` event stream.

Usage is summed as it arrives, so an attempt killed mid-way is charged what it used so far:
Claude's per-message `usage` (once per message id: a message is re-emitted per content block),
Codex's `turn.completed`. Claude Code's `assistant` events carry a message's usage as it stood
when the message started (its output tokens read 1); with `--include-partial-messages` its
`stream_event`s also bring each message's final `message_delta` usage, which is then counted.
`complete` says whether the agent's final totals arrived (Claude's `result`; every Codex turn
ended); `priced` whether the agent gave a cost itself (Codex never does).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from loopgate.records import field, record
from loopgate.runner.agent_status import AgentStatus
from loopgate.smallfile import read_small

# Codex thread items that are the agent acting on the world (not its messages, reasoning or plan)
CODEX_TOOL_ITEMS = frozenset({"command_execution", "file_change", "mcp_tool_call", "collab_tool_call", "web_search"})
CLAUDE_TYPES = frozenset({"result", "assistant", "system", "user", "stream_event"})
DOCUMENT_BYTES = 1 << 20  # a single pretty-printed JSON document is looked for in this much output
LOG_LINE_LOOKED_AT = 2000  # of a line that is not JSON: enough for an agent's one-line log message
LINE_BYTES = 16 << 20  # a longer unfinished line is dropped: it could never be parsed whole anyway


@record
class Usage:
    tool_calls: int = 0
    input_tokens: int = 0  # every input token, cached ones included
    output_tokens: int = 0
    cost_usd: float = 0.0
    reported: bool = False  # did anything report usage at all?
    cached_input_tokens: int = 0  # the part of input_tokens read from the prompt cache
    priced: bool = False  # cost_usd is the agent's own figure (Claude's total_cost_usd, the usage file's cost_usd)
    complete: bool = False  # the agent's final totals arrived: not killed mid-way, not cut off

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        """Add an attempt to a run's total: complete and priced only while every attempt that
        reported anything was (an attempt that reported nothing has only `reported` to say so)."""
        if other.reported:
            first = not self.reported
            self.complete = other.complete if first else self.complete and other.complete
            self.priced = other.priced if first else self.priced and other.priced
        self.tool_calls += other.tool_calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.cost_usd += other.cost_usd
        self.reported = self.reported or other.reported

    def as_dict(self) -> dict[str, Any]:
        return {"tool_calls": self.tool_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": round(self.cost_usd, 6), "reported": self.reported,
                "cached_input_tokens": self.cached_input_tokens, "priced": self.priced, "complete": self.complete}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _float(value: Any) -> float:
    """A cost: JSON's Infinity and NaN, negatives and non-numbers count as nothing (the report stays JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits: no float holds it, like Infinity
        return 0.0
    return number if math.isfinite(number) and number >= 0 else 0.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


USAGE_FILE_CAP = 1 << 20  # a usage account is a few hundred bytes


def _read_small(path: str) -> bytes:
    """The usage file's bytes. It lies in the maker's part of the attempt directory and is read
    outside any sandbox: never through a symlink, only a regular file, no more than USAGE_FILE_CAP."""
    return read_small(path, USAGE_FILE_CAP, follow=False)


def from_usage_file(path: str) -> Usage:
    """The maker's own account, rewritten as it goes: complete and priced as far as it says."""
    try:
        data = json.loads(_read_small(path))
    except (OSError, ValueError, RecursionError):  # RecursionError: nested a hundred thousand deep
        return Usage()
    if not isinstance(data, dict):
        return Usage()
    cost = data.get("cost_usd", data.get("cost"))
    return Usage(_int(data.get("tool_calls")), _int(data.get("input_tokens")), _int(data.get("output_tokens")),
                 _float(cost), True, _int(data.get("cached_input_tokens")), priced=cost is not None, complete=True)


@record
class _Tokens:
    input: int = 0  # cached included
    cached: int = 0
    output: int = 0

    def at_least(self, other: _Tokens) -> _Tokens:
        return _Tokens(max(self.input, other.input), max(self.cached, other.cached), max(self.output, other.output))


def _claude_tokens(tokens: dict[str, Any]) -> _Tokens:
    cached = _int(tokens.get("cache_read_input_tokens"))
    return _Tokens(_int(tokens.get("input_tokens")) + cached + _int(tokens.get("cache_creation_input_tokens")),
                   cached, _int(tokens.get("output_tokens")))


@record
class OutputUsage:
    """Usage from an agent's stdout, fed as it grows: each complete line is parsed once.

    Claude: each `assistant` message's usage counts once per message id (the largest seen, as a
    message is emitted again with its content so far) until the `result` brings the run's totals
    and cost. Tool calls are `tool_use` blocks, once per block id. Codex reports
    tokens per turn (summed) and a tool call per completed item that acts (a command, a patch, an
    MCP or collab call, a search). What the agent says about its own end is kept in `status`.
    """

    tool_ids: set[str] = field(default_factory=set)
    tool_calls: int = 0
    reported: bool = False
    messages: dict[str, _Tokens] = field(default_factory=dict)  # Claude: message id -> its usage
    result: _Tokens | None = None  # Claude's final totals
    cost: float | None = None  # Claude's total_cost_usd
    turns: _Tokens = field(default_factory=_Tokens)  # Codex: the sum of its turns
    open_turns: int = 0
    ended_turns: int = 0
    status: AgentStatus = field(default_factory=AgentStatus)
    events: int = 0  # JSON objects read line by line
    partial: bytes = b""
    head: bytes = b""  # the start of the output: one pretty-printed JSON document spans lines

    @property
    def usage(self) -> Usage:
        claude = _Tokens()
        for tokens in self.messages.values():
            claude = _Tokens(claude.input + tokens.input, claude.cached + tokens.cached, claude.output + tokens.output)
        if self.result is not None:  # the agent's own totals, when they came, are the account
            claude = self.result
        total = _Tokens(claude.input + self.turns.input, claude.cached + self.turns.cached,
                        claude.output + self.turns.output)
        codex_done = self.ended_turns > 0 and self.open_turns == 0
        return Usage(self.tool_calls, total.input, total.output, self.cost or 0.0, self.reported, total.cached,
                     priced=self.cost is not None, complete=self.result is not None or codex_done)

    def feed(self, data: bytes) -> None:
        if len(self.head) <= DOCUMENT_BYTES:
            self.head += data[:DOCUMENT_BYTES + 1 - len(self.head)]
        *complete, partial = (self.partial + data).split(b"\n")
        self.partial = partial if len(partial) <= LINE_BYTES else b""
        for line in complete:
            self._line(line)

    def total(self, final: bool = False) -> Usage:
        """What was reported so far. While the agent runs its last line may be half written, so it
        counts only when `final`; a single multi-line JSON document is read only then, too."""
        return self.final().usage if final else self.usage

    def final(self) -> OutputUsage:
        """A copy that has read the unfinished last line and, if nothing else reported, the whole output."""
        probe = copy.deepcopy(self)
        probe._line(probe.partial)
        if not probe.events and len(probe.head) <= DOCUMENT_BYTES:  # no line was an event: one document?
            probe._event(_loads(probe.head))
        return probe

    def _line(self, raw: bytes) -> None:
        line = raw.strip()
        if line.startswith(b"{"):
            self._event(_loads(line))
        elif line:  # stderr shares the log: some refusals are said only there
            self.status.text(line[:LOG_LINE_LOOKED_AT].decode("utf-8", "replace"))

    def _event(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        self.events += 1
        kind = event.get("type")
        if "num_turns" in event or (isinstance(kind, str) and kind in CLAUDE_TYPES):
            self.status.claude(event)
            self._claude(event)
        else:
            self.status.codex(event)
            self._codex(event)

    def _claude(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "result" or "num_turns" in event:  # the final summary of `--output-format json` and stream-json
            self.result = _claude_tokens(_dict(event.get("usage")))
            cost = event.get("total_cost_usd", event.get("cost_usd"))
            if cost is not None:
                self.cost = max(self.cost or 0.0, _float(cost))
            self.reported = True
        elif kind == "stream_event":  # --include-partial-messages: the API's own events, message by message
            self._stream_event(event)
        elif kind == "assistant":
            message = _dict(event.get("message"))
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    self._tool_use(block.get("id"))
            tokens = _claude_tokens(_dict(message.get("usage")))
            message_id = message.get("id")
            key = message_id if isinstance(message_id, str) and message_id else f"#{len(self.messages)}"
            self.messages[key] = self.messages.get(key, _Tokens()).at_least(tokens)
            self.reported = True

    def _stream_event(self, event: dict[str, Any]) -> None:
        inner = _dict(event.get("event"))
        if inner.get("type") == "message_start":
            message = _dict(inner.get("message"))
            key, tokens = message.get("id"), _claude_tokens(_dict(message.get("usage")))
        elif inner.get("type") == "message_delta":  # the message's final usage (cumulative for the message)
            key, tokens = event.get("api_message_id"), _claude_tokens(_dict(inner.get("usage")))
        else:
            return
        if isinstance(key, str) and key:
            self.messages[key] = self.messages.get(key, _Tokens()).at_least(tokens)
            self.reported = True

    def _tool_use(self, tool_id: Any) -> None:
        if isinstance(tool_id, str) and tool_id:
            if tool_id in self.tool_ids:
                return
            self.tool_ids.add(tool_id)
        self.tool_calls += 1

    def _codex(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        item_kind = _dict(event.get("item")).get("type")
        if kind == "item.completed" and isinstance(item_kind, str) and item_kind in CODEX_TOOL_ITEMS:
            self.tool_calls += 1
            self.reported = True
        elif kind == "turn.started":
            self.open_turns += 1
        elif kind in ("turn.completed", "turn.failed"):
            self.open_turns = max(0, self.open_turns - 1)
            self.ended_turns += 1
            tokens = _dict(event.get("usage"))  # a failed turn may still carry what it used
            cached = _int(tokens.get("cached_input_tokens"))  # a part of input_tokens
            self.turns = _Tokens(self.turns.input + _int(tokens.get("input_tokens")), self.turns.cached + cached,
                                 self.turns.output + _int(tokens.get("output_tokens")))
            self.reported = True


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


def from_output(text: str) -> Usage:
    """Usage from an agent's whole stdout: one JSON document, or JSON lines (stream-json, codex --json)."""
    reader = OutputUsage()
    reader.feed(text.encode("utf-8", "surrogateescape"))
    return reader.total(final=True)
