"""Figures over a slice of the history: the numbers readiness judges and `report` charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from loopgate.history.reviews import Reviews
from loopgate.history.runs import RunRecord
from loopgate.records import field, record

FAILED_GATE = frozenset({"failed", "error"})


@record
class Totals:
    runs: int = 0
    runs_with_work: int = 0  # runs that took on at least one item (an empty queue's run is no evidence)
    items: int = 0  # items the loop took on; skipped ones are not
    skipped: int = 0  # skipped by the work selection rules, or left waiting by a run that stopped first
    escalated_at_selection: int = 0  # sent to a person by the policy before any attempt: not in `items`
    produced: int = 0  # drafted, pr-opened or done
    pull_requests: int = 0
    escalated: int = 0
    failed: int = 0
    no_progress: int = 0
    environmental_runs: int = 0
    attempts: int = 0
    cost_usd: float = 0.0
    costed_runs: int = 0  # runs whose report carries a cost (RunRecord.cost_reported)
    costed_produced: int = 0  # items those runs finished: what a cost per item divides by
    duration: float = 0.0
    gate_runs: Counter[str] = field(default_factory=Counter)
    gate_failures: Counter[str] = field(default_factory=Counter)
    stops: Counter[str] = field(default_factory=Counter)
    reviewed: int = 0
    accepted: int = 0
    rejected: int = 0
    verdicts: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, item) -> accept | reject

    def add(self, run: RunRecord, reviews: Reviews) -> None:
        """Count one more run: totals are built run by run, so a running total costs one run's work."""
        self.runs += 1
        self.duration += run.duration
        self.cost_usd += run.cost_usd
        self.stops[run.stop or "unknown"] += 1
        self.environmental_runs += run.environmental
        taken = run.attempted
        held = sum(item.escalated_at_selection for item in run.items)
        self.escalated_at_selection += held
        self.skipped += len(run.items) - len(taken) - held
        self.runs_with_work += bool(taken)
        if run.cost_reported:
            self.costed_runs += 1
            self.costed_produced += sum(item.produced for item in taken)
        for item in taken:
            self.items += 1
            self.attempts += item.attempts
            self.produced += item.produced
            self.pull_requests += item.status == "pr-opened"
            self.escalated += item.status == "escalated"
            self.failed += item.status == "failed"
            self.no_progress += item.no_progress
            for gate in item.gates:
                self.gate_runs[gate.gate] += 1
                self.gate_failures[gate.gate] += gate.status in FAILED_GATE
            review = reviews.for_draft(item.id, run) if item.produced else None
            if review is not None:  # each draft is judged on its own: a verdict is about one run's work
                self.judge((run.run_id, item.id), review.verdict)

    def judge(self, draft: tuple[str, str], verdict: str) -> None:
        """Record (or replace) the verdict on one draft, keeping the counts in step."""
        before = self.verdicts.get(draft)
        if before is not None:
            self.accepted -= before == "accept"
            self.rejected -= before != "accept"
        self.verdicts[draft] = verdict
        self.accepted += verdict == "accept"
        self.rejected += verdict != "accept"
        self.reviewed = len(self.verdicts)

    def rate(self, part: int) -> float:
        """`part` as a percentage of the items."""
        return 100.0 * part / self.items if self.items else 0.0

    @property
    def accepted_rate(self) -> float:
        return 100.0 * self.accepted / self.reviewed if self.reviewed else 0.0

    @property
    def environmental_rate(self) -> float:
        return 100.0 * self.environmental_runs / self.runs if self.runs else 0.0

    @property
    def gate_pass_rate(self) -> float:
        runs = sum(self.gate_runs.values())
        return 100.0 * (runs - sum(self.gate_failures.values())) / runs if runs else 0.0

    @property
    def cost_per_produced(self) -> float | None:
        return self.cost_usd / self.produced if self.produced else None

    @property
    def attempts_per_produced(self) -> float | None:
        return self.attempts / self.produced if self.produced else None

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs, "runs_with_work": self.runs_with_work, "items": self.items, "skipped": self.skipped,
            "escalated_at_selection": self.escalated_at_selection,
            "produced": self.produced, "pull_requests": self.pull_requests,
            "escalated": self.escalated, "failed": self.failed, "no_progress": self.no_progress,
            "environmental_runs": self.environmental_runs, "attempts": self.attempts,
            "cost_usd": round(self.cost_usd, 4), "duration": round(self.duration, 3),
            "reviewed": self.reviewed, "accepted": self.accepted, "rejected": self.rejected,
            "escalation_rate": round(self.rate(self.escalated), 1),
            "no_progress_rate": round(self.rate(self.no_progress), 1),
            "accepted_rate": round(self.accepted_rate, 1), "environmental_rate": round(self.environmental_rate, 1),
            "gate_pass_rate": round(self.gate_pass_rate, 1),
            "cost_per_produced_item": None if self.cost_per_produced is None else round(self.cost_per_produced, 4),
            "attempts_per_produced_item": None if self.attempts_per_produced is None
            else round(self.attempts_per_produced, 2),
            "gate_failure_rates": {g: round(100.0 * self.gate_failures[g] / n, 1)
                                   for g, n in sorted(self.gate_runs.items())},
            "stops": dict(sorted(self.stops.items())),
        }


def totals(runs: Iterable[RunRecord], reviews: Reviews) -> Totals:
    out = Totals()
    for run in runs:
        out.add(run, reviews)
    return out
