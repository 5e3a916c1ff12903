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
folder is not writable. A value is whatever `marshal` keeps (code, str, tuples, None, bool);
`valid` checks what comes back, so a damaged entry is recomputed rather than used.
"""

from __future__ import annotations

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
        self.head = f"loopgate-memo {name} {version} {sys.hexversion}\n".encode()
        self.valid = valid
        self.limit = limit  # entries kept; past it the oldest go (a file's every past version, say)
        self.table: dict[str, Any] | None = None

    def get(self, key: str) -> Any:
        """The value kept for `key`; None when there is none."""
        if self.table is None:
            self.table = self._read()
        return self.table.get(key)

    def put(self, key: str, value: Any) -> None:
        """Keep `value` for `key`, in this process and in the file (a miss is the first run after an
        install or an upgrade: the file is rewritten whole, in one step, for each)."""
        try:
            marshal.dumps(value)
        except ValueError:  # a value marshal does not keep (a TOML date): not kept at all
            return
        if self.table is None:
            self.table = self._read()
        self.table[key] = value
        for old in list(self.table)[:max(0, len(self.table) - self.limit)]:
            del self.table[old]
        if sys.dont_write_bytecode:
            return
        partial = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(partial, "wb") as handle:
                handle.write(self.head + marshal.dumps(self.table))
            os.replace(partial, self.path)  # a process reading it sees the old file or the new
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(partial)

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
            if not raw.startswith(self.head):
                return {}
            table = marshal.loads(raw[len(self.head):])
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not isinstance(table, dict):
            return {}
        return {k: v for k, v in table.items() if isinstance(k, str) and self.valid(v)}
