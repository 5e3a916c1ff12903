"""`loopgate.spawn.git` does what `subprocess.run(capture_output=True, timeout=T)` did for the gates' git
calls: real git, and a stand-in `git` on PATH (a shell script) for the hostile shapes: both pipes
full at once, a git that hangs, one that closes its output and stays, an interruption."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from loopgate import spawn


@pytest.fixture
def fake_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Put a `git` that runs `script` first on PATH (posix_spawnp searches this process's PATH)."""
    folder = tmp_path / "bin"
    folder.mkdir()

    def make(script: str) -> None:
        (folder / "git").write_text("#!/bin/sh\n" + script, encoding="utf-8")
        (folder / "git").chmod(0o755)

    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return make


def test_real_git_output_error_and_status(tmp_path: Path) -> None:
    done = spawn.git(str(tmp_path), "--version", timeout=30)
    assert done.returncode == 0 and done.stdout.startswith(b"git version") and done.stderr == b""
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    bad = spawn.git(str(tmp_path / "r"), "rev-parse", "--verify", "no-such-ref", timeout=30)
    assert bad.returncode == 128 and b"single revision" in bad.stderr and bad.stdout == b""
    # `cwd` is where git runs, as subprocess's cwd= was
    top = spawn.git(str(tmp_path / "r"), "rev-parse", "--show-toplevel", timeout=30)
    assert os.path.realpath(top.stdout.decode().strip()) == os.path.realpath(tmp_path / "r")


def test_a_missing_directory_or_git_is_an_oserror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(OSError):
        spawn.git(str(tmp_path / "gone"), "status", timeout=30)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git here
    with pytest.raises(FileNotFoundError):
        spawn.git(str(tmp_path), "status", timeout=30)


def test_both_pipes_full_at_once_do_not_stall(tmp_path: Path, fake_git: Any) -> None:
    # 1 MiB on stderr before a byte of stdout: read in turn, the stderr pipe would fill and git would wait
    fake_git("head -c 1048576 /dev/zero >&2\nhead -c 1048576 /dev/zero\nexit 3\n")
    done = spawn.git(str(tmp_path), "x", timeout=30)
    assert (done.returncode, len(done.stdout), len(done.stderr)) == (3, 1 << 20, 1 << 20)


def test_stdin_is_empty_and_sigpipe_is_back_to_default(tmp_path: Path, fake_git: Any) -> None:
    fake_git("cat\nexec grep SigIgn /proc/self/status\n")
    done = spawn.git(str(tmp_path), "x", timeout=30)  # cat ends at once: stdin is /dev/null
    ignored = int(done.stdout.split()[-1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1)), done.stdout  # Python ignores it; git must not


@pytest.mark.parametrize("script", ["sleep 30\n", "exec >&- 2>&-\nsleep 30\n"])
def test_a_git_that_does_not_finish_is_killed_at_the_timeout(tmp_path: Path, fake_git: Any, script: str) -> None:
    # the second closes its output first: the wait for its exit keeps the deadline too
    pid_file = tmp_path / "pid"
    fake_git(f"echo $$ > {pid_file}\n{script}")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        spawn.git(str(tmp_path), "x", timeout=0.5)
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left behind
        os.kill(int(pid_file.read_text()), 0)


def test_an_interruption_kills_git_before_it_goes_on(tmp_path: Path, fake_git: Any) -> None:
    pid_file = tmp_path / "pid"
    fake_git(f"echo $$ > {pid_file}\nsleep 30\n")

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            spawn.git(str(tmp_path), "x", timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)



def test_git_is_looked_up_on_the_path_of_the_env_given(tmp_path: Path) -> None:
    # posix_spawnp searches this process's PATH; subprocess searched the env's, which callers may set
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "git").write_text("#!/bin/sh\necho from-the-env-path\n", encoding="utf-8")
    (folder / "git").chmod(0o755)
    done = spawn.git(str(tmp_path), "x", env={**os.environ, "PATH": str(folder)}, timeout=30)
    assert done.stdout == b"from-the-env-path\n"
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(FileNotFoundError):
        spawn.git(str(tmp_path), "x", env={**os.environ, "PATH": str(tmp_path / "none")}, timeout=30)
    assert len(os.listdir("/proc/self/fd")) == before  # no pipe left open by the failed start
