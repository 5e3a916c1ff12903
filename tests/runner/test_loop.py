"""The run loop end to end: real git worktrees, real maker subprocesses, real gate subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import Loop, RunError, RunSettings, Stop
from loopgate.runner.state import load_state
from loopgate.verify import VerifySettings, run_verify

from .conftest import LoopRepo, PlanFactory, git, pid_alive


def run(repo: LoopRepo, factory: PlanFactory, **kwargs: object) -> tuple[Loop, object]:
    loop = Loop(RunSettings(str(repo.loop), grace=0.5, **kwargs), factory)  # type: ignore[arg-type]
    return loop, loop.run()


def statuses(repo: LoopRepo) -> dict[str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return {i.id: i.status for i in state.items.values()}


def report_of(outcome: object) -> dict[str, object]:
    path = outcome.report_path  # type: ignore[attr-defined]
    report: dict[str, object] = json.loads(Path(path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    return report


def test_shadow_run_drafts_the_good_item_and_escalates_and_skips_the_rest(loop_repo: LoopRepo,
                                                                           factory: PlanFactory) -> None:
    _, outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.ESCALATIONS  # type: ignore[attr-defined]
    assert statuses(loop_repo) == {"DOC-1": "drafted", "AUTH-2": "escalated", "BIG-3": "escalated",
                                   "CHORE-4": "skipped"}
    state = loop_repo.state()
    assert "always-escalate category 'authentication'" in state or "touches authentication" in state
    assert "over the limit of 2" in state
    # the state file stays a valid artifact, and the whole loop still verifies
    assert not [f for f in run_verify(VerifySettings((str(loop_repo.loop),))).findings if f.severity.value == "error"]
    report = report_of(outcome)
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")  # type: ignore[union-attr, index]
    assert doc["attempts"][0]["verdict"] == "passed"
    assert {g["gate"]: g["status"] for g in doc["attempts"][0]["gates"]} == {"links": "passed", "scope": "passed"}
    assert report["approvals"] == []  # shadow mode asked for nothing
    # the user's checkout changes only by the loop's memory; the candidate lives on its branch
    changed = {line[3:] for line in git(loop_repo.root, "status", "--porcelain", "-uall").splitlines()}
    assert {c for c in changed if not c.startswith(".loop/runs/")} == {".loop/LOOP_STATE.md"}
    assert (loop_repo.root / "docs" / "guide.md").read_text().count("missing.md") == 1
    assert "index.md" in git(loop_repo.root, "show", "loop/docs-repair/DOC-1:docs/guide.md")
    summary = Path(outcome.summary_path).read_text()  # type: ignore[attr-defined]
    assert "AUTH-2" in summary and "BIG-3" in summary


def test_a_maker_that_claims_success_but_changes_nothing_is_not_drafted(loop_repo: LoopRepo,
                                                                        factory: PlanFactory) -> None:
    loop_repo.set_spec("liar")
    _, outcome = run(loop_repo, factory)
    assert statuses(loop_repo)["DOC-1"] == "escalated"
    report = report_of(outcome)
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")  # type: ignore[union-attr, index]
    assert [a["verdict"] for a in doc["attempts"]] == ["no-change", "no-change"]
    assert "no progress across 2 consecutive attempts" in doc["reason"]


def test_same_failure_twice_is_no_progress_and_escalates_with_feedback(loop_repo: LoopRepo,
                                                                       factory: PlanFactory) -> None:
    loop_repo.set_spec("wrong", iterations=5)
    _, outcome = run(loop_repo, factory)
    report = report_of(outcome)
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")  # type: ignore[union-attr, index]
    assert len(doc["attempts"]) == 2
    assert doc["status"] == "escalated"
    prompt = next((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-2/prompt.md")).read_text()
    assert "link to missing.md is broken" in prompt  # the failures went back to the maker as feedback


def test_out_of_scope_edit_fails_the_scope_gate(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec("outside", iterations=1)
    _, outcome = run(loop_repo, factory)
    report = report_of(outcome)
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")  # type: ignore[union-attr, index]
    scope = next(g for g in doc["attempts"][0]["gates"] if g["gate"] == "scope")
    assert scope["status"] == "failed"
    assert scope["findings"][0]["path"] == "src/app.py"
    assert doc["status"] == "escalated"
    assert "after 1 attempts" in doc["reason"]


@pytest.mark.parametrize(("maker", "file"), [
    ("edits-state", ".loop/LOOP_STATE.md"), ("edits-checklist", ".loop/quality-gate-checklist.md"),
    ("edits-spec", ".loop/LOOP_SPEC.md"), ("edits-gate-config", "pyproject.toml"),
    ("edits-checkout-policy", ".loop/escalation-policy.md")])
def test_a_maker_editing_control_files_is_caught(loop_repo: LoopRepo, factory: PlanFactory, maker: str,
                                                 file: str) -> None:
    loop_repo.set_spec(maker, contain=False)  # contained, the checkout's copy cannot be written at all
    run(loop_repo, factory)
    assert statuses(loop_repo)["DOC-1"] == "escalated"
    assert "edited control files" in loop_repo.state()
    reason = next(line for line in loop_repo.state().splitlines() if "edited control files" in line)
    assert file in reason
    assert "tampered" not in loop_repo.state()
    # the attempt was never committed: the kept branch holds nothing beyond main
    assert git(loop_repo.root, "rev-list", "--count", "main..loop/docs-repair/DOC-1").strip() == "0"


def test_runtime_budget_kills_the_whole_process_group(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec("sleepy-child", runtime="2s", contain=False)  # pids from outside a PID namespace
    _, outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.BUDGET  # type: ignore[attr-defined]
    assert outcome.stop.exit_code == 4  # type: ignore[attr-defined]
    child = int((loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "child.pid").read_text())
    assert not pid_alive(child)
    assert statuses(loop_repo)["DOC-1"] == "stopped"  # resumable, nothing lost
    assert "stopped during attempt 1: the budget ran out (max runtime reached during an attempt)" \
        in loop_repo.state()


def test_an_agent_ignoring_sigterm_is_killed(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec("ignores-term", runtime="2s", contain=False)
    _, outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.BUDGET  # type: ignore[attr-defined]
    pid = int((loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "maker.pid").read_text())
    assert not pid_alive(pid)


def test_dry_run_selects_without_running_the_maker(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec("echo ran > ../ran.txt")
    state_file = loop_repo.loop / "LOOP_STATE.md"
    state = state_file.read_bytes() if state_file.exists() else None
    _, outcome = run(loop_repo, factory, dry_run=True)
    assert outcome.stop is Stop.DONE  # type: ignore[attr-defined]
    assert {r.item.id: r.status for r in outcome.records}["DOC-1"] == "selected"  # type: ignore[attr-defined]
    assert not (loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "ran.txt").exists()
    # a dry run changes nothing: the state is not rewritten and no report is written
    assert (state_file.read_bytes() if state_file.exists() else None) == state
    assert outcome.report_path == "" and not (loop_repo.loop / "runs").exists()  # type: ignore[attr-defined]


def test_pause_file_is_a_kill_switch(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    (loop_repo.loop / "PAUSE").write_text("")
    _, outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.PAUSED  # type: ignore[attr-defined]
    assert outcome.stop.exit_code == 7  # type: ignore[attr-defined]
    assert report_of(outcome)["items"] == []


def test_failed_twice_before_is_escalated_without_running(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec("wrong", iterations=1)
    run(loop_repo, factory)
    state = loop_repo.state().replace("- status: escalated", "- status: failed")
    (loop_repo.loop / "LOOP_STATE.md").write_text(state)
    loop_repo.commit("human marks items failed for a retry")
    run(loop_repo, factory)
    (loop_repo.loop / "LOOP_STATE.md").write_text(loop_repo.state().replace("- status: escalated", "- status: failed"))
    loop_repo.commit("again")
    _, outcome = run(loop_repo, factory)
    report = report_of(outcome)
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")  # type: ignore[union-attr, index]
    assert doc["status"] == "escalated" and doc["attempts"] == []
    assert "failed 2 times before" in doc["reason"]


def test_invalid_spec_and_a_held_lock_refuse_to_run(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    (loop_repo.loop / "LOOP_SPEC.md").write_text("# Loop Spec: broken\n")
    with pytest.raises(RunError, match="does not verify"):
        run(loop_repo, factory)


def test_two_runs_at_once_the_second_is_refused(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    from loopgate.runner.lock import RunLock

    first = Loop(RunSettings(str(loop_repo.loop)), factory)
    first._load()
    with RunLock(os.path.join(first.runtime_dir, "run.lock")), \
            pytest.raises(RunError, match="another run of this loop is in progress"):
        run(loop_repo, factory)


READ_ONLY_STATE = "# Loop State: x\n\n## Current Run\n- run_id: a\n- mode: shadow\n"


def test_read_only_state_file_is_a_clear_error(loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path) -> None:
    state = loop_repo.loop / "LOOP_STATE.md"
    state.write_text(READ_ONLY_STATE)
    ran = tmp_path / "maker-ran"
    loop_repo.set_spec(f"touch {ran}", contain=False)  # the marker is outside the worktree
    if os.geteuid() != 0:
        state.chmod(stat.S_IRUSR)
        with pytest.raises(RunError, match=f"cannot write {state}: .*read-only"):
            run(loop_repo, factory)
        assert not ran.exists() and state.read_text() == READ_ONLY_STATE
        return
    # root writes through any file mode: bind the state file read-only (bubblewrap) for a real
    # EROFS, and run the real CLI inside that mount namespace
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap (bwrap) is missing: .ci/run installs it (apt-get install -y bubblewrap)")
        pytest.skip("needs bubblewrap (bwrap) to make a file read-only for root")
    done = subprocess.run([bwrap, "--dev-bind", "/", "/", "--ro-bind", str(state), str(state), "--",
                           sys.executable, "-m", "loopgate", "run", str(loop_repo.loop), "-q"],
                          cwd=loop_repo.root, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"loopgate: error: cannot write {state}: ")
    assert "read-only" in done.stderr and "(is the disk full, or the file read-only?)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not ran.exists()  # refused before any item: no maker ran on an unrecordable state
    assert state.read_text() == READ_ONLY_STATE
