"""`loopgate readiness` on real repositories and generated histories: every verdict with its reasons."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from loopgate.readiness.audit import audit
from loopgate.runner.state import load_state

from .conftest import ROOT, commit
from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


def ids(criteria: list[object]) -> set[str]:
    return {c.id for c in criteria}  # type: ignore[attr-defined]


def test_a_fresh_loop_may_run_in_shadow_and_says_what_draft_pr_needs(loop_repo: Path) -> None:
    result = audit(str(loop_repo), now=NOW)
    assert result.allowed("shadow"), [c.as_dict() for c in result.blocking("shadow")]
    assert not result.allowed("draft-pr")
    blocking = ids(result.blocking("draft-pr"))
    assert {"shadow-runs", "shadow-items", "drafts-reviewed", "drafts-accepted"} <= blocking
    assert not {"artifacts-valid", "budgets-set", "escalation-baseline", "scope-allowlist", "readiness-decided",
                "default-branch-green", "tests-exist", "gates-runnable", "maker-resolves"} & blocking
    assert result.exit_code == 0  # shadow, the spec's mode, is allowed


def test_after_a_month_of_good_shadow_runs_draft_pr_is_allowed(loop_repo: Path) -> None:
    write_history(loop_repo, [Week(), Week(), Week(), Week()])
    result = audit(str(loop_repo), requested="draft-pr", now=NOW)
    assert result.allowed("draft-pr"), [c.as_dict() for c in result.blocking("draft-pr")]
    assert not result.allowed("pr")  # pr is earned in draft-pr runs
    assert "draft-pr-items" in ids(result.blocking("pr"))
    assert result.exit_code == 0
    assert result.totals.runs == 28 and result.totals.items == 56


def test_the_cli_exit_code_and_every_format_carry_one_verdict(loop_repo: Path) -> None:
    write_history(loop_repo, [Week(days=3)])
    repo = loop_repo.parent
    text = loopgate(repo, "readiness", ".loop", "--mode", "draft-pr", "--no-run-checks")
    assert text.returncode == 1, text.stderr
    assert "draft-pr  not yet" in text.stdout and "what to do next:" in text.stdout
    assert "shadow-runs [draft-pr]: 3 shadow run(s)" in text.stdout
    as_json = loopgate(repo, "readiness", ".loop", "--mode", "draft-pr", "--no-run-checks", "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    schema = json.loads((ROOT / "schemas" / "readiness-audit.schema.json").read_text("utf-8"))
    jsonschema.validate(data, schema)
    assert data["allowed"] is False and data["modes"]["shadow"]["allowed"] is True
    assert "shadow-runs" in data["modes"]["draft-pr"]["blocking"]
    md = loopgate(repo, "readiness", ".loop", "--mode", "draft-pr", "--no-run-checks", "--format", "markdown")
    assert md.returncode == 1 and "| draft-pr (asked for) | opens draft pull requests | not yet |" in md.stdout
    shadow = loopgate(repo, "readiness", ".loop", "--no-run-checks")
    assert shadow.returncode == 0 and "loopgate: shadow is allowed" in shadow.stdout


def test_a_bad_week_in_draft_pr_demotes_the_loop_and_the_state_says_why(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    commit(loop_repo.parent, "promote")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.6, accept=0.3)])
    result = audit(str(loop_repo), now=NOW)
    assert result.demoted_now and result.mode == "shadow" and result.demotion is not None
    assert "escalated" in result.demotion.because and "rollback limit 40%" in result.demotion.because
    state, errors = load_state(str(loop_repo / "LOOP_STATE.md"), "x")
    assert errors == []
    assert state.run_extra["demoted_to"] == "shadow" and state.run_extra["demoted_from"] == "draft-pr"
    assert "escalated" in state.run_extra["demoted_because"]
    # the next audit keeps the demotion: draft-pr needs new evidence gathered after it
    again = audit(str(loop_repo), now=NOW)
    assert again.mode == "shadow" and not again.demoted_now and not again.allowed("draft-pr")
    assert again.requested == "shadow" and again.exit_code == 0
    verify = loopgate(loop_repo.parent, "verify", ".loop")
    assert verify.returncode == 0, verify.stdout  # the state the audit wrote is a valid artifact


def test_a_demotion_is_lifted_by_evidence_gathered_after_it(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.6, accept=0.3)])
    assert audit(str(loop_repo), now=NOW).demoted_now
    # five more good weeks in shadow after the demotion (their own reports and reviews)
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week()], seed=11,
                  start=dt.datetime(2026, 12, 2, 8, tzinfo=dt.timezone.utc))
    lifted = audit(str(loop_repo), now=dt.datetime(2027, 1, 10, tzinfo=dt.timezone.utc))
    assert lifted.lifted_now and lifted.mode == "draft-pr" and lifted.allowed("draft-pr")
    state, _ = load_state(str(loop_repo / "LOOP_STATE.md"), "x")
    assert "demoted_to" not in state.run_extra


def test_a_dry_run_audit_writes_nothing(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.6)])
    before = (loop_repo / "LOOP_STATE.md").read_bytes()
    result = audit(str(loop_repo), write=False, now=NOW)
    assert result.demoted_now
    assert (loop_repo / "LOOP_STATE.md").read_bytes() == before


def test_the_repository_criteria_see_a_missing_tool_a_red_branch_and_no_tests(loop_repo: Path) -> None:
    repo = loop_repo.parent
    checklist = loop_repo / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text("utf-8").replace(
        "## Advisory Gates", "### unit tests\n- command: python3 -c 'raise SystemExit(1)'\n\n"
        "### lint\n- command: not-a-linter-here --check\n\n## Advisory Gates"), encoding="utf-8")
    (repo / "tests" / "test_docs.py").unlink()
    commit(repo, "red")
    result = audit(str(loop_repo), now=NOW)
    by_id = {c.id: c for c in result.criteria}
    assert by_id["gates-runnable"].ok is False and "not-a-linter-here" in by_id["gates-runnable"].detail
    assert by_id["tests-exist"].ok is False
    green = by_id["default-branch-green"]
    assert green.ok is False and "main" in green.detail and "exit 1" in green.detail
    assert not result.allowed("shadow")  # a gate that cannot run blocks every mode
    # the user's checkout is untouched and no worktree is left behind
    from .conftest import git
    assert git(repo, "status", "--porcelain") == ""
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_unreadable_reports_are_listed_not_fatal(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=3)])
    paths[0].write_text("{ not json", encoding="utf-8")
    paths[1].write_text("[]", encoding="utf-8")
    result = audit(str(loop_repo), run_checks=False, now=NOW)
    assert result.runs == 1 and len(result.unreadable) == 2
    out = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks")
    assert "2 run report(s) could not be read" in out.stdout and "Traceback" not in out.stderr


def test_the_shipped_example_says_what_blocks_each_mode() -> None:
    out = loopgate(ROOT, "readiness", "examples/repo-maintenance", "--no-run-checks", "--dry-run")
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr
    for mode in ("shadow", "draft-pr", "pr"):
        assert f"\n{mode:9} " in out.stdout
    assert "what to do next:" in out.stdout


def test_a_fresh_init_says_what_blocks_each_mode(tmp_path: Path) -> None:
    made = loopgate(tmp_path, "init", "loop", "--name", "Docs Link Repair")
    assert made.returncode == 0, made.stderr
    out = loopgate(tmp_path, "readiness", "loop", "--no-run-checks")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "git-repository" in out.stdout  # not in a repository yet: said, with the fix
    assert "readiness-decided" in out.stdout


def test_rollout_thresholds_come_from_the_spec(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: shadow\n- min shadow runs: 2\n"
                                                    "- min shadow items: 4\n- min reviewed drafts: 2\n"
                                                    "- min accepted drafts: 50%\n"), encoding="utf-8")
    write_history(loop_repo, [Week(days=2)])
    result = audit(str(loop_repo), requested="draft-pr", run_checks=False, now=NOW)
    assert result.thresholds.min_shadow_runs == 2 and result.thresholds.min_accepted_drafts == 50.0
    assert result.thresholds.origin("min_shadow_runs") == "LOOP_SPEC.md"
    assert not {"shadow-runs", "shadow-items", "drafts-reviewed"} & ids(result.blocking("draft-pr"))
    bad = loopgate(loop_repo.parent, "verify", ".loop")
    assert bad.returncode == 0, bad.stdout
    spec.write_text(spec.read_text("utf-8").replace("50%", "150%"), encoding="utf-8")
    assert loopgate(loop_repo.parent, "verify", ".loop").returncode == 1
