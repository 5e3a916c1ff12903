"""Issue 7, sections 2 and 3: the user is not the maker, and the state says what happened.

The user acts (creates PAUSE, edits their checkout, commits) from this test while a real maker
runs in a real runner process; hostile makers tamper where they can (uncontained) and the loop
puts things back. Killed runs are killed with -9 for real."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopgate.runner.control import write_tampered
from loopgate.runner.loop import Loop, RunError, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, PlanFactory, git

DRIVER = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
print(outcome.stop.label)
"""
FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"
WRONG = "echo 'see also [x](missing.md)' >> docs/guide.md"
# the maker says it is up, then waits (at most 20 s) for the test to say "go" in its attempt
# directory: the one place outside its worktree a contained maker sees (the checkout is hidden)
WAIT = ('d="$LOOPGATE_ATTEMPT_DIR"; echo up > "$d/up"; i=0; '
        'while [ ! -e "$d/go" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done')


def driver(repo: LoopRepo) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DRIVER.format(loop=str(repo.loop))],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wait_for_attempt(repo: LoopRepo, attempt: int = 1) -> None:
    deadline = time.monotonic() + 30
    while not list((repo.root / ".git" / "loopgate").glob(f"*/attempts/DOC-1/*-{attempt}/maker/up")):
        assert time.monotonic() < deadline, "the maker never started"
        time.sleep(0.05)


def go(repo: LoopRepo) -> None:
    """Say "go" to every maker that is waiting (each attempt has a directory of its own)."""
    waiting = list((repo.root / ".git" / "loopgate").glob("*/attempts/*/*/maker/up"))
    assert waiting, "no maker is waiting"
    for up in waiting:
        up.with_name("go").write_text("")


def item(repo: LoopRepo, item_id: str = "DOC-1") -> tuple[str, str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    found = state.items[item_id]
    return found.status, found.reason, found.next_action


def test_pause_during_an_attempt_pauses_after_it_and_blames_no_one(loop_repo: LoopRepo,
                                                                    factory: PlanFactory) -> None:
    loop_repo.set_spec(f"{WAIT}; {WRONG}", iterations=3)
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)
        (loop_repo.loop / "PAUSE").write_text("")  # the user pulls the kill switch mid-attempt
        go(loop_repo)
        out, _ = runner.communicate(timeout=60)
    assert out.strip() == "paused"
    status, reason, next_action = item(loop_repo)
    assert status == "stopped"  # not escalated: the user is not the maker
    assert reason.startswith("stopped during attempt 1: kill switch:") and "PAUSE" in reason
    assert next_action == "resumes in the next run once the kill switch is off"
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-2"))  # no second attempt
    (loop_repo.loop / "PAUSE").unlink()
    loop_repo.set_spec("good")
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), factory).run()
    assert outcome.stop is Stop.DONE
    assert item(loop_repo)[0] == "drafted"


def test_the_user_editing_and_committing_in_their_checkout_is_not_blamed(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(f"{WAIT}; {FIX}")
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)
        (loop_repo.root / "docs" / "index.md").write_text("# Index, edited by the user\n")
        spec = loop_repo.loop / "LOOP_SPEC.md"
        spec.write_text(spec.read_text().replace("Repair broken documentation links.", "Repair links."))
        (loop_repo.root / "notes.txt").write_text("mine\n")
        git(loop_repo.root, "add", "notes.txt")
        git(loop_repo.root, "commit", "-qm", "the user commits while the loop runs")
        go(loop_repo)
        out, _ = runner.communicate(timeout=60)
    assert out.strip() == "escalations-pending"  # AUTH-2, BIG-3 at selection
    assert item(loop_repo)[0] == "drafted"
    assert "Repair links." in (loop_repo.loop / "LOOP_SPEC.md").read_text()  # the user's edit stays


TAMPER = ('top="$LOOPGATE_WORKTREE/../../../.."; '
          "sed -i 's/max iterations: 3/max iterations: 99/' \"$top/.loop/LOOP_SPEC.md\"; "
          "printf '#!/bin/sh\\necho planted\\n' > \"$top/.git/hooks/pre-commit\"; "
          "chmod +x \"$top/.git/hooks/pre-commit\"; "
          f"{FIX}")


def test_an_uncontained_makers_tampering_is_restored_and_said(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec(TAMPER, contain=False)
    spec_before = (loop_repo.loop / "LOOP_SPEC.md").read_bytes()
    Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), factory).run()
    status, reason, _ = item(loop_repo)
    assert status == "escalated"
    assert reason.startswith("the maker edited control files: ")
    assert "restored: " in reason and ".loop/LOOP_SPEC.md" in reason.split("restored: ")[1]
    assert ".git/hooks" in reason.split("restored: ")[1]
    assert (loop_repo.loop / "LOOP_SPEC.md").read_bytes() == spec_before  # the next run reads the real rules
    assert not (loop_repo.root / ".git" / "hooks" / "pre-commit").exists()  # and runs no planted hook


def test_tampering_that_could_not_be_restored_stops_later_runs_until_a_person_confirms(
        loop_repo: LoopRepo, factory: PlanFactory) -> None:
    first = Loop(RunSettings(str(loop_repo.loop)), factory)
    first._load()
    write_tampered(first.runtime_dir, ".git/hooks")  # what _tampered writes when a restore fails
    try:
        Loop(RunSettings(str(loop_repo.loop)), factory).run()
        raise AssertionError("the run started")
    except RunError as err:
        assert "could not restore it: check it, then delete" in str(err)
    (Path(first.runtime_dir) / "tampered.txt").unlink()  # the person confirms
    assert Loop(RunSettings(str(loop_repo.loop), max_items=1), factory).run().stop is Stop.DONE


