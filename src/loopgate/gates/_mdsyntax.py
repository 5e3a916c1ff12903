"""What the markdown scanner's passes share: a found link, destination decoding, HTML tags."""

from __future__ import annotations

import re

from loopgate.records import record

# Link kinds
INLINE, IMAGE, DEFINITION, AUTOLINK, HTML, BARE = "link", "image", "definition", "autolink", "html", "url"


@record(frozen=True, slots=True)
class Link:
    target: str  # the destination, backslash escapes and entities decoded
    line: int
    column: int  # 1-based, of the destination as written
    kind: str


TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)"
                 r"((?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*)\s*/?>")
ATTR = re.compile(r"([A-Za-z_:][\w.:-]*)(?:\s*=\s*(?:([^\s\"'=<>`]+)|'([^']*)'|\"([^\"]*)\"))?")
_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_LINK_ATTRS = {"href", "src"}


def unescape(text: str) -> str:
    """`html.unescape`, its module imported on first use: most pages hold no entity, and the
    table in `html.entities` is a millisecond of every cold start."""
    if "&" not in text:
        return text
    import html  # noqa: PLC0415

    return html.unescape(text)


def decode(text: str) -> str:
    """A destination as CommonMark reads it: backslash escapes, then entities."""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return unescape(text)


def tag_links(tag: re.Match[str]) -> list[tuple[int, str, str]]:
    """(offset in the tag's attributes text, decoded value, kind) of each `href`/`src`."""
    found = []
    base = tag.start(2)
    for attr in ATTR.finditer(tag.group(2)):
        if attr.group(1).lower() not in _LINK_ATTRS:
            continue
        group = next((g for g in (2, 3, 4) if attr.group(g) is not None), None)
        if group is not None:
            found.append((base + attr.start(group), unescape(attr.group(group)), HTML))
    return found


def tag_ids(text: str) -> list[str]:
    ids = []
    for tag in TAG.finditer(text):
        for attr in ATTR.finditer(tag.group(2)):
            name = attr.group(1).lower()
            if name == "id" or (name == "name" and tag.group(1).lower() == "a"):
                value = attr.group(2) or attr.group(3) or attr.group(4)
                if value:
                    ids.append(unescape(value))
    return ids

