"""The audit shares what `loopgate run` and `loopgate verify` already do: one read of the artifacts,
one reading of a command line, one way to end a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from loopgate import verify
from loopgate.readiness.audit import audit
from loopgate.runner.agent_status import command_failure
from loopgate.runner.commandline import command_words, find_program, maker_command, program
from loopgate.runner.processes import descendants, end_family
from loopgate.runner.sandbox import named_paths

from .conftest import commit


def test_the_audit_reads_each_artifact_once(loop_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    real = verify.read_artifact

    def counted(path: str) -> object:
        reads[os.path.basename(path)] += 1
        return real(path)

    monkeypatch.setattr(verify, "read_artifact", counted)
    result = audit(str(loop_repo), run_checks=False, write=False)
    assert {c.id for c in result.criteria} >= {"artifacts-valid", "deterministic-gate", "gates-runnable"}
    for name in ("LOOP_SPEC.md", "quality-gate-checklist.md", "escalation-policy.md", "loop-readiness.md"):
        assert reads[name] == 1, reads


def test_a_command_line_is_read_one_way(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    tool.chmod(0o755)
    assert command_words("A=1 B='x y' claude -p 'fix it'") == ["claude", "-p", "fix it"]
    assert command_words("claude -p 'unclosed") is None
    assert program("A=1 claude -p x") == "claude"
    assert program("claude -p 'unclosed") == "claude"  # still named in a message
    assert find_program("A=1 python3 -c pass", str(tmp_path)) is not None
    assert find_program("bin/tool --check", str(tmp_path)) == str(tmp_path / "bin" / "tool")
    assert find_program("./bin/missing", str(tmp_path)) is None
    assert find_program("loopgate-no-such-program-here", str(tmp_path)) is None
    assert find_program("test -f x", str(tmp_path)) is not None  # a shell built-in (and /usr/bin/test)
    assert find_program("cd docs && make", str(tmp_path)) == "cd"
    # the maker command as the spec writes it: a code span, a pasted no-break space
    assert maker_command({"roles": {"maker_command": "`claude -p x`\u00a0"}}) == "claude -p x"
    assert maker_command({"roles": {"maker_command": "claude"}}, "  codex exec  ") == "codex exec"
    assert maker_command({"roles": "not a mapping"}) == ""


def test_the_runner_names_the_program_after_the_assignments(tmp_path: Path) -> None:
    failure = command_failure(127, "ANTHROPIC_MODEL=x claude-nope -p go", "sh: claude-nope: not found")
    assert failure is not None and "`claude-nope`" in failure.fix and "ANTHROPIC_MODEL" not in failure.fix
    agent = tmp_path / "agent.py"
    agent.write_text("print(1)\n", encoding="utf-8")
    # the sandbox's mounts read the same words: the file after `VAR=value python3` is named
    assert str(agent) in named_paths(f"MODE=1 python3 {agent}", [])


def test_the_maker_resolves_as_the_run_reads_it(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- maker command: python3 maker.py",
                                                    "- maker command: `LOOP=1 python3 maker.py`"), encoding="utf-8")
    commit(loop_repo.parent, "maker in a code span")
    by_id = {c.id: c for c in audit(str(loop_repo), run_checks=False, write=False).criteria}
    assert by_id["maker-resolves"].ok is True and by_id["maker-resolves"].detail == "`python3` found"


def test_end_family_ends_a_descendant_that_left_the_group() -> None:
    # the grandchild starts a session of its own: a killpg of the child's group cannot reach it
    proc = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                             "subprocess.Popen(['setsid', 'sleep', '30']); print('go', flush=True); time.sleep(30)"],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
    deadline = time.monotonic() + 5
    family: list[int] = []
    while time.monotonic() < deadline and not family:
        family = [p for p in descendants(proc.pid) if os.getpgid(p) != proc.pid]
        time.sleep(0.02)
    assert family, "the setsid child did not start"
    try:
        end_family(proc, grace=0.5)
        assert proc.returncode is not None
        for pid in family:
            for _ in range(100):
                try:
                    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                        if handle.read().rpartition(")")[2].split()[0] == "Z":
                            break
                except FileNotFoundError:
                    break
                time.sleep(0.02)
            else:
                pytest.fail(f"{pid} outlived end_family")
    finally:
        proc.stdout.close()
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
