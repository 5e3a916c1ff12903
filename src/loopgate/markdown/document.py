"""Parse markdown with mistune and keep where each piece came from.

mistune gives the real CommonMark structure (what is a heading, a list, a code block) but no
source positions. `_Anchor` walks the source lines in step with the token stream, so every
heading, paragraph and list item gets the line and column a user would point at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import mistune

Token = dict[str, Any]

_MARKDOWN = mistune.create_markdown(renderer=None, plugins=["task_lists"])

# The blanks before, between and after `>` quote markers are matched by exactly one way each:
# `[ \t]*(?:>[ \t]?)*[ \t]*` let two adjacent `[ \t]*` share a run of blanks, and a failing
# match then tried every split of it (quadratic: 40,000 blanks took 34 s once the file held a `>`).
_QUOTE_LEAD = r"[ \t]*(?:>[ \t]*)*"
_LIST_MARKER = re.compile(rf"^(?P<lead>{_QUOTE_LEAD})(?P<marker>[-*+]|\d{{1,9}}[.)])(?P<gap>[ \t]+|$)")
_TASK_BOX = re.compile(r"\[[ xX]\][ \t]*")
_ATX = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)*[ \t]*(#{1,6})(?:[ \t]|$)")
_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(rf"^{_QUOTE_LEAD}(`{{3,}}|~{{3,}})")
# Markdown's blank is spaces and tabs only; Python's strip() also eats \x1c-\x1f, \x85 and more,
# which would anchor a paragraph of such a character on the next line.
_BLANK = " \t"
_QUOTE_LINE = re.compile(r"^[ \t]*>")
_ENDS_QUOTE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6})(?:[ \t]|$)")
_THEMATIC = re.compile(r"^[ \t]{0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$")


def normalise_key(text: str) -> str:
    """Headings and keys match case-insensitively, with spaces, `-` and `_` alike."""
    return re.sub(r"[\s\-_]+", "_", text.strip().lower()).strip("_")


@dataclass
class Para:
    text: str
    line: int
    column: int


@dataclass
class Item:
    text: str  # what a reader sees: markup removed
    line: int
    column: int
    checked: bool | None = None
    children: list[Item] = field(default_factory=list)
    # The source as written after the marker: `**/auth/**` stays `**/auth/**` here, while
    # `text` reads it as emphasis. Values are taken from this.
    raw: str = ""
    # The source lines of the item's first paragraph as written (marker line included), so a
    # reader can tell a continuation line indented under the item from a lazy one at the margin.
    lines: tuple[str, ...] = ()


@dataclass
class ListBlock:
    items: list[Item]
    line: int


Block = Para | ListBlock


@dataclass
class Section:
    title: str
    level: int
    line: int
    column: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def key(self) -> str:
        return normalise_key(self.title)


@dataclass
class Document:
    """A parsed artifact: the `#` title, what precedes the first `##`, and the `##` sections."""

    title: Para | None
    preamble: list[Block]
    sections: list[Section]
    # `###`+ headings found before any `##`: kept so the checks can say they are misplaced.
    stray: list[Section] = field(default_factory=list)


def inline_text(children: Iterable[Token]) -> str:
    """The plain text a reader sees, markup removed (`**reason**: x` -> `reason: x`)."""
    parts: list[str] = []
    for tok in children:
        kind = tok.get("type")
        if kind in ("softbreak", "linebreak"):
            parts.append(" ")
        elif "children" in tok:
            parts.append(inline_text(tok["children"]))
        elif "raw" in tok:
            parts.append(str(tok["raw"]))
    return "".join(parts)


class _Anchor:
    """A cursor over source lines that only moves forward, in step with mistune's tokens."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cursor = 0

    def _find(self, pattern: re.Pattern[str]) -> int | None:
        for index in range(self.cursor, len(self.lines)):
            if pattern.match(self.lines[index]):
                return index
        return None

    def heading(self, level: int, style: str, line_count: int = 1) -> tuple[int, int]:
        """Where a heading starts; a setext heading's text may run over `line_count` lines."""
        for index in range(self.cursor, len(self.lines)):
            line = self.lines[index]
            atx = _ATX.match(line)
            if style != "setext" and atx and len(atx.group(1)) == level:
                self.cursor = index + 1
                return index + 1, atx.end() + 1
            below = index + line_count
            if style == "setext" and line.strip(_BLANK) and below < len(self.lines):
                under = _SETEXT.match(self.lines[below])
                if under and (under.group(1)[0] == "=") == (level == 1):
                    self.cursor = below + 1
                    return index + 1, len(line) - len(line.lstrip(_BLANK)) + 1
        return self._fallback()

    def list_item(self, task: bool) -> tuple[int, int]:
        index = self._find(_LIST_MARKER)
        if index is None:
            return self._fallback()
        line = self.lines[index]
        match = _LIST_MARKER.match(line)
        assert match is not None
        column = match.end()
        if task:
            box = _TASK_BOX.match(line, column)
            if box:
                column = box.end()
        self.cursor = index + 1
        return index + 1, column + 1

    def paragraph(self, line_count: int) -> tuple[int, int]:
        for index in range(self.cursor, len(self.lines)):
            line = self.lines[index]
            if line.strip(_BLANK):
                self.cursor = index + line_count
                return index + 1, len(line) - len(line.lstrip(_BLANK)) + 1
        return self._fallback()

    def raw(self, line: int, column: int, count: int) -> str:
        """Source text from (line, column) over `count` lines, continuation lines joined by a space."""
        if not 0 < line <= len(self.lines):
            return ""
        parts = [self.lines[line - 1][column - 1:].strip()]
        parts += [self.lines[i].strip() for i in range(line, min(line - 1 + count, len(self.lines)))]
        return without_comments(" ".join(p for p in parts if p)).strip()

    def skip_block(self, pattern: re.Pattern[str], line_count: int) -> None:
        index = self._find(pattern)
        if index is not None:
            self.cursor = index + line_count

    def skip_lines(self, line_count: int) -> None:
        for index in range(self.cursor, len(self.lines)):
            if self.lines[index].strip(_BLANK):
                self.cursor = index + line_count
                return

    def _fallback(self) -> tuple[int, int]:
        return min(self.cursor + 1, max(len(self.lines), 1)), 1


