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


def clean(text: str) -> str:
    """Text read from a file or a file name, made valid Unicode: a lone surrogate (a JSON `\\udcff`
    escape, a non-UTF-8 byte in a name from os.listdir) becomes the text `\\udcff`, so every output
    that carries it (JSON, a file written with -o) is valid UTF-8 and nothing fails to encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
