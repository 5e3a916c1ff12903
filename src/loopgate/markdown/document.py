"""Parse markdown with mistune and keep where each piece came from.

mistune gives the real CommonMark structure (what is a heading, a list, a code block) but no
source positions. `Anchor` (lines.py) walks the source lines in step with the token stream, so every
heading, paragraph and list item gets the line and column a user would point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import mistune

from loopgate.markdown.lines import BLANK, FENCE, THEMATIC, Anchor, separate_quotes, source_lines, without_comments
from loopgate.records import field, record

__all__ = ["Document", "Item", "ListBlock", "Para", "Section", "normalise_key", "parse_document", "source_lines",
           "without_comments"]

Token = dict[str, Any]

_MARKDOWN = mistune.create_markdown(renderer=None, plugins=["task_lists"])

def normalise_key(text: str) -> str:
    """Headings and keys match case-insensitively, with spaces, `-` and `_` alike."""
    return re.sub(r"[\s\-_]+", "_", text.strip().lower()).strip("_")


@record
class Para:
    text: str
    line: int
    column: int


@record
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


@record
class ListBlock:
    items: list[Item]
    line: int


Block = Para | ListBlock


@record
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


@record
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


class _Builder:
    def __init__(self, lines: list[str]) -> None:
        self.anchor = Anchor(lines)
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
                self.anchor.skip_block(THEMATIC, 1)

    def code(self, tok: Token) -> None:
        raw_lines = str(tok.get("raw", "")).rstrip("\n").count("\n") + 1
        if tok.get("style") == "fenced":
            # opening fence + body + closing fence; an empty body still has both fences
            body = raw_lines if tok.get("raw") else 0
            self.anchor.skip_block(FENCE, body + 2)
        else:
            # mistune starts an indented code block at a whitespace-only line of 4+ spaces (CommonMark
            # does not): count from the block's first line with text, the one the cursor will find.
            code_lines = str(tok.get("raw", "")).rstrip("\n").split("\n")
            lead = next((i for i, line in enumerate(code_lines) if line.strip(BLANK)), None)
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
            children = tok.get("children", [])
            if children and children[0].get("type") in ("list", "block_code"):
                self.anchor.inline = (line - 1, column - 1)  # it may start on this line, after the marker
            for child in children:
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
            self.anchor.inline = None
            item.text = " ".join(t.strip() for t in texts).strip()
            yield item


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
        lines, origin = separate_quotes(lines)
    tokens = _MARKDOWN("\n".join(lines) + "\n")
    assert isinstance(tokens, list)
    builder = _Builder(lines)
    builder.feed(tokens)
    document = Document(builder.title, builder.preamble, builder.sections, builder.stray)
    if origin is not None:
        _renumber(document, origin)
    return document
