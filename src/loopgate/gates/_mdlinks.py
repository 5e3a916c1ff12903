"""Find the links and anchors of a markdown file, each with its line and column.

mistune gives the CommonMark structure but no source positions, and a link checker has to
point at the exact spot. So this module reads markdown the way CommonMark and GitHub do, but
only as far as links need: a line pass finds what is not markdown text (fenced and indented
code, HTML blocks, link reference definitions) and the headings; an inline pass over what is
left masks code spans and finds inline links and images, autolinks, raw HTML tags
(`href`, `src`, `id`, `name`) and GitHub's bare `https://` autolinks. Reference-style links are
checked once, at their definition, which is where their destination is written. A test holds
the links found here to the ones mistune finds on the same text.

Everything here is plain data, so results cross processes cheaply: `python -m
loopgate.gates._mdlinks` reads NUL-separated paths on stdin and writes the parses, pickled, to
stdout (the links gate's second core).
"""

from __future__ import annotations

import html
import os
import pickle
import re
import stat
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

# Link kinds
INLINE, IMAGE, DEFINITION, AUTOLINK, HTML, BARE = "link", "image", "definition", "autolink", "html", "url"


@dataclass(frozen=True, slots=True)
class Link:
    target: str  # the destination, backslash escapes and entities decoded
    line: int
    column: int  # 1-based, of the destination as written
    kind: str


@dataclass
class Parsed:
    links: list[Link] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # heading slugs (deduplicated as GitHub does) and HTML ids
    disabled: frozenset[int] = frozenset()  # lines where `loopgate: disable links` is in force
    error: str = ""  # why the file could not be read ("" when it was)


_BQ = re.compile(r"[ ]{0,3}>[ ]?")
_LIST = re.compile(r"([ ]{0,3})([-*+]|\d{1,9}[.)])([ ]{1,4}|$)")
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})([^`]*)$")
_ATX = re.compile(r"[ ]{0,3}#{1,6}(?:[ \t]+(.*))?$")  # the closing `#`s are cut in code: see _atx_text
_SETEXT = re.compile(r"[ ]{0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"[ ]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_DEF = re.compile(r"[ ]{0,3}\[((?:[^\]\\]|\\.){1,999})\]:[ \t]*(<[^>\n]*>|\S+)"
                  r"(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$")
_DEF_LABEL = re.compile(r"[ ]{0,3}\[((?:[^\]\\]|\\.){1,999})\]:[ \t]*$")
_DEF_REST = re.compile(r"[ \t]*(<[^>\n]*>|\S+)(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$")
_HTML_BLOCK_1 = re.compile(r"[ ]{0,3}<(script|pre|style|textarea)(?:\s|>|$)", re.I)
_HTML_BLOCK_2_5 = re.compile(r"[ ]{0,3}<(!--|\?|![A-Za-z]|!\[CDATA\[)")
_HTML_BLOCK_6 = re.compile(
    r"[ ]{0,3}</?(address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    r"dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|"
    r"iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|"
    r"table|tbody|td|tfoot|th|thead|title|tr|track|ul)(?:\s|/?>|$)", re.I)
_HTML_BLOCK_7 = re.compile(r"[ ]{0,3}(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|"
                           r"'[^']*'|\"[^\"]*\"))?)*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*$")
_HTML_END = {"!--": "-->", "?": "?>", "![CDATA[": "]]>"}

_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)"
                  r"((?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*)\s*/?>")
_ATTR = re.compile(r"([A-Za-z_:][\w.:-]*)(?:\s*=\s*(?:([^\s\"'=<>`]+)|'([^']*)'|\"([^\"]*)\"))?")
_DIRECTIVE = re.compile(r"loopgate:\s*(disable-next-line|disable-line|disable|enable)\b([^>]*)$")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_AUTOMAIL = re.compile(r"<([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>")
_NOT_BEFORE_BARE = frozenset("/\\(<[`\"'=")
_SIMPLE_DESTINATION = re.compile(r"(?:[^\x00-\x20()\\]|\\.)*")
_SPECIAL = re.compile(r"\\.|!\[|\[|\]|<", re.S)
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_TITLE = re.compile(r"[ \t]*\n?[ \t]*(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))")
_LINK_ATTRS = {"href", "src"}
_ANGLE_DESTINATION = re.compile(r"<((?:[^<>\n\\\x00]|\\.)*)>")
_BARE_PREFIX = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)")
_BARE_RUN = re.compile(r"[^\s<]*")
# Parentheses nested deeper than this end a destination scan as "not a link", as in mistune
# (`max_nested_level`; cmark allows 32). It also keeps the scan linear: see `_plain_destination`.
MAX_PAREN_DEPTH = 20


