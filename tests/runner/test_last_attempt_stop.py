"""A run stopped during an item's last allowed attempt (SIGTERM, kill -9) leaves it resumable:
the attempt was never judged, so it does not use up the item's iterations, and the next run
really makes it (the state said "resumes in the next run"), instead of escalating at once with
"gates still failing after 1 attempts: " and no gate named."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from loopgate.runner.state import load_state

from .conftest import LoopRepo

DRIVER = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
print(outcome.stop.label, outcome.stale_lock)
"""


def _driver(repo: LoopRepo) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(loop=str(repo.loop))]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_stop_during_the_last_attempt_resumes_with_an_attempt(loop_repo: LoopRepo, stop: signal.Signals) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600", iterations=1, contain=False)
    with subprocess.Popen(_driver(loop_repo), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as runner:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()
        runner.send_signal(stop)
        runner.wait(timeout=30)
    state, errors = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert errors == [] and state.items["DOC-1"].attempts == 1
    assert state.items["DOC-1"].status == ("stopped" if stop == signal.SIGTERM else "in-progress")

    loop_repo.set_spec("good", iterations=1, contain=False)
    done = subprocess.run(_driver(loop_repo), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    doc = state.items["DOC-1"]
    # the next run made the attempt (the maker fixed the link and the gates passed it), as one of one
    assert (doc.status, doc.attempts, doc.gates.get("links")) == ("drafted", 1, "passed"), doc
    assert "unjudged_attempt" not in (loop_repo.loop / "LOOP_STATE.md").read_text()


def test_a_judged_last_attempt_escalates_naming_its_failing_gates(loop_repo: LoopRepo) -> None:
    """An item whose attempts are all used and judged escalates with the gates that failed, never
    an empty reason, even when the run that judged the last one was stopped before deciding it."""
    loop_repo.set_spec("wrong", iterations=1, contain=False)
    first = subprocess.run(_driver(loop_repo), capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    doc = state.items["DOC-1"]
    assert doc.status == "escalated" and doc.reason.startswith("gates still failing after 1 attempts: failed")
    assert "links" in doc.reason
