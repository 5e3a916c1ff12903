"""What a second hostile review of readiness, review and report (issue 11) found, each held to account."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import commit
from .history import Week, write_history


def loopgate(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=timeout)


def _criteria(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {c["id"]: c for c in json.loads(result.stdout)["criteria"]}


def test_a_queue_that_is_a_fifo_or_endless_is_refused_not_read(loop_repo: Path) -> None:
    """A FIFO blocked the read forever; a symlink to /dev/zero read until memory ran out."""
    queue = loop_repo / "work-queue.md"
    for make in (lambda: os.mkfifo(queue), lambda: queue.symlink_to("/dev/zero")):
        queue.unlink()
        make()
        result = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format",
                          "json", timeout=20)
        criterion = _criteria(result)["work-queue"]
        assert criterion["status"] == "not-met", criterion
        assert "not a regular file" in str(criterion["detail"])
        run = loopgate(loop_repo.parent, "run", ".loop", "--dry-run", timeout=20)
        assert run.returncode == 2, run.stderr
        assert "not a regular file" in run.stderr and "Traceback" not in run.stderr


def test_thirty_verdicts_at_once_all_land_once_a_run_lock_exists(loop_repo: Path) -> None:
    """Once any `loopgate run` had left its lock file behind, verdicts recorded at once refused each
    other with a false "`loopgate run` is running this loop" (half of 30 failed)."""
    from loopgate.history.runs import load_history
    from loopgate.runner.loaded import run_lock_path
    from loopgate.runner.lock import RunLock

    write_history(loop_repo, [Week(days=20)])
    (loop_repo / "reviews.json").unlink()
    RunLock(run_lock_path(str(loop_repo))).acquire().release()  # what every finished run leaves behind
    ids = [i.id for run in load_history(str(loop_repo)).runs for i in run.items if i.produced][:30]
    assert len(ids) == 30
    procs = [subprocess.Popen([sys.executable, "-m", "loopgate", "review", i, "reject", "--loop", str(loop_repo)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in ids]
    outcomes = [(p.communicate(timeout=180)[1], p.returncode) for p in procs]
    assert [code for _, code in outcomes] == [0] * 30, outcomes
    rows = json.loads((loop_repo / "reviews.json").read_text("utf-8"))["reviews"]
    assert sorted(r["item"] for r in rows) == sorted(ids)


def test_a_run_starting_while_a_verdict_is_written_waits_for_it(tmp_path: Path) -> None:
    """A writer that is not a run (a verdict, a demotion) holds the run lock shared for a moment: a run
    starting then waits, where it used to fail as if another run held the lock; another run still
    refuses it at once."""
    from loopgate.runner.lock import LockHeld, RunLock, held_unless_busy

    path = str(tmp_path / "run.lock")
    RunLock(path).acquire().release()
    writer = subprocess.Popen([sys.executable, "-c", "import time; from loopgate.runner.lock import held_unless_busy\n"
                               f"with held_unless_busy({path!r}) as free:\n print(free, flush=True); time.sleep(1)"],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "True"
    start = time.monotonic()
    lock = RunLock(path).acquire()
    assert time.monotonic() - start > 0.3, "the run took the lock while the writer still held it"
    writer.communicate(timeout=30)
    try:
        with held_unless_busy(path) as free:
            assert free is False  # a real run holds it: the writer refuses
        start = time.monotonic()
        try:
            RunLock(path).acquire()
            raise AssertionError("a second run took the lock")
        except LockHeld:
            assert time.monotonic() - start < 2, "a second run waited instead of being refused at once"
    finally:
        lock.release()


def _set_mode(loop: Path, mode: str) -> None:
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", f"- mode: {mode}"), encoding="utf-8")
    commit(loop.parent, "mode")


def test_the_latest_verdict_by_its_time_wins_in_readiness_and_report_alike(loop_repo: Path) -> None:
    """Earlier-dated rejections appended after the acceptances (a second reviewer's file merged in):
    readiness took the last in the file (and demoted), report the latest by time (and did not)."""
    _set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.0, accept=1.0)])
    path = loop_repo / "reviews.json"
    data = json.loads(path.read_text("utf-8"))
    last = [r for r in data["reviews"] if r["run"] >= "2026-11-02"][-8:]
    assert len(last) == 8
    for row in last:
        at = dt.datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%SZ") - dt.timedelta(hours=1)
        data["reviews"].append({**row, "verdict": "reject", "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    path.write_text(json.dumps(data), encoding="utf-8")
    audit = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run",
                                "--format", "json").stdout)
    report = json.loads(loopgate(loop_repo.parent, "report", ".loop", "--by", "week", "--format", "json").stdout)
    assert audit["demoted_now"] is False and audit["demotion"] is None, audit["demotion"]
    assert report["points"][-1]["rollback"] is None, report["points"][-1]
    assert audit["mode"] == "draft-pr"


def test_a_demotion_is_dated_where_the_items_crossed_the_limit_not_at_the_audit(loop_repo: Path) -> None:
    """No audit ran during the bad draft-pr week (shadow runs do not consult it): the demotion was
    dated at the audit's clock, so the good shadow runs made since could not lift it, and readiness
    said shadow where the report said draft-pr."""
    _set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr"),
                              Week(mode="draft-pr", escalate=0.7, accept=0.3), Week(), Week()])
    audit = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--dry-run", "--format", "json").stdout)
    report = json.loads(loopgate(loop_repo.parent, "report", ".loop", "--by", "week", "--format", "json").stdout)
    assert [p["rollback"] for p in report["points"]][-3:] == ["demoted", "lifted", None]
    assert report["points"][-1]["earned_mode"] == "draft-pr"
    assert audit["mode"] == "draft-pr" and audit["demotion"] is None, audit["demotion"]
    assert audit["lifted_now"] is True and audit["demoted_now"] is False
    text = loopgate(loop_repo.parent, "readiness", ".loop", "--dry-run").stdout
    assert "rollback: demoted to shadow at 2026-11-" in text and "and lifted" in text, text
    # recorded, the lift keeps the bad week's items from causing a second demotion
    loopgate(loop_repo.parent, "readiness", ".loop")
    state = (loop_repo / "LOOP_STATE.md").read_text("utf-8")
    assert "last_demoted_at: 2026-11-" in state and "demoted_to" not in state
    again = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--dry-run", "--format", "json").stdout)
    assert again["mode"] == "draft-pr" and again["demotion"] is None


def test_items_escalated_at_selection_are_not_attempts_and_demote_nothing(loop_repo: Path) -> None:
    """Six items the policy sent to a person before any attempt (`attempts: []`) counted as items
    attempted and as escalations: a loop that did as asked was demoted."""
    _set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.0, accept=1.0, days=2)])
    items = [{"id": f"AUTH-{i}", "title": "rotate auth token", "source": "queue", "status": "escalated",
              "reason": "always-escalate category 'authentication'", "next_action": "human", "attempts": []}
             for i in range(6)]
    report = {"run_id": "2026-11-04T080000Z", "mode": "draft-pr", "duration": 1.0, "usage": {"cost_usd": 0},
              "items": items, "approvals": [], "stop": {"reason": "escalations-pending", "exit_code": 3}}
    before = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run",
                                 "--format", "json").stdout)["history"]["totals"]
    (loop_repo / "runs" / "2026-11-04T080000Z.json").write_text(json.dumps(report), encoding="utf-8")
    audit = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run",
                                "--format", "json").stdout)
    assert audit["demotion"] is None and audit["mode"] == "draft-pr", audit["demotion"]
    totals = audit["history"]["totals"]
    assert totals["escalated_at_selection"] == 6
    assert (totals["items"], totals["escalated"]) == (before["items"], before["escalated"])
    assert "escalated by the policy at selection" in _criteria_of(audit)["draft-pr-items"]["detail"]
    text = loopgate(loop_repo.parent, "report", ".loop").stdout
    assert "6 item(s) escalated by the policy at selection" in text


def _criteria_of(audit: dict[str, object]) -> dict[str, dict[str, object]]:
    rows = audit["criteria"]
    assert isinstance(rows, list)
    return {c["id"]: c for c in rows}


@pytest.mark.parametrize(("maker", "met"), [
    ("timeout 600 python3 nomaker.py", False),
    ("env python3 nomaker.py", False),
    ("env -i A=1 B=2 python3 nomaker.py", False),
    ("nice sh nomaker.sh", False),
    ("nice -n 5 nohup stdbuf -oL timeout -s KILL 60 python3 nomaker.py", False),
    ("python3 -m nomodule", False),
    ("timeout 600 nosuchprogram-xyz", False),
    ("timeout 600 python3 maker.py", True),
    ("env A=1 nice -n 5 python3 maker.py", True),
    ("python3 -m json.tool", True),
    ("python3 -m maker", True),
])
def test_the_script_a_wrapped_interpreter_runs_must_be_there(loop_repo: Path, maker: str, met: bool) -> None:
    """A wrapper before the interpreter (`timeout 600 python3 x.py`) hid a missing script; `-m` named
    a module nobody checked."""
    result = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "json",
                      "--maker", maker)
    criterion = _criteria(result)["maker-resolves"]
    assert (criterion["status"] == "met") is met, criterion


def test_readiness_says_which_verdicts_it_does_not_count_as_report_does(loop_repo: Path) -> None:
    """Verdicts naming a draft no report shows: report counted them as not counted, readiness was silent."""
    write_history(loop_repo, [Week(), Week()])
    path = loop_repo / "reviews.json"
    data = json.loads(path.read_text("utf-8"))
    data["reviews"] += [{"item": "NOPE-1", "verdict": "accept", "at": "2026-11-01T00:00:00Z",
                         "run": "2026-10-05T080000Z"}] * 3
    path.write_text(json.dumps(data), encoding="utf-8")
    audit = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run",
                                "--format", "json").stdout)
    report = json.loads(loopgate(loop_repo.parent, "report", ".loop", "--format", "json").stdout)
    assert audit["uncounted_verdicts"] == report["uncounted_verdicts"] == 3
    assert any(p.startswith("3 verdict(s) in reviews.json not counted") for p in audit["problems"])
    text = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run").stdout
    assert "3 verdict(s) in reviews.json not counted" in text


def test_gate_pass_rate_and_attempts_per_completed_item_are_shown_as_evidence(loop_repo: Path) -> None:
    """The issue names both among the evidence; readiness showed neither."""
    write_history(loop_repo, [Week(failing_gate="link check")])
    audit = json.loads(loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run",
                                "--format", "json").stdout)
    evidence, totals = audit["evidence"], audit["history"]["totals"]
    assert evidence["gate_pass_rate"] == totals["gate_pass_rate"] < 100
    assert evidence["attempts_per_completed_item"] == totals["attempts_per_produced_item"] > 1
    text = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run").stdout
    assert f"gate pass rate: {evidence['gate_pass_rate']:g}% of {evidence['gate_runs']} gate run(s)" in text
    assert f"attempts per completed item: {evidence['attempts_per_completed_item']:g} over" in text
    md = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "markdown")
    assert "- gate pass rate: " in md.stdout and "- attempts per completed item: " in md.stdout
