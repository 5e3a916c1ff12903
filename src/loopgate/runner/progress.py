"""The no-progress rule, and the gate feedback the next attempt gets.

Two attempts in a row made no progress when their failed gates say the same thing (after
removing what changes between identical failures: times, addresses, temp paths) or when they
left the same diff. `no progress after N attempts` in the spec escalates the item.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

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
    return hashlib.sha256(normalise_failure("\n".join(parts)).encode()).hexdigest()


@dataclass
class NoProgress:
    """Counts consecutive attempts that repeat the previous one's failure or diff."""

    limit: int
    repeats: int = 0
    last: tuple[Any, Any] | None = None

    def record(self, entry: dict[str, Any]) -> bool:
        """Add a failed attempt; True when the item has made no progress for `limit` attempts."""
        current = (entry.get("signature"), entry.get("diff_sha256"))
        same = self.last is not None and (current[0] == self.last[0] or current[1] == self.last[1])
        self.repeats = self.repeats + 1 if same else 0
        self.last = current
        return self.repeats + 1 >= self.limit

    @property
    def attempts(self) -> int:
        return self.repeats + 1
