"""A maker that escapes its process group (`setsid`, a double-forking daemon) is still ended when
its attempt ends: found by the attempt's token in /proc/PID/environ. Real processes throughout;
nothing without the token is touched."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopgate.runner.maker import PENDING_WAIT, TOKEN_VAR, MakerLimits, MakerRun, end_tokened, run_maker, tokened_pids

from .conftest import pid_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the token scan reads Linux's /proc")

# forks twice with a new session in between, like a classic daemon, then sleeps; the grandchild writes its pid
DAEMON = textwrap.dedent("""\
    import os, sys, time
    if os.fork():
        sys.exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    with open(sys.argv[1] + ".tmp", "w") as handle:
        handle.write(f"{os.getpid()} {os.getpgid(0)}")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(600)
""")


def wait_for_file(path: Path) -> str:
    """Shell that waits until `path` exists, so the maker exits only once its escapee is in place."""
    return f"while [ ! -s {shlex.quote(str(path))} ]; do sleep 0.01; done"


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Pids a test started or expected dead: killed at the end whatever the test found."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def make(tmp_path: Path, command: str, timeout: float = 30, groups: list[int] | None = None) -> MakerRun:
    return run_maker(command, str(tmp_path), dict(os.environ), MakerLimits(timeout=timeout, grace=0.5),
                     str(tmp_path / "maker.log"), on_start=None if groups is None else groups.append)


def read_pid(path: Path, leftovers: list[int]) -> int:
    pid = int(path.read_text().split()[0])
    leftovers.append(pid)
    return pid


def test_a_setsid_sleep_is_ended_when_the_maker_exits(tmp_path: Path, leftovers: list[int]) -> None:
    pid_file = tmp_path / "escaped.pid"
    made = make(tmp_path, f"setsid sleep 600 > /dev/null 2>&1 < /dev/null & echo $! > {shlex.quote(str(pid_file))}; "
                          "echo done")
    escaped = read_pid(pid_file, leftovers)
    assert made.exit_code == 0 and made.stopped == ""
    assert "done" in made.output_tail
    assert not pid_alive(escaped)


def test_a_double_forking_daemon_is_ended_when_the_maker_exits(tmp_path: Path, leftovers: list[int]) -> None:
    pid_file = tmp_path / "daemon.pid"
    script = tmp_path / "daemon.py"
    script.write_text(DAEMON)
    groups: list[int] = []
    made = make(tmp_path, f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(pid_file))}; "
                          f"{wait_for_file(pid_file)}", groups=groups)
    daemon = read_pid(pid_file, leftovers)
    assert made.exit_code == 0
    # it really had left the maker's process group: killing the group could not have reached it
    assert int(pid_file.read_text().split()[1]) not in groups
    assert not pid_alive(daemon)


def test_an_escapee_is_ended_when_the_maker_times_out(tmp_path: Path, leftovers: list[int]) -> None:
    pid_file = tmp_path / "escaped.pid"
    made = make(tmp_path, f"setsid sleep 600 > /dev/null 2>&1 < /dev/null & echo $! > {shlex.quote(str(pid_file))}; "
                          "sleep 600", timeout=1)
    escaped = read_pid(pid_file, leftovers)
    assert made.stopped == "timeout"
    assert not pid_alive(escaped)


def test_an_escapee_that_ignores_sigterm_is_killed(tmp_path: Path, leftovers: list[int]) -> None:
    pid_file = tmp_path / "stubborn.pid"
    stubborn = (f"{shlex.quote(sys.executable)} -c 'import os, signal, time; signal.signal(signal.SIGTERM, "
                f"signal.SIG_IGN); os.setsid(); open(\"{pid_file}\", \"w\").write(str(os.getpid())); time.sleep(600)'")
    made = make(tmp_path, f"{stubborn} > /dev/null 2>&1 < /dev/null & {wait_for_file(pid_file)}")
    pid = read_pid(pid_file, leftovers)
    assert made.exit_code == 0
    assert not pid_alive(pid)


def test_the_maker_sees_its_own_fresh_token_and_the_callers_env_is_unchanged(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop(TOKEN_VAR, None)
    before = dict(env)
    tokens = []
    for _ in range(2):
        made = run_maker(f'echo "token=${TOKEN_VAR}"', str(tmp_path), env, MakerLimits(timeout=30, grace=0.5),
                         str(tmp_path / "maker.log"))
        match = re.search(r"token=([0-9a-f]+)$", made.output_tail.strip())
        assert match is not None, made.output_tail
        tokens.append(match.group(1))
    assert env == before
    assert len(tokens[0]) == 32 and tokens[0] != tokens[1]
    # a caller may choose the token (to record it before the attempt, for cleanup after a crash)
    made = run_maker(f'echo "token=${TOKEN_VAR}"', str(tmp_path), env, MakerLimits(timeout=30, grace=0.5),
                     str(tmp_path / "maker.log"), token="feedc0de" * 4)
    assert made.output_tail.strip() == "token=" + "feedc0de" * 4


def sleeper(leftovers: list[int], **env: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sleep", "600"], env={**os.environ, **env}, start_new_session=True)
    leftovers.append(proc.pid)
    return proc


def test_processes_without_the_token_are_untouched(tmp_path: Path, leftovers: list[int]) -> None:
    token_file = tmp_path / "token"
    bystander = sleeper(leftovers)  # started by the test itself, not by the maker
    made = make(tmp_path, f'echo "${TOKEN_VAR}" > {shlex.quote(str(token_file))}')
    assert made.exit_code == 0
    assert bystander.poll() is None
    # a value that only starts like the token, and the entry inside another variable, are not the token
    token = token_file.read_text().strip()
    near = [sleeper(leftovers, **{TOKEN_VAR: token + "0"}), sleeper(leftovers, OTHER=f"{TOKEN_VAR}={token}")]
    exact = sleeper(leftovers, **{TOKEN_VAR: token})
    assert tokened_pids(token) == [exact.pid]
    assert end_tokened(token, grace=5) == [exact.pid]
    assert exact.wait(timeout=10) == -signal.SIGTERM  # our own child, reaped here: it really ended, by SIGTERM
    assert all(p.poll() is None for p in [bystander, *near])
    for proc in [bystander, *near]:
        proc.kill()
        proc.wait()


RUNNER_WITH_TOKEN = textwrap.dedent("""\
    import os, sys
    from loopgate.runner.maker import end_tokened, tokened_pids
    token = os.environ["LOOPGATE_ATTEMPT_TOKEN"]
    print(os.getpid() in tokened_pids(token), end_tokened(token, grace=0.5))
