"""Ending a command and everything it started: its process group, and descendants that left it.

The maker (runner/maker.py) and the readiness audit's checklist run (readiness/repository.py)
start commands in a process group of their own (`start_new_session=True`) and end them through
here, so there is one way to stop a command and one place to fix it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def kill_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group, if it is still there (and is ours to signal)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(proc: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the whole group, up to `grace` seconds, then SIGKILL whatever ignores it."""
    kill_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def end_family(proc: subprocess.Popen[Any], grace: float) -> None:
    """End the command, its group and every descendant with the groups they made. A gate may run
    its own command in a process group of its own (`loopgate check` does), so the descendants are
    found first: once the command is gone they are orphans nobody can name."""
    family = descendants(proc.pid)
    kill_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    for pid in [proc.pid, *family, *descendants(proc.pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def descendants(root: int) -> list[int]:
    """Every process below `root`, from /proc (Linux); empty elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat_line = handle.read()
        except OSError:
            continue
        fields = stat_line[stat_line.rfind(")") + 2:].split()  # the name may hold spaces and parentheses
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