def _line_count(children: list[Token]) -> int:
    """Source lines of a paragraph: one plus every line break in it, nested ones included.

    A break inside emphasis (`**x` / `y**`) or a link sits below the top level; missing it cut
    a value continued on the next line short (`- allowed paths: docs/**, a` / `  src/**`).
    """
    count, stack = 1, list(children)
    while stack:  # iterative: inline nesting depth is the user's to choose
        tok = stack.pop()
        kind = tok.get("type")
        if kind in ("softbreak", "linebreak"):
            count += 1
        elif kind == "inline_html":
            count += str(tok.get("raw", "")).count("\n")
        stack.extend(tok.get("children", ()))
    return count


def without_comments(text: str) -> str:
    """`text` with its closed HTML comments removed: a reader never sees them, so no value holds one.

    A comment inside a code span is text (CommonMark), so `- maker command: `sed '1i <!-- x -->'``
    keeps it. Linear: backtick runs are found in one pass and a closer is looked up by its length
    (a lazy `<!--.*?-->` restarts at every `<!--` of an unclosed run and goes quadratic)."""
    if "<!--" not in text:
        return text
    spans = _code_spans(text)
    out: list[str] = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            break
        inside = next((span for span in _spans_at(spans, start)), None)
        if inside is not None:  # in a code span: keep the span whole, comments and all
            out.append(text[position:inside[1]])
            position = inside[1]
            continue
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[position:start])
        position = end + 3
    out.append(text[position:])
    return "".join(out)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each code span: a backtick run closed by the next run of the same length."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        later = bisect.bisect_right(same, index)
        if later < len(same):
            closer = same[later]
            spans.append((start, runs[closer][1]))
            index = closer + 1
        else:
            index += 1
    return spans


def _spans_at(spans: list[tuple[int, int]], offset: int) -> list[tuple[int, int]]:
    at = bisect.bisect_right(spans, (offset, 1 << 62)) - 1
    return [spans[at]] if at >= 0 and spans[at][0] <= offset < spans[at][1] else []


