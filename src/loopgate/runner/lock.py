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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO


class LockHeld(Exception):
    """Another live run holds the lock."""


@dataclass(frozen=True)
class StaleLock:
    pid: int
    started: float
    host: str


class RunLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: IO[str] | None = None
        self.stale: StaleLock | None = None

    def _previous(self) -> dict[str, object]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                loaded = json.loads(handle.read() or "{}")
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def acquire(self) -> RunLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        previous = self._previous()
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run's lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            pid = previous.get("pid", "?")
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


@contextlib.contextmanager
def held_unless_busy(path: str) -> Iterator[bool]:
    """Hold the run lock at `path` for a moment, without waiting: True while held, False when a run
    holds it. Nothing is written into the lock file (its pid belongs to runs: a stale one left by
    a run that died must still be reported by the next run). No path, or no lock file yet: True."""
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
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["LockHeld", "RunLock", "StaleLock", "held_unless_busy"]
