"""Checks that need more than one artifact of the same loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from loopgate import codes
from loopgate.artifacts.artifact import Artifact
from loopgate.artifacts.kinds import CHECKLIST, READINESS, SPEC, STATE, ArtifactKind
from loopgate.artifacts.values import shown
from loopgate.findings import Finding
from loopgate.markdown.document import normalise_key

MODES = ("shadow", "draft-pr", "pr")
# state counter -> the spec budget it may not exceed
COUNTER_BUDGETS = {"opened_pull_requests": "max_pull_requests_per_run", "iterations": "max_iterations"}


def _mode_rank(mode: Any) -> int | None:
    return MODES.index(mode) if mode in MODES else None


def spec_mode(spec: dict[str, Any]) -> str:
    """The spec's rollout mode (its data), shadow when it names none."""
    rollout = spec.get("rollout")
    mode = rollout.get("mode") if isinstance(rollout, dict) else None
    return mode if isinstance(mode, str) and mode in MODES else "shadow"


# Gates `loopgate run` adds to every attempt itself, so the state may record them though no
# checklist names them: the item's own expected paths bound its change.
LOOP_GATES = ("item scope",)


def checklist_gate_names(checklist: Artifact) -> set[str]:
    names: set[str] = {normalise_key(name) for name in LOOP_GATES}
    for section in ("required_gates", "advisory_gates"):
        gates = checklist.data.get(section)
        if isinstance(gates, dict):
            names.update(normalise_key(name) for name in gates)
    return names


def _rule_name(rule: Any) -> str:
    text = rule.get("name", "") if isinstance(rule, dict) else str(rule)
    return normalise_key(text.split(":", 1)[0])


class _Cross:
    def __init__(self, by_kind: dict[ArtifactKind, Artifact]) -> None:
        self.spec = by_kind.get(SPEC)
        self.state = by_kind.get(STATE)
        self.checklist = by_kind.get(CHECKLIST)
        self.readiness = by_kind.get(READINESS)

    def at(self, artifact: Artifact, path: tuple[str | int, ...], code: codes.Code, message: str,
           *, value: bool = True) -> Finding:
        pos = artifact.extracted.position(path)
        return code.at(artifact.path, pos.line, pos.value_column if value else pos.column, message)

    def counters(self) -> Iterator[Finding]:
        if not (self.spec and self.state):
            return
        run, budgets = self.state.data.get("current_run"), self.spec.data.get("budgets")
        if not (isinstance(run, dict) and isinstance(budgets, dict)):
            return
        for counter, budget in COUNTER_BUDGETS.items():
            used, limit = run.get(counter), budgets.get(budget)
            if isinstance(used, int) and isinstance(limit, int) and used > limit:
                yield self.at(self.state, ("current_run", counter), codes.COUNTER_OVER_BUDGET,
                              f"{counter.replace('_', ' ')} is {used}, over the spec's "
                              f"{budget.replace('_', ' ')} of {limit}")

    def mode(self) -> Iterator[Finding]:
        if not (self.spec and self.state):
            return
        run = self.state.data.get("current_run")
        used = run.get("mode") if isinstance(run, dict) else None
        allowed = spec_mode(self.spec.data)
        rank, limit = _mode_rank(used), _mode_rank(allowed)
        if rank is not None and limit is not None and rank > limit:
            yield self.at(self.state, ("current_run", "mode"), codes.MODE_NOT_ALLOWED,
                          f"the state ran in '{used}' mode but the spec allows at most '{allowed}'")

    def gates(self) -> Iterator[Finding]:
        if not self.checklist:
            return
        known = checklist_gate_names(self.checklist)
        items = self.state.data.get("items") if self.state else None
        if self.state and isinstance(items, dict):
            for item_id, item in items.items():
                gates = item.get("gates") if isinstance(item, dict) else None
                for gate in gates if isinstance(gates, dict) else {}:
                    if gate not in known:
                        yield self.at(self.state, ("items", item_id, "gates", gate), codes.UNKNOWN_GATE,
                                      f"item {shown(item_id)} records gate '{shown(gate.replace('_', ' '))}', "
                                      "which the checklist does not define", value=False)
        spec_gates = self.spec.data.get("gates") if self.spec else None
        if self.spec and isinstance(spec_gates, list):
            for index, rule in enumerate(spec_gates):
                if _rule_name(rule) not in known:
                    yield self.at(self.spec, ("gates", index), codes.GATE_ONLY_IN_PROSE,
                                  f"gate '{shown(_rule_name(rule).replace('_', ' '))}' is named in the spec but "
                                  "has no entry in the checklist", value=False)

    def readiness_mode(self) -> Iterator[Finding]:
        if not (self.spec and self.readiness):
            return
        mode = spec_mode(self.spec.data)
        checks = self.readiness.data.get("checks")
        open_items = [c for group in (checks or {}).values() for c in group if not c.get("checked")]
        if mode != "shadow" and open_items:
            path: tuple[str | int, ...] = ("rollout", "mode")
            yield self.at(self.spec, path, codes.NOT_READY_FOR_MODE,
                          f"rollout mode '{mode}' needs every readiness item ticked; "
                          f"{len(open_items)} are not")


def no_required_gate(checklist: Artifact) -> Iterator[Finding]:
    if checklist.data and not checklist.data.get("required_gates"):
        pos = checklist.extracted.position(())
        yield codes.NO_REQUIRED_GATE.at(checklist.path, pos.line, 1, "no gate is required: nothing decides done")


def cross_check(artifacts: list[Artifact]) -> list[Finding]:
    by_kind = {a.kind: a for a in artifacts}
    cross = _Cross(by_kind)
    findings = [*cross.counters(), *cross.mode(), *cross.gates(), *cross.readiness_mode()]
    if cross.checklist:
        findings.extend(no_required_gate(cross.checklist))
    return findings
