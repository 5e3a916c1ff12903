"""What a maker may not do to get past the checker, found in its own diff.

The gates honour suppressions (`<!-- loopgate: disable links -->`, detect-secrets'
`pragma: allowlist secret`) because a person may decide a finding does not apply. A maker
adding one is the agent deciding that for itself: talking its way around the gate. The loop
escalates such an attempt instead of letting the gate obey it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# loopgate's own inline switches, and the allowlist pragmas of the secret scanner it runs
SUPPRESSION = re.compile(r"loopgate\s*:\s*(?:disable|enable)|pragma\s*:\s*allowlist", re.IGNORECASE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Added:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text.strip()[:120]}"


def added_suppressions(diff: str) -> list[Added]:
    """Lines a unified diff adds that hold a gate suppression, with their new path and line."""
    found: list[Added] = []
    path, line = "", 0
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            target = raw[4:]
            path = target[2:] if target.startswith("b/") else target
            continue
        hunk = _HUNK.match(raw)
        if hunk:
            line = int(hunk.group(1))
            continue
        if raw.startswith("+"):
            if SUPPRESSION.search(raw):
                found.append(Added(path, line, raw[1:]))
            line += 1
        elif raw.startswith(" "):
            line += 1
    return found