""")


def test_the_runner_itself_is_never_a_target() -> None:
    # a runner that carries the token in its own environment (a loop run from inside a maker) ends
    # nothing of itself; it lives to print
    token = "0123456789abcdef" * 2
    probe = subprocess.run([sys.executable, "-c", RUNNER_WITH_TOKEN], capture_output=True, text=True, timeout=60,
                           env={**os.environ, TOKEN_VAR: token}, check=False)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["False", "[]"]
    assert tokened_pids("") == []


def test_a_process_with_an_empty_environment_does_not_hold_up_the_scan(leftovers: list[int]) -> None:
    # an empty environ read is retried only while the process may be mid-exec; `env -i` leaves a
    # process with a real, empty environment (and, as root, kernel threads read empty too): the
    # scan must not wait for them to show a token they can never have
    proc = subprocess.Popen(["env", "-i", "sleep", "600"], start_new_session=True)
    leftovers.append(proc.pid)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{proc.pid}/cmdline").read_bytes() != b"sleep\x00600\x00" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert Path(f"/proc/{proc.pid}/environ").read_bytes() == b""
    start = time.monotonic()
    assert tokened_pids("ab" * 16) == []
    assert time.monotonic() - start < PENDING_WAIT / 2
    proc.kill()
    proc.wait()


def test_a_process_caught_mid_exec_is_still_found(tmp_path: Path, leftovers: list[int]) -> None:
    """A process that does nothing but exec itself spends much of its life inside execve, where
    /proc/PID/environ reads empty. Every scan must still find it (the old single read missed it in
    about 1 scan in 100 here, which is how a `setsid` escapee outlived its attempt under load)."""
    script = tmp_path / "exec-forever.sh"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(str(script))}\n")
    script.chmod(0o755)
    token = "5e1f" * 8
    proc = subprocess.Popen([str(script)], env={**os.environ, TOKEN_VAR: token}, start_new_session=True)
    leftovers.append(proc.pid)
    misses = sum(1 for _ in range(200) if tokened_pids(token) != [proc.pid])
    proc.kill()
    proc.wait()
    assert misses == 0
