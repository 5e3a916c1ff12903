"""A readiness criterion: one piece of evidence, the modes it gates, and what to do about it."""

from __future__ import annotations

from loopgate.readiness.rollout import MODES
from loopgate.records import record

ALL = MODES
PROMOTED = ("draft-pr", "pr")  # modes in which the loop pushes branches for people to review
PR = ("pr",)


@record(frozen=True)
class Criterion:
    id: str  # stable: users script against it (`jq '.criteria[] | select(.id=="drafts-accepted")'`)
    group: str  # artifacts | repository | history
    title: str
    ok: bool | None  # None: could not be judged here (counts as not met: no evidence, no promotion)
    detail: str  # what was found, in numbers where there are numbers
    fix: str = ""  # the next action; empty when met
    modes: tuple[str, ...] = ALL  # the modes this criterion must hold for
    weight: int = 1

    @property
    def met(self) -> bool:
        return self.ok is True

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "group": self.group, "title": self.title,
                "status": {True: "met", False: "not-met", None: "unknown"}[self.ok], "detail": self.detail,
                "fix": "" if self.met else self.fix, "modes": list(self.modes), "weight": self.weight}


def met(id_: str, group: str, title: str, detail: str, modes: tuple[str, ...] = ALL, weight: int = 1) -> Criterion:
    return Criterion(id_, group, title, True, detail, "", modes, weight)


def unmet(id_: str, group: str, title: str, detail: str, fix: str, modes: tuple[str, ...] = ALL,
          weight: int = 1) -> Criterion:
    return Criterion(id_, group, title, False, detail, fix, modes, weight)


def judged(ok: bool, id_: str, group: str, title: str, detail: str, fix: str, modes: tuple[str, ...] = ALL,
           weight: int = 1) -> Criterion:
    return Criterion(id_, group, title, ok, detail, fix, modes, weight)


def pct(part: int | float, whole: int | float) -> float:
    return 100.0 * part / whole if whole else 0.0
