"""A data file's bytes to text, in the encodings its format allows, or the first byte that is not text.

YAML 1.2 (https://yaml.org/spec/1.2.2/#52-character-encodings) requires UTF-8, UTF-16 and UTF-32,
told by a byte order mark or, without one, by the NULs around a first ASCII character; Python's
JSON reader detects the same way (RFC 4627's table). TOML is UTF-8 only. The BOM is dropped, so a
character offset in the text is a column in the file. A byte that is not text is placed as every
other problem of its format is: line and column in characters, lines counted by `\\n` in JSON and
TOML (as their parsers count them) and also by `\\r` in YAML (as `yaml12.Lines` counts them).
"""

from __future__ import annotations

import codecs

from loopgate.gates._schema.yaml12 import Lines

# UTF-32LE's BOM starts with UTF-16LE's, so it is tried first.
_BOMS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF8, "utf-8"))


class NotText(ValueError):
    """A byte that is not text in the file's encoding, at its line and column (1-based, in characters)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def codec_of(data: bytes, kind: str | None) -> tuple[str, int]:
    """The codec that reads the file, and the length of its BOM (bytes to skip)."""
    boms = _BOMS[-1:] if kind == "toml" else _BOMS
    for bom, name in boms:
        if data.startswith(bom):
            return name, len(bom)
    if kind == "toml":
        return "utf-8", 0
    head = data[:4]
    if len(head) == 4 and head[:3] == b"\0\0\0":
        return "utf-32-be", 0
    if len(head) == 4 and head[1:] == b"\0\0\0":
        return "utf-32-le", 0
    if len(head) >= 2 and head[0] == 0:
        return "utf-16-be", 0
    if len(head) >= 2 and head[1] == 0:
        return "utf-16-le", 0
    return "utf-8", 0


def _errors(kind: str | None) -> str:
    # Python's JSON reader lets a lone surrogate through (json.loads of bytes decodes this way).
    return "surrogatepass" if kind == "json" else "strict"


def text_of(data: bytes, kind: str | None) -> str:
    """The file's text without its BOM; NotText at the first byte that is not text."""
    name, skip = codec_of(data, kind)
    try:
        return data[skip:].decode(name, _errors(kind))
    except UnicodeDecodeError as err:
        # The bytes before the bad one decode: their characters give the column.
        before = data[skip:skip + err.start].decode(name, _errors(kind))
        line, column = position(before, len(before), kind)
        label = name.upper().replace("-BE", "BE").replace("-LE", "LE")
        raise NotText(line, column, f"not {label} text (byte {skip + err.start})") from None


def lenient_text(data: bytes, kind: str | None) -> str:
    """The file's text, bytes that are not text replaced (to count its lines whatever it holds)."""
    name, skip = codec_of(data, kind)
    return data[skip:].decode(name, "replace")


def position(text: str, offset: int, kind: str | None) -> tuple[int, int]:
    """Line and column (1-based) of a character offset, lines counted as the format's parser counts them."""
    if kind == "yaml":
        return Lines(text).position(offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