class _Builder:
    def __init__(self, lines: list[str]) -> None:
        self.anchor = _Anchor(lines)
        self.title: Para | None = None
        self.preamble: list[Block] = []
        self.sections: list[Section] = []
        self.stray: list[Section] = []
        self.open: list[Section] = []  # the chain of currently open headings, `##` first

    def target(self) -> list[Block]:
        return self.open[-1].blocks if self.open else self.preamble

    def feed(self, tokens: list[Token]) -> None:
        for tok in tokens:
            kind = tok.get("type")
            if kind == "heading":
                self.heading(tok)
            elif kind in ("paragraph", "block_text"):
                line, column = self.anchor.paragraph(_line_count(tok.get("children", [])))
                self.target().append(Para(inline_text(tok.get("children", [])), line, column))
            elif kind == "list":
                items = list(self.items(tok.get("children", [])))
                if items:
                    self.target().append(ListBlock(items, items[0].line))
            elif kind == "block_quote":
                self.feed(tok.get("children", []))
            elif kind == "block_code":
                self.code(tok)
            elif kind == "block_html":
                self.anchor.skip_lines(str(tok.get("raw", "")).rstrip("\n").count("\n") + 1)
            elif kind == "thematic_break":
                self.anchor.skip_block(_THEMATIC, 1)

    def code(self, tok: Token) -> None:
        raw_lines = str(tok.get("raw", "")).rstrip("\n").count("\n") + 1
        if tok.get("style") == "fenced":
            # opening fence + body + closing fence; an empty body still has both fences
            body = raw_lines if tok.get("raw") else 0
            self.anchor.skip_block(_FENCE, body + 2)
        else:
            # mistune starts an indented code block at a whitespace-only line of 4+ spaces (CommonMark
            # does not): count from the block's first line with text, the one the cursor will find.
            code_lines = str(tok.get("raw", "")).rstrip("\n").split("\n")
            lead = next((i for i, line in enumerate(code_lines) if line.strip(_BLANK)), None)
            if lead is not None:
                self.anchor.skip_lines(len(code_lines) - lead)

    def heading(self, tok: Token) -> None:
        level = int(tok.get("attrs", {}).get("level", 1))
        line, column = self.anchor.heading(level, str(tok.get("style", "atx")), _line_count(tok.get("children", [])))
        text = inline_text(tok.get("children", [])).strip()
        if level == 1:
            if self.title is None:
                self.title = Para(text, line, column)
                self.open = []
                return
            # A second `#` heading is read as a section so nothing silently disappears.
            level = 2
        section = Section(text, level, line, column)
        while self.open and self.open[-1].level >= level:
            self.open.pop()
        if self.open:
            self.open[-1].children.append(section)
        elif level == 2:
            self.sections.append(section)
        else:
            self.stray.append(section)
        self.open.append(section)

    def items(self, tokens: list[Token]) -> Iterator[Item]:
        for tok in tokens:
            kind = tok.get("type")
            if kind not in ("list_item", "task_list_item"):
                continue
            task = kind == "task_list_item"
            line, column = self.anchor.list_item(task)
            item = Item("", line, column, bool(tok.get("attrs", {}).get("checked")) if task else None)
            first_line = line
            texts: list[str] = []
            for child in tok.get("children", []):
                ckind = child.get("type")
                if ckind in ("paragraph", "block_text"):
                    if texts:  # later paragraphs of a loose item start on their own lines
                        self.anchor.paragraph(_line_count(child.get("children", [])))
                    else:
                        count = _line_count(child.get("children", []))
                        item.raw = self.anchor.raw(first_line, column, count)
                        item.lines = tuple(self.anchor.lines[first_line - 1:first_line - 1 + count])
                        self.anchor.cursor += count - 1
                    texts.append(inline_text(child.get("children", [])))
                elif ckind == "list":
                    item.children.extend(self.items(child.get("children", [])))
                elif ckind == "block_code":
                    self.code(child)
            item.text = " ".join(t.strip() for t in texts).strip()
            yield item


def source_lines(source: str) -> list[str]:
    """Lines as mistune, editors and `grep -n` count them: split at CR, LF and CRLF only.

    `str.splitlines` also splits at form feeds, U+2028 and other separators, which would put
    every finding after one of them on the wrong line.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return lines


def _separate_quotes(lines: list[str]) -> tuple[list[str], list[int] | None]:
    """Put a blank line between a block-quote line and a list or heading that follows it.

    mistune (3.x) lets an ATX heading continue a block quote lazily, which hides the heading
    inside the quote, and when a list ends a quote it emits the quote after the list's tokens,
    out of source order. CommonMark ends the quote at either line, so a blank line there changes
    nothing a reader sees; `origin` maps the new line numbers back to the file's.
    """
    out: list[str] = []
    origin: list[int] = []
    inserted = in_quote = False
    for number, line in enumerate(lines, 1):
        if _QUOTE_LINE.match(line):
            in_quote = True
        elif in_quote and _ENDS_QUOTE.match(line):
            out.append("")
            origin.append(number)
            inserted, in_quote = True, False
        elif not line.strip(_BLANK) or _FENCE.match(line) or _THEMATIC.match(line):
            in_quote = False
        # any other line is a lazy continuation: the quote is still open after it
        out.append(line)
        origin.append(number)
    return (out, origin) if inserted else (lines, None)


def _renumber(document: Document, origin: list[int]) -> None:
    def items(entries: list[Item]) -> None:
        for item in entries:
            item.line = origin[item.line - 1]
            items(item.children)

    def blocks(entries: list[Block]) -> None:
        for block in entries:
            block.line = origin[block.line - 1]
            if isinstance(block, ListBlock):
                items(block.items)

    def sections(entries: list[Section]) -> None:
        for section in entries:
            section.line = origin[section.line - 1]
            blocks(section.blocks)
            sections(section.children)

    if document.title is not None:
        document.title.line = origin[document.title.line - 1]
    blocks(document.preamble)
    sections(document.sections)
    sections(document.stray)


def parse_document(source: str) -> Document:
    lines, origin = source_lines(source), None
    if ">" in source:  # only a block quote needs the work-around
        lines, origin = _separate_quotes(lines)
    tokens = _MARKDOWN("\n".join(lines) + "\n")
    assert isinstance(tokens, list)
    builder = _Builder(lines)
    builder.feed(tokens)
    document = Document(builder.title, builder.preamble, builder.sections, builder.stray)
    if origin is not None:
        _renumber(document, origin)
    return document
