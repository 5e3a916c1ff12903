"""The YAML alias-bomb guard: a document whose aliases expand it without end or beyond reason."""

from __future__ import annotations

from typing import Any

import yaml

# A file's values after aliases are expanded; beyond this it is a "billion laughs" document.
# Far more than a real configuration holds, and low enough that a small file cannot make validating
# slow: an invalid document of 100,000 values, every one an error, takes jsonschema about 10 s.
MAX_EXPANDED_VALUES = 100_000


def alias_expansion(text: str, loader: Any) -> tuple[int, int, str] | None:
    """(line, column, message) if the text's aliases expand it beyond MAX_EXPANDED_VALUES values, or without end.

    PyYAML shares an aliased value rather than copying it, so loading is cheap, but validating walks
    the expanded tree. Its size is counted from the parser's events, in one pass over the text: each
    anchored value's expanded size is kept, and an alias adds the size of its anchor's value. Text
    without both `&` and `*` has no aliases and skips the pass.
    """
    if "&" not in text or "*" not in text:
        return None
    counter = _Expansion()
    for event in yaml.parse(text, Loader=loader):
        message = counter.alias(event) if isinstance(event, yaml.AliasEvent) else counter.other(event)
        if message:
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            return line, column, message
    return None


class _Expansion:
    """Counts a YAML stream's values as if every alias were written out, event by event (no recursion)."""

    def __init__(self) -> None:
        self.total = 0
        self.sizes: dict[str, int | None] = {}  # anchor -> expanded size of its value; None while still open
        self.starts: list[tuple[str | None, int]] = []  # open collections: (anchor, total before it)

    def alias(self, event: yaml.AliasEvent) -> str:
        anchor = event.anchor or ""
        if anchor in self.sizes and self.sizes[anchor] is None:
            return (f"the alias *{anchor} is inside the value it names: the document is recursive and expands "
                    "without end; not validated")
        self.total += self.sizes.get(anchor) or 0  # an undefined alias counts nothing: loading reports it
        if self.total > MAX_EXPANDED_VALUES:
            return (f"through its aliases the file expands to more than {MAX_EXPANDED_VALUES:,} values "
                    "(a 'billion laughs' document); not validated")
        return ""

    def other(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.CollectionStartEvent):
            self.starts.append((event.anchor, self.total))
            self.total += 1
            if event.anchor is not None:
                self.sizes[event.anchor] = None
        elif isinstance(event, yaml.ScalarEvent):
            self.total += 1
            if event.anchor is not None:
                self.sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = self.starts.pop()
            if anchor is not None:
                self.sizes[anchor] = self.total - before
        elif isinstance(event, yaml.DocumentEndEvent):
            self.sizes.clear()  # anchors belong to one document
        return ""
