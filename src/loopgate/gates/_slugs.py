"""Heading anchors: the slug GitHub gives a heading, and the numbering of repeated ones.

`github_slug` is github-slugger's algorithm (what GitHub uses, and the npm package the tests
compare with): lowercase the text, drop every character of the Unicode categories
Other_Number, the punctuation categories but Connector (`_` stays) and a plain `-`, all
Symbols, Control, Private_Use, Format, Unassigned and the Separators but a plain space --
unless the character is Alphabetic (circled and squared letters) -- then turn each space into
`-`. Nothing is trimmed and runs are not collapsed: `a  b` gives `a--b`. The text is the
heading's rendered text (`_mdtext.heading_text`): `` `__init__` method `` gives `__init__-method`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from loopgate.gates._mdtext import explicit_id, heading_text

_REMOVED = frozenset({"No", "Pe", "Pf", "Pi", "Ps", "Po", "Pd", "Sm", "Sc", "Sk", "So", "Cc", "Co", "Cf", "Cn",
                      "Zs", "Zl", "Zp"})
# Characters of those categories that Unicode calls Alphabetic (Other_Alphabetic symbols): kept.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
_ASCII_DROP = re.compile(r"[^a-z0-9_\- ]")


@lru_cache(maxsize=4096)
def _dropped(char: str) -> bool:
    if char in "- ":
        return False
    code = ord(char)
    if any(low <= code <= high for low, high in _ALPHABETIC_SYMBOLS):
        return False
    return unicodedata.category(char) in _REMOVED


def github_slug(text: str) -> str:
    """github-slugger's `slug(text)`: the anchor of a heading whose rendered text is `text`."""
    lowered = text.lower()
    kept = _ASCII_DROP.sub("", lowered) if lowered.isascii() else "".join(c for c in lowered if not _dropped(c))
    return kept.replace(" ", "-")


@lru_cache(maxsize=8192)  # documentation repeats its headings ("Usage", "Options") across pages
def slug(heading: str) -> str:
    """The GitHub anchor of a heading's source text (inline markdown rendered first)."""
    return github_slug(heading_text(heading))


class Slugger:
    """Numbers repeated slugs `-1`, `-2`, ... exactly like github-slugger's `BananaSlug`."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def unique(self, base: str) -> str:
        current = base
        while current in self.seen:
            self.seen[base] += 1
            current = f"{base}-{self.seen[base]}"
        self.seen[current] = 0
        return current

    def add(self, heading: str) -> list[str]:
        """The anchors of one heading: GitHub's slug, and an explicit `{#id}` when the heading ends with one.

        GitHub renders `{#id}` as text (its slug keeps it: `options-options`); MkDocs, Pandoc, Jekyll,
        Hugo and Docusaurus make it the id. Both are anchors, so a link is right on either.
        """
        anchors = [self.unique(slug(heading))]
        _, given = explicit_id(heading)
        if given:
            anchors.append(given)
        return anchors
