"""Heading anchors: the slug GitHub gives a heading, and the numbering of repeated ones."""

from __future__ import annotations

import re

from loopgate.gates._mdsyntax import decode

_STRIP_INLINE = (
    # Each part stops at the next opening bracket too: with `[^)]*` alone, every `[` of a heading
    # full of `[a](` would scan to the end of the line (quadratic).
    (re.compile(r"!\[[^\[\]]*\]\([^()]*\)"), ""),  # images render no text
    (re.compile(r"\[([^\[\]]*)\]\([^()]*\)"), r"\1"),  # links keep their text
    (re.compile(r"\[([^\[\]]*)\]\[[^\[\]]*\]"), r"\1"),
    (re.compile(r"<[^<>]*>"), ""),  # inline HTML tags
)
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_{1,3}|_{1,3}(?![A-Za-z0-9])")
_NOT_SLUG = re.compile(r"[^\w\- ]")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation but `-` and `_` dropped, spaces to `-`."""
    text = heading
    if "`" not in text and ("[" in text or "<" in text):
        for pattern, repl in _STRIP_INLINE:
            text = pattern.sub(repl, text)
    text = text.replace("`", "")
    if "_" in text:  # `_emphasis_` renders without its underscores; `snake_case` keeps them
        text = _EMPHASIS_UNDERSCORE.sub("", text)
    if "&" in text or "\\" in text:
        text = decode(text)
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


class Slugger:
    """Numbers repeated slugs `-1`, `-2`, ... exactly like github-slugger."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def add(self, heading: str) -> str:
        base = current = slug(heading)
        while current in self.seen:
            self.seen[base] += 1
            current = f"{base}-{self.seen[base]}"
        self.seen[current] = 0
        return current

