"""Faults: the runner killed with -9 mid-attempt resumes with nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopgate.runner.state import load_state

from .conftest import LoopRepo, pid_alive

TESTS = Path(__file__).resolve().parents[1]
DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from runner.conftest import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory).run()
print(outcome.stop.label, outcome.stale_lock)
"""


def _driver(repo: LoopRepo) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(tests=str(TESTS), loop=str(repo.loop))]


def test_kill_9_mid_attempt_then_resume(loop_repo: LoopRepo) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600")
    with subprocess.Popen(_driver(loop_repo), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as runner:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()
        maker_pid = int(marker.read_text())
        runner.send_signal(signal.SIGKILL)
        runner.wait()

    state, errors = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []  # the state on disk is whole, not half-written
    assert state.items["DOC-1"].status == "in-progress" and state.items["DOC-1"].attempts == 1
    assert state.items["AUTH-2"].status == "escalated"
    assert pid_alive(maker_pid)  # the orphaned maker is still there...

    loop_repo.set_spec("good")
    done = subprocess.run(_driver(loop_repo), capture_output=True, text=True, timeout=120, check=True)
    assert "a previous run" in done.stdout and "orphaned maker" in done.stdout
    assert not pid_alive(maker_pid)  # ...until the next run ends it
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert state.items["DOC-1"].status == "drafted"
    assert state.items["DOC-1"].attempts == 2  # the killed attempt still counts
    reports = sorted((loop_repo.loop / "runs").glob("*.json"))
    assert reports and json.loads(reports[-1].read_text())["stale_lock"]


def test_sigterm_stops_the_run_with_consistent_state(loop_repo: LoopRepo) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600")
    with subprocess.Popen(_driver(loop_repo), stdout=subprocess.PIPE, text=True) as runner:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        maker_pid = int(marker.read_text())
        runner.send_signal(signal.SIGTERM)
        out, _ = runner.communicate(timeout=30)
    assert out.startswith("interrupted")
    assert not pid_alive(maker_pid)
    state, errors = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert errors == [] and state.items["DOC-1"].status == "in-progress"
    assert os.path.isdir(loop_repo.loop / "runs")
