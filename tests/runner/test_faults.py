"""Faults: the runner killed with -9 mid-attempt resumes with nothing lost."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

from loopgate.runner.state import load_state

from .conftest import LoopRepo, pid_alive

DRIVER = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
print(outcome.stop.label, outcome.stale_lock)
"""


def _driver(repo: LoopRepo) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(loop=str(repo.loop))]


def test_kill_9_mid_attempt_then_resume(loop_repo: LoopRepo) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600", contain=False)  # the uncontained path
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
    assert state.items["DOC-1"].attempts == 1  # the killed attempt, never judged, was made again: it did not count
    reports = sorted((loop_repo.loop / "runs").glob("*.json"))
    assert reports and json.loads(reports[-1].read_text())["stale_lock"]


def test_sigterm_stops_the_run_with_consistent_state(loop_repo: LoopRepo) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600", contain=False)  # the uncontained path
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
    # the state says what happened: stopped, by what, and that it resumes
    assert errors == [] and state.items["DOC-1"].status == "stopped"
    assert state.items["DOC-1"].reason == "stopped during attempt 1: a signal (SIGTERM)"
    assert state.items["DOC-1"].next_action == "resumes in the next run"
    assert os.path.isdir(loop_repo.loop / "runs")


def _limit_file_size() -> None:
    # A write past RLIMIT_FSIZE fails with EFBIG, as a full disk fails with ENOSPC: the same
    # code path (an OSError while writing the state), without needing a full filesystem.
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_failing_state_write_is_a_clear_error_and_leaves_the_old_state(loop_repo: LoopRepo) -> None:
    before = (loop_repo.loop / "LOOP_SPEC.md").read_text()
    (loop_repo.loop / "LOOP_STATE.md").write_text("# Loop State: Docs Repair\n\n## Current Run\n- run_id: old\n"
                                                  "- mode: shadow\n")
    loop_repo.commit("state")
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop)], capture_output=True,
                          text=True, timeout=60, preexec_fn=_limit_file_size, check=False)
    assert done.returncode in (2, 5)  # refused to start, or stopped as an environmental failure
    assert "Traceback" not in done.stderr
    assert "cannot write" in done.stdout + done.stderr and "LOOP_STATE.md" in done.stdout + done.stderr
    assert (loop_repo.loop / "LOOP_SPEC.md").read_text() == before
    state, errors = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []  # the old state or a complete new one, never half of either
    assert state.run_id != ""
    assert not list(loop_repo.loop.glob(".LOOP_STATE.md.*.tmp"))
