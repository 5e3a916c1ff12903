"""The history as series over time: what `loopgate report` tabulates and charts.

Runs are grouped by UTC day or ISO week (or one point per run). Each point carries the figures of
its runs, and the mode the loop could run in by the end of it: the highest mode the history
criteria allow (the artifacts and the repository are judged as they are now, by `loopgate
readiness`), held down by a rollback. The audit's rollback is replayed point by point with the
audit's own rules (readiness/rollback.py): where the last items of the mode the loop ran in cross a
rollback limit, the loop is demoted one step from that point on, and lifted where the evidence
gathered since allows the next mode up again, so a bad week shows as a drop, and its end as a lift.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loopgate.history.metrics import Totals, totals
from loopgate.history.reviews import Review, Reviews
from loopgate.history.runs import History, ItemRecord, RunRecord
from loopgate.history.times import day, stamp, week
from loopgate.readiness.rollout import MODES, Thresholds, lower
from loopgate.records import field, record

PERIODS = ("run", "day", "week")


@record(frozen=True)
class Point:
    label: str
    end: dt.datetime
    totals: Totals
    earned: str  # the mode the loop could run in by the end of this point (after any rollback)
    rollback: str = ""  # "demoted" (here), "held" (a demotion in force), "lifted" (here), or ""
    why: str = ""  # what demoted it, for "demoted"

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "end": stamp(self.end), "earned_mode": self.earned,
                "rollback": self.rollback or None, "rollback_because": self.why or None, **self.totals.as_dict()}


def _key(run: RunRecord, period: str) -> str:
    if period == "run":
        return run.run_id
    if period == "day":
        return day(run.started)
    return week(run.started)


def _running() -> dict[str, Totals]:
    return {"shadow": Totals(), "draft-pr": Totals(), "all": Totals()}


@record
class _Replay:
    """The audit's rollback, replayed: the demotion in force and the evidence since the last one."""

    configured: str
    demoted_to: str = ""
    since: dt.datetime | None = None  # the end of the point of the last demotion (in force or lifted)
    window: dict[str, list[tuple[RunRecord, ItemRecord]]] = field(default_factory=dict)
    fresh: dict[str, Totals] = field(default_factory=_running)  # totals since the last demotion
    runs: set[str] = field(default_factory=set)  # the runs since the last demotion

    def add(self, run: RunRecord) -> None:
        if self.since is not None and run.started <= self.since:  # the runs that caused it: no evidence after it
            return
        self.runs.add(run.run_id)
        _add(self.fresh, run)
        self.window.setdefault(run.mode, []).extend((run, item) for item in run.attempted)

    def judge(self, draft: tuple[str, str], mode: str, verdict: str) -> None:
        if draft[0] in self.runs:
            self.fresh["all"].judge(draft, verdict)
            if mode in self.fresh:
                self.fresh[mode].judge(draft, verdict)

    def demote(self, end: dt.datetime, mode: str) -> None:
        self.demoted_to = lower(mode)
        # compared with `<=` in `add`, never moved on by a second: a run dated 9999-12-31T23:59:59 (a hand
        # edit, a wrong clock) has no second after it, and `end + 1s` was an OverflowError traceback
        self.since = end
        self.window, self.fresh, self.runs = {}, _running(), set()


def _add(running: dict[str, Totals], run: RunRecord) -> None:
    running["all"].add(run, Reviews())
    if run.mode in running:
        running[run.mode].add(run, Reviews())