def test_escalations_of_a_run_killed_with_9_reach_exactly_one_summary(loop_repo: LoopRepo,
                                                                     factory: PlanFactory) -> None:
    loop_repo.set_spec(f"{WAIT}; {FIX}")
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)  # AUTH-2 and BIG-3 are escalated by now; no summary was written
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    assert item(loop_repo, "AUTH-2")[0] == "escalated"
    assert not list((loop_repo.loop / "runs").glob("*-escalations.md"))
    loop_repo.set_spec("good")
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5), factory).run()
    summary = Path(outcome.summary_path).read_text()
    assert "## AUTH-2" in summary and "## BIG-3" in summary and "ended before its summary" in summary
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert state.counters["escalations"] == 2
    report = json.loads(Path(outcome.report_path).read_text())
    assert {i["id"] for i in report["items"] if i["status"] == "escalated"} == {"AUTH-2", "BIG-3"}
    again = Loop(RunSettings(str(loop_repo.loop), grace=0.5), factory).run()
    assert "## AUTH-2" not in Path(again.summary_path).read_text()  # exactly one summary named them
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert state.counters["escalations"] == 0


def test_the_reason_names_every_failed_required_gate(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    # links fails (the link is still broken) and the item's scope fails (a file outside its paths)
    loop_repo.set_spec(f"{WRONG}; echo 'x = 1' > src/app.py", iterations=1)
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), factory).run()
    status, reason, _ = item(loop_repo)
    assert status == "escalated"
    assert reason == "gates still failing after 1 attempts: failed required gates: links (1 finding), scope (1 finding)"
    summary = Path(outcome.summary_path).read_text()
    assert "failed required gates: links (1 finding), scope (1 finding)" in summary


def test_uncontained_a_persons_edit_to_a_control_file_mid_attempt_is_kept_not_lost(loop_repo: LoopRepo) -> None:
    # uncontained, nothing tells a person's edit from the maker's: the item is escalated and the file
    # put back, but what it held is the person's work, and it is kept where the reason says
    loop_repo.set_spec(f"{WAIT}; {FIX}", contain=False)
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)
        policy = loop_repo.loop / "escalation-policy.md"
        policy.write_text(policy.read_text() + "- billing, added by a person mid-run\n")
        go(loop_repo)
        runner.communicate(timeout=60)
    status, reason, _ = item(loop_repo)
    assert status == "escalated" and ".loop/escalation-policy.md" in reason
    assert "billing" not in policy.read_text()  # the rules the attempt started with are back
    kept = reason.split("what they held is kept in ")[1].split(";")[0].strip()
    assert "billing, added by a person mid-run" in (Path(kept) / ".loop" / "escalation-policy.md").read_text()


def test_a_hangup_mid_attempt_stops_the_run_like_sigterm(loop_repo: LoopRepo) -> None:
    # the terminal or ssh session loopgate runs in closes: SIGHUP's default ended loopgate on the spot,
    # with no tamper check, no report, and the item left saying "wait for the gates"
    loop_repo.set_spec(f"{WAIT}; {FIX}")
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)
        runner.send_signal(signal.SIGHUP)
        out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 0 and out.strip() == "interrupted", (runner.returncode, out)
    status, reason, next_action = item(loop_repo)
    assert status == "stopped" and "SIGHUP" in reason, reason
    assert next_action == "resumes in the next run"
    assert list(loop_repo.loop.glob("runs/*.json"))  # the run's report was written


def test_a_person_pushing_to_a_local_remote_mid_attempt_is_not_a_push_by_the_contained_maker(
        loop_repo: LoopRepo, tmp_path: Path) -> None:
    # contained, the maker cannot write a remote on this machine (the sandbox shows it read-only):
    # the person pushing their own branch while the agent works is not the maker pushing
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(loop_repo.root, "remote", "add", "origin", str(bare))
    git(loop_repo.root, "push", "-q", "origin", "main")
    loop_repo.set_spec(f"{WAIT}; {FIX}")
    with driver(loop_repo) as runner:
        wait_for_attempt(loop_repo)
        git(loop_repo.root, "push", "-q", "origin", "main:refs/heads/my-feature")
        go(loop_repo)
        runner.communicate(timeout=60)
    assert item(loop_repo)[:2] == ("drafted", "all required gates passed"), item(loop_repo)
    assert "my-feature" in git(bare, "for-each-ref", "--format=%(refname)")


def test_under_nohup_a_hangup_does_not_stop_the_run(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(f"{WAIT}; {FIX}")
    with subprocess.Popen(["nohup", sys.executable, "-c", DRIVER.format(loop=str(loop_repo.loop))],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as runner:
        wait_for_attempt(loop_repo)
        runner.send_signal(signal.SIGHUP)
        go(loop_repo)
        out, _ = runner.communicate(timeout=60)
    assert out.strip() == "escalations-pending", out  # AUTH-2, BIG-3 at selection; DOC-1 went on
    assert item(loop_repo)[0] == "drafted"
