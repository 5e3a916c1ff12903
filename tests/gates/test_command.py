"""The command gate runs real subprocesses: passing, failing with file:line output, missing,
not executable, hanging (and ignoring SIGTERM), killed by a signal, offline. And `loopgate check`
runs checklist `- command:` entries through it end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from loopgate.gates import _process, command
from loopgate.gates.base import GateContext, GateStatus

from .conftest import Cli, Repo, git_env

PY = sys.executable


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose once its parent reaps it.
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _gone(pid: int) -> bool:
    """Init reaps an orphan soon after it dies; wait for that instead of a fixed sleep."""
    for _ in range(100):
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_passing_command(repo: Repo) -> None:
    result = repo.gate(command, shell="echo building; exit 0")
    assert result.status is GateStatus.PASSED, result
    assert result.findings == []
    assert result.output_tail == "building"
    assert "`echo building; exit 0` exited 0" in result.summary
    assert "only the exit status is judged" in result.summary


def test_failure_with_file_line_output_becomes_findings(repo: Repo) -> None:
    script = repo.write("lint.sh", textwrap.dedent("""\
        echo "checking..."
        echo "src/app.py:1:7: F821 undefined name 'hi'"
        echo "README.md:1: MD041 first line should be a heading"
        echo "docs/guide.md(1,3): error TS2304: Cannot find name 'x'."
        echo "missing/file.py:9:1: E999 not a real file"
        echo "src/app.py:1:7: F821 undefined name 'hi'"
        exit 1
        """))
    result = repo.gate(command, argv=("sh", str(script)))
    assert result.status is GateStatus.FAILED
    where = [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]
    assert where == [
        ("src/app.py", 1, 7, "LG462", "F821 undefined name 'hi'"),
        ("README.md", 1, 1, "LG462", "MD041 first line should be a heading"),
        ("docs/guide.md", 1, 3, "LG462", "error TS2304: Cannot find name 'x'."),
    ]
    assert "exit 1" in result.findings[0].hint
    assert "3 file references taken from its output" in result.summary


def test_file_references_are_capped(repo: Repo) -> None:
    result = repo.gate(command, shell="for i in $(seq 1 80); do echo \"src/app.py:$i: problem $i\"; done; exit 2")
    assert result.status is GateStatus.FAILED
    assert len(result.findings) == command.MAX_FINDINGS
    assert result.findings[-1].line == command.MAX_FINDINGS


def test_failure_without_file_references_is_one_finding_with_the_tail(repo: Repo) -> None:
    result = repo.gate(command, shell="seq 1 30; echo 'FAILED: 2 tests'; exit 3", tail=5)
    assert result.status is GateStatus.FAILED
    [finding] = result.findings
    assert (finding.path, finding.line, finding.column, finding.code) == (".", 1, 1, "LG461")
    assert finding.message == "`seq 1 30; echo 'FAILED: 2 tests'; exit 3` exited with status 3"
    assert "FAILED: 2 tests" in finding.hint
    assert result.output_tail.splitlines() == ["27", "28", "29", "30", "FAILED: 2 tests"]


def test_output_with_references_on_success_is_not_judged(repo: Repo) -> None:
    result = repo.gate(command, shell="echo 'src/app.py:1:1: W291 trailing whitespace'")
    assert result.status is GateStatus.PASSED
    assert result.findings == []


@pytest.mark.parametrize(("options", "reason"), [
    ({"argv": ("no-such-tool-xyz", "--version")}, "command not found: no-such-tool-xyz"),
    ({"shell": "no-such-tool-xyz --version"}, "command not found (exit 127): no-such-tool-xyz --version"),
])
def test_command_not_found_is_an_environment_error(repo: Repo, options: dict[str, Any], reason: str) -> None:
    result = repo.gate(command, **options)
    assert result.status is GateStatus.ERROR
    assert result.reason == reason
    assert [f.code for f in result.findings] == ["LG464"]


def test_command_not_executable_is_an_environment_error(repo: Repo) -> None:
    script = repo.write("run-tests.sh", "#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    result = repo.gate(command, argv=(str(script),))
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG465"]
    via_shell = repo.gate(command, shell="./run-tests.sh")
    assert via_shell.status is GateStatus.ERROR
    assert "exit 126" in via_shell.reason


def test_timeout_ends_a_command_that_ignores_sigterm(repo: Repo, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_process, "GRACE", 0.5)
    pids = tmp_path / "pids"
    script = repo.write("hang.py", textwrap.dedent(f"""\
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        with open({str(pids)!r}, "w") as handle:
            handle.write(f"{{os.getpid()}} {{child.pid}}")
        print("waiting forever", flush=True)
        time.sleep(600)
        """))
    result = repo.gate(command, argv=(PY, str(script)), timeout=1.5)
    assert result.status is GateStatus.ERROR
    assert result.reason == f"timed out after 1.5s: {PY} {script}"
    assert [f.code for f in result.findings] == ["LG466"]
    assert "waiting forever" in result.output_tail
    parent, child = (int(p) for p in pids.read_text().split())
    assert _gone(parent)
    assert _gone(child), "the whole process group is killed, grandchildren included"


def test_background_processes_left_behind_are_ended(repo: Repo, tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    result = repo.gate(command, shell=f"sleep 600 & echo $! > {pid_file}; exit 0")
    assert result.status is GateStatus.PASSED
    assert _gone(int(pid_file.read_text()))


@pytest.mark.parametrize(("options", "name"), [
    ({"shell": "echo dying; kill -9 $$"}, "SIGKILL"),
    ({"argv": (PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")}, "SIGTERM"),
])
def test_killed_by_a_signal_is_an_environment_error(repo: Repo, options: dict[str, Any], name: str) -> None:
    result = repo.gate(command, **options)
    assert result.status is GateStatus.ERROR
    assert result.reason.startswith(f"killed by {name}: ")
    assert [f.code for f in result.findings] == ["LG467"]


@pytest.mark.parametrize("line", [
    "curl: (6) Could not resolve host: registry.example.invalid",
    "fatal: unable to access 'https://x/': Temporary failure in name resolution",
    "connect: Network is unreachable",
    "npm ERR! code ENOTFOUND",
    "Error: getaddrinfo EAI_AGAIN registry.npmjs.org",
])
def test_network_errors_are_environment_errors(repo: Repo, line: str) -> None:
    result = repo.gate(command, shell=f"echo \"{line}\" >&2; exit 1")
    assert result.status is GateStatus.ERROR, result
    assert result.reason.startswith("network unreachable")
    assert [f.code for f in result.findings] == ["LG468"]
    assert line in result.findings[0].hint


def test_cwd_runs_in_a_subdirectory_and_maps_paths(repo: Repo) -> None:
    options = command.Options(shell="pwd; echo 'app.py:1:2: bad thing'; exit 1", cwd="src")
    result = command.run(options, GateContext(cwd=str(repo.path), env=git_env()))
    assert result.status is GateStatus.FAILED
    assert [(f.path, f.line, f.column) for f in result.findings] == [("src/app.py", 1, 2)]
    assert result.output_tail.splitlines()[0].endswith("/src")


@pytest.mark.parametrize("options", [{}, {"shell": "true", "argv": ("true",)}, {"shell": "   "}])
def test_no_command_or_two_is_a_usage_error(repo: Repo, options: dict[str, Any]) -> None:
    result = repo.gate(command, **options)
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG463"]


def test_cli_exit_codes(repo: Repo, cli: Cli) -> None:
    passed = cli("command", "--", PY, "-c", "print('ok')", cwd=repo.path)
    assert passed.returncode == 0, passed.stderr
    failed = cli("command", "--shell", "echo 'src/app.py:1:1: boom'; exit 1", cwd=repo.path)
    assert failed.returncode == 1
    assert "src/app.py:1:1: LG462 boom" in failed.stdout
    missing = cli("command", "--", "no-such-tool-xyz", cwd=repo.path)
    assert missing.returncode == 2
    assert "environment error: command not found: no-such-tool-xyz" in missing.stderr
    neither = cli("command", cwd=repo.path)
    assert neither.returncode == 2
    as_json = json.loads(cli("command", "--format", "json", "--shell", "echo hi", cwd=repo.path).stdout)
    assert as_json["gates"][0]["output_tail"] == "hi"


CHECKLIST = """\
# Quality Gate Checklist: Command Demo

