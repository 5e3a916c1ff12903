"""Weigh the criteria into a verdict per mode, and decide a rollback.

A mode is allowed when every criterion that gates it is met. The score (0-100) is the weighted
share of all criteria met: a summary for dashboards, never the decision. Rollback looks at the
last items of the mode the loop runs in now; crossing a rollback limit demotes it one step, and
the demotion is written to LOOP_STATE.md so the next run uses the lower mode.

Two evidence windows, each for one question:
- what a mode needs (the history criteria) is judged on the whole history, with or without a
  demotion: lifting a demotion (by this audit, or by a person editing LOOP_STATE.md) gives the loop
  back the mode its record allows, so `loopgate run` accepts what a person lifted;
- what happened since the last demotion decides the demotion itself: it is lifted once the evidence
  gathered since allows the next mode up on its own (a demoted loop earns its mode back with new
  evidence, and the lift never lands on a mode the whole history blocks), and the next rollback
  looks only at items after it (the items that caused one never cause another).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loopgate.artifacts.crosscheck import spec_mode
from loopgate.history.metrics import Totals, totals
from loopgate.history.reviews import ReviewError, Reviews, load_reviews
from loopgate.history.runs import History, ItemRecord, RunRecord, load_history
from loopgate.history.times import parse_stamp, stamp
from loopgate.readiness.artifacts import LoopArtifacts, artifact_criteria, read_loop
from loopgate.readiness.criteria import Criterion
from loopgate.readiness.demotion import Demotion, read_demotion, write_demotion
from loopgate.readiness.evidence import history_criteria
from loopgate.readiness.repository import repository_criteria
from loopgate.readiness.rollback import rollback_reasons
from loopgate.readiness.rollout import MODES, Thresholds, lower, thresholds
from loopgate.records import field, record


@record
class Audit:
    loop_dir: str
    configured_mode: str  # the spec's `## Rollout` mode
    mode: str  # what the loop may run in now: the configured mode, or lower after a demotion
    requested: str
    criteria: list[Criterion]
    thresholds: Thresholds
    totals: Totals
    runs: int
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    demotion: Demotion | None = None  # in force after this audit
    demoted_now: bool = False  # this audit wrote the demotion
    lifted_now: bool = False  # this audit lifted an earlier one (or raised it a step)
    recorded: bool = False  # the demotion or lift was written to LOOP_STATE.md
    problems: list[str] = field(default_factory=list)  # could not read the state or reviews
    replayed: Demotion | None = None  # a demotion this audit found in the history and lifted at once
    uncounted_verdicts: int = 0  # recorded verdicts no figure counts (as `report` counts them)
    waived: bool = False  # `- audit: off` in the spec: `loopgate run` does not consult the audit

    def blocking(self, mode: str) -> list[Criterion]:
        return [c for c in self.criteria if mode in c.modes and not c.met]

    def allowed(self, mode: str) -> bool:
        return not self.blocking(mode)  # a demotion in force is itself a criterion (`rollback`)

    @property
    def score(self) -> int:
        total = sum(c.weight for c in self.criteria)
        return round(100 * sum(c.weight for c in self.criteria if c.met) / total) if total else 0

    @property
    def exit_code(self) -> int:
        return 0 if self.allowed(self.requested) else 1

    def plan(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        """What to do, mode by mode: the requested mode first, then each mode above it. Under each,
        the fixes of the criteria that block it and no mode before it, each fix once with the
        criteria it settles: what can be done now (artifacts, repository) before the history that
        only running the loop gathers, heavier first."""
        order = [self.requested, *[m for m in MODES if MODES.index(m) > MODES.index(self.requested)]]
        seen: set[str] = set()
        out: list[tuple[str, list[tuple[str, list[str]]]]] = []
        for mode in order:
            steps: dict[str, list[str]] = {}
            # history in its own order (runs, items, reviews, rates): the order it is gathered in
            for c in sorted(self.blocking(mode), key=lambda c: (c.group == "history", 0 if c.group == "history"
                                                                 else -c.weight)):
                if c.id not in seen:
                    seen.add(c.id)
                    steps.setdefault(c.fix or f"Look into `{c.id}` above.", []).append(c.id)
            if steps:
                out.append((mode, list(steps.items())))
        return out

    def next_actions(self, limit: int = 5) -> list[str]:
        """The first fixes of `plan`: those that unblock the requested mode first, then the next mode up."""
        return [fix for _, steps in self.plan() for fix, _ in steps][:limit]

    def evidence(self) -> dict[str, float | int | None]:
        """Figures the issue names as evidence that no criterion judges (unless `## Rollout` sets a bar):
        shown for people to weigh. None when there is nothing to divide by."""
        t = self.totals
        runs = sum(t.gate_runs.values())
        return {"gate_pass_rate": round(t.gate_pass_rate, 1) if runs else None, "gate_runs": runs,
                "attempts_per_completed_item": None if t.attempts_per_produced is None
                else round(t.attempts_per_produced, 2),
                "completed_items": t.produced}

    def evidence_lines(self) -> list[str]:
        e = self.evidence()
        gates = (f"{e['gate_pass_rate']:g}% of {e['gate_runs']} gate run(s) passed" if e["gate_pass_rate"] is not None
                 else "no gate has run yet")
        per = (f"{e['attempts_per_completed_item']:g} over {e['completed_items']} completed (drafted, pull "
               "request opened or done) item(s)" if e["attempts_per_completed_item"] is not None
               else "no item completed yet")
        return [f"gate pass rate: {gates}", f"attempts per completed item: {per}"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "loop": self.loop_dir, "configured_mode": self.configured_mode, "mode": self.mode,
            "requested_mode": self.requested, "allowed": self.allowed(self.requested), "score": self.score,
            "modes": {m: {"allowed": self.allowed(m), "blocking": [c.id for c in self.blocking(m)]} for m in MODES},
            "criteria": [c.as_dict() for c in self.criteria],
            "next_actions": self.next_actions(),
            "history": {"runs": self.runs, "unreadable_reports": [{"path": p, "why": w} for p, w in self.unreadable],
                        "totals": self.totals.as_dict()},
            "demotion": self.demotion.as_dict() if self.demotion else None,
            "demoted_now": self.demoted_now, "lifted_now": self.lifted_now, "recorded": self.recorded,
            "thresholds": {k: v for k, v in vars(self.thresholds).items()
                           if k not in ("source", "cost_unreadable")},  # the criterion says why
            "problems": self.problems, "uncounted_verdicts": self.uncounted_verdicts, "evidence": self.evidence(),
        }


def audit(loop_dir: str, *, requested: str | None = None, maker: str | None = None, run_checks: bool = True,
          write: bool = True, now: dt.datetime | None = None, loop: LoopArtifacts | None = None) -> Audit:
    """`loop`: the loop's artifacts as the caller loaded them (`loop_artifacts(*load_loop_dir(dir))`),
    so a caller that has read them already does not have them read again; read here when not given."""
    now = now or dt.datetime.now(dt.timezone.utc)
    loop = loop or read_loop(loop_dir)  # once: the artifact and repository criteria read the same artifacts
    spec = loop.spec
    configured = spec_mode(spec) if spec else "shadow"
    problems: list[str] = []
    history = load_history(loop_dir, now)
    try:
        reviews = load_reviews(loop_dir)
    except ReviewError as err:  # the audit goes on without verdicts, and says so
        reviews, problems = Reviews(), [str(err)]
    reviews = reviews.bound(history, now)  # each verdict on one draft
    problems += _uncounted(reviews, history)
    t = thresholds(spec)
    demotion, last_demoted, fixed = read_demotion(loop_dir, problems, now, loop)
    if demotion is not None and MODES.index(demotion.to) > MODES.index(configured):
        problems.append(f"LOOP_STATE.md's demoted_to {demotion.to} is above the spec's mode {configured}: a "
                        "demotion only lowers a mode, so it was ignored (remove the demoted_* bullets)")
        demotion, fixed = None, False
    elif demotion is not None and demotion.to == configured:
        demotion, fixed = None, False  # the spec itself now asks for no more than the demoted mode
    # what happened since the last demotion (in force or lifted): what lifts it, and what may cause the next
    since = demotion.at if demotion is not None else last_demoted
    evidence = _since(history, since) if since else history
    base = [*artifact_criteria(loop), *repository_criteria(loop_dir, loop, maker=maker, run_checks=run_checks),
            *history_criteria(history, reviews, t)]
    result = Audit(loop_dir, configured, demotion.to if demotion else configured, requested or "", base, t,
                   totals(history.runs, reviews), len(history.runs), history.unreadable, demotion,
                   problems=problems, uncounted_verdicts=reviews.unattributed(history))
    unmet_since: list[str] = []
    if demotion is not None:
        unmet_since = _lift(result, demotion, history_criteria(evidence, reviews, t))
    last = since or ""
    # replayed as the report replays it: a demotion is dated at the run whose items crossed the limit,
    # not at this audit's clock, so the runs made since (shadow runs do not consult the audit) are
    # evidence that may lift it, and the report and this audit show the same mode. Each pass moves on
    # past the run that caused the last demotion, so it ends.
    not_before: dt.datetime | None = None
    while (crossing := _crossing(evidence, reviews, t, result.mode, not_before)) is not None:
        run, reasons = crossing
        demoted = Demotion(lower(result.mode), stamp(run.started), "; ".join(reasons), result.mode)
        result.demotion, result.mode, result.demoted_now, result.lifted_now = demoted, demoted.to, True, False
        last, evidence = demoted.at, _since(history, demoted.at)
        unmet_since = _lift(result, demoted, history_criteria(evidence, reviews, t))
        if not result.lifted_now:
            break
        result.demoted_now, result.replayed = False, demoted  # lifted again by the runs since: the lift is new
        # the mode came back at the first run whose evidence since allowed it: only from there on can
        # the items of the mode (those made while demoted included, as the report counts them) demote again
        not_before = _lifted_at(evidence, reviews, t, MODES[MODES.index(demoted.to) + 1])
    if result.demotion is not None:
        result.criteria.append(_held_back(result.demotion, result.mode, [] if result.demoted_now else unmet_since))
    result.requested = requested or result.mode
    rollout = spec.get("rollout")
    if isinstance(rollout, dict) and rollout.get("audit") is False:  # `- audit: off`: the run never asks
        write, result.waived = False, True
        problems.append("the spec turns the audit off (`- audit: off` under ## Rollout): `loopgate run` does not "
                        "consult it, so no rollback is recorded and a demotion shown here does not change its mode")
    if write and (result.demoted_now or result.lifted_now or fixed):
        result.recorded = write_demotion(loop_dir, result.demotion, problems, last, _lock_path(loop_dir))
    return result


def _uncounted(reviews: Reviews, history: History) -> list[str]:
    """What is said of the verdicts no figure counts (bound verdicts): `report` counts them too."""
    out = []
    if reviews.ignored:
        out.append(f"{reviews.ignored} verdict(s) in reviews.json name no run, and no draft of their item "
                   "was made before their time (or the time is not YYYY-MM-DDTHH:MM:SSZ, or in the future): ignored")
    unknown = reviews.unattributed(history) - reviews.ignored
    if unknown:  # a verdict on a draft no report here shows is in no figure
        out.append(f"{unknown} verdict(s) in reviews.json not counted: no readable run report shows the draft "
                   "they name (its report was removed or cannot be read, or it does not show the item drafted)")
    return out


def _lift(result: Audit, demotion: Demotion, since: list[Criterion]) -> list[str]:
    """One step at a time: the mode above the demoted one comes back once the evidence gathered
    since the demotion allows it on its own, and everything else (the whole history, the artifacts,
    the repository) allows it too (a loop demoted twice climbs back through draft-pr). Returns what
    the evidence since the demotion does not meet yet (empty once lifted)."""
    step = MODES[MODES.index(demotion.to) + 1]
    unmet = [f"{c.id} ({c.detail})" for c in since if step in c.modes and not c.met]
    if unmet or result.blocking(step):
        return unmet
    result.lifted_now = True
    if step == result.configured_mode:
        result.demotion, result.mode = None, step
    else:
        result.demotion = Demotion(step, demotion.at, demotion.because, demotion.from_mode)
        result.mode = step
    return []


def _held_back(demotion: Demotion, mode: str, unmet_since: list[str]) -> Criterion:
    above = tuple(m for m in MODES if MODES.index(m) > MODES.index(mode))
    still = f"; since then, not yet: {'; '.join(unmet_since)}" if unmet_since else ""
    return Criterion("rollback", "history", f"not demoted below the mode asked for (held at {mode})", False,
                     f"demoted to {demotion.to} at {demotion.at}: {demotion.because}{still}"[:600],
                     f"Run the loop in {mode} mode: evidence gathered since the demotion earns the next mode back.",
                     above or ("pr",), weight=1)


def _lifted_at(evidence: History, reviews: Reviews, t: Thresholds, step: str) -> dt.datetime | None:
    """When the evidence since a demotion first allowed `step` on its own: the first run by which it did."""
    for index, run in enumerate(evidence.runs):
        upto = History(evidence.runs_dir, evidence.runs[:index + 1], evidence.unreadable)
        if all(c.met for c in history_criteria(upto, reviews, t) if step in c.modes):
            return run.started
    return None


def _crossing(history: History, reviews: Reviews, t: Thresholds, mode: str,
              not_before: dt.datetime | None = None) -> tuple[RunRecord, list[str]] | None:
    """The first run (from `not_before` on) after which the last items of `mode` cross a rollback limit,
    and why (None: none does). Each run is judged on the window that ends with it, as the report's
    replay judges each point."""
    def verdict(run: RunRecord, item: ItemRecord) -> str | None:
        review = reviews.for_draft(item.id, run)
        return review.verdict if review else None

    items = history.items(mode)
    count = 0
    for run in history.runs:
        if run.mode != mode:
            continue
        count += len(run.attempted)
        if not_before is not None and run.started < not_before:
            continue
        reasons = rollback_reasons(items[max(0, count - t.rollback_window):count], verdict, t, mode)
        if reasons:
            return run, reasons
    return None


def _since(history: History, at: str) -> History:
    """The runs after `at`: the run a demotion is dated at caused it, and is no evidence after it."""
    when = parse_stamp(at)
    if when is None:
        return history
    runs: list[RunRecord] = [r for r in history.runs if r.started > when]
    return History(history.runs_dir, runs, history.unreadable)


def _lock_path(loop_dir: str) -> str:
    from loopgate.runner.loaded import run_lock_path  # noqa: PLC0415 - only when a demotion is written

    return run_lock_path(loop_dir)
