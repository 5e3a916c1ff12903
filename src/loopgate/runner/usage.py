"""What an attempt cost, from what the agent itself reports.

Three sources, all optional: a usage file the maker may write (`$LOOPGATE_USAGE_FILE`, JSON
`{"tool_calls": n, "input_tokens": n, "output_tokens": n, "cost_usd": x}`), Claude Code's
`--output-format json` / `stream-json` output, and Codex's `exec --json` event stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


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
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else 0.0


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


def _claude_event(event: dict[str, Any], usage: Usage) -> None:
    kind = event.get("type")
    if kind == "result":  # the final summary of `--output-format json` and of stream-json
        tokens = event.get("usage") or {}
        usage.input_tokens = max(usage.input_tokens, _int(tokens.get("input_tokens"))
                                 + _int(tokens.get("cache_read_input_tokens"))
                                 + _int(tokens.get("cache_creation_input_tokens")))
        usage.output_tokens = max(usage.output_tokens, _int(tokens.get("output_tokens")))
        usage.cost_usd = max(usage.cost_usd, _float(event.get("total_cost_usd", event.get("cost_usd"))))
        usage.reported = True
    elif kind == "assistant":
        content = (event.get("message") or {}).get("content") or []
        usage.tool_calls += sum(1 for c in content if isinstance(c, dict) and c.get("type") == "tool_use")
        usage.reported = True


def _codex_event(event: dict[str, Any], usage: Usage) -> None:
    kind = str(event.get("type", ""))
    item = event.get("item") or {}
    if kind == "item.completed" and item.get("type") in ("command_execution", "mcp_tool_call", "file_change",
                                                        "web_search"):
        usage.tool_calls += 1
        usage.reported = True
    elif kind == "turn.completed":
        tokens = event.get("usage") or {}
        usage.input_tokens += _int(tokens.get("input_tokens"))
        usage.output_tokens += _int(tokens.get("output_tokens"))
        usage.reported = True


def from_output(text: str) -> Usage:
    """Usage from an agent's stdout: one JSON document, or JSON lines (stream-json, codex --json)."""
    usage = Usage()
    candidates: list[Any] = []
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            candidates = [json.loads(stripped)]
        except ValueError:
            candidates = []
    if not candidates:
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("{"):
                try:
                    candidates.append(json.loads(line))
                except ValueError:
                    continue
    for event in candidates:
        if not isinstance(event, dict):
            continue
        if "num_turns" in event or str(event.get("type")) in ("result", "assistant", "system", "user"):
            _claude_event(event, usage)
        else:
            _codex_event(event, usage)
    return usage
