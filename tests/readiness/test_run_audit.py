"""`loopgate run` consults the readiness audit for every mode beyond shadow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from loopgate.runner.state import load_state

from .conftest import commit
from .history import Week, write_history


def run(loop: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop), "--quiet", *args],
                          cwd=loop.parent, capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=300)


def promote(loop: Path, mode: str) -> None:
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", f"- mode: {mode}"), encoding="utf-8")
    commit(loop.parent, f"promote to {mode}")


def test_a_mode_the_audit_does_not_allow_is_refused_with_its_reasons(loop_repo: Path) -> None:
    promote(loop_repo, "draft-pr")
    done = run(loop_repo, "--dry-run")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the readiness audit does not allow mode 'draft-pr'" in done.stderr
    assert "shadow-runs: 0 shadow run(s)" in done.stderr and "Traceback" not in done.stderr
    shadow = run(loop_repo, "--dry-run", "--mode", "shadow")  # shadow is always the loop's own call
    assert shadow.returncode == 0, shadow.stderr


def test_after_a_month_of_evidence_the_promoted_mode_runs(loop_repo: Path) -> None:
    promote(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week()])
    done = run(loop_repo, "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "draft-pr"


def test_a_demoted_loop_runs_in_the_lower_mode_and_refuses_the_higher_one(loop_repo: Path) -> None:
    promote(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.6, accept=0.3)])
    done = run(loop_repo, "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "shadow"  # the spec says draft-pr; the rollback wins
    state, _ = load_state(str(loop_repo / "LOOP_STATE.md"), "x")
    assert "demoted_to" not in state.run_extra  # a dry run records nothing
    explicit = run(loop_repo, "--dry-run", "--mode", "draft-pr")
    assert explicit.returncode == 2 and "demoted the loop to 'shadow'" in explicit.stderr


def test_the_spec_can_waive_the_audit_in_so_many_words(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr\n- audit: off"),
                    encoding="utf-8")
    commit(loop_repo.parent, "waive")
    done = run(loop_repo, "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "draft-pr"
