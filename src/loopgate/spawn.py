"""Run git and collect what it prints, without importing `subprocess`.

Why: `import subprocess` (with `selectors`, `threading` and `locale`) was about 4 ms of the links
gate's 50 ms cold start, paid by the pre-commit hook on every commit, for three short git
commands. `os.posix_spawnp` starts git (vfork underneath, no copy of this process) and one poll
loop reads both pipes, so a chatty stderr cannot fill its pipe and stall git while stdout is read.

What `subprocess.run(capture_output=True, timeout=T)` gave the callers is kept: `returncode`,
`stdout`, `stderr`; OSError when git cannot start (not found, `cwd` missing); on a timeout git is
killed and reaped and `TimeoutError` (an OSError) is raised; on any other interruption (Ctrl-C,
a stop signal's exception) git is killed and reaped before the exception goes on. SIGPIPE and
SIGXFSZ get their default action back in git, as `restore_signals` does. Differences: git's
stdin is /dev/null (none of these commands reads it), and `cwd` is given as `git -C`, because
posix_spawn cannot change directory before Python 3.13.
Where posix_spawn or poll is missing, `subprocess` does the same job.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping


class Ran:
    """What a finished command printed and returned (the fields of subprocess.CompletedProcess)."""

    __slots__ = ("args", "returncode", "stderr", "stdout")

    def __init__(self, args: list[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr

    def __repr__(self) -> str:
        return f"Ran(args={self.args!r}, returncode={self.returncode})"


def git(cwd: str, *args: str, env: Mapping[str, str] | None = None, timeout: float | None = None) -> Ran:
    """`git ARGS` run in `cwd`."""
    if not os.path.isdir(cwd):  # as subprocess's chdir would fail, before git says "cannot change to"
        raise NotADirectoryError(f"not a directory: {cwd!r}")
    command = ["git", "-C", cwd, *args]
    environment = dict(os.environ if env is None else env)
    if not (hasattr(os, "posix_spawnp") and hasattr(os, "waitstatus_to_exitcode") and _poll() is not None):
        return _with_subprocess(command, environment, timeout)  # pragma: no cover - not on Linux
    return _spawned(command, environment, timeout)


def _poll() -> object:
    import select  # noqa: PLC0415 - a C module; here so the fallback check needs no other import

    return getattr(select, "poll", None)


def _spawned(command: list[str], env: dict[str, str], timeout: float | None) -> Ran:
    import select  # noqa: PLC0415

    deadline = None if timeout is None else time.monotonic() + timeout
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        pid = os.posix_spawnp(command[0], command, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2),
        ], setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    except BaseException:
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        raise
    os.close(out_write)
    os.close(err_write)
    chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}
    reaped = False
    try:
        poller = select.poll()
        for fd in chunks:
            poller.register(fd, select.POLLIN)
        open_pipes = len(chunks)
        while open_pipes:
            for fd, _ in poller.poll(_left_ms(deadline)):
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:  # end of file (or POLLHUP): git closed it
                    poller.unregister(fd)
                    open_pipes -= 1
            if deadline is not None and open_pipes and time.monotonic() >= deadline:
                raise TimeoutError(f"{' '.join(command[:4])}: no answer in {timeout:g} s")
        status = _wait(pid, deadline, command, timeout)
        reaped = True
    finally:
        if not reaped:  # a timeout or an interruption: git must not outlive the call
            _kill(pid)
        os.close(out_read)
        os.close(err_read)
    return Ran(command, os.waitstatus_to_exitcode(status), b"".join(chunks[out_read]), b"".join(chunks[err_read]))


def _left_ms(deadline: float | None) -> int | None:
    if deadline is None:
        return None
    return max(0, int((deadline - time.monotonic()) * 1000) + 1)


def _wait(pid: int, deadline: float | None, command: list[str], timeout: float | None) -> int:
    """The exit status; a git that closed its output but does not exit still meets the deadline."""
    import select  # noqa: PLC0415

    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return status
    if deadline is None:
        return os.waitpid(pid, 0)[1]
    try:  # Linux 5.3+: the process's own descriptor, readable once it has exited
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    if pidfd >= 0:
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if poller.poll(_left_ms(deadline)):
                return os.waitpid(pid, 0)[1]
        finally:
            os.close(pidfd)
    else:  # pragma: no cover - older kernels: look again, less often each time
        pause = 0.0005
        while time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
    raise TimeoutError(f"{' '.join(command[:4])}: no answer in {timeout:g} s")


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _with_subprocess(command: list[str], env: dict[str, str],
                     timeout: float | None) -> Ran:  # pragma: no cover - not on Linux
    import subprocess  # noqa: PLC0415

    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as err:
        raise TimeoutError(f"{' '.join(command[:4])}: no answer in {timeout:g} s") from err
    return Ran(command, done.returncode, done.stdout, done.stderr)
