"""Processes of an attempt that left its process group: found by a token in their environment.

A maker can leave its process group (setsid, a double fork) and so outlive a kill of the group.
Every process of an attempt carries the attempt's random token (TOKEN_VAR) in its environment,
inherited by whatever it starts; after the attempt, /proc is scanned for it and every process
holding it is ended. The gates' commands use their own variable with the same scan
(gates/_process.py). A process that clears its environment escapes this scan: contained, the
maker's PID namespace ends it anyway; uncontained, loopgate commits only the tree the gates
judged (runner/git.py: Worktrees.commit_tree).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

from loopgate.runner.processes import kill_group

TOKEN_VAR = "LOOPGATE_ATTEMPT_TOKEN"
ESCAPED_GRACE = 1.0  # SIGTERM -> SIGKILL for escaped processes: the attempt is already over
SCAN_ROUNDS = 5  # rescans after a kill, for processes forked while the previous scan ran
PF_KTHREAD = 0x00200000  # /proc/PID/stat flags: a kernel thread (no environment, never ours)
PENDING_WAIT = 2.0  # seconds to wait for a process caught mid-exec to show its new environment


def _has_entry(pid: str, uid: int, entry: bytes) -> bool | None:
    """Whether process `pid` belongs to `uid` and has `entry` (NAME=value) in its environment;
    None when that cannot be told yet: the process is inside execve (its new memory has no
    environment until the kernel copies it in) or is exiting. Processes that vanish, are
    zombies or belong to others read as no."""
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return False
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    if not data:
        return None if _between_environments(pid) else False
    # the cheap test first; then an exact entry, not a prefix of a longer value or part of another one
    return entry in data and b"\0" + entry + b"\0" in b"\0" + data + b"\0"


def _between_environments(pid: str) -> bool:
    """Whether an empty read of /proc/PID/environ may be hiding the process's environment.

    Two moments read empty: inside execve, the new memory map has no environment until the
    kernel copies it in (stat field 51, env_end, is 0); and an environ file opened before an
    exec reads the old, released memory map. Either way a fresh read soon shows the real one.
    A process started with an empty environment (`env -i`) has env_start == env_end != 0; a
    zombie and a kernel thread have none to show. The scan used to take every empty read as
    "no token", so an escapee exec'ing `sleep` at the wrong moment outlived its attempt."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        state, flags, env_start, env_end = fields[0], int(fields[6]), int(fields[47]), int(fields[48])
    except (OSError, ValueError, IndexError):
        return False
    if state in (b"Z", b"X") or flags & PF_KTHREAD:
        return False
    return env_end == 0 or env_start != env_end


def tokened_pids(token: str, var: str = TOKEN_VAR) -> list[int]:
    """Every process of this user, except this one, whose environment holds VAR=token (the gates' commands
    use their own variable, so a gate run inside an attempt keeps the attempt's token too).

    Two scans, united: under load a process caught at the wrong instant of an execve can read as
    tokenless once (seen about 1 scan in 200 with a process that only re-execs itself); missing
    it twice running is far rarer, and a miss is an escapee that outlives its attempt."""
    return sorted(set(_scan(token, var)) | set(_scan(token, var)))


def _scan(token: str, var: str = TOKEN_VAR) -> list[int]:
    """Every process of this user, except this one, whose environment holds TOKEN_VAR=token.
    A process caught between two environments (mid-exec) is read again until it shows one, so
    a scan never misses a process for the moment it looked at it."""
    if not sys.platform.startswith("linux") or not token:
        return []
    entry, uid, me = f"{var}={token}".encode(), os.getuid(), os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    found: list[int] = []
    pending: list[str] = []
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        has = _has_entry(name, uid, entry)
        if has is None:
            pending.append(name)
        elif has:
            found.append(int(name))
    deadline = time.monotonic() + PENDING_WAIT
    while pending and time.monotonic() < deadline:
        time.sleep(0.001)
        still: list[str] = []
        for name in pending:
            has = _has_entry(name, uid, entry)
            if has is None:
                still.append(name)
            elif has:
                found.append(int(name))
        pending = still
    return sorted(found)


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _running(pid: int) -> bool:
    """Alive and not a zombie: a killed process re-parented to an init that does not reap stays a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return False
    return state != [b"Z"]


def _wait_gone(pids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def end_tokened(token: str, grace: float = ESCAPED_GRACE, var: str = TOKEN_VAR) -> list[int]:
    """End every process carrying this attempt's token: SIGTERM, up to `grace` seconds, SIGKILL.
    Returns the pids found. One /proc scan when nothing escaped; rescans only after a kill."""
    pids = tokened_pids(token, var)
    if not pids:
        return []
    found = set(pids)
    _signal_all(pids, signal.SIGTERM)
    _wait_gone(pids, grace)
    # a fresh scan, not the first list: it holds what ignored SIGTERM and what was forked since, and
    # leaves out a pid reused by an unrelated process in between
    for _ in range(SCAN_ROUNDS):
        left = tokened_pids(token, var)
        if not left:
            break
        found.update(left)
        _signal_all(left, signal.SIGKILL)
        _wait_gone(left, ESCAPED_GRACE)
    return sorted(found)


def maker_pid_file(runtime_dir: str) -> str:
    return os.path.join(runtime_dir, "maker.pid")


def kill_orphaned_maker(runtime_dir: str) -> int | None:
    """A run killed with -9 leaves its maker running; the next run ends it before starting:
    its process group, and whatever left the group carrying the attempt's token."""
    path = maker_pid_file(runtime_dir)
    try:
        with open(path, encoding="utf-8") as handle:
            words = handle.read().split()
        pgid, token = int(words[0]) if words else 0, words[1] if len(words) > 1 else ""
    except (OSError, ValueError):
        return None
    if pgid > 0:
        kill_group(pgid, signal.SIGKILL)
    if token:
        end_tokened(token)
    os.unlink(path)
    return pgid
