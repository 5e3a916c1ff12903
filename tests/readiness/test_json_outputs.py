"""The JSON of `loopgate report` and `loopgate readiness`, from the real CLI, against the schemas
in schemas/ that tools are told to rely on: with no runs, with unreadable reports, and through a
rollback (the fields a demotion adds), in every `--by` period."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from .conftest import ROOT, commit
from .history import Week, write_history


def loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


def validated(out: subprocess.CompletedProcess[str], schema: str) -> dict[str, Any]:
    assert "Traceback" not in out.stderr, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / f"{schema}.schema.json")
                                                           .read_text("utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors[:5]
    return data


def demoting_history(loop: Path) -> None:
    """Four good shadow weeks, then a bad week in draft-pr: the audit demotes the loop to shadow."""
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    commit(loop.parent, "promote")
    write_history(loop, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.6, accept=0.3)],
                  start=dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=40))


def test_the_report_json_follows_its_schema_with_no_runs_and_unreadable_reports(loop_repo: Path) -> None:
    repo = loop_repo.parent
    empty = validated(loopgate(repo, "report", ".loop", "--format", "json"), "run-report-trends")
    assert empty["points"] == [] and empty["overall"]["runs"] == 0 and empty["overall"]["cost_per_produced_item"] \
        is None
    (loop_repo / "runs").mkdir()
    (loop_repo / "runs" / "broken.json").write_text("{", encoding="utf-8")
    broken = validated(loopgate(repo, "report", ".loop", "--format", "json"), "run-report-trends")
    assert [u["path"].rsplit("/", 1)[-1] for u in broken["unreadable_reports"]] == ["broken.json"]


def test_the_report_json_follows_its_schema_through_a_rollback_in_every_period(loop_repo: Path) -> None:
    demoting_history(loop_repo)
    for period in ("run", "day", "week"):
        out = loopgate(loop_repo.parent, "report", ".loop", "--format", "json", "--by", period)
        assert out.returncode == 0, out.stderr
        data = validated(out, "run-report-trends")
        assert data["period"] == period and data["overall"]["runs"] == 35
        rollbacks = [p for p in data["points"] if p["rollback"] == "demoted"]
        assert len(rollbacks) == 1 and "escalated" in rollbacks[0]["rollback_because"], period
        assert data["points"][-1]["earned_mode"] == "shadow"
        assert data["overall"]["gate_failure_rates"] and data["overall"]["stops"]


def test_the_readiness_json_follows_its_schema_with_no_runs_and_after_a_rollback(loop_repo: Path) -> None:
    repo = loop_repo.parent
    fresh = validated(loopgate(repo, "readiness", ".loop", "--no-run-checks", "--format", "json"),
                      "readiness-audit")
    assert fresh["demotion"] is None and fresh["history"]["runs"] == 0
    demoting_history(loop_repo)
    dry = validated(loopgate(repo, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "json"),
                    "readiness-audit")
    assert dry["demoted_now"] and not dry["recorded"] and dry["demotion"]["to"] == "shadow"
    out = loopgate(repo, "readiness", ".loop", "--no-run-checks", "--format", "json", "--mode", "draft-pr")
    assert out.returncode == 1
    done = validated(out, "readiness-audit")
    assert done["demoted_now"] and done["recorded"] and done["mode"] == "shadow"
    assert done["demotion"]["from"] == "draft-pr" and "rollback" in done["modes"]["draft-pr"]["blocking"]
    held = validated(loopgate(repo, "readiness", ".loop", "--no-run-checks", "--format", "json"), "readiness-audit")
    assert not held["demoted_now"] and held["demotion"]["to"] == "shadow" and held["allowed"]
