"""The text of a heading as GitHub renders it: what its anchor is made from.

GitHub slugs the heading's *rendered text* (the HTML element's text content), not its source:
a code span keeps everything in it (`` `__init__` `` stays `__init__`), emphasis delimiters are
gone (`__init__` outside code is bold "init"), a link keeps its text and loses its destination,
an image and an HTML tag leave nothing, escapes and entities are decoded, and an autolink is
its URL. Emphasis follows CommonMark's delimiter rules (it matters for `_`, which the slugger
keeps; `*` shares the stack). One pass, linear in the heading (a heading can be a
400,000-character line).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left

from loopgate.gates._mdinline import link_end
from loopgate.gates._mdsyntax import TAG, unescape
from loopgate.records import record

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BACKTICKS = re.compile(r"`+")
_UNDERSCORES = re.compile(r"_+")
_STARS = re.compile(r"\*+")
# `## Options {#options}`, `{ #id .class }`, `{#id key=value}`: an explicit id (Pandoc, kramdown,
# Docusaurus, and the generators below); at the end of the heading only.
_ATTRIBUTES = re.compile(r"\{[ \t]*#([^\s{}#]+)[^{}]*\}[ \t]*")
# The attribute blocks MkDocs' attr_list, Goldmark (Hugo) and pulldown-cmark (mdBook) also take:
# Python-Markdown's `{: #id }`, `{.class #id}`, `{key="v" #id}`, `{.class}`, the last `#id` winning.
_BLOCK = re.compile(r"\{(:?)[ \t]*((?:[^{}\"']|\"[^\"]*\"|'[^']*')*)\}[ \t]*")
_ID_CLASS_KEY = r"#([^\s{}#\"'=]+)|\.[^\s{}#\"'=]+|[A-Za-z_:][\w.:-]*=(?:\"[^\"]*\"|'[^']*'|[^\s\"'{}=]+)"
_ATTRIBUTE = re.compile(rf"[ \t]*(?:{_ID_CLASS_KEY})(?=[ \t]|$)[ \t]*")
# attr_list also takes a bare word as an attribute (`{not attr}` is a block: `## Braces {not attr}` is `#braces`)
_ATTRIBUTE_WORDS = re.compile(rf"[ \t]*(?:{_ID_CLASS_KEY}|[^\s{{}}=\"']+)(?=[ \t]|$)[ \t]*")
# Runs of hyphens a typographer sets as dashes: kramdown and Goldmark left to right (`---` an em
# dash, then `--` an en dash); pulldown-cmark as commonmark.js does, the whole run of two or more.
_DASH_RUN = re.compile(r"-{2,}")
_LEFT_TO_RIGHT = re.compile(r"---|--")


@record
class _Run:
    """A run of `_` or `*`: how many are left unmatched, and what CommonMark lets it do."""

    char: str
    left: int
    size: int
    can_open: bool
    can_close: bool


def explicit_id(text: str, extended: str = "") -> tuple[str, str]:
    """The heading without a trailing attribute block, and the block's id ("" when there is none).

    By default only a block that starts with `#id` is one (`{#id .class}`: its first id). `extended`:
    every block Goldmark and pulldown-cmark read ("attributes"), and Python-Markdown's attr_list
    ("attr_list": `{: #id }` too): its last id; a block without one, `{.class}`, is still left out of
    the text. Else the default rule. "pulldown" (mdBook): any block, no space needed before it, its
    words split at blanks (`{not an id}` is a block too, quotes are not read), the last `#id` the id."""
    brace = text.rfind("{")
    if brace < 0 or not text.rstrip().endswith("}"):
        return text, ""
    if extended == "pulldown":
        words = text.rstrip()[brace + 1:-1].split()
        return text[:brace].rstrip(" \t"), next((w[1:] for w in reversed(words) if w.startswith("#")), "")
    if brace and text[brace - 1] not in " \t":
        return text, ""
    block = _BLOCK.fullmatch(text, brace) if extended else None
    if block is not None and (extended == "attr_list" or not block.group(1)):
        body, given, index = block.group(2).strip(" \t"), "", 0
        scan = _ATTRIBUTE_WORDS if extended == "attr_list" else _ATTRIBUTE
        while index < len(body):
            attribute = scan.match(body, index)
            if attribute is None:
                break
            given = attribute.group(1) or given
            index = attribute.end()
        else:
            if body:
                return text[:brace].rstrip(" \t"), given
    match = _ATTRIBUTES.fullmatch(text, brace)
    if match is None:
        return text, ""
    return text[:brace].rstrip(" \t"), match.group(1)


def heading_text(source: str, smart: str = "") -> str:
    """The rendered text of a heading's inline markdown (the source stripped first, as CommonMark does;
    what renders as nothing at either end leaves its spaces: `![i](x) Title` is " Title")."""
    source = source.strip(" \t")
    if not any(c in source for c in "`\\&<[_*!") and not (smart and "--" in source):
        return source
    spans = _code_spans(source)
    # Where the last `-->` ends: a `<!--` after it closes nowhere, and is text (without this, each of
    # 200,000 unclosed `<!--` searched the rest of the line: a minute)
    closes = source.rfind("-->") + 3 if "<!--" in source else -1
    pieces: list[str | _Run] = []
    openers: list[tuple[int, bool]] = []  # (index in pieces of a `[` or `![`, is an image)
    index, size = 0, len(source)
    while index < size:
        char = source[index]
        if char == "`" and index in spans:
            end, content = spans[index]
            pieces.append(content)
            index = end
        elif char == "\\" and index + 1 < size and source[index + 1] in _ASCII_PUNCT:
            pieces.append(source[index + 1])
            index += 2
        elif char == "&" and (entity := _ENTITY.match(source, index)) is not None:
            pieces.append(unescape(entity.group()))
            index = entity.end()
        elif char == "<":
            index = _angle(source, index, pieces, closes)
        elif char == "[" or (char == "!" and source.startswith("![", index)):
            openers.append((len(pieces), char == "!"))
            pieces.append(source[index:index + (2 if char == "!" else 1)])
            index += len(pieces[-1])  # type: ignore[arg-type]
        elif char == "]" and openers:
            index = _close_bracket(source, index, pieces, openers)
        elif smart and char == "-" and source.startswith("--", index):
            dashes = _DASH_RUN.match(source, index)
            assert dashes is not None
            pieces.append(_dashes(dashes.group(), smart))
            index = dashes.end()
        elif char in "_*":
            run = (_UNDERSCORES if char == "_" else _STARS).match(source, index)
            assert run is not None
            pieces.append(_flanking(source, run.start(), run.end()))
            index = run.end()
        else:
            pieces.append(char)
            index += 1
    _pair_delimiters([p for p in pieces if isinstance(p, _Run)])
    return "".join(p if isinstance(p, str) else p.char * p.left for p in pieces)


def _dashes(run: str, smart: str) -> str:
    """A run of hyphens as a typographer sets it (`smart`: "lr" kramdown's and Goldmark's way, "cm"
    commonmark.js' and pulldown-cmark's), dashes as U+2013 (every slugger drops them)."""
    return "\u2013" * len(run) if smart == "cm" else _LEFT_TO_RIGHT.sub("\u2013", run)


def _angle(source: str, index: int, pieces: list[str | _Run], closes: int) -> int:
    if source.startswith("<!--", index):  # an HTML comment renders nothing (CommonMark's `<!-->` too)
        for short in ("<!-->", "<!--->"):
            if source.startswith(short, index):
                return index + len(short)
        if closes >= index + 7:  # a `-->` after this `<!--`: the first one closes it
            return source.find("-->", index + 4) + 3
    auto = _AUTOLINK.match(source, index)
    if auto is not None:
        pieces.append(auto.group(1))
        return auto.end()
    tag = TAG.match(source, index) or (re.compile(r"</[A-Za-z][A-Za-z0-9-]*\s*>").match(source, index))
    if tag is not None:
        return tag.end()  # a tag renders no text (what it wraps does)
    pieces.append("<")
    return index + 1


def _close_bracket(source: str, index: int, pieces: list[str | _Run], openers: list[tuple[int, bool]]) -> int:
    """A `]`: with `(destination)` or `[label]` after it, the bracket closes a link or an image."""
    start, image = openers.pop()
    after = link_end(source, index + 1)
    if after is None and source.startswith("[", index + 1):
        label_end = source.find("]", index + 2)
        after = label_end + 1 if label_end >= 0 and "[" not in source[index + 2:label_end] else None
    if after is None:
        pieces.append("]")
        return index + 1
    if image:  # an image renders no text: its alt text goes too
        del pieces[start:]
        openers[:] = [(o, i) for o, i in openers if o < start]
    else:
        pieces[start] = ""
    return after


def _code_spans(source: str) -> dict[int, tuple[int, str]]:
    """Code spans: their start -> (end, rendered content). Linear: each opening run finds its closing
    run of the same length by bisection among the runs of that length."""
    if "`" not in source:
        return {}
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(source)]
    by_size: dict[int, list[int]] = {}
    for begin, end in runs:
        by_size.setdefault(end - begin, []).append(begin)
    spans: dict[int, tuple[int, str]] = {}
    done = 0
    for run_start, end in runs:
        if run_start < done:
            continue
        begin = run_start
        if begin and source[begin - 1] == "\\" and _escaped(source, begin):
            begin += 1  # `\`` is a backtick; the rest of the run may still open a span
            if begin == end:
                continue
        starts = by_size.get(end - begin, [])
        at = bisect_left(starts, end)
        if at == len(starts):
            continue
        closing = starts[at]
        content = source[end:closing].replace("\n", " ")
        if len(content) > 2 and content[0] == " " and content[-1] == " " and content.strip(" "):
            content = content[1:-1]
        spans[begin] = (closing + end - begin, content)
        done = closing + end - begin
    return spans


def _escaped(text: str, at: int) -> bool:
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _is_space(char: str) -> bool:
    return not char or char.isspace()


def _is_punct(char: str) -> bool:
    return bool(char) and (char in _ASCII_PUNCT or unicodedata.category(char)[0] in "PS")


def _flanking(source: str, start: int, end: int) -> _Run:
    """CommonMark's flanking rules for a run of `_` or `*` (the start and end of the text count as space)."""
    before = source[start - 1] if start else ""
    after = source[end] if end < len(source) else ""
    left = not _is_space(after) and (not _is_punct(after) or _is_space(before) or _is_punct(before))
    right = not _is_space(before) and (not _is_punct(before) or _is_space(after) or _is_punct(after))
    char = source[start]
    if char == "*":
        return _Run(char, end - start, end - start, left, right)
    return _Run(char, end - start, end - start, left and (not right or _is_punct(before)),
                right and (not left or _is_punct(after)))


