"""What a maker may not do to get past the checker, found in its own diff.

The gates honour suppressions (`<!-- loopgate: disable links -->`, detect-secrets'
`pragma: allowlist secret`) because a person may decide a finding does not apply. A maker
adding one is the agent deciding that for itself: talking its way around the gate. The loop
escalates such an attempt instead of letting the gate obey it.
"""

from __future__ import annotations

import os
import re

from loopgate.records import record

# loopgate's own inline switches, and the allowlist pragmas of the secret scanner it runs
# (detect-secrets accepts `allowlist` and the older `whitelist`). `\s` spans line breaks: a
# comment split over two added lines is still one suppression to the gate that reads it.
SUPPRESSION = re.compile(r"loopgate\s*:\s*(?:disable|enable)|pragma\s*:\s*(?:allow|white)list", re.IGNORECASE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@record(frozen=True)
class Added:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text.strip()[:120]}"


def added_suppressions(diff: str) -> list[Added]:
    """Suppressions in what a unified diff adds, with their new path and line.

    Consecutive added lines are searched as one text, so a marker split across lines is found.
    A marker that was already there is the user's and is left alone: on a context line, or on
    a line the maker edited that carried the same marker before (the removed line in the same
    place of the same change block). A marker moved elsewhere, or copied, is new: it covers
    other lines than the person chose."""
    found: list[Added] = []
    for path, first, lines, removed in _added_runs(diff):
        text = "\n".join(lines)
        kept = _markers("\n".join(removed))
        for match in SUPPRESSION.finditer(text):
            offset = text.count("\n", 0, match.start())
            if (offset, _key(text, match.start())) in kept:
                continue
            found.append(Added(path, first + offset, lines[offset]))
    return found


def _key(text: str, start: int) -> str:
    """A marker as written from its keyword to the end of its line, spacing and case aside."""
    end = text.find("\n", start)
    return " ".join(text[start:None if end < 0 else end].lower().split())


def _markers(text: str) -> set[tuple[int, str]]:
    """(line offset, marker) for each suppression in a run of removed lines."""
    return {(text.count("\n", 0, m.start()), _key(text, m.start())) for m in SUPPRESSION.finditer(text)}


def _added_runs(diff: str) -> list[tuple[str, int, list[str], list[str]]]:
    """(path, first new line, lines, the removed lines they replace) for each run of consecutive
    added lines; git writes a changed block as its removed lines, then its added ones."""
    runs: list[tuple[str, int, list[str], list[str]]] = []
    path, line = "", 0
    current: tuple[str, int, list[str], list[str]] | None = None
    removed: list[str] = []
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            target = raw[4:]
            path, current, removed = (target[2:] if target.startswith("b/") else target), None, []
            continue
        if raw.startswith("--- "):
            current, removed = None, []
            continue
        hunk = _HUNK.match(raw)
        if hunk:
            line, current, removed = int(hunk.group(1)), None, []
            continue
        if raw.startswith("+"):
            if current is None:
                current = (path, line, [], removed)
                runs.append(current)
            current[2].append(raw[1:])
            line += 1
        elif raw.startswith("-"):
            if current is not None:  # a removed line after added ones starts a new block
                current, removed = None, []
            removed.append(raw[1:])
        else:
            current, removed = None, []
            line += 1 if raw.startswith(" ") else 0
    return runs


def links_outside(worktree: str, changed: list[str]) -> list[str]:
    """The changed paths that are symlinks resolving outside the worktree, each with its target: the
    gates would read what they point at, outside the sandbox, and the commit would hold only the link."""
    real = os.path.realpath(worktree)
    found = []
    for name in changed:
        full = os.path.join(worktree, name)
        if not os.path.islink(full):
            continue
        target = os.path.realpath(full)
        if target != real and not target.startswith(real + os.sep):
            shown = f"{name} -> {os.readlink(full)}".encode("utf-8", "surrogateescape")
            found.append(shown.decode("utf-8", "replace"))  # the reason is written as UTF-8
    return found
