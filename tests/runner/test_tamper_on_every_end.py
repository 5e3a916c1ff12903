"""The tamper check and its restore on every way an attempt ends (issue 7, section 2).

A hostile, uncontained maker rewrites LOOP_SPEC.md in the user's checkout and plants a git hook,
then hangs. However the attempt ends (loopgate sent SIGTERM, the run's runtime budget, the
attempt's own timeout), the next run must read the real spec and run no planted hook, and the
item must say it was escalated for tampering. Real runner processes, a real maker, real git
with a local bare origin."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, git

DRIVER = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
print(outcome.stop.label)
"""
# the worktree is .git/loopgate-worktrees/<loop>/<id>: four levels up is the user's checkout
TAMPER_THEN_HANG = ('top="$LOOPGATE_WORKTREE/../../../.."; '
                    "sed -i 's/max iterations: 3/max iterations: 99/' \"$top/.loop/LOOP_SPEC.md\"; "
                    "printf '#!/bin/sh\\necho planted\\n' > \"$top/.git/hooks/pre-commit\"; "
                    "chmod +x \"$top/.git/hooks/pre-commit\"; "
                    "touch \"$top/.git/tampered-now\"; sleep 600")



def _item(repo: LoopRepo) -> tuple[str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return state.items["DOC-1"].status, state.items["DOC-1"].reason


def _restored(repo: LoopRepo, spec_before: bytes) -> None:
    assert (repo.loop / "LOOP_SPEC.md").read_bytes() == spec_before  # the next run reads the real rules
    assert not (repo.root / ".git" / "hooks" / "pre-commit").exists()  # and runs no planted hook
    status, reason = _item(repo)
    assert status == "escalated", reason
    assert reason.startswith("the maker edited control files: ")
    assert ".loop/LOOP_SPEC.md" in reason.split("restored: ")[1] and ".git/hooks" in reason.split("restored: ")[1]


def test_sigterm_to_loopgate_mid_attempt_still_restores_and_escalates(loop_repo: LoopRepo, origin: Path) -> None:
    loop_repo.set_spec(TAMPER_THEN_HANG, contain=False)
    spec_before = (loop_repo.loop / "LOOP_SPEC.md").read_bytes()
    flag = loop_repo.root / ".git" / "tampered-now"
    with subprocess.Popen([sys.executable, "-c", DRIVER.format(loop=str(loop_repo.loop))],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as runner:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert time.monotonic() < deadline, "the maker never ran"
            time.sleep(0.05)
        runner.send_signal(signal.SIGTERM)
        out, _ = runner.communicate(timeout=60)
    assert out.strip() == "interrupted"
    _restored(loop_repo, spec_before)
    assert git(origin, "for-each-ref", "--format=%(refname)").strip() == "refs/heads/main"


def test_a_runtime_budget_stop_mid_attempt_still_restores_and_escalates(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(TAMPER_THEN_HANG, runtime="3s", contain=False)
    spec_before = (loop_repo.loop / "LOOP_SPEC.md").read_bytes()
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), plan_factory(str(loop_repo.loop))).run()
    assert outcome.stop is Stop.BUDGET, outcome.detail
    _restored(loop_repo, spec_before)


def test_an_attempt_timeout_still_restores_and_escalates(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(TAMPER_THEN_HANG, contain=False)
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max runtime: 5 minutes",
                                             "- max runtime: 5 minutes\n- max runtime per iteration: 2s"))
    loop_repo.commit("per-iteration limit")
    spec_before = spec.read_bytes()
    Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), plan_factory(str(loop_repo.loop))).run()
    _restored(loop_repo, spec_before)


def test_after_a_kill_9_mid_attempt_the_next_run_refuses_until_a_person_checks(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(TAMPER_THEN_HANG, contain=False)
    flag = loop_repo.root / ".git" / "tampered-now"
    with subprocess.Popen([sys.executable, "-c", DRIVER.format(loop=str(loop_repo.loop))],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as runner:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert time.monotonic() < deadline, "the maker never ran"
            time.sleep(0.05)
        runner.send_signal(signal.SIGKILL)  # nothing of loopgate's runs after this: no check, no restore
        runner.wait()
    # the next run kills the orphaned maker, sees what it changed, and refuses to read the loosened spec
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "LOOP_SPEC.md" in said and ".git/hooks" in said and "check it, then delete" in said
    assert "Traceback" not in said
    tampered = next((loop_repo.root / ".git" / "loopgate").glob("*/tampered.txt"))
    # a person checks: puts the spec back, removes the hook, deletes the note; the loop runs again
    git(loop_repo.root, "checkout", "--", ".loop/LOOP_SPEC.md")
    (loop_repo.root / ".git" / "hooks" / "pre-commit").unlink()
    tampered.unlink()
    loop_repo.set_spec("good", contain=False)
    again = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop), "--max-items", "1"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert "could not restore" not in again.stdout + again.stderr
    assert _item(loop_repo)[0] == "drafted"
