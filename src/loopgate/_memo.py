"""Work a cold start would redo in every process, kept between processes as Python keeps bytecode.

Three users: the methods `loopgate.records` generates for each class (compile() is 0.1 to 0.6 ms
a class, about 4 ms of a links gate's cold start), the regexes pathspec makes of gitignore
patterns (importing pathspec is 13 ms, for a few patterns that are the same on every run) and the
`[tool.loopgate]` table of a pyproject.toml (tomllib, with the `typing` it imports, is 5 ms).

A memo is one file in the __pycache__ beside this module, per memo and interpreter, marshalled
and read once a process. The key is the whole input (a class's source, a pattern), and the
memo's `version` names whatever else decides the value (the generator, pathspec's version), so a
stale entry is never found. A file that does not read back, or holds another version, is ignored;
none is written where Python writes no bytecode either (PYTHONDONTWRITEBYTECODE, -B) or where the
folder is not writable. A value is whatever `marshal` keeps (code, str, tuples, None, bool). A
checksum of what was written is checked on every read, and `valid` checks each value, so a damaged
file is ignored and its entries made again rather than used.
"""

from __future__ import annotations

import binascii
import contextlib
import marshal
import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")


class DiskMemo:
    def __init__(self, name: str, version: str, valid: Callable[[Any], bool], limit: int = 4096) -> None:
        self.path = os.path.join(FOLDER, f"{name}.{sys.implementation.cache_tag}.bin")
        self.head = f"loopgate-memo {name} {version} {sys.hexversion}".encode()
        self.valid = valid
        self.limit = limit  # entries kept; past it the oldest go (a file's every past version, say)
        self.table: dict[str, Any] | None = None
        self.dirty = False

    def get(self, key: str) -> Any:
        """The value kept for `key`; None when there is none."""
        if self.table is None:
            self.table = self._read()
        return self.table.get(key)

    def put(self, key: str, value: Any) -> None:
        """Keep `value` for `key` in this process; `flush` writes what was put to the file."""
        try:
            marshal.dumps(value)
        except ValueError:  # a value marshal does not keep (a TOML date): not kept at all
            return
        if self.table is None:
            self.table = self._read()
        self.table[key] = value
        self.dirty = True

    def flush(self) -> None:
        """Write the file whole, in one step (a process reading it sees the old file or the new), once
        for all the values put since: a miss is the first run after an install or an upgrade, or a
        pattern not seen before, and a thousand new patterns are one write, not a thousand."""
        if not self.dirty or self.table is None:
            return
        self.dirty = False
        for old in list(self.table)[:max(0, len(self.table) - self.limit)]:
            del self.table[old]
        if sys.dont_write_bytecode:
            return
        partial = f"{self.path}.{os.getpid()}.tmp"
        try:
            payload = marshal.dumps(self.table)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(partial, "wb") as handle:
                handle.write(self.head + b" %d\n" % binascii.crc32(payload) + payload)
            os.replace(partial, self.path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(partial)

    def _read(self) -> dict[str, Any]:
        """The file's table; {} for a missing file, another version's, or one whose bytes are not the
        ones written (the checksum: marshal turns damaged bytes into damaged code, which crashes the
        interpreter when run, rather than into an error)."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
            head, newline, payload = raw.partition(b"\n")
            name, _, checksum = head.rpartition(b" ")
            if not newline or name != self.head or checksum != b"%d" % binascii.crc32(payload):
                return {}
            table = marshal.loads(payload)
        except Exception:  # whatever a damaged file raises (SystemError too): it is not used
            return {}
        if not isinstance(table, dict):
            return {}
        return {k: v for k, v in table.items() if isinstance(k, str) and self.valid(v)}
