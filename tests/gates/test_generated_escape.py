"""The generated and command gates against what the tree and the process table could lose: SIGHUP, a
stop sent to `loopgate check` while it runs the generated gate, files git ignores, an untracked nested
git repository, and a child that leaves the command's session (`setsid`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopgate.gates import command, generated
from loopgate.gates.base import GateStatus

from .conftest import Repo, git_env, make_repo

PY = sys.executable


def _wait_for(path: Path, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # poll, no fixed sleep
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    except OSError:
        return False


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


HANGING = "echo gen > a.txt; echo $$ > gen.pid; sleep 60"


def test_sighup_to_the_gate_puts_the_work_in_progress_back(repo: Repo) -> None:
    repo.write("a.txt", "base\n")
    repo.commit("a")
    repo.write("a.txt", "USERWORK\n")
    gate = subprocess.Popen([PY, "-m", "loopgate", "gate", "generated", "--shell", HANGING], cwd=repo.path,
                            env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = int(_wait_for(repo.path / "gen.pid"))
    gate.send_signal(signal.SIGHUP)  # the terminal or the ssh session went away
    out, err = gate.communicate(timeout=60)
    assert gate.returncode == 2, (out, err)
    assert "LG477 interrupted by SIGHUP" in out
    assert (repo.path / "a.txt").read_text() == "USERWORK\n"
    assert not (repo.path / "gen.pid").exists()
    assert _gone(pid)


CHECKLIST = """\
# Quality Gate Checklist: Generated

## Required Gates

### generated files
- gate: generated
- args: --shell "{shell}"
- description: the generated files are up to date
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_sent_to_loopgate_check_lets_the_generated_gate_put_the_tree_back(repo: Repo,
                                                                               sig: signal.Signals) -> None:
    repo.write("a.txt", "base\n")
    loop = repo.path / ".loop"
    loop.mkdir()
    (loop / "quality-gate-checklist.md").write_text(CHECKLIST.format(shell=HANGING), encoding="utf-8")
    repo.commit("a")
    repo.write("a.txt", "USERWORK\n")
    check = subprocess.Popen([PY, "-m", "loopgate", "check", "--loop", str(loop), "--format", "json"],
                             cwd=repo.path, env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = int(_wait_for(repo.path / "gen.pid"))
    check.send_signal(sig)
    out, err = check.communicate(timeout=60)
    assert check.returncode == 2, (out, err)
    assert "Traceback" not in err
    gates = json.loads(out)["gates"]
    assert [g["status"] for g in gates] == ["error"]
    assert (repo.path / "a.txt").read_text() == "USERWORK\n"  # put back, not the generator's "gen"
    assert not (repo.path / "gen.pid").exists()
    assert not (repo.path / ".git" / "loopgate").exists()
    assert _gone(pid), "the generator outlived loopgate check"


def test_an_ignored_file_the_generator_deletes_or_replaces_is_put_back(repo: Repo) -> None:
    repo.write(".gitignore", ".env\nbuild/\n")
    repo.write("a.txt", "a\n")
    repo.commit("a")
    repo.write(".env", "LOCAL_SETTING=mine\n")  # ignored, never committed: only this copy exists
    repo.write("build/out.txt", "old build\n")
    (repo.path / "build" / "tool").symlink_to("out.txt")
    result = repo.gate(generated, shell="rm -rf .env build && mkdir build && echo new > build/out.txt")
    assert result.status is GateStatus.PASSED, result  # ignored files are still not judged
    assert (repo.path / ".env").read_text() == "LOCAL_SETTING=mine\n"
    assert (repo.path / "build/out.txt").read_text() == "old build\n"
    assert os.readlink(repo.path / "build/tool") == "out.txt"
    assert not (repo.path / ".git" / "loopgate").exists()
    # --keep keeps what the generator made, but what it deleted still comes back
    kept = repo.gate(generated, shell="rm -f .env build/tool && echo new > build/new.txt", keep=True)
    assert kept.status is GateStatus.PASSED
    assert (repo.path / ".env").read_text() == "LOCAL_SETTING=mine\n"
    assert os.readlink(repo.path / "build/tool") == "out.txt"
    assert (repo.path / "build/new.txt").read_text() == "new\n"


def test_a_generator_cannot_write_through_a_link_it_puts_over_an_ignored_directory(repo: Repo,
                                                                                   tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo.write(".gitignore", "build/\n")
    repo.commit("a")
    repo.write("build/out.txt", "old build\n")
    repo.gate(generated, shell=f"rm -rf build && ln -s {outside} build")
    assert list(outside.iterdir()) == []
    assert (repo.path / "build/out.txt").read_text() == "old build\n"
    assert not (repo.path / "build").is_symlink()


def test_an_untracked_nested_repository_is_protected(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("a")
    nested = make_repo(repo.path / "vendor" / "lib")
    nested.write("lib.py", "committed\n")
    nested.commit("lib")
    nested.write("lib.py", "UNCOMMITTED WORK\n")
    nested.write("notes.txt", "untracked in the nested repository\n")
    head = nested.git("rev-parse", "HEAD")
    result = repo.gate(generated, shell="rm -rf vendor/lib")
    assert result.status is GateStatus.FAILED
    assert [(f.code, f.path) for f in result.findings] == [("LG473", "vendor/lib")]
    assert (nested.path / "lib.py").read_text() == "UNCOMMITTED WORK\n"
    assert (nested.path / "notes.txt").read_text() == "untracked in the nested repository\n"
    assert nested.git("rev-parse", "HEAD") == head  # its history too
    one = repo.gate(generated, shell="rm vendor/lib/notes.txt")
    assert [(f.code, f.path) for f in one.findings] == [("LG471", "vendor/lib")]
    assert "inside the nested repository vendor/lib (put back)" in one.findings[0].message
    assert (nested.path / "notes.txt").exists()


ESCAPE = "setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' & sleep 0.5; true"


@pytest.mark.parametrize("module", [command, generated])
def test_a_child_that_leaves_the_session_ends_with_the_gate(repo: Repo, module: object) -> None:
    repo.write(".gitignore", "escaped.pid\n")
    repo.commit("a")
    result = repo.gate(module, shell=ESCAPE)
    pid = int(_wait_for(repo.path / "escaped.pid", 5))
    assert result.status is GateStatus.PASSED, result
    assert os.getsid(pid) == pid if _alive(pid) else True  # it did leave the session
    assert _gone(pid, 5), "a process the gate's command started outlived the gate"
