"""The part of a file a `pymdownx.snippets` include shows: line ranges and named sections.

From pymdownx.snippets' documentation and behaviour (checked against mkdocs 1.6 with its pymdownx):

- `--8<-- "file.md:3:7"` shows lines 3 to 7 (1-based); `"file.md:3"` from line 3 to the end;
  `"file.md::7"` lines 1 to 7; a negative number counts from the end (`:-2` the last two lines);
  several ranges are joined with `,` (`"file.md:1:3,8:9"`).
- `--8<-- "file.md:name"` shows the lines between a `--8<-- [start:name]` line and the next
  `--8<-- [end:name]` line (the marker may sit inside other text, such as an HTML comment; names
  are read case-insensitively); other sections' marker lines inside it are dropped. A marker that
  starts with `;` is escaped: it is text, not a marker.
- The path is what comes before the first `:` from which the rest is a valid range list or section.
"""

from __future__ import annotations

import re

_RANGES = re.compile(r"(?::-?[0-9]*){1,2}(?:,(?=[-0-9:])-?[0-9]*(?::-?[0-9]*)?)*")
_SECTION_NAME = re.compile(r"[a-z][-_0-9a-z]*", re.I)
_MARKER = re.compile(r"8<-+[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*([a-z][-_0-9a-z]*)[ \t]*\]", re.I)
_LONGEST = 4096  # a name longer than this is taken as a path: its colons are not tried one by one

Shown = frozenset[int] | None  # 1-based line numbers shown; None: the whole file


def target(name: str) -> tuple[str, str, str]:
    """(path, ranges such as ":3:7,9:", section name) of a snippet's name; "" for what it lacks."""
    if ":" not in name or len(name) > _LONGEST:
        return name, "", ""
    colon = name.find(":")
    while colon != -1:
        rest = name[colon:]
        if _RANGES.fullmatch(rest):
            return name[:colon], rest, ""
        if _SECTION_NAME.fullmatch(rest, 1):
            return name[:colon], "", rest[1:]
        colon = name.find(":", colon + 1)
    return name, "", ""


def text_shown(text: str, lines: Shown) -> str:
    """The shown lines of `text`, in order (all of it for None); mdBook's `{{#include}}` parts too."""
    if lines is None:
        return text
    return "\n".join(line for number, line in enumerate(text.split("\n"), start=1) if number in lines)


def shown(text: str, ranges: str, section: str) -> Shown:
    """The lines of `text` the include shows."""
    if ranges:
        return _ranges(text.split("\n"), ranges)
    if section:
        return _section(text.split("\n"), section.lower())
    return None


def _ranges(lines: list[str], spec: str) -> Shown:
    total = len(lines)
    chosen: set[int] = set()
    for item in spec[1:].split(","):
        parts = item.split(":")
        first = int(parts[0]) if parts[0] not in ("", "-") else None
        last = int(parts[1]) if len(parts) > 1 and parts[1] not in ("", "-") else None
        start = None if first is None else min(max(total + first, 0), total) if first < 0 else max(0, first - 1)
        end = None if last is None else min(max(total + 1 + last, 0), total) if last < 0 else last
        chosen.update(number + 1 for number in range(total)[slice(start, end)])
    return frozenset(chosen)


def _marker(line: str) -> tuple[bool, str, str] | None:
    """(escaped, "start" or "end", name) of a section marker in the line; None for none."""
    at = line.find("8<-")
    if at < 1 or line[at - 1] != "-":
        return None
    match = _MARKER.match(line, at)
    if match is None:
        return None
    dash = at
    while dash > 0 and line[dash - 1] == "-":
        dash -= 1
    return dash > 0 and line[dash - 1] == ";", match.group(1).lower(), match.group(2).lower()


def _section(lines: list[str], name: str) -> Shown:
    chosen: set[int] = set()
    inside = False
    for number, line in enumerate(lines, start=1):
        marker = _marker(line) if "8<-" in line else None
        if marker is not None and not marker[0]:
            _, kind, named = marker
            if named == name:
                if kind == "start":
                    inside = True
                    continue
                break  # its end (or an end before any start)
            if inside:
                continue  # another section's marker: dropped
        if inside:
            chosen.add(number)
    return frozenset(chosen)
