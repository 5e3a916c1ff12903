"""Every verdict `loopgate review` recorded is counted in the report's trends (the earned mode and the
rollback replay), whatever its time says; one that no run report here can take is counted as not counted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from readiness.history import Week, write_history
from readiness.test_json_outputs import validated

from .conftest import loopgate


def report(loop: Path, *args: str) -> dict[str, Any]:
    done = loopgate(loop.parent, "report", "--by", "day", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return validated(done, "run-report-trends")  # uncounted_verdicts is in the schema tools rely on


def rewrite_times(loop: Path, when: Any) -> None:
    """Each verdict's `at` replaced by `when(its run's start)`."""
    file = loop / "reviews.json"
    data = json.loads(file.read_text("utf-8"))
    for row in data["reviews"]:
        started = dt.datetime.strptime(row["run"], "%Y-%m-%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        row["at"] = when(started)
    file.write_text(json.dumps(data), encoding="utf-8")


def earned(data: dict[str, Any]) -> list[str]:
    return [p["earned_mode"] for p in data["points"]]


def test_verdicts_dated_before_their_draft_still_count(loop_repo: Path) -> None:
    write_history(loop_repo, [Week()])  # a good shadow week, every draft accepted or rejected two hours on
    honest = report(loop_repo)
    assert earned(honest)[4:] == ["draft-pr"] * 3 and honest["overall"]["reviewed"] > 10
    # the reviewer's clock three hours behind the loop's: each verdict dated before the run that drafted it
    rewrite_times(loop_repo, lambda started: (started - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    skewed = report(loop_repo)
    assert earned(skewed) == earned(honest)  # the same evidence earns the same mode on the same day
    assert skewed["overall"]["reviewed"] == honest["overall"]["reviewed"] and skewed["uncounted_verdicts"] == 0


def test_a_verdict_whose_time_is_no_stamp_counts_by_the_last_point(loop_repo: Path) -> None:
    write_history(loop_repo, [Week()])
    rewrite_times(loop_repo, lambda _: "été")  # a hand edit: sorts after every stamp, and after "~"
    data = report(loop_repo)
    assert earned(data)[-1] == "draft-pr" and data["uncounted_verdicts"] == 0


def test_verdicts_no_draft_here_can_take_are_counted_as_not_counted(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week()])
    first = json.loads(paths[0].read_text("utf-8"))
    drafted = next(i["id"] for i in first["items"] if i["status"] == "drafted")
    file = loop_repo / "reviews.json"
    data = json.loads(file.read_text("utf-8"))
    data["reviews"] += [
        {"item": drafted, "verdict": "accept", "at": "2026-10-05T09:00:00Z", "note": "", "run": "2026-09-01T080000Z"},
        {"item": drafted, "verdict": "reject", "at": "2026-09-01T00:00:00Z", "note": "", "run": ""}]
    file.write_text(json.dumps(data), encoding="utf-8")
    said = report(loop_repo)
    assert said["uncounted_verdicts"] == 2
    text = loopgate(loop_repo.parent, "report", "--by", "week")
    assert "2 verdict(s) in reviews.json not counted" in text.stdout, text.stdout
    markdown = loopgate(loop_repo.parent, "report", "--format", "markdown", "-o", str(loop_repo.parent / "r.md"))
    assert markdown.returncode == 0 and "2 verdict(s) in reviews.json not counted" in markdown.stderr
    assert "2 verdict(s) in reviews.json not counted" in (loop_repo.parent / "r.md").read_text("utf-8")
