"""Gitignore patterns matched segment by segment, in time linear in the path's segments.

pathspec compiles `a/**/b/**/c` to `^a(?:/.+)?/b(?:/.+)?/c...`: Python's backtracking engine then
tries every way to split a path among the `.+` runs, so a crafted path (`a/b/c` repeated a few
hundred times) keeps it busy for minutes: a gate that hangs on a path in the change being judged.
This module takes pathspec's regex apart at the constructs that span segments (the leading
`^(?:.+/)?`, each inner `(?:/.+)?`, the directory marker at the end) into pieces that each match
a fixed number of whole segments, and matches those pieces at segment boundaries instead: a few
`fullmatch` calls per segment and piece, whatever the path.

The answer is the one the regex gives, including which match Python's engine would find first
(the latest start for each piece), because GitIgnoreSpec ranks a match on a parent directory
(the `ps_d` group) below a match on the file itself. A property test holds the two to the same
answers. A regex that is not of that shape (pathspec's few fixed overrides, such as `.` for
`**`) is used as it is: those are linear.

Not bounded: several `*` in one segment (`*a*a*a*b`) against a single very long path segment,
which is polynomial in that segment's length; file systems keep a segment under 256 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from loopgate.records import record

_LEAD = "^(?:.+/)?"
_MID = "(?:/.+)?"
_END_OPT = "(?:(?P<ps_d>/)|$)"  # ends here, or is a directory of the path (dir mark)
_END_MARK = "(?P<ps_d>/)"  # a directory of the path only (dir mark)
_STARS = re.compile(r"(?:\[\^/\]\*){2,}")  # `[^/]*[^/]*` (from `a**b`): one is the same, and linear


def _split_top(piece: str) -> list[str]:
    """`piece` split at the `/` that separate segments (not inside a class, not escaped)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    inside = -1  # characters since a class opened (after its `^`); -1: not in a class
    while i < len(piece):
        char = piece[i]
        if char == "\\" and i + 1 < len(piece):
            current.append(piece[i:i + 2])
            i += 2
            inside += 1 if inside >= 0 else 0
            continue
        if inside < 0 and char == "[":
            inside = 0
            if piece[i + 1:i + 2] == "^":
                current.append("[^")
                i += 2
                continue
        elif inside >= 0:
            if char == "]" and inside > 0:
                inside = -1
            else:
                inside += 1
        if char == "/" and inside < 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


@record(frozen=True)
class _Piece:
    count: int  # how many segments it matches
    match: Callable[[str], object]  # fullmatch on those segments joined by `/`


@record(frozen=True)
class Segmented:
    lead: bool  # may start at any segment (else at the first)
    pieces: tuple[_Piece, ...]  # separated by "zero or more segments"
    end: str  # "opt": ends here or continues (dir mark if it continues); "mark": continues (dir mark);
    #           "slash": continues (no dir mark)

    def match(self, path: str) -> bool | None:
        """None: no match; else whether the match is on a directory of the path (the `ps_d` group)."""
        segments = path.split("/")
        total = len(segments)
        last = len(self.pieces) - 1
        # Earliest end of pieces[:i]: later pieces may start anywhere after it (the `(?:/.+)?`).
        bound = 0
        for index, piece in enumerate(self.pieces):
            starts = range(bound, total - piece.count + 1) if (index or self.lead) else range(0, 1)
            if index == last:
                return self._last(piece, starts, segments, total)
            found = next((s for s in starts if piece.match("/".join(segments[s:s + piece.count]))), None)
            if found is None:
                return None
            bound = found + piece.count
        return None

    def _last(self, piece: _Piece, starts: range, segments: list[str], total: int) -> bool | None:
        """The engine's choice: the latest start where the piece matches and the ending fits."""
        for start in reversed(starts):
            end = start + piece.count
            if end == total and self.end != "opt":
                continue  # a directory pattern needs something below
            if piece.match("/".join(segments[start:end])):
                return end < total and self.end != "slash"
        return None


def segmented(regex: str) -> Segmented | None:
    """The segment-wise form of a pathspec gitignore regex; None when it has another shape."""
    if regex.startswith(_LEAD):
        lead, body = True, regex[len(_LEAD):]
    elif regex.startswith("^"):
        lead, body = False, regex[1:]
    else:
        return None
    for suffix, end in ((_END_OPT, "opt"), (_END_MARK, "mark"), ("/", "slash")):
        if body.endswith(suffix) and not body.endswith("\\" + suffix):
            body, kind = body[: -len(suffix)], end
            break
    else:
        return None
    plain = re.sub(r"\\.", "", body.replace(_MID, ""))  # escaped characters are literals
    if not body or "." in plain or "(" in plain or "|" in plain:
        return None
    pieces = []
    for number, raw in enumerate(body.split(_MID)):
        if number and not raw.startswith("/"):
            return None
        text = raw[1:] if number else raw
        parts = _split_top(text)
        if any(not p for p in parts):
            return None
        try:
            compiled = re.compile(_STARS.sub("[^/]*", text))
        except re.error:
            return None
        pieces.append(_Piece(len(parts), compiled.fullmatch))
    return Segmented(lead, tuple(pieces), kind)


def matcher(regex: re.Pattern[str] | str) -> Callable[[str], bool | None]:
    """A function giving None (no match) or whether the match is on a directory of the path, as
    `regex.search(path)` and its `ps_d` group would, without backtracking across segments. `regex`
    may be the pattern's text: it is compiled only where it has not the segment-wise shape."""
    shaped = segmented(regex if isinstance(regex, str) else regex.pattern)
    if shaped is not None:
        return shaped.match
    compiled = re.compile(regex) if isinstance(regex, str) else regex

    def search(path: str) -> bool | None:
        found = compiled.search(path)
        return None if found is None else bool(found.groupdict().get("ps_d"))
    return search