def decode(text: str) -> str:
    """A destination as CommonMark reads it: backslash escapes, then entities."""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return html.unescape(text) if "&" in text else text


# -- headings and anchors -----------------------------------------------------------------------

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


class _Slugger:
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


# -- the line pass ------------------------------------------------------------------------------


def _indent(text: str) -> int:
    width = 0
    for char in text:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


class _Blocks:
    """Walks the lines once; blanks what is not markdown text in `lines`, collects headings and definitions."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.text = list(lines)  # markdown text only: code, HTML blocks and definitions blanked
        self.html: list[int] = []  # lines of HTML blocks (scanned for tags, not for markdown)
        self.code: set[int] = set()  # lines of code blocks (a disable comment there is an example)
        self.headings: list[str] = []
        self.definitions: list[Link] = []
        self.fence: tuple[str, int, int] | None = None  # character, length, indent of the opening fence
        self.label: int | None = None  # the line of a `[label]:` alone: its destination is on the next line
        self.html_end: str | None = None  # "" = ends at a blank line
        self.paragraph: list[int] = []  # open paragraph lines
        self.list_column = -1  # content column of the open list item
        self.blank_before = True

    def run(self) -> None:
        for index, line in enumerate(self.lines):
            self.line(index, line)
        self.close_paragraph()

    def line(self, index: int, line: str) -> None:
        body, offset = _unquote(line)
        if self.fence is not None:
            self.text[index] = ""
            self.code.add(index + 1)
            indent = _indent(body)
            close = _FENCE.match(body.lstrip(" ")) if indent <= self.fence[2] + 3 else None
            if close and close.group(1)[0] == self.fence[0] and len(close.group(1)) >= self.fence[1] \
                    and not close.group(2).strip():
                self.fence = None
            return
        if self.html_end is not None:
            self.in_html(index, body)
            return
        if not body.strip():
            self.close_paragraph()
            self.blank_before = True
            self.label = None
            return
        if self.label is not None:
            self.late_definition(index, body, offset)
            return
        self.block(index, body, offset)
        self.blank_before = False

    def in_html(self, index: int, body: str) -> None:
        if self.html_end == "" and not body.strip():
            self.html_end = None
            self.blank_before = True
            return
        self.text[index] = ""
        self.html.append(index)
        if self.html_end and self.html_end in body:
            self.html_end = None

    def block(self, index: int, body: str, offset: int) -> None:
        indent = _indent(body)
        first = body[indent:indent + 1] if body[:1] != "\t" else body.lstrip()[:1]
        # A line that starts with a letter can only be paragraph text (or close an open list):
        # skip the block patterns, which is most lines of most documents.
        plain = first.isalpha() and (self.paragraph or not (self.list_column < 0 and indent >= 4))
        item = None if plain else _LIST.match(body)
        if self.list_column >= 0 and indent < self.list_column and not item and self.blank_before:
            self.list_column = -1
        code_indent = (self.list_column if self.list_column >= 0 else 0) + 4
        if indent >= code_indent and not self.paragraph:
            self.text[index] = ""  # indented code
            self.code.add(index + 1)
            return
        if plain:
            self.paragraph.append(index)
            return
        if item and indent < code_indent:
            self.close_paragraph()
            self.list_column = item.end() if item.group(3) else item.end(2) + 1
            body = body[item.end():]
            if not body.strip():
                return
        self.content(index, body.lstrip(" \t") if indent < code_indent else body, offset, indent)

    def content(self, index: int, body: str, offset: int, indent: int) -> None:
        fence = _FENCE.match(body)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            self.close_paragraph()
            self.fence = (fence.group(1)[0], len(fence.group(1)), indent)
            self.text[index] = ""
            self.code.add(index + 1)
            return
        if self.paragraph and _SETEXT.match(body) and not _LIST.match(body):
            self.headings.append(" ".join(self.lines[i].strip().lstrip(">").strip() for i in self.paragraph))
            self.paragraph = []
            self.text[index] = ""
            return
        if self.html_start(index, body):
            return
        atx = _ATX.match(body)
        if atx:
            self.close_paragraph()
            self.headings.append(_atx_text(atx.group(1) or ""))
            return
        if _THEMATIC.match(body):
            self.close_paragraph()
            return
        if not self.paragraph:
            definition = _DEF.match(body)
            if definition:
                self.definition(index, definition.group(2), offset)
                return
            if _DEF_LABEL.match(body):
                self.label = index
                self.text[index] = ""
                return
        self.paragraph.append(index)

    def late_definition(self, index: int, body: str, offset: int) -> None:
        """The line after `[label]:`: a destination (and title), or else the label line was a paragraph."""
        assert self.label is not None
        label_line, self.label = self.label, None
        destination = _DEF_REST.match(body)
        if destination:
            self.definition(index, destination.group(1), offset)
            return
        self.text[label_line] = self.lines[label_line]
        self.paragraph.append(label_line)
        self.block(index, body, offset)

    def html_start(self, index: int, body: str) -> bool:
        """An HTML block starts here: blank it, and note what ends it (a marker, or a blank line)."""
        end: str | None = None
        opening = _HTML_BLOCK_1.match(body)
        if opening:
            end = f"</{opening.group(1).lower()}>"
        elif (opening := _HTML_BLOCK_2_5.match(body)) is not None:
            end = _HTML_END.get(opening.group(1), ">")
        elif _HTML_BLOCK_6.match(body) or (not self.paragraph and _HTML_BLOCK_7.match(body)):
            end = ""
        if end is None:
            return False
        self.close_paragraph()
        self.text[index] = ""
        self.html.append(index)
        # A marker-ended block may end on its first line, after the opening (`<!-- x -->`).
        if end == "" or opening is None or end not in body[opening.end():].lower():
            self.html_end = end
        return True

    def definition(self, index: int, raw: str, offset: int) -> None:
        self.text[index] = ""
        column = self.lines[index].find(raw, offset) + 1
        target = raw[1:-1] if raw.startswith("<") else raw
        self.definitions.append(Link(decode(target), index + 1, column + (1 if raw.startswith("<") else 0),
                                     DEFINITION))

    def close_paragraph(self) -> None:
        self.paragraph = []


def _atx_text(text: str) -> str:
    """An ATX heading's text without its closing `#`s (a lazy regex for them was quadratic in spaces)."""
    text = text.rstrip(" \t")
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip(" \t")
    return text


