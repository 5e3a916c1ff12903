"""Figures over a slice of the history: the numbers readiness judges and `report` charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from loopgate.history.reviews import Review
from loopgate.history.runs import RunRecord

FAILED_GATE = frozenset({"failed", "error"})


@dataclass
class Totals:
    runs: int = 0
    items: int = 0
    produced: int = 0  # drafted, pr-opened or done
    pull_requests: int = 0
    escalated: int = 0
    failed: int = 0
    no_progress: int = 0
    environmental_runs: int = 0
    attempts: int = 0
    cost_usd: float = 0.0
    duration: float = 0.0
    gate_runs: Counter[str] = field(default_factory=Counter)
    gate_failures: Counter[str] = field(default_factory=Counter)
    stops: Counter[str] = field(default_factory=Counter)
    reviewed: int = 0
    accepted: int = 0
    rejected: int = 0

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
            "runs": self.runs, "items": self.items, "produced": self.produced, "pull_requests": self.pull_requests,
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


def totals(runs: Iterable[RunRecord], reviews: dict[str, Review]) -> Totals:
    out = Totals()
    reviewed: dict[str, str] = {}
    for run in runs:
        out.runs += 1
        out.duration += run.duration
        out.cost_usd += run.cost_usd
        out.stops[run.stop or "unknown"] += 1
        out.environmental_runs += run.environmental
        for item in run.items:
            out.items += 1
            out.attempts += item.attempts
            out.produced += item.produced
            out.pull_requests += item.status == "pr-opened"
            out.escalated += item.status == "escalated"
            out.failed += item.status == "failed"
            out.no_progress += item.no_progress
            for gate in item.gates:
                out.gate_runs[gate.gate] += 1
                out.gate_failures[gate.gate] += gate.status in FAILED_GATE
            if item.produced and item.id in reviews:
                reviewed[item.id] = reviews[item.id].verdict  # an item drafted twice is judged once
    out.reviewed = len(reviewed)
    out.accepted = sum(v == "accept" for v in reviewed.values())
    out.rejected = out.reviewed - out.accepted
    return out
