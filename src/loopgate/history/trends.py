"""The history as series over time: what `loopgate report` tabulates and charts.

Runs are grouped by UTC day or ISO week (or one point per run). Each point carries the figures of
its runs, and the readiness the history had earned by the end of it (the history criteria only:
the artifacts and the repository are judged as they are now, by `loopgate readiness`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from loopgate.history.metrics import Totals, totals
from loopgate.history.reviews import Review
from loopgate.history.runs import History, RunRecord
from loopgate.readiness.rollout import MODES, Thresholds

PERIODS = ("run", "day", "week")


@dataclass(frozen=True)
class Point:
    label: str
    end: dt.datetime
    totals: Totals
    earned: str  # the highest mode the history up to here allows

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "end": self.end.strftime("%Y-%m-%dT%H:%M:%SZ"), "earned_mode": self.earned,
                **self.totals.as_dict()}


def _key(run: RunRecord, period: str) -> str:
    if period == "run":
        return run.run_id
    if period == "day":
        return run.started.strftime("%Y-%m-%d")
    year, week, _ = run.started.isocalendar()
    return f"{year}-W{week:02d}"


def series(history: History, reviews: dict[str, Review], t: Thresholds, period: str = "day") -> list[Point]:
    # local import: readiness.evidence imports history.metrics; keep history importable on its own
    from loopgate.readiness.evidence import history_criteria  # noqa: PLC0415

    groups: dict[str, list[RunRecord]] = {}
    for run in history.runs:
        groups.setdefault(_key(run, period), []).append(run)
    points: list[Point] = []
    seen: list[RunRecord] = []
    for label, runs in groups.items():
        seen.extend(runs)
        end = max(r.started for r in runs)
        # a review counts from when it was recorded: the page must show what was known then
        known = {k: v for k, v in reviews.items() if not v.at or v.at <= end.strftime("%Y-%m-%dT%H:%M:%SZ")
                 or end == history.runs[-1].started}
        criteria = history_criteria(History(history.runs_dir, list(seen)), known, t)
        earned = "shadow"
        for mode in MODES[1:]:
            if all(c.met for c in criteria if mode in c.modes):
                earned = mode
            else:
                break
        points.append(Point(label, end, totals(runs, reviews), earned))
    return points
