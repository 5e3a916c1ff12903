"""Where `loopgate report -o PATH` writes: into what stands at PATH, never over it.

A regular file (or nothing yet) is replaced atomically, so whatever serves or reads the report sees
the old one or the new one, never half of either. A symlink is followed: the file it points to is
written (atomically, when that is a regular file or nothing yet) and the link stays a link. A FIFO
or a character device (`/dev/null`, `/dev/stdout`, a terminal) is opened and written, as a shell's
`>` writes it: replacing it would leave a regular file where a pipe or a device was (as root, one
at /dev/null). A directory, a block device or a socket is refused: none can hold a report.
"""

from __future__ import annotations

import os
import re
import stat

from loopgate.runner.atomic import WriteError, write_atomic

# The kernel's own limit on symlinks followed in one lookup.
MAX_LINKS = 40
# Paths that name an open descriptor (`/dev/stdout` -> `/proc/self/fd/1`): opened and written, whatever
# they lead to. `/dev/stdout` redirected to a file resolves to that file, and a rename over it would drop
# what `>> "$GITHUB_STEP_SUMMARY"` kept in it, and write where no descriptor points any more.
_DESCRIPTOR = re.compile(r"/dev/(stdin|stdout|stderr)|/dev/fd/.*|/proc/[^/]+(/task/[^/]+)?/fd/.*")


def write_output(path: str, text: str) -> None:
    """Write `text` into what `path` names (see the module's docstring); WriteError says why not."""
    through = _names_a_descriptor(path)
    try:
        info = os.stat(path)  # follows symlinks: the kind of the file the link leads to
    except FileNotFoundError:
        info = None  # nothing there yet, or a link to nothing yet: made where the link points
    except OSError as err:  # a symlink loop, a directory on the way that may not be searched
        raise WriteError(f"cannot write {path}: {err.strerror or err}") from err
    if info is None or (stat.S_ISREG(info.st_mode) and not through):
        write_atomic(os.path.realpath(path), text)
    elif stat.S_ISDIR(info.st_mode):
        raise WriteError(f"cannot write {path}: it is a directory (name a file in it)")
    elif stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode) or stat.S_ISREG(info.st_mode):
        _write_through(path, text)
    else:
        kind = "a block device" if stat.S_ISBLK(info.st_mode) else "a socket"
        raise WriteError(f"cannot write {path}: it is {kind}, not a file a report can be written to")


def _names_a_descriptor(path: str) -> bool:
    """`path`, or a symlink on the way from it, names an open descriptor."""
    current = os.path.abspath(path)
    for _ in range(MAX_LINKS):
        if _DESCRIPTOR.fullmatch(current):
            return True
        try:
            link = os.readlink(current)
        except OSError:  # not a symlink, or nothing there: the end of the chain
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return False  # a loop: os.stat says so


def _write_through(path: str, text: str) -> None:
    # Opened by the name given (a descriptor's realpath, `pipe:[123]`, is no path) and appended to: a
    # pipe or a device has no end to append at, and stdout redirected with `>>` keeps what it held.
    try:
        with open(path, "a", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
            handle.write(text)
    except OSError as err:  # the reader went away (EPIPE), a device that takes no writes
        raise WriteError(f"cannot write {path}: {err.strerror or err}") from err
