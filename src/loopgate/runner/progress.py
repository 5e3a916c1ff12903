"""The no-progress rule, and the gate feedback the next attempt gets.

Two attempts in a row made no progress when their failed gates say the same thing (after
removing what changes between identical failures: times, addresses, temp paths) or when they
left the same diff. `no progress after N attempts` in the spec escalates the item.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from loopgate.records import record

_VOLATILE = re.compile(r"0x[0-9a-f]+|\d+(\.\d+)?|/tmp/\S+|[0-9a-f]{7,40}")


def normalise_failure(text: str) -> str:
    """Failure output with what changes between identical failures (times, addresses) removed."""
    return _VOLATILE.sub("#", text.lower())


def feedback(failed: list[dict[str, Any]]) -> str:
    """The failed gates' findings and output tail, as the next attempt's prompt shows them."""
    lines = []
    for gate in failed:
        lines.append(f"- {gate['gate']}: {gate['summary'] or gate['status']}")
        for finding in gate["findings"][:20]:
            lines.append(f"  - {finding['path']}:{finding['line']}:{finding['column']}: {finding['code']} "
                         f"{finding['message']}")
        if gate.get("output_tail"):
            lines.append("  output tail:\n" + "\n".join("    " + ln for ln in gate["output_tail"].splitlines()[-15:]))
    return "\n".join(lines)


def signature(gates: list[dict[str, Any]]) -> str:
    """The same vector of gate results with the same normalised failure output = no progress."""
    parts = []
    for gate in gates:
        findings = sorted(f"{f['code']} {f['path']} {f['message']}" for f in gate["findings"])
        parts.append(f"{gate['gate']}={gate['status']}|{'|'.join(findings)}|{gate.get('output_tail', '')}")
    # a gate's finding may name a file that is not UTF-8 (a lone surrogate): hashed as the bytes it was
    return hashlib.sha256(normalise_failure("\n".join(parts)).encode("utf-8", "surrogateescape")).hexdigest()


@record
class NoProgress:
    """Counts consecutive attempts that repeat the previous one's failure or diff."""

    limit: int
    repeats: int = 0
    last: tuple[Any, Any] | None = None
    matched: str = ""  # the signal the last attempt repeated: "same failures", "same diff" or ""

    def record(self, entry: dict[str, Any]) -> str:
        """Add a failed attempt; which signal matched ("same failures", "same diff") when the item
        has made no progress for `limit` attempts, else ""."""
        current = (entry.get("signature"), entry.get("diff_sha256"))
        matched = ""
        if self.last is not None:
            if current[0] == self.last[0]:
                matched = "same failures"
            elif current[1] == self.last[1]:
                matched = "same diff"
        self.repeats = self.repeats + 1 if matched else 0
        self.last, self.matched = current, matched
        return matched if self.repeats + 1 >= self.limit else ""

    @property
    def attempts(self) -> int:
        return self.repeats + 1


def failing_gates(entry: dict[str, Any]) -> str:
    """Every failed required gate of an attempt, by name, with its findings counted: the reason
    names them all (the full feedback is in the run report), never a cut-off first one."""
    gates = [g for g in entry.get("gates", []) if g.get("required") and g.get("status") == "failed"]
    if not gates:
        return str(entry.get("feedback") or entry.get("verdict") or "no gate result")
    parts = []
    for gate in gates:
        count = len(gate.get("findings") or [])
        parts.append(f"{gate['gate']} ({count} finding{'s' if count != 1 else ''})" if count else str(gate["gate"]))
    return "failed required gates: " + ", ".join(parts)