def _unquote(line: str) -> tuple[str, int]:
    """The line without block-quote markers, and how many characters they took."""
    if ">" not in line[:8]:
        return line, 0
    offset = 0
    while match := _BQ.match(line, offset):
        offset = match.end()
    return line[offset:], offset


# -- the inline pass ----------------------------------------------------------------------------


class _Inline:
    """Links in markdown text (code and HTML blocks already blanked), with their offsets."""

    def __init__(self, text: str) -> None:
        self.text = _mask_code_spans(text)
        self.found: list[tuple[int, str, str]] = []  # (offset of the destination, target, kind)
        self.taken: list[tuple[int, int]] = []  # spans that are links, tags or autolinks already
        self.no_comment_end_from = len(self.text) + 1  # no `-->` at or after this offset

    def run(self) -> None:
        text = self.text
        openers: list[tuple[int, bool, int]] = []  # (offset of `[`, is image, links found before it)
        links = 0  # a link may not contain a link: a `[` opened before the latest link is inactive
        position = 0
        while True:
            match = _SPECIAL.search(text, position)
            if match is None:
                break
            token, start = match.group(), match.start()
            position = match.end()
            if token in ("[", "!["):
                openers.append((start + len(token) - 1, token == "![", links))
            elif token == "]" and openers:
                # Deactivating by a count, not by rebuilding the list, keeps `![` x N then
                # `[a](b)` x N linear; an inactive `[` makes its `]` plain text (CommonMark, mistune).
                bracket, image, before = openers.pop()
                if not image and before < links:
                    continue
                end = self.destination(start + 1, image)
                if end is not None:
                    self.taken.append((bracket, end))
                    links += 0 if image else 1
                    position = end
            elif token == "<":
                position = self.angle(start) or position
        self.bare()

    def destination(self, at: int, image: bool) -> int | None:
        """After `]`: `(dest "title")`; records the link, returns the offset after `)`."""
        text = self.text
        if at >= len(text) or text[at] != "(":
            return None
        start = at + 1
        while start < len(text) and text[start] in " \t\n":
            start += 1
        if start < len(text) and text[start] == "<":
            angle = _ANGLE_DESTINATION.match(text, start)  # ends at the next `<` or newline: no long scans
            if angle is None:
                return None
            raw, after, begin = angle.group(1), angle.end(), start + 1
        else:
            plain_end = _plain_destination(text, start)
            if plain_end is None:
                return None
            raw, after, begin = text[start:plain_end], plain_end, start
        title = _TITLE.match(text, after)
        if title and title.end() > after and text[after] in " \t\n":
            after = title.end()
        while after < len(text) and text[after] in " \t\n":
            after += 1
        if after >= len(text) or text[after] != ")":
            return None
        self.found.append((begin, decode(raw), IMAGE if image else INLINE))
        return after + 1

    def angle(self, start: int) -> int | None:
        text = self.text
        if text.startswith("<!--", start) and start < self.no_comment_end_from:
            # An inline comment: nothing in it is a link. With no `-->` after this one, none of
            # the later `<!--` has one either: remember, rather than search to the end each time.
            end = text.find("-->", start + 4)
            if end >= 0:
                self.taken.append((start, end + 3))
                return end + 3
            self.no_comment_end_from = start
        auto = _AUTOLINK.match(text, start) or _AUTOMAIL.match(text, start)
        if auto is not None:
            target = auto.group(1)
            if "@" in target and ":" not in target:
                target = "mailto:" + target
            self.found.append((start + 1, target, AUTOLINK))
            self.taken.append((start, auto.end()))
            return auto.end()
        tag = _TAG.match(text, start)
        if tag is None:
            return None
        self.found += _tag_links(tag)
        self.taken.append((start, tag.end()))
        return tag.end()

    def bare(self) -> None:
        """GitHub links bare `https://...` and `www.` text (the autolink extension)."""
        if "://" not in self.text and "ww." not in self.text and "WW." not in self.text:
            return
        taken = sorted(self.taken)
        starts = [s for s, _ in taken]
        text = self.text
        covered = 0  # the end of the last candidate's run of non-space characters
        for start in _bare_starts(text):
            before = text[start - 1] if start else " "
            if start < covered or before in _NOT_BEFORE_BARE or before.isalnum() or before == "_":
                continue
            prefix = _BARE_PREFIX.match(text, start)
            if prefix is None:
                continue
            index = bisect_right(starts, start) - 1
            if index >= 0 and taken[index][1] > start:
                continue
            # A URL runs to the next space or `<`; one candidate a run, as GitHub links one URL
            # there (and reading the run again from every `http://` in it would be quadratic).
            run = _BARE_RUN.match(text, prefix.end())
            covered = run.end() if run else prefix.end()
            url = _trim_bare(text[start:covered])
            if url.lower().startswith("www."):
                url = "http://" + url
            if "." in url.split("//", 1)[-1]:
                self.found.append((start, url, BARE))


