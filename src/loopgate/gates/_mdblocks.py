"""The scanner's line pass: what is not markdown text (code, HTML blocks, definitions), and the headings.

It reads the block structure the way CommonMark does, but only as far as links need.
"""

from __future__ import annotations

import re

from loopgate.gates._mdsyntax import DEFINITION, Link, decode

_BQ = re.compile(r"[ ]{0,3}>[ ]?")
_LIST = re.compile(r"([ ]{0,3})([-*+]|\d{1,9}[.)])([ ]+|$)")
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})([^`]*)$")
_ATX = re.compile(r"[ ]{0,3}#{1,6}(?:[ \t]+(.*))?$")  # the closing `#`s are cut in code: see _atx_text
_SETEXT = re.compile(r"[ ]{0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"[ ]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
# A label has no unescaped bracket, and `[^note]:` starts a footnote (GFM), not a definition.
_DEF = re.compile(r"[ ]{0,3}\[(?!\^)((?:[^\[\]\\]|\\.){1,999})\]:[ \t]*(<[^>\n]*>|\S+)"
                  r"(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$")
_DEF_LABEL = re.compile(r"[ ]{0,3}\[(?!\^)((?:[^\[\]\\]|\\.){1,999})\]:[ \t]*$")
_DEF_REST = re.compile(r"[ \t]*(<[^>\n]*>|\S+)(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$")
_HTML_BLOCK_1 = re.compile(r"[ ]{0,3}<(script|pre|style|textarea)(?:\s|>|$)", re.I)
_HTML_BLOCK_2_5 = re.compile(r"[ ]{0,3}<(!--|\?|![A-Za-z]|!\[CDATA\[)")
# CommonMark's type 6 names, matched case-insensitively in ASCII: a set lookup rather than one
# IGNORECASE alternation, which cost more to compile (every cold start) than all its matches here
_HTML_BLOCK_6 = re.compile(r"[ ]{0,3}</?([A-Za-z][A-Za-z0-9]*)(?:\s|/?>|$)")
_HTML_BLOCK_6_NAMES = frozenset((
    "address", "article", "aside", "base", "basefont", "blockquote", "body", "caption", "center", "col", "colgroup",
    "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "iframe", "legend",
    "li", "link", "main", "menu", "menuitem", "nav", "noframes", "ol", "optgroup", "option", "p", "param",
    "search", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "track", "ul"))
_HTML_BLOCK_7 = re.compile(r"[ ]{0,3}(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|"
                           r"'[^']*'|\"[^\"]*\"))?)*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*$")
_HTML_END = {"!--": "-->", "?": "?>", "![CDATA[": "]]>"}


class _Breaks:
    """Whether `_THEMATIC` matches `text[pos:]`, for rising `pos`, in linear time over all the calls.

    A suffix is a break when, after at most three spaces, it holds only one of `*-_` (three or more
    times) and spaces or tabs: so only the part after the last other visible character can be one.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        visible = text.rstrip(" \t")
        self.mark = visible[-1:] if visible[-1:] in ("*", "-", "_") else ""
        # The last visible character that is not the mark: a break starts after it.
        self.after = next((i for i in range(len(visible) - 1, -1, -1) if visible[i] not in (self.mark, " ", "\t")),
                          -1) if self.mark else len(text)
        self.counted = 0
        self.left = text.count(self.mark) if self.mark else 0

    def at(self, pos: int) -> bool:
        if not self.mark:
            return False
        start = pos
        while start < len(self.text) and start - pos < 3 and self.text[start] == " ":
            start += 1
        if start <= self.after or start >= len(self.text) or self.text[start] != self.mark:
            return False
        self.left -= self.text.count(self.mark, self.counted, start)
        self.counted = start
        return self.left >= 3


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
        self.levels: list[int] = []  # each heading's level (1 for `#` and `===`), in the order of `headings`
        self.definitions: list[Link] = []
        self.fence: tuple[str, int, int] | None = None  # character, length, indent of the opening fence
        self.label: int | None = None  # the line of a `[label]:` alone: its destination is on the next line
        self.html_end: str | None = None  # "" = ends at a blank line
        self.paragraph: list[int] = []  # open paragraph lines
        self.list_column = -1  # content column of the open list item
        self.blank_before = True
        # The container an open fence or HTML block lives in: how deep in block quotes, and the
        # list item's content column (-1: none). When the container ends, so does the block.
        self.held: tuple[int, int] = (0, -1)
        self.held_outside = False  # the held list item holds the block quote (`- > `), not the reverse
        self.quote_in_item = False  # this line's block quote opened inside its list item
        self.item_line = False  # the line being read starts a list item
        self.depth = 0  # block quotes the previous line was in
        self.atx: list[int] = []  # lines of ATX headings: their inline text is a block of its own
        self.breaks: set[int] = set()  # lines before which a paragraph ended without a blank line
        self.index = 0  # the line being read
        self.empty_item = False  # the last line was a list item with nothing after its marker
        self.after_definition = False  # the last line ended a link reference definition
        self.labels: set[str] = set()  # the labels defined so far, normalised
        self.paragraph_depth = 0  # block quotes the open paragraph is in
        self.paragraph_column = -1  # the content column of the list item it is in (-1: none)
        self.continuing = False  # this line follows a definition: it continues that paragraph
        self.label_text = ""  # the label of a `[label]:` alone

    def run(self) -> None:
        for index, line in enumerate(self.lines):
            self.index = index
            self.line(index, line)
        self.index = len(self.lines)
        self.close_paragraph()

    def line(self, index: int, line: str) -> None:
        body, offset = _unquote(line)
        depth = line.count(">", 0, offset)
        if depth > self.depth:  # a block quote starts: it interrupts a paragraph (the reverse is lazy)
            self.close_paragraph()
        self.depth = depth
        self.quote_in_item = False
        if (self.fence is not None or self.html_end is not None) and self.container_ended(line, body, depth):
            self.fence = self.html_end = None
        if self.fence is not None:
            self.text[index] = ""
            self.code.add(index + 1)
            indent = _indent(body)
            # Only a fence in the same container closes it: `> ```` is code inside an unquoted fence.
            same = depth == self.held[0]
            close = _FENCE.match(body.lstrip(" ")) if indent <= self.fence[2] + 3 and same else None
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
            self.after_definition = False
            if self.empty_item:  # an item may begin with one blank line, not with nothing and a blank
                self.list_column = -1
                self.empty_item = False
            return
        if self.label is not None:
            self.late_definition(index, body, offset)
            return
        self.block(index, body, offset)
        self.blank_before = False

    def container_ended(self, line: str, body: str, depth: int) -> bool:
        """Has the block quote or list item that holds the open fence or HTML block ended on this line?"""
        held_depth, column = self.held
        if depth < held_depth:
            return True
        # In `- > ```, the item's indentation comes before the `>`; in `> - ```, after it.
        indent = _indent(line) if self.held_outside else _indent(body)
        if column >= 0 and body.strip() and indent < column:
            self.list_column = -1
            return True
        return False

    def hold(self, indent: int) -> None:
        """A fence or HTML block opens here: remember the container it is in."""
        in_item = self.list_column >= 0 and (self.item_line or indent >= self.list_column)
        self.held = (self.depth, self.list_column if in_item else -1)
        self.held_outside = self.quote_in_item

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
        if item and self.paragraph and not _interrupts(item, body):
            item = None
        if self.list_column >= 0 and indent < self.list_column and not item and self.blank_before:
            self.list_column = -1
        code_indent = (self.list_column if self.list_column >= 0 else 0) + 4
        self.empty_item = False
        after_definition = self.continuing = self.after_definition
        self.after_definition = False
        if indent >= code_indent and not self.paragraph and not after_definition:
            self.text[index] = ""  # indented code
            self.code.add(index + 1)
            return
        if plain:
            self.add_to_paragraph(index)
            return
        self.item_line = False
        if item and indent < code_indent:
            self.close_paragraph()
            spaces = len(item.group(3))
            # Five or more spaces after the marker: the content starts after one, and is indented code.
            self.list_column = item.end(2) + 1 if spaces >= 5 or not item.group(3) else item.end()
            body = body[item.end():]
            # Offsets, not copies, and a break test that does not rescan the line: `- - - ...` stays linear.
            breaks = _Breaks(body)
            pos = 0
            while spaces < 5 and (inner := _LIST.match(body, pos)) is not None and not breaks.at(pos):
                # `- *`, `1. - x`: an item that starts with another item
                spaces = len(inner.group(3))
                end = inner.end(2) + 1 if spaces >= 5 or not inner.group(3) else inner.end()
                self.list_column += end - inner.start()
                pos = inner.end()
            body = body[pos:]
            if not body.strip():
                self.empty_item = True
                return
            if spaces >= 5:
                self.text[index] = ""
                self.code.add(index + 1)
                return
            self.item_line = True
            if body.startswith(">"):  # `- > quote`: a block quote inside the item
                quoted = body
                body, consumed = _unquote(quoted)
                self.depth += quoted.count(">", 0, consumed)
                self.quote_in_item = True
                self.close_paragraph()
        self.content(index, body.lstrip(" \t") if indent < code_indent else body, offset, indent)

    def content(self, index: int, body: str, offset: int, indent: int) -> None:
        fence = _FENCE.match(body)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            self.close_paragraph()
            self.fence = (fence.group(1)[0], len(fence.group(1)), indent)
            self.hold(indent)
            self.text[index] = ""
            self.code.add(index + 1)
            return
        # `-` alone under a paragraph underlines it: an empty list item cannot interrupt a paragraph.
        lazy = self.depth != self.paragraph_depth or (self.paragraph_column >= 0 and indent < self.paragraph_column)
        if self.paragraph and not lazy and _SETEXT.match(body):
            # The lines stay apart: GitHub's heading text keeps the line break (which the slugger drops).
            self.headings.append("\n".join(self.lines[i].strip().lstrip(">").strip() for i in self.paragraph))
            self.levels.append(1 if "=" in body else 2)
            self.paragraph = []
            self.text[index] = ""
            return
        # (A lazy line that leaves a block quote may start a type 7 HTML block in cmark, which tests
        # it against the last container the line continues. Not done: the scanner's view of which
        # paragraph is open is not exact enough, and two tries hid real links after such a line;
        # here it continues the paragraph, so at worst a link cmark would not render is checked.)
        if self.html_start(index, body):
            return
        atx = _ATX.match(body)
        if atx:
            self.close_paragraph()
            self.headings.append(_atx_text(atx.group(1) or ""))
            self.levels.append(len(body.lstrip(" ")) - len(body.lstrip(" ").lstrip("#")))
            self.atx.append(index)
            return
        if _THEMATIC.match(body):
            self.close_paragraph()
            return
        if not self.paragraph:
            definition = _DEF.match(body)
            if definition and definition.group(1).strip() and _destination(definition.group(2)):
                self.definition(index, definition.group(2), offset, definition.group(1))
                return
            label = _DEF_LABEL.match(body)
            if label and label.group(1).strip():
                self.label = index
                self.label_text = label.group(1)
                self.text[index] = ""
                return
        self.add_to_paragraph(index)

    def add_to_paragraph(self, index: int) -> None:
        if not self.paragraph:  # a lazy line later (out of its quote or list item) is no setext underline
            self.paragraph_depth = self.depth
            self.paragraph_column = self.list_column
        self.paragraph.append(index)

    def late_definition(self, index: int, body: str, offset: int) -> None:
        """The line after `[label]:`: a destination (and title), or else the label line was a paragraph."""
        assert self.label is not None
        label_line, self.label = self.label, None
        destination = _DEF_REST.match(body)
        if destination and _destination(destination.group(1)):
            self.definition(index, destination.group(1), offset, self.label_text)
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
        elif ((six := _HTML_BLOCK_6.match(body)) and six[1].lower() in _HTML_BLOCK_6_NAMES) or \
                (not self.paragraph and not self.continuing and _HTML_BLOCK_7.match(body)):
            end = ""
        if end is None:
            return False
        self.close_paragraph()
        self.text[index] = ""
        self.html.append(index)
        # A marker-ended block may end on its first line, after the opening (`<!-- x -->`).
        if end == "" or opening is None or end not in body[opening.end():].lower():
            self.html_end = end
            self.hold(_indent(body))
        return True

    def definition(self, index: int, raw: str, offset: int, label: str) -> None:
        self.text[index] = ""
        self.after_definition = True  # what follows at once continues its paragraph: never code
        key = " ".join(label.casefold().split())
        if key in self.labels:  # the first definition of a label wins; a later one is never used
            return
        self.labels.add(key)
        column = self.lines[index].find(raw, offset) + 1
        target = raw[1:-1] if raw.startswith("<") else raw
        self.definitions.append(Link(decode(target), index + 1, column + (1 if raw.startswith("<") else 0),
                                     DEFINITION))

    def close_paragraph(self) -> None:
        if self.paragraph:  # the paragraph ends before this line: inline text must not run across
            self.breaks.add(self.index)
        self.paragraph = []


def _interrupts(item: re.Match[str], body: str) -> bool:
    """May this list item interrupt a paragraph? Not when empty, and an ordered one only from 1."""
    marker = item.group(2)
    return bool(body[item.end():].strip()) and (not marker[0].isdigit() or marker[:-1].lstrip("0") == "1")


def _destination(raw: str) -> bool:
    """Is `raw` (no spaces) a whole definition destination? `<...>`, or one where no `)` closes more than
    was opened. An open `(` left at the end is accepted, as cmark (GitHub) accepts `[b]: y.md(`."""
    if raw.startswith("<"):
        return True
    depth, index = 0, 0
    while index < len(raw):
        char = raw[index]
        if char == "\\":
            index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            if not depth:
                return False
            depth -= 1
        elif ord(char) < 0x20:
            return False
        index += 1
    return True


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
    body = line[offset:]
    if offset and body.startswith("\t"):
        # `>` then a tab: the tab runs to the next tab stop, and the marker's optional space takes
        # one column of it when the marker had none (`> \t` leaves all of it) -- CommonMark's rule.
        columns = 4 - offset % 4 - (0 if line[offset - 1] == " " else 1)
        body = " " * columns + body[1:]
    return body, offset
