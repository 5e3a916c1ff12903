"""Read a file as artifact text, or say exactly why it cannot be read. Never raises."""

from __future__ import annotations

import os
import stat

from loopgate import codes
from loopgate.findings import Finding
from loopgate.records import record

MAX_BYTES = 2 * 1024 * 1024


@record(frozen=True)
class Loaded:
    path: str
    text: str | None
    problem: Finding | None


def repository_root(directory: str) -> str:
    """The repository a path in `directory` belongs to: the nearest directory up holding `.git`
    (a directory, or a worktree's file); outside git, the current directory when `directory` is
    under it, else `directory` itself (nothing above what was named is the project's)."""
    start = os.path.abspath(directory)
    here = start
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    cwd = os.getcwd()
    if start == cwd or start.startswith(cwd.rstrip(os.sep) + os.sep):
        return cwd
    # a loop's `.loop/` belongs to the project around it
    return os.path.dirname(start) if os.path.basename(start) == ".loop" else start


def leaves_repository(path: str, real_dirs: dict[str, str] | None = None) -> str:
    """Where `path` really is ("" when inside its repository): a symlink, or a symlinked
    directory on the way, that resolves outside the repository is not the project's file. A
    hook or CI job must not read `/etc/passwd` or another checkout's spec as this loop's.
    `real_dirs`: directories' real paths, kept by a caller asking about many files in one go (a
    realpath costs a stat a path component, about 50 us; the schema gate's fast path, 25 us a file)."""
    full = os.path.abspath(path)
    if real_dirs is None:
        real = os.path.realpath(full)
    else:
        directory, name = os.path.split(full)
        real_dir = real_dirs.get(directory)
        if real_dir is None:
            real_dir = real_dirs[directory] = os.path.realpath(directory)
        real = os.path.realpath(full) if os.path.islink(full) else os.path.join(real_dir, name)
    if real == full:
        return ""  # no symlink on the way: whatever was named is what is read
    root = os.path.realpath(repository_root(os.path.dirname(os.path.abspath(path))))
    inside = real == root or real.startswith(root.rstrip(os.sep) + os.sep)
    return "" if inside else real


def read_artifact(path: str) -> Loaded:
    outside = leaves_repository(path)
    if outside:
        return Loaded(path, None, codes.UNREADABLE.at(
            path, 1, 1, f"{path}: a symlink to {outside}, outside the repository; not read"))
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            # a FIFO would block the read forever, a device never ends: neither is markdown
            return Loaded(path, None, codes.UNREADABLE.at(path, 1, 1, f"{path}: not a regular file"))
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if os.path.islink(path):  # the name is there, what it points at is not
            target = os.readlink(path)
            return Loaded(path, None, codes.UNREADABLE.at(path, 1, 1, f"{path}: broken symlink to {target}"))
        return Loaded(path, None, codes.PATH_NOT_FOUND.at(path, 1, 1, f"{path}: no such file"))
    except IsADirectoryError:
        return Loaded(path, None, codes.UNREADABLE.at(path, 1, 1, f"{path}: is a directory, not a file"))
    except OSError as err:
        return Loaded(path, None, codes.UNREADABLE.at(path, 1, 1, f"{path}: {err.strerror or err}"))
    if len(raw) > MAX_BYTES:
        size = os.path.getsize(path)
        return Loaded(path, None, codes.TOO_LARGE.at(path, 1, 1, f"{path}: {size:,} bytes is over the 2 MiB limit"))
    return loaded_from_bytes(path, raw)


def loaded_from_bytes(path: str, raw: bytes) -> Loaded:
    """Artifact text from bytes already read (a file as a commit holds it), checked as `read_artifact`
    checks a file on disk."""
    if len(raw) > MAX_BYTES:
        return Loaded(path, None, codes.TOO_LARGE.at(path, 1, 1, f"{path}: over the 2 MiB limit"))
    if b"\0" in raw:
        line, column = _position(raw, raw.index(b"\0"))
        return Loaded(path, None, codes.BINARY.at(path, line, column,
                                                  f"{path}: contains NUL bytes; not a markdown file"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _position(raw, err.start)
        return Loaded(path, None, codes.NOT_UTF8.at(path, line, column,
                                                    f"{path}: byte 0x{raw[err.start]:02x} is not valid UTF-8"))
    return Loaded(path, text.removeprefix("\ufeff"), None)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column of byte `offset`, counted as every other finding is: lines end at CR, LF or
    CRLF, columns are characters (the bytes before `offset` decode: it is the first bad one), and a
    leading BOM is not part of the first line."""
    before = raw[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    start = before.rfind(b"\n") + 1
    line_text = before[start:].decode("utf-8", "replace")
    if start == 0:
        line_text = line_text.removeprefix("\ufeff")
    return before.count(b"\n") + 1, len(line_text) + 1