def _bare_starts(text: str) -> list[int]:
    """Where `http://`, `https://` or `www.` may start (str.find is much faster than a regex scan)."""
    starts: set[int] = set()
    position = text.find("://")
    while position >= 0:
        for scheme in ("https", "http"):
            if text[max(0, position - len(scheme)):position].lower() == scheme:
                starts.add(position - len(scheme))
                break
        position = text.find("://", position + 3)
    for marker in ("www.", "WWW.", "Www."):
        position = text.find(marker)
        while position >= 0:
            if text[max(0, position - 3):position] != "://":
                starts.add(position)
            position = text.find(marker, position + 4)
    return sorted(starts)


def _plain_destination(text: str, start: int) -> int | None:
    """Where a destination without `<>` ends: at a space or control character, or an unbalanced `)`."""
    simple = _SIMPLE_DESTINATION.match(text, start)
    end = simple.end() if simple else start
    if end >= len(text) or text[end] != "(":  # no parentheses inside: the common case, found by the regex
        return end
    # Linear over a whole text: a failed scan that reaches a point has a deeper start than every
    # earlier failed scan reaching it, so at most MAX_PAREN_DEPTH + 1 of them read any character.
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            index += 2
            continue
        if char in " \t\n" or ord(char) < 0x20:
            break
        if char == "(":
            depth += 1
            if depth > MAX_PAREN_DEPTH:
                return None
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        index += 1
    return index if depth == 0 else None


