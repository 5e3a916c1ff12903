"""The secrets gate's reading and scanning: what a file's bytes are (UTF-16, a name detect-secrets skips),
where its copy is scanned, detect-secrets itself, and where a secret it found is reported."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator

from loopgate.gates._added import Target
from loopgate.records import replace

_LOCK = threading.Lock()  # detect-secrets keeps its settings in one global


def skipped_by_name(path: str) -> bool:
    """detect-secrets skips a file by its name alone: its extension (`.lock`, `.css`, `.svg`, `.map`, `.png`,
    ...), a lock file (`package-lock.json`, `Cargo.lock`, ...) or `swagger` anywhere in the path. A token in a
    text file so named would pass unseen: such a file is scanned when its bytes are text, under a neutral name,
    for the named kinds of credential only (the entropy and keyword detectors would flag every integrity hash
    of a lock file and every embedded image of an SVG)."""
    from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file, is_swagger_file  # noqa: PLC0415

    return is_non_text_file(path) or is_lock_file(path) or is_swagger_file(path)


# The byte order marks that say a text is UTF-32 or UTF-16 (the longer first: UTF-32-LE starts like UTF-16-LE).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def utf16(raw: bytes) -> str | None:
    """The text of a UTF-16 or UTF-32 file that says so with a byte order mark (None: it is not one). Windows
    tools write such files (PowerShell 5, regedit, .NET resource files); detect-secrets reads them as binary."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def decoded(target: Target, raw: bytes) -> tuple[Target, bytes]:
    """`raw` as UTF-8 for the scanner. A UTF-16/32 file is decoded first; git numbered its added lines by the
    0x0A bytes it holds, which are its line ends unless a character's code unit holds 0x0A as well (U+0A00 to
    U+0AFF, U+xx0A): then the numbers cannot be trusted and the whole file counts as added."""
    text = utf16(raw)
    if text is None:
        return target, raw
    if target.lines is not None and raw.count(b"\n") != text.count("\n"):
        target = replace(target, lines=None)
    return target, text.encode("utf-8")


def scratch_name(scratch: str, number: int, target: Target) -> str:
    """Where the copy to scan goes: under the file's own name (detect-secrets chooses plugins and filters
    by it), always inside `scratch`: a given path outside the repository keeps its base name only."""
    parts = target.path.split("/")
    odd = target.full or os.path.isabs(target.path) or any(p in ("", ".", "..") for p in parts)
    if odd or len(parts) > 32 or len(target.path) > 1024:  # and never thousands of directories deep
        return os.path.join(scratch, "flat", str(number), os.path.basename(target.path)[:200] or "file")
    return os.path.join(scratch, "tree", *parts)


# pre-commit's own advice is to pin hooks by commit (`rev: <40 hex>  # frozen: v1.2.3`): a commit id,
# public by nature, that detect-secrets reads as a high-entropy hex string.
# (One `\s*` between the `-` and `rev:`, never two in a row: `\s*-?\s*` is quadratic on a line of blanks.)
_PINNED_REV = re.compile(r"""[ \t]*(?:-[ \t]*)?rev:[ \t]*(['"]?)([0-9a-f]{40}|[0-9a-f]{64})\1(?:[ \t]+#.*)?[ \t]*""")


def pinned_revision(path: str, kind: str, lines: list[str], number: int) -> bool:
    """A commit id pinned as a hook's `rev:` in .pre-commit-config.yaml (nothing else is let through)."""
    if kind != "Hex High Entropy String" or os.path.basename(path) not in (".pre-commit-config.yaml",
                                                                             ".pre-commit-config.yml"):
        return False
    return 0 < number <= len(lines) and _PINNED_REV.fullmatch(lines[number - 1].rstrip("\r")) is not None


def placed(number: int, value: str, lines: list[str], added: frozenset[int] | None) -> tuple[int, int] | None:
    """Where to report a secret detect-secrets found at line `number`: there if the line is to be scanned;
    else the first added line that holds a piece of its value (a YAML block scalar is reported at its
    key's line with the value and a newline: `password: |` then the value on the next line; a value seen
    earlier in the file is reported once); None when no added line holds any piece of it."""
    pieces = [piece.strip() for piece in value.splitlines() if piece.strip()]

    def column(at: int) -> int:
        source = lines[at - 1] if 0 < at <= len(lines) else ""
        return next((source.find(piece) + 1 for piece in pieces if piece in source), 1)

    if added is None or number in added:
        return number, column(number)
    for candidate in sorted(added):
        if 0 < candidate <= len(lines) and any(piece in lines[candidate - 1] for piece in pieces):
            return candidate, column(candidate)
    return None


GENERIC = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
Detect = Callable[[str], list[tuple[str, int, str]]]


@contextlib.contextmanager
def detector() -> Iterator[Detect]:
    """detect-secrets with all plugins and default filters: (secret type, line, value) per secret in a file."""
    import logging  # noqa: PLC0415

    from detect_secrets.core.scan import scan_file  # noqa: PLC0415
    from detect_secrets.settings import default_settings  # noqa: PLC0415

    logging.captureWarnings(False)  # detect-secrets turns this on when imported; leave warnings alone

    def detect(path: str) -> list[tuple[str, int, str]]:
        return [(s.type, s.line_number, s.secret_value or "") for s in scan_file(path)]

    with _LOCK, default_settings():
        yield detect
