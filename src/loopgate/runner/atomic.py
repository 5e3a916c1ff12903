"""Crash-safe file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile


class WriteError(Exception):
    """The file could not be written (disk full, read-only, permissions); nothing was changed."""


def write_atomic(path: str, text: str) -> None:
    """temp file in the same directory -> fsync -> rename over `path` -> fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        # a file name that is not UTF-8 (an agent made it; a gate's finding names it) reaches the
        # state and report as a lone surrogate: written as its escape, not a crash of the run
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            # mkstemp makes the file 0600; the file keeps its own mode, or gets the one any new file gets
            os.fchmod(handle.fileno(), _mode_of(path))
            os.fsync(handle.fileno())
        if os.path.exists(path) and not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is read-only")
        os.replace(tmp, path)
        tmp = None
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as err:
        raise WriteError(f"cannot write {path}: {err.strerror or err}") from err
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _mode_of(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
