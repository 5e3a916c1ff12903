"""Source lines, the line patterns of markdown, and the cursor that anchors tokens to lines.

mistune gives the structure but no positions; `Anchor` walks the source lines in step with the
token stream. Every pattern here is matched at the start of one line and gives a run of blanks
one way to match (or a bounded few), so no line, however long, makes a match backtrack
quadratically; tests/unit/test_linear_scanners.py feeds each one its worst cases.
"""

from __future__ import annotations

import bisect
import re

# The blanks before, between and after `>` quote markers are matched by exactly one way each:
# `[ \t]*(?:>[ \t]?)*[ \t]*` let two adjacent `[ \t]*` share a run of blanks, and a failing
# match then tried every split of it (quadratic: 40,000 blanks took 34 s once the file held a `>`).
QUOTE_LEAD = r"[ \t]*(?:>[ \t]*)*"
LIST_MARKER = re.compile(rf"^(?P<lead>{QUOTE_LEAD})(?P<marker>[-*+]|\d{{1,9}}[.)])(?P<gap>[ \t]+|$)")
TASK_BOX = re.compile(r"\[[ xX]\][ \t]*")
ATX = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)*[ \t]*(#{1,6})(?:[ \t]|$)")
# An underline inside a block quote (`> ===`) is one too: without the quote lead, a quoted setext
# heading was never found and every later heading search ran to the end of the file.
SETEXT = re.compile(rf"^{QUOTE_LEAD}(=+|-+)[ \t]*$")
FENCE = re.compile(rf"^{QUOTE_LEAD}(`{{3,}}|~{{3,}})")
# Markdown's blank is spaces and tabs only; Python's strip() also eats \x1c-\x1f, \x85 and more,
# which would anchor a paragraph of such a character on the next line.
BLANK = " \t"
QUOTE_LINE = re.compile(r"^[ \t]*>")
ENDS_QUOTE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6})(?:[ \t]|$)")
THEMATIC = re.compile(r"^[ \t]{0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$")


def source_lines(source: str) -> list[str]:
    """Lines as mistune, editors and `grep -n` count them: split at CR, LF and CRLF only.

    `str.splitlines` also splits at form feeds, U+2028 and other separators, which would put
    every finding after one of them on the wrong line.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return lines


def separate_quotes(lines: list[str]) -> tuple[list[str], list[int] | None]:
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
        if QUOTE_LINE.match(line):
            in_quote = True
        elif in_quote and ENDS_QUOTE.match(line):
            out.append("")
            origin.append(number)
            inserted, in_quote = True, False
        elif not line.strip(BLANK) or FENCE.match(line) or THEMATIC.match(line):
            in_quote = False
        # any other line is a lazy continuation: the quote is still open after it
        out.append(line)
        origin.append(number)
    return (out, origin) if inserted else (lines, None)


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


class Anchor:
    """A cursor over source lines that only moves forward, in step with mistune's tokens."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cursor = 0
        # search -> the cursor from which it found nothing. The cursor only moves forward, so a
        # search that failed from there fails from anywhere later: answered at once, instead of
        # scanning to the end of the file again for every token the source lines do not show
        # (quadratic on a file of thousands of such tokens).
        self._failed: dict[object, int] = {}
        # (line index, offset) just after a list item's marker, while its first block is unplaced
        self.inline: tuple[int, int] | None = None

    def _known_missing(self, search: object) -> bool:
        return self._failed.get(search, len(self.lines) + 1) <= self.cursor

    def _missing(self, search: object) -> None:
        self._failed[search] = min(self._failed.get(search, self.cursor), self.cursor)

    def _find(self, pattern: re.Pattern[str]) -> int | None:
        if self._known_missing(pattern):
            return None
        for index in range(self.cursor, len(self.lines)):
            if pattern.match(self.lines[index]):
                return index
        self._missing(pattern)
        return None

    def _text_line(self) -> int | None:
        """The first line from the cursor holding more than blanks."""
        if self._known_missing("text"):
            return None
        for index in range(self.cursor, len(self.lines)):
            if self.lines[index].strip(BLANK):
                return index
        self._missing("text")
        return None

    def heading(self, level: int, style: str, line_count: int = 1) -> tuple[int, int]:
        """Where a heading starts; a setext heading's text may run over `line_count` lines."""
        search = ("heading", level, style, line_count)
        if self._known_missing(search):
            return self._fallback()
        for index in range(self.cursor, len(self.lines)):
            line = self.lines[index]
            atx = ATX.match(line)
            if style != "setext" and atx and len(atx.group(1)) == level:
                self.cursor = index + 1
                return index + 1, atx.end() + 1
            below = index + line_count
            if style == "setext" and line.strip(BLANK) and below < len(self.lines):
                under = SETEXT.match(self.lines[below])
                if under and (under.group(1)[0] == "=") == (level == 1):
                    self.cursor = below + 1
                    return index + 1, len(line) - len(line.lstrip(BLANK)) + 1
        self._missing(search)
        return self._fallback()

    def _on_item_line(self, pattern: re.Pattern[str]) -> tuple[int, int, re.Match[str]] | None:
        """(line index, offset, match) of a block that starts on its list item's own line, after
        the marker (`- - k: v`, `` - ``` ``): a search from the next line would find a later
        block and put everything after it out of step."""
        if self.inline is None:
            return None
        index, offset = self.inline
        self.inline = None
        match = pattern.match(self.lines[index][offset:])
        return (index, offset, match) if match else None

    def list_item(self, task: bool) -> tuple[int, int]:
        here = self._on_item_line(LIST_MARKER)
        if here is not None:
            index, offset, match = here
        else:
            found = self._find(LIST_MARKER)
            if found is None:
                return self._fallback()
            index, offset, marker = found, 0, LIST_MARKER.match(self.lines[found])
            assert marker is not None
            match = marker
        line = self.lines[index]
        column = offset + match.end()
        if task:
            box = TASK_BOX.match(line, column)
            if box:
                column = box.end()
        self.cursor = index + 1
        return index + 1, column + 1

    def paragraph(self, line_count: int) -> tuple[int, int]:
        index = self._text_line()
        if index is None:
            return self._fallback()
        line = self.lines[index]
        self.cursor = index + line_count
        return index + 1, len(line) - len(line.lstrip(BLANK)) + 1

    def raw(self, line: int, column: int, count: int) -> str:
        """Source text from (line, column) over `count` lines, continuation lines joined by a space."""
        if not 0 < line <= len(self.lines):
            return ""
        parts = [self.lines[line - 1][column - 1:].strip()]
        parts += [self.lines[i].strip() for i in range(line, min(line - 1 + count, len(self.lines)))]
        return without_comments(" ".join(p for p in parts if p)).strip()

    def skip_block(self, pattern: re.Pattern[str], line_count: int) -> None:
        here = self._on_item_line(pattern)
        index = here[0] if here is not None else self._find(pattern)
        if index is not None:
            self.cursor = index + line_count

    def skip_lines(self, line_count: int) -> None:
        index = self._text_line()
        if index is not None:
            self.cursor = index + line_count

    def _fallback(self) -> tuple[int, int]:
        return min(self.cursor + 1, max(len(self.lines), 1)), 1
