"""Reading a small file loopgate does not trust to be one: a work queue, a maker's usage account, a
run report, the reviews file, a CI event file.

Opened non-blocking and judged on the open descriptor (a check before the open could be raced by a
swap of the name): a FIFO would block the read forever, /dev/zero never ends, a directory is no file.
"""

from __future__ import annotations

import os
import stat


class NotRegular(OSError):
    """The path names a FIFO, a device, a socket or a directory: it is never read."""


class TooLarge(ValueError):
    """The file holds more than the caller's cap."""


def read_small(path: str, cap: int, *, follow: bool = True) -> bytes:
    """The bytes of the regular file at `path`, at most `cap` of them; `follow=False` refuses a symlink
    (OSError ELOOP), for files a maker could have planted. FileNotFoundError when there is none."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
    with open(os.open(path, flags), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotRegular(f"{path} is not a regular file")
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise TooLarge(f"{path} is larger than {cap} bytes")
    return data
