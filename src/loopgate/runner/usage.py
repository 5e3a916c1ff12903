"""What an attempt cost, from what the agent itself reports.

Three sources, all optional: a usage file the maker may write (`$LOOPGATE_USAGE_FILE`, JSON
`{"tool_calls": n, "input_tokens": n, "output_tokens": n, "cost_usd": x}`), Claude Code's
`--output-format json` / `stream-json` output, and Codex's `exec --json` event stream.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Any

# Codex thread items that are the agent acting on the world (not its messages, reasoning or plan)
CODEX_TOOL_ITEMS = frozenset({"command_execution", "file_change", "mcp_tool_call", "collab_tool_call", "web_search"})
CLAUDE_TYPES = frozenset({"result", "assistant", "system", "user"})
DOCUMENT_BYTES = 1 << 20  # a single pretty-printed JSON document is looked for in this much output
LINE_BYTES = 16 << 20  # a longer unfinished line is dropped: it could never be parsed whole anyway


@dataclass
class Usage:
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    reported: bool = False  # did anything report usage at all?

    def add(self, other: Usage) -> None:
        self.tool_calls += other.tool_calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd
        self.reported = self.reported or other.reported

    def as_dict(self) -> dict[str, Any]:
        return {"tool_calls": self.tool_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": round(self.cost_usd, 6), "reported": self.reported}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _float(value: Any) -> float:
    """A cost: JSON's Infinity and NaN, negatives and non-numbers count as nothing (the report stays JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else 0.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def from_usage_file(path: str) -> Usage:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return Usage()
    if not isinstance(data, dict):
        return Usage()
    return Usage(_int(data.get("tool_calls")), _int(data.get("input_tokens")), _int(data.get("output_tokens")),
                 _float(data.get("cost_usd", data.get("cost"))), True)


@dataclass
class OutputUsage:
    """Usage from an agent's stdout, fed as it grows: each complete line is parsed once.

    Claude's `result` carries the run's totals (kept as a maximum); its tool calls are the
    `tool_use` blocks of `assistant` events, counted once per block id (a message may be
    emitted again with its content so far). Codex reports tokens per turn (summed) and a
    tool call per completed item that acts (a command, a patch, an MCP or collab call, a search).
    """

    usage: Usage = field(default_factory=Usage)
    tool_ids: set[str] = field(default_factory=set)
    partial: bytes = b""
    head: bytes = b""  # the start of the output: one pretty-printed JSON document spans lines

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
        if not final:
            return copy.copy(self.usage)
        probe = copy.deepcopy(self)
        probe._line(probe.partial)
        if not probe.usage.reported and len(probe.head) <= DOCUMENT_BYTES:
            probe._event(_loads(probe.head))
        return probe.usage

    def _line(self, raw: bytes) -> None:
        line = raw.strip()
        if line.startswith(b"{"):
            self._event(_loads(line))

    def _event(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if "num_turns" in event or (isinstance(kind, str) and kind in CLAUDE_TYPES):
            self._claude(event)
        else:
            self._codex(event)

    def _claude(self, event: dict[str, Any]) -> None:
        usage, kind = self.usage, event.get("type")
        if kind == "result" or "num_turns" in event:  # the final summary of `--output-format json` and stream-json
            tokens = _dict(event.get("usage"))
            usage.input_tokens = max(usage.input_tokens, _int(tokens.get("input_tokens"))
                                     + _int(tokens.get("cache_read_input_tokens"))
                                     + _int(tokens.get("cache_creation_input_tokens")))
            usage.output_tokens = max(usage.output_tokens, _int(tokens.get("output_tokens")))
            usage.cost_usd = max(usage.cost_usd, _float(event.get("total_cost_usd", event.get("cost_usd"))))
            usage.reported = True
        elif kind == "assistant":
            content = _dict(event.get("message")).get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    self._tool_use(block.get("id"))
            usage.reported = True

    def _tool_use(self, tool_id: Any) -> None:
        if isinstance(tool_id, str) and tool_id:
            if tool_id in self.tool_ids:
                return
            self.tool_ids.add(tool_id)
        self.usage.tool_calls += 1

    def _codex(self, event: dict[str, Any]) -> None:
        kind, usage = event.get("type"), self.usage
        item_kind = _dict(event.get("item")).get("type")
        if kind == "item.completed" and isinstance(item_kind, str) and item_kind in CODEX_TOOL_ITEMS:
            usage.tool_calls += 1
            usage.reported = True
        elif kind == "turn.completed":
            tokens = _dict(event.get("usage"))
            usage.input_tokens += _int(tokens.get("input_tokens"))  # cached_input_tokens is a part of these
            usage.output_tokens += _int(tokens.get("output_tokens"))
            usage.reported = True


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
