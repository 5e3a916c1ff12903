"""An exclusive flock with a time limit (POSIX only: callers without fcntl do not lock).

flock itself waits forever or not at all; a lock held by a stopped or hung process (^Z, SIGSTOP,
a dead NFS server) must end in a message, not a hang, so the wait is polled against a deadline.
The kernel drops the lock when the descriptor is closed or its process dies.
"""

from __future__ import annotations

import fcntl
import time


def flock_within(descriptor: int, seconds: float, poll: float = 0.02) -> bool:
    """Take an exclusive flock on `descriptor`, waiting up to `seconds`: False when it is still held."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)
