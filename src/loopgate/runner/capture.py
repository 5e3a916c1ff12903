"""Reading what the tamper check compares: control files and directories as capture() saw them, a
digest of each, and putting back what a maker changed. Files are read non-blocking, judged on the
open descriptor and capped: the maker's copies are its own to replace with FIFOs, devices, symlinks
and files of holes, and loopgate reads them outside any sandbox."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator

from loopgate.records import record
from loopgate.smallfile import NotRegular, TooLarge, read_small
from loopgate.treewalk import walk

# Control files are small (a spec, a hook, a config); a larger one is compared by its size and times,
# never read: a maker's copy of several gigabytes of holes took seconds and the memory to hold it
CAPTURE_CAP = 16 * 1024 * 1024
CAPTURE_TOTAL = 64 * 1024 * 1024  # what one control directory's files are read to, in all


@record(frozen=True)
class Unreadable:
    """What capture() saw at a path that is no regular file it reads (a FIFO, a device, a socket,
    one past CAPTURE_CAP): compared by what stat says, never put back."""

    what: str


Captured = bytes | dict[str, tuple[int, bytes | Unreadable]] | Unreadable | None


def _read(path: str, follow: bool = True) -> bytes | Unreadable:
    """A control file's bytes, opened non-blocking and judged on the open descriptor: the maker's
    copies are its own to replace, and a FIFO there hung the snapshot after the attempt (open()
    waits for a writer that never comes), /dev/zero never ends. OSError when it is gone.
    `follow=False` (the maker's copies) takes a symlink for what it is, never what it points at."""
    if not follow and os.path.islink(path):
        return Unreadable(f"symlink -> {os.readlink(path)!r}")
    try:
        return read_small(path, CAPTURE_CAP, follow=follow)
    except (NotRegular, TooLarge):
        return _stat_only(path, follow=True)


def hash_files(paths: list[str]) -> dict[str, str]:
    """A digest for each path: a file's content, a directory's names and contents, or 'absent'."""
    out = {}
    for path in paths:
        digest = hashlib.sha256()
        try:
            if os.path.isdir(path):
                for full, read in _files_in(path, follow=True):
                    digest.update(os.fsencode(os.path.relpath(full, path)) + b"\0" + _bytes_of(read))
            else:
                digest.update(_bytes_of(_read(path)))
            out[path] = digest.hexdigest()
        except OSError:
            out[path] = "absent"
    return out


def _files_in(path: str, follow: bool) -> Iterator[tuple[str, bytes | Unreadable]]:
    """Each file under a control directory with what _read() makes of it, in a stable order, without
    recursion (a tree 1,200 folders deep raised RecursionError out of the tamper check), and past
    CAPTURE_TOTAL bytes read in all, compared by stat alone: a maker's copy of `.loop/runs` holding a
    thousand files of 16 MB of holes had the snapshot hold 16 GB."""
    total = 0
    for folder, names in walk(path):
        for name in names:
            full = os.path.join(folder, name)
            try:
                read = _read(full, follow) if total <= CAPTURE_TOTAL else _stat_only(full)
            except OSError:
                continue
            total += len(read) if isinstance(read, bytes) else 0
            yield full, read


def _stat_only(path: str, follow: bool = False) -> Unreadable:
    """What stat says of a file that is not read: compared by it, never put back."""
    st = os.stat(path) if follow else os.lstat(path)
    return Unreadable(f"{stat.filemode(st.st_mode)} {st.st_size} {st.st_mtime_ns} {st.st_ino} {st.st_rdev}")


def _bytes_of(read: bytes | Unreadable) -> bytes:
    return read if isinstance(read, bytes) else b"\0unreadable\0" + read.what.encode()


def capture(path: str, follow: bool = True) -> Captured:
    """A file's bytes, a directory's files (relative name -> mode, bytes), or None when absent:
    what restore() puts back. A FIFO, a device or a file past CAPTURE_CAP is Unreadable, and so is a
    symlink with `follow=False` (the maker's copies: one to `/` had the snapshot walk the disk)."""
    try:
        if not follow and os.path.islink(path):
            return _read(path, follow)
        if os.path.isdir(path):
            files: dict[str, tuple[int, bytes | Unreadable]] = {}
            for full, read in _files_in(path, follow):
                with contextlib.suppress(OSError):
                    mode = os.lstat(full).st_mode if not follow else os.stat(full).st_mode
                    files[os.path.relpath(full, path)] = (mode & 0o7777, read)
            return files
        return _read(path, follow)
    except OSError:
        return None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def put_back(path: str, saved: Captured) -> None:
    """Make `path` what capture() saw: content, a directory's files and their modes, or absent.
    What was Unreadable (no file loopgate reads, or one past the cap) is left as it is now."""
    if isinstance(saved, Unreadable):
        return
    if saved is None or isinstance(saved, bytes):
        _remove(path)
        if saved is not None:
            with open(path, "wb") as handle:
                handle.write(saved)
        return
    if os.path.lexists(path) and not os.path.isdir(path):
        os.unlink(path)
    os.makedirs(path, exist_ok=True)
    for folder, names in list(walk(path)):
        for name in names:
            full = os.path.join(folder, name)
            if os.path.relpath(full, path) not in saved:
                os.unlink(full)
    for rel, (mode, data) in saved.items():
        if isinstance(data, Unreadable):
            continue
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        _remove(full)
        with open(full, "wb") as handle:
            handle.write(data)
        os.chmod(full, mode)


def digest(saved: Captured) -> str:
    if saved is None:
        return "absent"
    digest = hashlib.sha256()
    if isinstance(saved, (bytes, Unreadable)):
        digest.update(_bytes_of(saved))
    else:
        for rel, (mode, data) in sorted(saved.items()):
            digest.update(os.fsencode(f"{rel}\0{mode:o}\0") + hashlib.sha256(_bytes_of(data)).digest())
    return digest.hexdigest()
