"""`report`, `readiness` and `review` find `.loop/runs/*.json` whichever way the loop directory is named:
from inside it (no argument, or `.`), `..`-relative, or absolute."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from readiness.history import Week, write_history

from .conftest import loopgate


@pytest.fixture
def history(loop_repo: Path) -> Path:
    write_history(loop_repo, [Week()])  # 7 shadow runs, every draft reviewed
    return loop_repo


def runs_in_report(cwd: Path, *args: str) -> int:
    done = loopgate(cwd, "report", *args, "--format", "json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return int(json.loads(done.stdout)["overall"]["runs"])


def test_report_finds_the_runs_from_inside_the_loop_directory(history: Path) -> None:
    assert runs_in_report(history) == 7  # `cd .loop && loopgate report`
    assert runs_in_report(history, ".") == 7
    assert runs_in_report(history / "runs", "..") == 7
    assert runs_in_report(history, "../.loop") == 7
    assert runs_in_report(history.parent.parent, str(history)) == 7  # absolute, from elsewhere
    assert runs_in_report(history.parent) == 7  # and from the repository, as before


def test_readiness_counts_the_runs_from_inside_the_loop_directory(history: Path) -> None:
    done = loopgate(history, "readiness", "--no-run-checks", "--dry-run", "--format", "json")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout)["history"]["runs"] == 7


def test_review_finds_the_draft_from_inside_the_loop_directory(history: Path) -> None:
    reviews = history / "reviews.json"
    before = len(json.loads(reviews.read_text("utf-8"))["reviews"])
    drafted = json.loads(sorted((history / "runs").glob("*.json"))[-1].read_text("utf-8"))
    item = next(i["id"] for i in drafted["items"] if i["status"] == "drafted")
    done = loopgate(history, "review", item, "reject", "--note", "from inside .loop")
    assert done.returncode == 0, done.stderr
    rows = json.loads(reviews.read_text("utf-8"))["reviews"]  # beside the run reports, not in .loop/.loop/
    assert len(rows) == before + 1 and rows[-1]["run"] == drafted["run_id"] and rows[-1]["verdict"] == "reject"
    assert not (history / ".loop").exists()
