"""Find the links and anchors of a markdown file, each with its line and column.

mistune gives the CommonMark structure but no source positions, and a link checker has to
point at the exact spot. So this module reads markdown the way CommonMark and GitHub do, but
only as far as links need: a line pass finds what is not markdown text (fenced and indented
code, HTML blocks, link reference definitions) and the headings; an inline pass over what is
left masks code spans and finds inline links and images, autolinks, raw HTML tags
(`href`, `src`, `id`, `name`) and GitHub's bare `https://` autolinks. Reference-style links are
checked once, at their definition, which is where their destination is written. A test holds
the links found here to the ones mistune finds on the same text.

The passes live in their own modules: `_mdblocks` (lines), `_mdinline` (inline text),
`_slugs` (heading anchors), `_mdsyntax` (what they share). This one puts a file together.

Everything here is plain data, so results cross processes cheaply: `python -m
loopgate.gates._mdlinks` reads NUL-separated paths on stdin and writes the parses, pickled, to
stdout (the links gate's second core).
"""

from __future__ import annotations

import os
import re
import stat
import sys
from bisect import bisect_right
from collections.abc import Iterator, Sequence

from loopgate.gates._mdblocks import Blocks
from loopgate.gates._mdinline import Inline
from loopgate.gates._mdsyntax import AUTOLINK, BARE, DEFINITION, HTML, IMAGE, INLINE, TAG, Link, tag_ids, tag_links
from loopgate.gates._slugs import Slugger, slug
from loopgate.records import field, record

__all__ = ["AUTOLINK", "BARE", "DEFINITION", "HTML", "IMAGE", "INLINE", "Link", "Parsed", "parse", "parse_file",
           "slug"]

_DIRECTIVE = re.compile(r"loopgate:\s*(disable-next-line|disable-line|disable|enable)\b([^>]*)$")


@record
class Parsed:
    links: list[Link] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # heading slugs (deduplicated as GitHub does) and HTML ids
    disabled: frozenset[int] = frozenset()  # lines where `loopgate: disable links` is in force
    error: str = ""  # why the file could not be read ("" when it was)



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
    blocks = Blocks(lines)
    blocks.run()
    # An ATX heading is one line: its inline text is read alone, so nothing in it (a tag, a code
    # span) runs on into the next line.
    heading_lines = [(index, blocks.text[index]) for index in blocks.atx]
    for index in blocks.atx:
        blocks.text[index] = ""
    # Where a paragraph ended without a blank line (a list item or a block quote began), one is
    # put in, so no code span, link or tag runs across; `numbers` maps the lines back.
    inline_lines: list[str] = blocks.text
    numbers: Sequence[int] = range(1, len(blocks.text) + 1)
    if blocks.breaks:
        inline_lines, mapped = [], []
        for index, text in enumerate(blocks.text):
            if index in blocks.breaks:
                inline_lines.append("")
                mapped.append(index + 1)
            inline_lines.append(text)
            mapped.append(index + 1)
        numbers = mapped
    inline = Inline("\n".join(inline_lines))
    inline.run()
    links = list(blocks.definitions)
    starts = _line_starts(inline_lines)  # blanked lines are shorter: offsets are into this text
    for offset, target, kind in inline.found:
        number = bisect_right(starts, offset)
        links.append(Link(target, numbers[number - 1], offset - starts[number - 1] + 1, kind))
    heading_texts = []
    for index, text in heading_lines:
        if "[" not in text and "<" not in text and "://" not in text and "ww." not in text.lower():
            continue  # nothing in it can be a link or an id (most headings)
        alone = Inline(text)
        alone.run()
        heading_texts.append(alone.text)
        links += [Link(target, index + 1, offset + 1, kind) for offset, target, kind in alone.found]
    chunks = _html_chunks(blocks.html, lines)
    anchors = _anchors(blocks, "\n".join([inline.text, *heading_texts]), chunks)
    for first, chunk in chunks:
        chunk_starts = _line_starts(chunk.split("\n"))
        for tag in TAG.finditer(chunk):
            for offset, target, kind in tag_links(tag):
                number = bisect_right(chunk_starts, offset)
                links.append(Link(target, first + number, offset - chunk_starts[number - 1] + 1, kind))
    links.sort(key=lambda link: (link.line, link.column))
    return Parsed(links, anchors, _disabled(source, _line_starts(lines), blocks.code))


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def _anchors(blocks: Blocks, text: str, chunks: list[tuple[int, str]]) -> list[str]:
    slugger = Slugger()
    anchors = [anchor for heading in blocks.headings for anchor in slugger.add(heading)]
    if "<" in text:
        anchors += tag_ids(text)
    anchors += [i for _, chunk in chunks for i in tag_ids(chunk)]
    return anchors


def _html_chunks(indexes: list[int], lines: list[str]) -> list[tuple[int, str]]:
    """The HTML blocks as (first line number, text), so a tag may span lines (`<a\n href="x.md">`);
    their comments blanked (a tag in a comment is no link), with offsets kept."""
    chunks: list[tuple[int, str]] = []
    run: list[int] = []
    for index in indexes:
        if run and index != run[-1] + 1:
            chunks.append((run[0] + 1, "\n".join(lines[i] for i in run)))
            run = []
        run.append(index)
    if run:
        chunks.append((run[0] + 1, "\n".join(lines[i] for i in run)))
    return [(first, _blank_comments(text)) for first, text in chunks]


def _blank_comments(text: str) -> str:
    """`<!-- ... -->` as spaces (newlines kept); an unclosed one to the end of the block."""
    if "<!--" not in text:
        return text
    parts: list[str] = []
    done = 0
    begin = text.find("<!--")
    while begin >= 0:
        end = text.find("-->", begin + 4)
        end = len(text) if end < 0 else end + 3
        parts.append(text[done:begin])
        parts.append(re.sub(r"[^\n]", " ", text[begin:end]))
        done = end
        begin = text.find("<!--", end)
    parts.append(text[done:])
    return "".join(parts)


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
    import pickle  # noqa: PLC0415  (the worker process only)

    sys.stdout.buffer.write(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _worker()