## Required Gates

### unit tests
- command: {py} -c "print('all good')"
- timeout: 2 seconds
- description: the tests pass

### lint
- command: echo "src/app.py:1:1: E999 broken"; exit 1
- timeout: 2 seconds
- description: lint passes

## Advisory Gates

### slow review
- command: sleep 30
- timeout: 1 second
- description: never finishes in time
"""


def _check(repo: Repo, loop: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "loopgate", "check", "--loop", str(loop), "--format", "json"], cwd=repo.path,
                          env=git_env(), capture_output=True, text=True, check=False, timeout=120)


def test_loopgate_check_runs_command_entries_with_their_timeouts(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = repo.path / ".loop"
    loop.mkdir()
    (loop / "quality-gate-checklist.md").write_text(CHECKLIST.format(py=PY), encoding="utf-8")
    done = _check(repo, loop)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    statuses = {g["gate"]: (g["status"], g["reason"]) for g in report["gates"]}
    assert statuses["unit tests"] == ("passed", "")
    assert statuses["lint"][0] == "failed"
    assert statuses["slow review"] == ("error", "timed out after 1s: sleep 30")
    codes = {(p["path"], p["code"], p["severity"]) for p in report["problems"]}
    assert ("src/app.py", "LG462", "error") in codes
    assert (".", "LG466", "warning") in codes, "an advisory gate's problems are warnings"
    # A required command that cannot run at all makes the check an environment error (exit 2).
    (loop / "quality-gate-checklist.md").write_text(
        CHECKLIST.format(py=PY).replace("echo \"src/app.py:1:1: E999 broken\"; exit 1", "no-such-linter-xyz ."),
        encoding="utf-8")
    done = _check(repo, loop)
    assert done.returncode == 2, done.stdout + done.stderr
    reasons = {g["gate"]: g["reason"] for g in json.loads(done.stdout)["gates"]}
    assert reasons["lint"] == "command not found (exit 127): no-such-linter-xyz ."


def test_signal_names() -> None:
    assert _process._signal_name(int(signal.SIGKILL)) == "SIGKILL"
    assert _process._signal_name(200) == "signal 200"


@pytest.mark.parametrize("timeout", ["-5", "nan", "inf", "-inf"])
def test_a_timeout_that_would_silently_mean_no_limit_is_a_usage_error(repo: Repo, cli: Cli, timeout: str) -> None:
    marker = repo.path / "ran"
    done = cli("command", "--timeout", timeout, "--shell", f"touch {marker}", cwd=repo.path)
    assert done.returncode == 2, done
    assert "LG469" in done.stdout
    assert "--timeout must be a finite number of seconds, 0 (no limit) or more" in done.stderr
    assert not marker.exists()  # nothing was run
    result = repo.gate(command, shell="true", timeout=float(timeout))
    assert (result.status, [f.code for f in result.findings]) == (GateStatus.ERROR, ["LG469"])


def test_a_zero_timeout_means_no_limit(repo: Repo, cli: Cli) -> None:
    """0 is no limit, not "the default limit": with a default of half a second (from pyproject), a
    command that takes longer is stopped without --timeout and runs to its end with --timeout 0."""
    repo.write("pyproject.toml", "[tool.loopgate.gates.command]\ntimeout = 0.5\n")
    repo.commit("configure the command gate")  # a gate's table applies once committed
    slow = f"sleep 1.5 && touch {repo.path / 'finished'}"
    limited = cli("command", "--shell", slow, cwd=repo.path)
    assert limited.returncode == 2 and "LG466" in limited.stdout, limited  # timed out: an environment error
    assert not (repo.path / "finished").exists()
    unlimited = cli("command", "--timeout", "0", "--shell", slow, cwd=repo.path)
    assert unlimited.returncode == 0, unlimited
    assert (repo.path / "finished").exists()


def test_no_network_errors_makes_a_dns_failure_a_failure(repo: Repo, cli: Cli) -> None:
    # A suite whose tests check DNS error handling: its real failures print the very words the
    # heuristic looks for.
    script = repo.write("dns_test.py", textwrap.dedent("""\
        print("FAILED test_resolver: expected 'Temporary failure in name resolution', got None")
        raise SystemExit(1)
        """))
    guessed = cli("command", "--", PY, str(script), cwd=repo.path)
    assert guessed.returncode == 2
    assert "LG468" in guessed.stdout
    judged = cli("command", "--no-network-errors", "--", PY, str(script), cwd=repo.path)
    assert judged.returncode == 1, judged
    assert "LG461" in judged.stdout and "LG468" not in judged.stdout
    result = repo.gate(command, argv=(PY, str(script)), network_errors=False)
    assert (result.status, [f.code for f in result.findings]) == (GateStatus.FAILED, ["LG461"])
    # Only the output-text guess is off: a command that is not there is still environmental.
    missing = repo.gate(command, shell="no-such-tool-xyz", network_errors=False)
    assert [f.code for f in missing.findings] == ["LG464"]


@pytest.mark.parametrize(("shell", "code"), [
    ("exit 129", "LG467"), ("exit 130", "LG467"), ("exit 131", "LG467"), ("exit 137", "LG467"),
    ("exit 143", "LG467"), ("exit 127", "LG464"), ("exit 126", "LG465"), ("exit 138", "LG461"), ("exit 2", "LG461"),
])
def test_the_documented_exit_statuses(repo: Repo, shell: str, code: str) -> None:
    result = repo.gate(command, shell=shell)
    assert [f.code for f in result.findings] == [code]
    assert result.status is (GateStatus.FAILED if code == "LG461" else GateStatus.ERROR)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_gate_ends_the_commands_group_and_exits_2(repo: Repo, sig: signal.Signals) -> None:
    """The real CLI as a process, a real signal: the command (a shell and a background child that
    ignores SIGTERM) must not outlive the gate, and the gate says it was interrupted (exit 2)."""
    marker = repo.path / "group.pid"
    shell = (f"echo $$ > {marker}.tmp && mv {marker}.tmp {marker}; "
             "sh -c 'trap \"\" TERM; sleep 30' & sleep 30; wait")
    env = git_env()
    env.pop("GITHUB_ACTIONS", None)
    gate = subprocess.Popen([sys.executable, "-m", "loopgate", "gate", "command", "--format", "json",
                             "--shell", shell], cwd=repo.path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        pgid = int(marker.read_text())
        time.sleep(0.1)  # the background child is started
        gate.send_signal(sig)
        out, err = gate.communicate(timeout=15)
    finally:
        if gate.poll() is None:
            gate.kill()
    assert gate.returncode == 2, err
    report = json.loads(out)
    assert [p["code"] for p in report["problems"]] == ["LG467"]
    assert report["problems"][0]["message"].startswith(f"interrupted by {sig.name}: ")
    assert f"loopgate: command: environment error: interrupted by {sig.name}" in err.decode()
    assert "Traceback" not in err.decode() and "Aborted" not in err.decode()
    deadline = time.monotonic() + 5
    while _group_alive(pgid) and time.monotonic() < deadline:  # SIGKILL follows SIGTERM after the grace
        time.sleep(0.05)
    assert not _group_alive(pgid), "the command's process group outlived the gate"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sent_again_and_again_still_exits_2(repo: Repo, sig: signal.Signals) -> None:
    """A supervisor that repeats its signal until the gate is gone: the signals that come after the gate
    has stopped its command, while it reports and the interpreter exits, must not end it with -15 or
    130 in place of its own exit 2 (the default action was put back as the command returned)."""
    marker = repo.path / "started"
    env = git_env()
    env.pop("GITHUB_ACTIONS", None)
    for _ in range(3):  # the window is short: a few rounds make the old bug show every time
        marker.unlink(missing_ok=True)
        gate = subprocess.Popen([sys.executable, "-m", "loopgate", "gate", "command", "--shell",
                                 f"touch {marker}; sleep 30"], cwd=repo.path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            while gate.poll() is None and time.monotonic() < deadline:
                gate.send_signal(sig)
                time.sleep(0.001)
            _, err = gate.communicate(timeout=15)
        finally:
            if gate.poll() is None:
                gate.kill()
        assert gate.returncode == 2, err
        assert b"Traceback" not in err