def _pair_delimiters(runs: list[_Run]) -> None:
    """CommonMark's "process emphasis": matched delimiters are used up (not rendered)."""
    stack: list[_Run] = []
    bottom: dict[tuple[str, bool, int], int] = {}  # no opener below this for such a closer: keeps it linear
    for closer in runs:
        if closer.can_close:
            key = (closer.char, closer.can_open, closer.size % 3)
            while closer.left:
                found = None
                for position in range(len(stack) - 1, bottom.get(key, 0) - 1, -1):
                    opener = stack[position]
                    odd = (opener.can_close or closer.can_open) and (opener.size + closer.size) % 3 == 0 \
                        and not (opener.size % 3 == 0 and closer.size % 3 == 0)
                    if opener.char == closer.char and opener.can_open and opener.left and not odd:
                        found = position
                        break
                if found is None:
                    bottom[key] = len(stack)
                    break
                opener = stack[found]
                use = 2 if opener.left >= 2 and closer.left >= 2 else 1
                opener.left -= use
                closer.left -= use
                del stack[found + 1:]
                if not opener.left:
                    stack.pop()
                for shorter in list(bottom):
                    bottom[shorter] = min(bottom[shorter], len(stack))
            if not closer.left:
                continue
        if closer.can_open:
            stack.append(closer)
