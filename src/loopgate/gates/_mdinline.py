"""The scanner's inline pass: links in markdown text whose code and HTML blocks are blanked already.

Code spans are masked first; then one left-to-right scan finds inline links and images,
autolinks and raw HTML tags, and a last pass GitHub's bare `https://` and `www.` autolinks.
Every scan here is linear in the text: see the comments where that took care.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from loopgate.gates._mdsyntax import AUTOLINK, BARE, IMAGE, INLINE, TAG, decode, tag_links

_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_AUTOMAIL = re.compile(r"<([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>")
_NOT_BEFORE_BARE = frozenset("/\\(<[`\"'=")
# GFM: a `www.` autolink starts a line, or follows a space or one of `*`, `_`, `~`, `(`.
_BEFORE_WWW = frozenset("*_~(")
# A backslash before a space or the end is a literal one (CommonMark escapes ASCII punctuation only).
_SIMPLE_DESTINATION = re.compile(r"(?:[^\x00-\x20()\\]|\\[^\x00-\x20]|\\)*")
_SPECIAL = re.compile(r"\\.|!\[|\[|\]|<", re.S)
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# No leading blanks in the pattern: `[ \t]*\n?[ \t]*` before a failing title backtracks over
# every split of a long run of blanks (`[a](x.md` + 80,000 spaces + `y)` took 48 s). They are skipped in code.
_TITLE = re.compile(r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))")
_ANGLE_DESTINATION = re.compile(r"<((?:[^<>\n\\\x00]|\\.)*)>")
_BARE_PREFIX = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)")
_BARE_RUN = re.compile(r"[^\s<]*")
# Parentheses nested deeper than this end a destination scan as "not a link", as in mistune
# (`max_nested_level`; cmark allows 32). It also keeps the scan linear: see `_plain_destination`.
MAX_PAREN_DEPTH = 20


class Inline:
    """Links in markdown text (code and HTML blocks already blanked), with their offsets."""

    def __init__(self, text: str) -> None:
        self.text = _mask_code_spans(text)
        self.found: list[tuple[int, str, str]] = []  # (offset of the destination, target, kind)
        self.taken: list[tuple[int, int]] = []  # spans that are links, tags or autolinks already
        self.no_comment_end_from = len(self.text) + 1  # no `-->` at or after this offset
        self.comment_end = -1  # the first `-->` after the last `<!--` looked at (-1: not looked yet)
        self.blanks: list[int] = []  # where blank lines start

    def run(self) -> None:
        text = self.text
        openers: list[tuple[int, bool, int]] = []  # (offset of `[`, is image, links found before it)
        links = 0  # a link may not contain a link: a `[` opened before the latest link is inactive
        # A blank line ends a paragraph: no bracket opened before one closes after it. The blank
        # lines are found once; a `]` looks up whether one lies between it and its `[`.
        blanks = self.blanks = [m.start() for m in _BLANK_LINE.finditer(text)] if "\n" in text else []
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
                if blanks:
                    after = bisect_left(blanks, bracket)
                    if after < len(blanks) and blanks[after] < start:
                        openers.clear()  # every opener left is older still: all in paragraphs now ended
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
        found = inline_destination(self.text, at)
        if found is None:
            return None
        begin, raw, after = found
        self.found.append((begin, decode(raw), IMAGE if image else INLINE))
        return after

    def angle(self, start: int) -> int | None:
        text = self.text
        if text.startswith("<!--", start) and start < self.no_comment_end_from:
            # An inline comment: nothing in it is a link. With no `-->` after this one, none of
            # the later `<!--` has one either: remember, rather than search to the end each time.
            # The `-->` after an offset only moves forward with it: found once for many `<!--`.
            if self.comment_end < start + 4:
                self.comment_end = text.find("-->", start + 4)
            end = self.comment_end
            if end >= 0 and not self.crosses_blank(start, end):  # a comment ends with its paragraph
                self.taken.append((start, end + 3))
                return end + 3
            if end < 0:
                self.no_comment_end_from = start
        auto = _AUTOLINK.match(text, start) or _AUTOMAIL.match(text, start)
        if auto is not None:
            target = auto.group(1)
            if "@" in target and ":" not in target:
                target = "mailto:" + target
            self.found.append((start + 1, target, AUTOLINK))
            self.taken.append((start, auto.end()))
            return auto.end()
        tag = TAG.match(text, start)
        if tag is None or self.crosses_blank(start, tag.end()):  # a tag ends with its paragraph too
            return None
        self.found += tag_links(tag)
        self.taken.append((start, tag.end()))
        return tag.end()

    def crosses_blank(self, start: int, end: int) -> bool:
        """Is there a blank line (a paragraph's end) between these offsets?"""
        after = bisect_left(self.blanks, start)
        return after < len(self.blanks) and self.blanks[after] < end

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
            if start < covered:
                continue
            if text[start] in "wW":
                if not (before.isspace() or before in _BEFORE_WWW):
                    continue
            elif before in _NOT_BEFORE_BARE or before.isalnum() or before == "_":
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
            if index + 1 < len(starts) and starts[index + 1] < covered:
                covered = starts[index + 1]  # a link or tag after it in the same run ends it (GitHub's too)
            url = _trim_bare(text[start:covered])
            if url.lower().startswith("www."):
                url = "http://" + url
            if "." in url.split("//", 1)[-1]:
                self.found.append((start, url, BARE))


def inline_destination(text: str, at: int) -> tuple[int, str, int] | None:
    """`(dest "title")` at `at`: where the destination starts, as written, and the offset after `)`."""
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
    gap = _blanks(text, after)
    if gap > after and gap < len(text) and text[gap] in "\"'(":
        title = _TITLE.match(text, gap)
        if title is not None:
            after = title.end()
    while after < len(text) and text[after] in " \t\n":
        after += 1
    if after >= len(text) or text[after] != ")":
        return None
    return begin, raw, after + 1


def link_end(text: str, at: int) -> int | None:
    """The offset after an inline link's `(destination "title")` that starts at `at`, if one does."""
    found = inline_destination(text, at)
    return None if found is None else found[2]


def plain_destination_end(text: str, start: int) -> int | None:
    """Where a destination without `<>` that starts at `start` ends (None: unbalanced or too deep)."""
    return _plain_destination(text, start)


def _blanks(text: str, at: int) -> int:
    """After spaces and tabs with at most one line break among them (where a link title may start)."""
    end, size, newline = at, len(text), False
    while end < size:
        char = text[end]
        if char == "\n":
            if newline:
                break
            newline = True
        elif char not in " \t":
            break
        end += 1
    return end


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