def series(history: History, reviews: Reviews, t: Thresholds, period: str = "day",
           configured: str = "pr") -> list[Point]:
    """Points in time order. Linear in runs and verdicts: running totals (per mode, for the earned
    mode; and since the last demotion, for the rollback) are carried from point to point, and each
    verdict is counted once, at the first point that could have known it: its time has come and its
    draft is in the history (the last point is now, and knows them all). `configured`: the spec's
    mode, the most the loop runs in."""
    from loopgate.readiness.rollback import rollback_reasons  # noqa: PLC0415 - see below

    groups: dict[str, list[RunRecord]] = {}
    for run in history.runs:
        groups.setdefault(_key(run, period), []).append(run)
    running = _running()
    replay = _Replay(configured if configured in MODES else "pr")
    reviews = reviews.bound(history)  # a verdict without its run judges the draft the audit says it judges
    verdicts = _Verdicts(sorted((r for rows in reviews.by_item.values() for r in rows), key=lambda r: r.at))
    points: list[Point] = []

    def verdict(run: RunRecord, item: ItemRecord) -> str | None:
        return running["all"].verdicts.get((run.run_id, item.id))

    for index, (label, runs) in enumerate(groups.items()):
        end = max(r.started for r in runs)
        for run in runs:
            _add(running, run)
            replay.add(run)
            for draft, mode, said in verdicts.seen(run):
                _count(running, replay, draft, mode, said)
        for draft, mode, said in verdicts.due(None if index == len(groups) - 1 else stamp(end)):
            _count(running, replay, draft, mode, said)
        earned = _earned(running, t)
        note, why = ("held" if replay.demoted_to else ""), ""
        if replay.demoted_to:  # the audit lifts one step once the evidence since allows it
            step = MODES[MODES.index(replay.demoted_to) + 1]
            if _allows(replay.fresh, t, step) and MODES.index(earned) >= MODES.index(step):
                replay.demoted_to, note = ("" if step == replay.configured else step), "lifted"
        mode = replay.demoted_to or replay.configured
        reasons = rollback_reasons(replay.window.get(mode, []), verdict, t, mode)
        if reasons:
            replay.demote(end, mode)
            note, why = "demoted", "; ".join(reasons)
        if replay.demoted_to and MODES.index(earned) > MODES.index(replay.demoted_to):
            earned = replay.demoted_to
        points.append(Point(label, end, totals(runs, reviews), earned, note, why))
    return points


def _count(running: dict[str, Totals], replay: _Replay, draft: tuple[str, str], mode: str, said: str) -> None:
    """One verdict on one draft, in the running totals and the rollback replay."""
    running["all"].judge(draft, said)
    if mode in running:
        running[mode].judge(draft, said)
    replay.judge(draft, mode, said)


@record
class _Verdicts:
    """The verdicts in the order they were recorded, handed out once their time has come.

    A verdict whose draft is not in the history yet waits for it, rather than being dropped: its
    time (the reviewer's clock) can come before its draft's run id (the clock of the machine that
    ran the loop) when the clocks disagree, or when a reviews.json merged from another checkout
    names a run made since. Dropping it lost a recorded verdict from every running total, so the
    earned mode and the rollback never saw it. One whose draft never appears (its run report was
    removed, or could not be read) is not counted, and `Reviews.unattributed` says how many."""

    events: list[Review]
    cursor: int = 0
    drafts: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, item) -> its mode, drafts seen
    waiting: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # draft not seen -> its verdicts

    def seen(self, run: RunRecord) -> list[tuple[tuple[str, str], str, str]]:
        """The run's drafts are in the history now: (draft, its mode, verdict) for each verdict that waited."""
        out = []
        for item in run.items:
            if item.produced:
                draft = (run.run_id, item.id)
                self.drafts[draft] = run.mode
                out += [(draft, run.mode, said) for said in self.waiting.pop(draft, [])]
        return out

    def due(self, moment: str | None) -> list[tuple[tuple[str, str], str, str]]:
        """(draft, its mode, verdict) for each verdict recorded by `moment` whose draft is in the history.
        None (the last point): every verdict left, whatever its time says; a hand-written time that
        sorts after any stamp was never reached, and was lost."""
        out = []
        while self.cursor < len(self.events) and (moment is None or self.events[self.cursor].at <= moment):
            review = self.events[self.cursor]
            self.cursor += 1
            draft = (review.run, review.item)
            mode = self.drafts.get(draft)
            if mode is None:
                self.waiting.setdefault(draft, []).append(review.verdict)
            else:
                out.append((draft, mode, review.verdict))
        return out


def _allows(running: dict[str, Totals], t: Thresholds, mode: str) -> bool:
    # local import: readiness.evidence imports history.metrics; keep history importable on its own
    from loopgate.readiness.evidence import criteria_from  # noqa: PLC0415

    return all(c.met for c in criteria_from(running["shadow"], running["draft-pr"], running["all"], t)
               if mode in c.modes)


def _earned(running: dict[str, Totals], t: Thresholds) -> str:
    earned = "shadow"
    for mode in MODES[1:]:
        if not _allows(running, t, mode):
            break
        earned = mode
    return earned
