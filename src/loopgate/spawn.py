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
    started = start_git(cwd, *args, env=env, timeout=timeout)
    if started is None:  # pragma: no cover - not on Linux
        return _with_subprocess(["git", "-C", cwd, *args], dict(os.environ if env is None else env), timeout)
    return started.result()


def _can_spawn() -> bool:
    import select  # noqa: PLC0415 - a C module

    return hasattr(os, "posix_spawnp") and hasattr(os, "waitstatus_to_exitcode") and hasattr(select, "poll")


def start_git(cwd: str, *args: str, env: Mapping[str, str] | None = None,
              timeout: float | None = None) -> Started | None:
    """`git ARGS` started now, its answer read later with `.result()` (None where only `subprocess`
    can run it): git runs on another core meanwhile. Its output waits in the pipes, so a command
    that prints more than a pipe holds (64 KiB on Linux) only runs ahead that far."""
    if not _can_spawn():
        return None  # pragma: no cover - not on Linux
    return Started(cwd, ["git", "-C", cwd, *args], dict(os.environ if env is None else env), timeout)


class Started:
    """A started git: `result()` reads its output, waits for it and gives a `Ran` (once)."""

    def __init__(self, cwd: str, command: list[str], env: dict[str, str], timeout: float | None) -> None:
        if not os.path.isdir(cwd):  # as subprocess's chdir would fail, before git says "cannot change to"
            raise NotADirectoryError(f"not a directory: {cwd!r}")
        # posix_spawnp looks on this process's PATH; subprocess looked on the one in `env`
        program = command[0] if env.get("PATH") == os.environ.get("PATH") else _on_path(command[0], env)
        self.command, self.timeout = command, timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.out, out_write = os.pipe()
        self.err, err_write = os.pipe()
        try:
            self.pid = os.posix_spawnp(program, command, env, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_write, 1),
                (os.POSIX_SPAWN_DUP2, err_write, 2),
            ], setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        except BaseException:
            os.close(self.out)
            os.close(self.err)
            raise
        finally:  # git holds its own copies; this process only reads
            os.close(out_write)
            os.close(err_write)

    def result(self) -> Ran:
        import select  # noqa: PLC0415

        chunks: dict[int, list[bytes]] = {self.out: [], self.err: []}
        reaped = False
        try:
            poller = select.poll()
            for fd in chunks:
                poller.register(fd, select.POLLIN)
            open_pipes = len(chunks)
            while open_pipes:
                for fd, _ in poller.poll(_left_ms(self.deadline)):
                    data = os.read(fd, 65536)
                    if data:
                        chunks[fd].append(data)
                    else:  # end of file (or POLLHUP): git closed it
                        poller.unregister(fd)
                        open_pipes -= 1
                if self.deadline is not None and open_pipes and time.monotonic() >= self.deadline:
                    raise TimeoutError(f"{' '.join(self.command[:4])}: no answer in {self.timeout:g} s")
            status = _wait(self.pid, self.deadline, self.command, self.timeout)
            reaped = True
        finally:
            if not reaped:  # a timeout or an interruption: git must not outlive the call
                _kill(self.pid)
            os.close(self.out)
            os.close(self.err)
        return Ran(self.command, os.waitstatus_to_exitcode(status), b"".join(chunks[self.out]),
                   b"".join(chunks[self.err]))

    def abandon(self) -> None:
        """Not wanted after all: end and reap git, close the pipes."""
        _kill(self.pid)
        os.close(self.out)
        os.close(self.err)


def _on_path(name: str, env: Mapping[str, str]) -> str:
    """`name` found on `env`'s PATH as exec would find it (the name itself when it holds a slash)."""
    if os.sep in name:
        return name
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(f"{name}: not found on PATH")


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