def _trim_bare(url: str) -> str:
    """GFM's extended autolink end: trailing punctuation and unbalanced `)` are not part of the URL."""
    opened, closed = url.count("("), url.count(")")  # counted once: trimming is linear
    end = len(url)
    while end:
        last = url[end - 1]
        if last in "?!.,:*_~'\";" or (last == ")" and closed > opened):
            end -= 1
            closed -= last == ")"
        else:
            break
    return url[:end]


def _tag_links(tag: re.Match[str]) -> list[tuple[int, str, str]]:
    found = []
    base = tag.start(2)
    for attr in _ATTR.finditer(tag.group(2)):
        if attr.group(1).lower() not in _LINK_ATTRS:
            continue
        group = next((g for g in (2, 3, 4) if attr.group(g) is not None), None)
        if group is not None:
            found.append((base + attr.start(group), html.unescape(attr.group(group)), HTML))
    return found


def _tag_ids(text: str) -> list[str]:
    ids = []
    for tag in _TAG.finditer(text):
        for attr in _ATTR.finditer(tag.group(2)):
            name = attr.group(1).lower()
            if name == "id" or (name == "name" and tag.group(1).lower() == "a"):
                value = attr.group(2) or attr.group(3) or attr.group(4)
                if value:
                    ids.append(html.unescape(value))
    return ids


def _mask_code_spans(text: str) -> str:
    """Code spans become spaces (newlines kept): nothing in them is a link."""
    if "`" not in text:
        return text
    # Every run of backticks and every blank line, found once: an opening run looks up the next
    # run of its size before the next blank line by bisection, not by scanning forward, which
    # was quadratic on a paragraph of unmatched runs (as mistune's DelimiterScanner does).
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    by_size: dict[int, list[int]] = {}
    for begin, end in runs:
        by_size.setdefault(end - begin, []).append(begin)
    blanks = [m.start() for m in _BLANK_LINE.finditer(text)]
    parts: list[str] = []
    done = 0
    for begin, end in runs:
        if begin < done:  # inside a code span already masked
            continue
        size = end - begin
        if _escaped(text, begin):  # `\`` is a backtick, not a code span; the rest of the run may be
            size -= 1
            if not size:
                continue
        closing = _next_run(by_size.get(size, []), end, blanks)
        if closing is None:
            continue
        parts.append(text[done:end - size])
        parts.append(re.sub(r"[^\n]", " ", text[end - size:closing + size]))
        done = closing + size
    parts.append(text[done:])
    return "".join(parts)


def _next_run(starts: list[int], after: int, blanks: list[int]) -> int | None:
    """The first run start at or after `after` and before the next blank line, if any."""
    index = bisect_left(starts, after)
    if index == len(starts):
        return None
    limit = bisect_left(blanks, after)
    if limit < len(blanks) and blanks[limit] < starts[index]:
        return None
    return starts[index]


def _escaped(text: str, at: int) -> bool:
    """Is the character at `at` escaped by an odd run of backslashes before it?"""
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


# -- disable comments ---------------------------------------------------------------------------


def _comments(text: str) -> Iterator[tuple[int, int]]:
    """Spans of `<!-- ... -->`. An unclosed `<!--` ends the search: no later one can close either
    (a regex `<!--.*?-->` would read to the end of the text from each of them)."""
    begin = text.find("<!--")
    while begin >= 0:
        end = text.find("-->", begin + 4)
        if end < 0:
            return
        yield begin, end + 3
        begin = text.find("<!--", end + 3)


