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
# (detect-secrets accepts `allowlist` and the older `whitelist`). `\s` spans line breaks: a
# comment split over two added lines is still one suppression to the gate that reads it.
SUPPRESSION = re.compile(r"loopgate\s*:\s*(?:disable|enable)|pragma\s*:\s*(?:allow|white)list", re.IGNORECASE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Added:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text.strip()[:120]}"


def added_suppressions(diff: str) -> list[Added]:
    """Suppressions in what a unified diff adds, with their new path and line.

    Consecutive added lines are searched as one text, so a marker split across lines is found;
    a marker that was already there (a context line) is the user's and is left alone."""
    found: list[Added] = []
    for path, first, lines in _added_runs(diff):
        text = "\n".join(lines)
        for match in SUPPRESSION.finditer(text):
            offset = text.count("\n", 0, match.start())
            found.append(Added(path, first + offset, lines[offset]))
    return found


def _added_runs(diff: str) -> list[tuple[str, int, list[str]]]:
    """(path, first new line, lines) for each run of consecutive added lines."""
    runs: list[tuple[str, int, list[str]]] = []
    path, line = "", 0
    current: tuple[str, int, list[str]] | None = None
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            target = raw[4:]
            path, current = (target[2:] if target.startswith("b/") else target), None
            continue
        hunk = _HUNK.match(raw)
        if hunk:
            line, current = int(hunk.group(1)), None
            continue
        if raw.startswith("+"):
            if current is None:
                current = (path, line, [])
                runs.append(current)
            current[2].append(raw[1:])
            line += 1
        else:
            current = None
            line += 1 if raw.startswith(" ") else 0
    return runs
