"""The scanner's line pass: what is not markdown text (code, HTML blocks, definitions), and the headings.

It reads the block structure the way CommonMark does, but only as far as links need.
"""

from __future__ import annotations

import re

from loopgate.gates._mdsyntax import DEFINITION, Link, decode

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


class Blocks:
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
