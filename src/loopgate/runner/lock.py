"""One run of a loop at a time.

An flock on `<loop>/.loopgate/run.lock` is the real exclusion: the kernel drops it when the
process dies, even on kill -9. The pid written inside tells a second run who holds it, and
tells the next run that a previous one died without cleaning up (a stale lock), which is
reported rather than silently ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import stat
import time
from collections.abc import Iterator
from typing import IO

from loopgate.records import record


class LockHeld(Exception):
    """Another live run holds the lock."""


@record(frozen=True)
class StaleLock:
    pid: int
    started: float
    host: str


class RunLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: IO[str] | None = None
        self.stale: StaleLock | None = None

    def _regular(self) -> None:
        """A lock file that is a FIFO, a device or a link would hang or mislead open(): refuse it."""
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as err:
            raise LockHeld(f"cannot read the lock {self.path}: {err.strerror or err}") from err
        if not stat.S_ISREG(mode):
            raise LockHeld(f"the lock {self.path} is not a regular file: remove it (no run can hold it) "
                           "and start the run again") from None

    def _previous(self) -> dict[str, object]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                loaded = json.loads(handle.read() or "{}")
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def acquire(self) -> RunLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._regular()
        previous = self._previous()
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run's lifetime
        got = _exclusive(handle.fileno())
        if got is not True:
            handle.close()
            pid = previous.get("pid", "?")
            if got == "writers":
                raise LockHeld(f"a `loopgate review` or a readiness demotion write has held this loop's lock "
                               f"for over {WRITERS_WAIT:.0f} s (a stopped or hung process? lock {self.path}); "
                               "let it finish or end it, then start the run again") from None
            raise LockHeld(f"another run of this loop is in progress (pid {pid}, lock {self.path})") from None
        pid = previous.get("pid")
        if isinstance(pid, int) and pid != os.getpid():
            # We got the flock, so its holder is gone; a pid left behind means it never cleaned up.
            started = previous.get("started", 0.0)
            self.stale = StaleLock(pid, float(started) if isinstance(started, (int, float)) else 0.0,
                                   str(previous.get("host", "")))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
        handle.flush()
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is None:
            return
        self.handle.seek(0)
        self.handle.truncate()  # an empty lock file means the last run ended cleanly
        self.handle.flush()
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        self.handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


WRITERS_WAIT = 10.0  # seconds a starting run waits for `loopgate review`s and demotion writes to finish


def _exclusive(descriptor: int) -> bool | str:
    """Take the run lock exclusively: at once when it is free, after a wait when only writers that are
    not runs hold it (shared, for the moment a verdict or a demotion is written: see held_unless_busy),
    never when another run holds it. A shared probe tells the two holders apart: it is refused only
    while a run holds the lock exclusively."""
    deadline = time.monotonic() + WRITERS_WAIT
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return "run"  # a run holds it
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        if time.monotonic() > deadline:
            return "writers"
        time.sleep(0.02)


@contextlib.contextmanager
def held_unless_busy(path: str) -> Iterator[bool]:
    """Hold the run lock at `path` shared for a moment, without waiting: True while held, False when a
    run holds it. Shared, so that writers which are not runs (verdicts, demotions) never refuse each
    other (they serialise on their own locks), and a run starting meanwhile waits for them (RunLock).
    Nothing is written into the lock file (its pid belongs to runs: a stale one left by a run that
    died must still be reported by the next run). No path, or no lock file yet: True."""
    if not path or not os.path.isfile(path):
        yield True
        return
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["LockHeld", "RunLock", "StaleLock", "held_unless_busy"]