def _disabled(text: str, starts: list[int], code: set[int]) -> frozenset[int]:
    """Lines under `<!-- loopgate: disable links -->` ... `enable`, or after `disable-next-line`."""
    if "loopgate:" not in text:
        return frozenset()
    lines: set[int] = set()
    off_from: int | None = None
    for begin, end in _comments(text):
        directive = _DIRECTIVE.match(text[begin + 4:end - 3].strip())
        if directive is None:
            continue
        rules = {r for r in re.split(r"[\s,]+", directive.group(2)) if r}
        if rules and not rules & {"links", "all"}:
            continue
        first = bisect_right(starts, begin)
        last = bisect_right(starts, end - 1)
        if first in code:
            continue
        action = directive.group(1)
        if action == "disable-next-line":
            lines.add(last + 1)
        elif action == "disable-line":
            lines.update(range(first, last + 1))
        elif action == "disable" and off_from is None:
            off_from = first
        elif action == "enable" and off_from is not None:
            lines.update(range(off_from, last + 1))
            off_from = None
    if off_from is not None:
        lines.update(range(off_from, len(starts) + 1))
    return frozenset(lines)


# -- one file -----------------------------------------------------------------------------------


def parse(source: str) -> Parsed:
    """Links (in source order) and anchors of one markdown text."""
    source = source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    blocks = _Blocks(lines)
    blocks.run()
    inline = _Inline("\n".join(blocks.text))
    inline.run()
    links = list(blocks.definitions)
    starts = _line_starts(blocks.text)  # blanked lines are shorter: offsets are into this text
    for offset, target, kind in inline.found:
        number = bisect_right(starts, offset)
        links.append(Link(target, number, offset - starts[number - 1] + 1, kind))
    anchors = _anchors(blocks, inline.text, lines)
    for index in blocks.html:
        for tag in _TAG.finditer(lines[index]):
            for offset, target, kind in _tag_links(tag):
                links.append(Link(target, index + 1, offset + 1, kind))
    links.sort(key=lambda link: (link.line, link.column))
    return Parsed(links, anchors, _disabled(source, _line_starts(lines), blocks.code))


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def _anchors(blocks: _Blocks, text: str, lines: list[str]) -> list[str]:
    slugger = _Slugger()
    anchors = [slugger.add(heading) for heading in blocks.headings]
    if "<" in text:
        anchors += _tag_ids(text)
    anchors += [i for index in blocks.html for i in _tag_ids(lines[index])]
    return anchors


def parse_file(path: str) -> Parsed:
    """`parse` of a file; an unreadable, binary or non-UTF-8 file comes back with `error` set.

    Only a regular file is read: reading a FIFO would wait forever for a writer, and a device may
    never end. It is opened without blocking (a FIFO opens at once then) and checked before a read.
    """
    try:
        raw = read_regular(path)
    except OSError as err:
        return Parsed(error=f"cannot read: {err.strerror or err}")
    if raw is None:
        return Parsed(error="not a regular file (FIFOs, devices and sockets are never read)")
    nul = raw.find(b"\0")
    if nul >= 0:  # valid UTF-8 perhaps, but no markdown file holds a NUL: binary
        return Parsed(error=f"binary (a NUL at byte {nul})")
    try:
        return parse(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        return Parsed(error=f"not UTF-8 (byte {err.start})")


def read_regular(path: str) -> bytes | None:
    """The bytes of a regular file; None when `path` is something else (FIFO, device, socket, directory)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(descriptor)


# -- a worker process ---------------------------------------------------------------------------

Row = tuple[str, list[str], list[int], list[tuple[str, int, int, str]]]


def to_row(parsed: Parsed) -> Row:
    """A parse as built-in types only: quick to pickle, nothing to import to unpickle."""
    return (parsed.error, parsed.anchors, sorted(parsed.disabled),
            [(link.target, link.line, link.column, link.kind) for link in parsed.links])


def from_row(row: Row) -> Parsed:
    error, anchors, disabled, found = row
    return Parsed([Link(*link) for link in found], anchors, frozenset(disabled), error)


def _worker() -> None:
    paths = [os.fsdecode(p) for p in sys.stdin.buffer.read().split(b"\0") if p]
    rows = [to_row(parse_file(path)) for path in paths]
    sys.stdout.buffer.write(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _worker()
