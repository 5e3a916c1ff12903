"""What a hostile review of readiness, review and report found, each held to account."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopgate.history.reviews import load_reviews
from loopgate.readiness.audit import audit
from loopgate.runner.state import load_state

from .conftest import commit, git
from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def loopgate(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=timeout)


def set_mode(loop: Path, mode: str, extra: str = "") -> None:
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", f"- mode: {mode}{extra}"), encoding="utf-8")


def test_verdicts_recorded_at_once_are_all_kept(loop_repo: Path) -> None:
    write_history(loop_repo, [Week(days=10)])
    (loop_repo / "reviews.json").unlink()
    from loopgate.history.runs import load_history

    ids = [i.id for run in load_history(str(loop_repo)).runs for i in run.items if i.produced]
    assert len(ids) >= 15
    procs = [subprocess.Popen([sys.executable, "-m", "loopgate", "review", i, "accept", "--loop", str(loop_repo)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in ids]
    outcomes = [(p.communicate(timeout=120), p.returncode) for p in procs]
    assert [code for _, code in outcomes] == [0] * len(ids), outcomes
    rows = json.loads((loop_repo / "reviews.json").read_text("utf-8"))["reviews"]
    assert sorted(r["item"] for r in rows) == sorted(ids)


def test_a_verdict_is_on_one_draft_not_on_the_item_forever(loop_repo: Path) -> None:
    """Drafts accepted in shadow do not count as reviewed drafts of a later draft-pr run."""
    set_mode(loop_repo, "pr", "\n- min draft items: 2")
    write_history(loop_repo, [Week(), Week()])
    shadow_ids = [i.id for run in __import__("loopgate.history.runs", fromlist=["x"]).load_history(
        str(loop_repo)).runs for i in run.items][:6]
    runs = loop_repo / "runs"
    later = json.loads(sorted(runs.glob("*.json"))[-1].read_text("utf-8"))
    later.update(run_id="2026-11-20T080000Z", mode="draft-pr")
    for item, ident in zip(later["items"], shadow_ids, strict=False):
        item.update(id=ident, status="pr-opened")
    (runs / "2026-11-20T080000Z.json").write_text(json.dumps(later), encoding="utf-8")
    result = audit(str(loop_repo), requested="pr", run_checks=False, now=NOW)
    blocking = {c.id: c.detail for c in result.blocking("pr")}
    assert "drafts-reviewed-pr" in blocking and blocking["drafts-reviewed-pr"].startswith("0 reviewed")


def test_a_lifted_demotion_does_not_come_back_from_the_same_items(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.9)])
    assert audit(str(loop_repo), now=NOW).demoted_now
    write_history(loop_repo, [Week()] * 3, seed=11, start=dt.datetime(2026, 12, 2, 8, tzinfo=dt.timezone.utc))
    later = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    modes = [audit(str(loop_repo), now=later).mode for _ in range(3)]
    assert modes == ["draft-pr", "draft-pr", "draft-pr"]
    state, _ = load_state(str(loop_repo / "LOOP_STATE.md"), "x")
    assert "demoted_to" not in state.run_extra and state.run_extra["last_demoted_at"].startswith("2026-11-")


def test_a_loop_demoted_twice_climbs_back_one_step_at_a_time(loop_repo: Path) -> None:
    set_mode(loop_repo, "pr")
    state = loop_repo / "LOOP_STATE.md"
    state.write_text(state.read_text("utf-8").replace("## Current Run\n", "## Current Run\n- demoted_to: shadow\n"
                                                      "- demoted_from: draft-pr\n- demoted_at: 2026-11-01T00:00:00Z\n"
                                                      "- demoted_because: a bad week\n", 1), encoding="utf-8")
    write_history(loop_repo, [Week()] * 3, start=dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone.utc))
    commit(loop_repo.parent, "state")
    result = audit(str(loop_repo), now=NOW)
    assert result.lifted_now and result.mode == "draft-pr" and result.allowed("draft-pr")
    assert not result.allowed("pr") and "rollback" in {c.id for c in result.blocking("pr")}
    again = audit(str(loop_repo), now=NOW)
    assert again.mode == "draft-pr" and again.demotion is not None and again.demotion.to == "draft-pr"


def test_a_signal_during_the_default_branch_check_leaves_nothing_behind(loop_repo: Path, tmp_path: Path) -> None:
    repo = loop_repo.parent
    checklist = loop_repo / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text("utf-8").replace(
        "## Advisory Gates", f"### slow\n- command: sh -c 'echo $$ > {tmp_path}/pid; sleep 60'\n\n## Advisory Gates"),
        encoding="utf-8")
    commit(repo, "slow gate")
    proc = subprocess.Popen([sys.executable, "-m", "loopgate", "readiness", ".loop", "--dry-run"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    gate_pid = int((tmp_path / "pid").read_text().strip())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "temporary worktree removed" in err and "Traceback" not in err
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{gate_pid}") or "zombie" in Path(f"/proc/{gate_pid}/status").read_text()


def test_no_name_in_a_report_can_break_the_html_page(loop_repo: Path, tmp_path: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    doc = json.loads(paths[0].read_text("utf-8"))
    doc["items"][0]["attempts"][0]["gates"][0]["gate"] = "<!--<script>"
    paths[0].write_text(json.dumps(doc), encoding="utf-8")
    page = tmp_path / "r.html"
    assert loopgate(loop_repo.parent, "report", ".loop", "--format", "html", "-o", str(page)).returncode == 0
    html = page.read_text("utf-8")
    data = html.split('<script type="application/json" id="lg-data">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)  # still the same data, with no `<` for the HTML parser
    md = loopgate(loop_repo.parent, "report", ".loop", "--format", "markdown").stdout
    assert "<!--" not in md and "&lt;\\!--&lt;script\\>" in md  # shown as written, markdown syntax escaped


def test_a_blank_maker_is_a_finding_not_a_traceback(loop_repo: Path) -> None:
    done = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--maker", " ")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "maker-resolves [shadow, draft-pr, pr]: no maker command" in done.stdout


def test_a_reviews_file_that_is_a_fifo_or_huge_is_refused_not_read(loop_repo: Path) -> None:
    os.mkfifo(loop_repo / "reviews.json")
    for args in (("review", "X", "accept", "--loop", ".loop"), ("report", ".loop")):
        done = loopgate(loop_repo.parent, *args, timeout=30)
        assert done.returncode == 2 and "not a regular file" in done.stderr
    done = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", timeout=30)
    assert "not a regular file" in done.stdout and "Traceback" not in done.stderr


def test_an_unrecorded_demotion_says_so(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week()] * 4 + [Week(mode="draft-pr", escalate=0.9)])
    state = loop_repo / "LOOP_STATE.md"
    state.write_text(state.read_text("utf-8").replace("- mode: shadow", "- mode: bogus"), encoding="utf-8")
    assert loopgate(loop_repo.parent, "verify", ".loop").returncode == 1
    out = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks").stdout
    assert "NOT recorded in LOOP_STATE.md" in out and "the demotion was not recorded" in out
    md = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--format", "markdown").stdout
    assert "(not recorded in LOOP_STATE.md)" in md and "> warning:" in md


def test_a_small_rollback_window_still_rolls_back(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr", "\n- rollback window: 2")
    write_history(loop_repo, [Week()] * 4 + [Week(mode="draft-pr", days=1, escalate=1.0)])
    assert audit(str(loop_repo), run_checks=False, write=False, now=NOW).demoted_now


def test_review_keeps_what_it_does_not_know_and_writes_through_a_symlink(loop_repo: Path, tmp_path: Path) -> None:
    write_history(loop_repo, [Week(days=1)])
    shared = tmp_path / "shared-reviews.json"
    shared.write_text(json.dumps({"version": 2, "owner": "docs team", "reviews": []}), encoding="utf-8")
    (loop_repo / "reviews.json").unlink()
    (loop_repo / "reviews.json").symlink_to(shared)
    done = loopgate(loop_repo.parent, "review", "MT-7-1", "accept", "--loop", ".loop")
    assert done.returncode == 0, done.stderr
    assert (loop_repo / "reviews.json").is_symlink()
    data = json.loads(shared.read_text("utf-8"))
    assert data["version"] == 2 and data["owner"] == "docs team" and data["reviews"][0]["item"] == "MT-7-1"
    assert data["reviews"][0]["run"].startswith("2026-10-05")
    assert loopgate(loop_repo.parent, "review", "NEVER-DRAFTED", "accept", "--loop", ".loop").returncode == 2
    assert len(load_reviews(str(loop_repo)).by_item) == 1


def test_a_run_reported_twice_counts_once(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=3)])
    (paths[0].parent / "copy.json").write_text(paths[0].read_text("utf-8"), encoding="utf-8")
    result = audit(str(loop_repo), run_checks=False, now=NOW)
    assert result.runs == 3 and any("reported twice" in why for _, why in result.unreadable)


def test_the_report_is_linear_in_the_runs(loop_repo: Path) -> None:
    """3,000 runs, one point each: quadratic work would take minutes; bounded by a generous timeout."""
    write_history(loop_repo, [Week(days=3000, items=1)])
    done = loopgate(loop_repo.parent, "report", ".loop", "--by", "run", "--format", "json", timeout=120)
    assert done.returncode == 0 and len(json.loads(done.stdout)["points"]) == 3000
