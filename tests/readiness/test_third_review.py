"""The third hostile review of `loopgate readiness` (issue 11), one regression test per finding:
real git repositories, real LOOP_STATE.md files and run reports, the real audit and CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from loopgate.readiness.audit import audit
from loopgate.runner.state import load_state

from .conftest import commit, git
from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def by_id(loop: Path, **kwargs: Any) -> dict[str, Any]:
    result = audit(str(loop), write=False, now=NOW, **kwargs)
    return {c.id: c for c in result.criteria}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=300)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def set_mode(loop: Path, mode: str) -> None:
    edit(loop / "LOOP_SPEC.md", "- mode: shadow", f"- mode: {mode}")


def test_default_branch_without_a_checklist_is_not_green(loop_repo: Path) -> None:
    # the checklist is in the working tree only: the default branch itself has none
    git(loop_repo.parent, "rm", "-q", "--cached", ".loop/quality-gate-checklist.md")
    git(loop_repo.parent, "commit", "-q", "-m", "checklist not committed")
    green = by_id(loop_repo)["default-branch-green"]
    assert green.ok is False
    assert "the default branch has no quality-gate checklist at .loop/quality-gate-checklist.md" in green.detail
    assert "Commit .loop/quality-gate-checklist.md to main" in green.fix
    # one that is there but names no gate (here: not a checklist at all) shows nothing either
    checklist = loop_repo / "quality-gate-checklist.md"
    kept = checklist.read_text("utf-8")
    checklist.write_text("# Notes\n\nNothing here yet.\n", encoding="utf-8")
    commit(loop_repo.parent, "an empty checklist")
    checklist.write_text(kept, encoding="utf-8")  # the working tree's own is fine: main's is what is judged
    empty = by_id(loop_repo)["default-branch-green"]
    assert empty.ok is False and "on main has no gates" in empty.detail, empty


COMMENTED = ("<!-- lifted by hand on 2026-11-02; kept for the record:\n- demoted_to: shadow\n- demoted_from: draft-pr\n"
             "- demoted_at: 2026-11-01T00:00:00Z\n- note: the bad week of October\n-->\n")


def _comment_a_demotion(loop: Path) -> Path:
    set_mode(loop, "draft-pr")
    state = loop / "LOOP_STATE.md"
    edit(state, "- escalations: 1\n", "- escalations: 1\n" + COMMENTED)
    return state


def test_a_demotion_in_an_html_comment_is_not_in_force(loop_repo: Path) -> None:
    _comment_a_demotion(loop_repo)
    commit(loop_repo.parent, "state")
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert result.demotion is None and result.mode == "draft-pr" and "rollback" not in by_id(loop_repo)
    text = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run").stdout
    assert "rollback:" not in text and "mode: draft-pr" in text


def test_recording_a_demotion_leaves_a_commented_one_as_it_was(loop_repo: Path) -> None:
    state = _comment_a_demotion(loop_repo)
    commit(loop_repo.parent, "promote")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.9)])
    result = audit(str(loop_repo), run_checks=False, now=NOW)
    assert result.demoted_now and result.recorded
    written = state.read_text("utf-8")
    assert COMMENTED in written  # the comment, byte for byte
    # and the new demotion is outside it, where the next audit (and run) reads it
    before_comment = written.split(COMMENTED)[0]
    assert "- demoted_to: shadow\n- demoted_from: draft-pr\n" in before_comment
    recorded, errors = load_state(str(state), "x")
    assert errors == [] and recorded.run_extra["demoted_to"] == "shadow"
    again = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert again.mode == "shadow" and not again.demoted_now and again.demotion is not None


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m"


def test_no_escape_sequence_from_the_state_or_the_path_reaches_text_or_markdown(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr")
    edit(loop_repo / "LOOP_STATE.md", "## Current Run\n",
         f"## Current Run\n- demoted_to: shadow\n- demoted_from: draft-pr{ESCAPES}\n"
         f"- demoted_at: 2026-11-01T00:00:00Z\n- demoted_because: a bad week{ESCAPES}\n")
    moved = loop_repo.parent / f"loop{ESCAPES}"
    loop_repo.rename(moved)  # the loop's own path carries them too
    commit(loop_repo.parent, "state")
    for fmt in ("text", "markdown"):
        done = run(loop_repo.parent, "readiness", moved.name, "--no-run-checks", "--dry-run", "--format", fmt)
        assert done.returncode in (0, 1), done.stderr
        assert "demoted" in done.stdout.lower() or "rolled back" in done.stdout.lower(), done.stdout
        for char in ("\x1b", "\x07", "\x9b"):
            assert char not in done.stdout, (fmt, done.stdout)
    text = run(loop_repo.parent, "readiness", moved.name, "--no-run-checks", "--dry-run").stdout
    assert "from draft-pr\\x1b]0;pwned\\x07" in text  # shown, as `plain` shows it, never sent


def _always_escalate(loop: Path, *bullets: str) -> Any:
    policy = loop / "escalation-policy.md"
    text = policy.read_text("utf-8")
    start = text.index("## Always Escalate\n")
    end = text.index("## Escalate On Ambiguity")
    policy.write_text(text[:start] + "## Always Escalate\n" + "".join(f"- {b}\n" for b in bullets) + "\n"
                      + text[end:], encoding="utf-8")
    return by_id(loop, run_checks=False)["escalation-baseline"]


def test_the_escalation_baseline_matches_whole_words_not_pieces_of_them(loop_repo: Path) -> None:
    near_misses = _always_escalate(loop_repo, "changes by a new author", "redeploymentless refactors",
                                   "billing", "secrets", "schema migrations")
    assert near_misses.ok is False
    assert near_misses.detail == "not covered: authentication, deployment"
    # the forms a team writes still count: authorization, a plural, a hyphen, another case
    forms = _always_escalate(loop_repo, "Authorization rules", "payments", "API-keys", "data deletion",
                             "redeploying services")
    assert forms.ok is True, forms.detail
    for auth in ("auth", "authentication", "authorization", "log-in pages", "sign in"):
        assert _always_escalate(loop_repo, auth, "billing", "tokens", "migrations", "deployments").ok is True, auth


def _cost_limit(loop: Path, written: str) -> None:
    edit(loop / "LOOP_SPEC.md", "- mode: shadow\n", f"- mode: shadow\n- max cost per item: {written}\n")


def test_cost_per_item_is_unknown_when_no_run_reported_a_cost(loop_repo: Path) -> None:
    _cost_limit(loop_repo, "$2")
    write_history(loop_repo, [Week(cost=0.0)])  # a maker that reports no cost: cost_usd 0 everywhere
    cost = by_id(loop_repo, run_checks=False)["cost-per-item"]
    assert cost.ok is None and cost.detail.startswith("no cost reported"), cost
    assert "cost_usd" in cost.fix
    # a cost the agent itself reported as $0 (`priced`) is evidence, and meets the limit
    for report in (loop_repo / "runs").glob("*.json"):
        data = json.loads(report.read_text("utf-8"))
        data["usage"]["priced"] = True
        report.write_text(json.dumps(data), encoding="utf-8")
    assert by_id(loop_repo, run_checks=False)["cost-per-item"].ok is True


def test_cost_per_item_leaves_out_the_items_of_runs_that_reported_no_cost(loop_repo: Path) -> None:
    _cost_limit(loop_repo, "$2")
    write_history(loop_repo, [Week(days=2, cost=3.0)])
    write_history(loop_repo, [Week(days=5, cost=0.0)], seed=3, start=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    cost = by_id(loop_repo, run_checks=False)["cost-per-item"]
    assert cost.ok is False and "in runs that reported no cost left out" in cost.detail, cost


def test_a_cost_limit_in_another_currency_or_not_an_amount_fails_and_says_so(loop_repo: Path) -> None:
    write_history(loop_repo, [Week()])
    _cost_limit(loop_repo, "5 EUR")
    cost = by_id(loop_repo, run_checks=False)["cost-per-item"]
    assert cost.ok is False, cost
    assert "`- max cost per item: 5 EUR` under ## Rollout in LOOP_SPEC.md is in EUR" in cost.detail
    assert "USD only" in cost.detail and "$2" in cost.fix
    done = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--mode", "draft-pr")
    assert done.returncode == 1 and "FAIL cost-per-item" in done.stdout and "5 EUR" in done.stdout, done.stdout
    edit(loop_repo / "LOOP_SPEC.md", "- max cost per item: 5 EUR", "- max cost per item: a fortune")
    garbage = by_id(loop_repo, run_checks=False)["cost-per-item"]
    assert garbage.ok is False and "`- max cost per item: a fortune`" in garbage.detail
    assert "is not an amount of money" in garbage.detail


def test_an_allowlist_that_matches_everything_is_no_allowlist(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    written = "- allowed paths: docs/**, README.md, *.md"
    assert by_id(loop_repo, run_checks=False)["scope-allowlist"].ok is True
    for everything in ("**", "*", "/", ".", "./**", "docs/**, **", "?*"):
        edit(spec, written, f"- allowed paths: {everything}")
        written = f"- allowed paths: {everything}"
        scope = by_id(loop_repo, run_checks=False)["scope-allowlist"]
        assert scope.ok is False, (everything, scope)
        assert "an allowlist that allows everything bounds nothing, so it counts as none" in scope.detail
    done = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--mode", "draft-pr")
    assert done.returncode == 1 and "FAIL scope-allowlist" in done.stdout, done.stdout


def test_the_maker_resolves_from_the_repository_root_not_the_current_directory(loop_repo: Path) -> None:
    repo = loop_repo.parent
    script = repo / "maker.sh"
    script.write_text("#!/bin/sh\necho made\n", encoding="utf-8")
    script.chmod(0o755)
    commit(repo, "maker")
    # started from a subdirectory, where no ./maker.sh is: the maker runs at the root of a checkout
    done = run(repo / "docs", "readiness", "../.loop", "--no-run-checks", "--dry-run", "--maker", "./maker.sh")
    assert "ok   maker-resolves [shadow, draft-pr, pr]: `./maker.sh` found" in done.stdout, done.stdout
    gone = run(repo / "docs", "readiness", "../.loop", "--no-run-checks", "--dry-run", "--maker", "./absent.sh")
    assert f"FAIL maker-resolves [shadow, draft-pr, pr]: `./absent.sh` is not found from the repository root " \
           f"({repo})" in gone.stdout, gone.stdout


def test_an_interpreters_script_must_exist_at_the_repository_root(loop_repo: Path) -> None:
    repo = loop_repo.parent
    (repo / "scripts").mkdir()
    (repo / "scripts" / "run.sh").write_text("echo made\n", encoding="utf-8")
    commit(repo, "scripts")

    def maker(command: str) -> Any:
        return by_id(loop_repo, run_checks=False, maker=command)["maker-resolves"]

    for missing, script in (("sh missing.sh", "missing.sh"), ("bash scripts/x.sh", "scripts/x.sh"),
                            ("python3 tool.py", "tool.py"), ("python3 -u -W ignore tool.py", "tool.py"),
                            ("bash -euo pipefail scripts/x.sh", "scripts/x.sh")):
        found = maker(missing)
        assert found.ok is False, (missing, found)
        assert f"the script it runs, `{script}`, is not in the repository root ({repo})" in found.detail
    # the pytest process's own directory is not the repository: these resolve from its root
    for present in ("python3 maker.py", "bash -euo pipefail scripts/run.sh", "sh ./scripts/run.sh",
                    "sh -c 'echo made'", "python3 -m http.server", "LOOPGATE_X=1 python3 maker.py --fast",
                    'sh "$LOOPGATE_ATTEMPT_DIR/run.sh"'):
        assert maker(present).ok is True, (present, maker(present))


def test_a_maker_script_that_is_not_committed_does_not_resolve(loop_repo: Path) -> None:
    repo = loop_repo.parent
    (repo / "tool.sh").write_text("echo made\n", encoding="utf-8")
    (repo / "run.sh").write_text("#!/bin/sh\necho made\n", encoding="utf-8")
    (repo / "run.sh").chmod(0o755)
    for command, loose in (("sh tool.sh", "tool.sh"), ("./run.sh", "./run.sh")):
        found = by_id(loop_repo, run_checks=False, maker=command)["maker-resolves"]
        assert found.ok is False and f"`{loose}` is in the working tree but not committed" in found.detail, found
    commit(repo, "the maker's scripts")
    for command in ("sh tool.sh", "./run.sh"):
        assert by_id(loop_repo, run_checks=False, maker=command)["maker-resolves"].ok is True, command
