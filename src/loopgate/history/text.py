"""Text from run reports and files, made safe for where it is shown.

Gate names, item ids and details come from files anyone can write: shown raw, a newline or a pipe
breaks a markdown table, HTML in it reaches a CI job summary, and an escape sequence rewrites the
reader's terminal.
"""

from __future__ import annotations

import re


def plain(text: str) -> str:
    """For a terminal: control characters shown as `\\xNN`, never sent."""
    return "".join(c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in text)


def cell(text: str) -> str:
    """For a markdown table cell: one line, no HTML, no pipe, no control character."""
    text = "".join(c if c.isprintable() else " " for c in text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


_MARKUP = re.compile(r"([\\`*_\[\]()!#~>])")


def data_cell(text: str) -> str:
    """For text a run report carries (gate names, stop reasons, run ids) in markdown: as `cell`, and
    its markdown syntax escaped, so `![x](https://...)` is shown as written, never an image a job
    summary fetches or a link it renders."""
    return cell(_MARKUP.sub(r"\\\1", text))  # escaped first: cell's own `\\|` must stay one escape


def listing(names: list[str], limit: int = 5) -> str:
    """The first `limit` names, and how many more: a count said beside a list always agrees with it."""
    shown = "; ".join(names[:limit])
    more = len(names) - limit
    return shown + (f"; and {more} more (`--format json` lists every one)" if more > 0 else "")


_TICKS = re.compile(r"`+")


def code(text: str) -> str:
    """`text` as one CommonMark code span, whatever backticks it holds: the fence is one backtick
    longer than the longest run inside, and a space pads content that starts or ends with a
    backtick or a space (a single backtick fence around `a`b` would close at the inner one, and
    what follows would be rendered as markdown: an image fetched, a link)."""
    text = " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown(text: str, table: bool = True) -> str:
    """Our text (its code spans, the way loopgate writes them) carrying data, for markdown: each
    code span is kept as one (re-fenced, so the data in it cannot close it), everything outside
    is escaped (`data_cell`), and a backtick with no partner is shown as a backtick. Whatever the
    data holds, nothing outside a code span is markdown; in a table cell a pipe is escaped too
    (GFM splits cells before it reads code spans)."""
    text = "".join(c if c.isprintable() else " " for c in text)
    out: list[str] = []
    pos = 0
    while pos < len(text):
        opening = _TICKS.search(text, pos)
        if opening is None:
            out.append(data_cell(text[pos:]) if table else _escaped(text[pos:]))
            break
        out.append(data_cell(text[pos:opening.start()]) if table else _escaped(text[pos:opening.start()]))
        width = len(opening.group())
        closing = next((m for m in _TICKS.finditer(text, opening.end()) if len(m.group()) == width), None)
        if closing is None:
            out.append("\\`" * width)
            pos = opening.end()
            continue
        span = code(text[opening.end():closing.start()])
        out.append(span.replace("|", "\\|") if table else span)
        pos = closing.end()
    return "".join(out)


def _escaped(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")


def clean(text: str) -> str:
    """Text read from a file or a file name, made valid Unicode: a lone surrogate (a JSON `\\udcff`
    escape, a non-UTF-8 byte in a name from os.listdir) becomes the text `\\udcff`, so every output
    that carries it (JSON, a file written with -o) is valid UTF-8 and nothing fails to encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
