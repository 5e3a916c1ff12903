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
from loopgate.history.reviews import Reviews
from loopgate.history.runs import History, RunRecord
from loopgate.history.times import day, stamp, week
from loopgate.readiness.rollout import MODES, Thresholds

PERIODS = ("run", "day", "week")


@dataclass(frozen=True)
class Point:
    label: str
    end: dt.datetime
    totals: Totals
    earned: str  # the highest mode the history up to here allows

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "end": stamp(self.end), "earned_mode": self.earned,
                **self.totals.as_dict()}


def _key(run: RunRecord, period: str) -> str:
    if period == "run":
        return run.run_id
    if period == "day":
        return day(run.started)
    return week(run.started)


def series(history: History, reviews: Reviews, t: Thresholds, period: str = "day") -> list[Point]:
    """Points in time order. Linear in runs and verdicts: running totals (per mode, for the earned
    mode) are carried from point to point, and each verdict is counted once, at the first point
    that could have known it (the last point is now, and knows them all)."""
    # local import: readiness.evidence imports history.metrics; keep history importable on its own
    from loopgate.readiness.evidence import criteria_from  # noqa: PLC0415

    groups: dict[str, list[RunRecord]] = {}
    for run in history.runs:
        groups.setdefault(_key(run, period), []).append(run)
    running = {"shadow": Totals(), "draft-pr": Totals(), "all": Totals()}
    none = Reviews()
    drafts: dict[tuple[str, str], str] = {}  # (run, item) -> the run's mode, for drafts seen so far
    latest: dict[str, tuple[str, str]] = {}  # item -> its latest draft (for verdicts without a run)
    events = sorted((r for rows in reviews.by_item.values() for r in rows), key=lambda r: r.at)
    next_event = 0
    points: list[Point] = []
    for index, (label, runs) in enumerate(groups.items()):
        end = max(r.started for r in runs)
        for run in runs:
            running["all"].add(run, none)
            if run.mode in running:
                running[run.mode].add(run, none)
            for item in run.items:
                if item.produced:
                    drafts[(run.run_id, item.id)] = run.mode
                    latest[item.id] = (run.run_id, run.mode)
        moment = "~" if index == len(groups) - 1 else stamp(end)  # "~" sorts last
        while next_event < len(events) and events[next_event].at <= moment:
            review = events[next_event]
            next_event += 1
            draft = (review.run, review.item) if review.run else (latest.get(review.item, ("", ""))[0], review.item)
            mode = drafts.get(draft)
            if mode is None:
                continue  # a verdict on a draft this history does not hold
            running["all"].judge(draft, review.verdict)
            if mode in running:
                running[mode].judge(draft, review.verdict)
        criteria = criteria_from(running["shadow"], running["draft-pr"], running["all"], t)
        earned = "shadow"
        for mode in MODES[1:]:
            if all(c.met for c in criteria if mode in c.modes):
                earned = mode
            else:
                break
        points.append(Point(label, end, totals(runs, reviews), earned))
    return points
