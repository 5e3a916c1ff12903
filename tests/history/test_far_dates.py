"""Dates a run report may carry, however far out: `report --by run|day|week` never ends in a traceback. A run
dated past this machine's clock (9999-12-31) is charted as written, and stderr says `readiness` does not count it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from loopgate.history.reviews import load_reviews
from loopgate.history.runs import load_history
from loopgate.history.trends import series
from loopgate.readiness.rollout import Thresholds
from readiness.history import Week, write_history

from .conftest import loopgate

LAST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)  # no second comes after it


@pytest.fixture
def far(loop_repo: Path) -> Path:
    """A good shadow week, then a draft-pr run on the last second of year 9999 whose every item escalated:
    a rollback limit crossed there, in a loop the spec runs in draft-pr."""
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    write_history(loop_repo, [Week()])
    write_history(loop_repo, [Week(days=1, mode="draft-pr", items=10, escalate=1.0)], seed=8, start=LAST)
    return loop_repo


def test_a_demotion_on_the_last_second_of_9999_is_charted_not_an_overflow(far: Path) -> None:
    history = load_history(str(far))  # as written (a library caller passes no clock)
    assert history.runs[-1].started == LAST
    for period in ("run", "day", "week"):
        points = series(history, load_reviews(str(far)), Thresholds(), period, "draft-pr")
        assert points[-1].end == LAST and points[-1].rollback == "demoted" and points[-1].earned == "shadow"


LABELS = {"run": "9999-12-31T235959Z", "day": "9999-12-31", "week": "9999-W52"}


@pytest.mark.parametrize("period", ["run", "day", "week"])
def test_report_charts_a_run_dated_9999_and_warns_on_stderr(far: Path, period: str) -> None:
    done = loopgate(far.parent, "report", "--by", period, "--format", "json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    data = json.loads(done.stdout)
    assert data["overall"]["runs"] == 8 and not data["unreadable_reports"]  # the history as written
    last = data["points"][-1]
    assert (last["label"], last["end"], last["rollback"]) == (LABELS[period], "9999-12-31T23:59:59Z", "demoted")
    assert "loopgate: warning: 1 run(s) dated after the clock of this machine" in done.stderr
    assert "9999-12-31T235959Z" in done.stderr and "`loopgate readiness` does not count them" in done.stderr
    text = loopgate(far.parent, "report", "--by", period, "--format", "text")
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr
    assert LABELS[period] in text.stdout and "dated after the clock" in text.stderr


def test_a_clock_at_the_end_of_time_is_no_overflow(far: Path) -> None:
    history = load_history(str(far), dt.datetime.max.replace(tzinfo=dt.timezone.utc))
    assert len(history.runs) == 8 and not history.unreadable


def test_a_run_id_that_is_no_date_is_left_out_and_said_on_stderr(far: Path) -> None:
    bad = far / "runs" / "2026-13-45T250000Z.json"  # month 13, day 45, hour 25
    report = json.loads(next((far / "runs").glob("2026-*.json")).read_text("utf-8"))
    bad.write_text(json.dumps({**report, "run_id": bad.stem}), encoding="utf-8")
    done = loopgate(far.parent, "report", "--by", "week", "--format", "markdown")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "loopgate: warning: 1 run report(s) left out" in done.stderr and "is not a run time" in done.stderr
    assert "1 report(s) could not be read and were left out" in done.stdout
