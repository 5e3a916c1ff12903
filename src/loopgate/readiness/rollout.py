"""Promotion and rollback thresholds: the spec's `## Rollout` fields, with documented defaults.

The defaults follow the shadow-first rollout the loop-engineering article describes: enough
shadow work to judge (10 items over 5 runs), most drafts worth keeping (80% accepted), few
escalations (20%); pr asks for more (90% accepted, 10% escalations over 10 draft-pr items).
Rollback looks at the last 10 items of the current mode and steps down one mode when they cross
a rollback limit.
"""

from __future__ import annotations

import math
from typing import Any

from loopgate.records import record

MODES = ("shadow", "draft-pr", "pr")


@record(frozen=True)
class Thresholds:
    min_shadow_runs: int = 5
    min_shadow_items: int = 10
    min_draft_items: int = 10
    min_reviewed_drafts: int = 5
    min_accepted_drafts: float = 80.0
    min_accepted_drafts_pr: float = 90.0
    max_escalation_rate: float = 20.0
    max_escalation_rate_pr: float = 10.0
    max_no_progress_rate: float = 20.0
    max_environmental_stops: float = 20.0
    max_cost_per_item: float | None = None  # USD
    # a `max cost per item` the audit cannot compare with the run reports (another currency, not an
    # amount): why, for the `cost-per-item` criterion, which then fails; never silently no limit
    cost_unreadable: str = ""
    rollback_window: int = 10
    rollback_escalation_rate: float = 40.0
    rollback_rejection_rate: float = 50.0
    # where each value came from: "default" or "LOOP_SPEC.md" (shown so a reader knows what to edit)
    source: tuple[tuple[str, str], ...] = ()

    def origin(self, name: str) -> str:
        return dict(self.source).get(name, "default")


_INTS = ("min_shadow_runs", "min_shadow_items", "min_draft_items", "min_reviewed_drafts", "rollback_window")
_SHARES = ("max_no_progress_rate", "max_environmental_stops", "rollback_escalation_rate", "rollback_rejection_rate")


def thresholds(spec: dict[str, Any]) -> Thresholds:
    """The spec's values over the defaults. Values are already typed and bounded by the schema
    (`verify` reports bad ones); anything else here falls back to the default."""
    rollout = spec.get("rollout")
    fields: dict[str, Any] = {}
    source: list[tuple[str, str]] = []
    if isinstance(rollout, dict):
        for name in _INTS:
            value = rollout.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= (name == "rollback_window"):
                fields[name] = value
                source.append((name, "LOOP_SPEC.md"))
        for name in _SHARES:
            if _share(rollout.get(name)) is not None:
                fields[name] = _share(rollout.get(name))
                source.append((name, "LOOP_SPEC.md"))
        # one figure in the spec sets the bar for both promotions: the spec is the team's own word
        for name, pr_name in (("min_accepted_drafts", "min_accepted_drafts_pr"),
                              ("max_escalation_rate", "max_escalation_rate_pr")):
            share = _share(rollout.get(name))
            if share is not None:
                fields[name] = fields[pr_name] = share
                source += [(name, "LOOP_SPEC.md"), (pr_name, "LOOP_SPEC.md")]
        if "max_cost_per_item" in rollout:
            amount, why = _usd(rollout["max_cost_per_item"])
            if amount is not None:
                fields["max_cost_per_item"] = amount
                source.append(("max_cost_per_item", "LOOP_SPEC.md"))
            else:
                fields["cost_unreadable"] = why
    return Thresholds(**fields, source=tuple(source))


def _usd(value: Any) -> tuple[float | None, str]:
    """`max cost per item` in US dollars, or (None, why not). Run reports carry cost in USD only
    (`cost_usd`), so that is the one currency a limit can be compared in: 5 EUR is not $5."""
    written = (f"{value['amount']:g} {value['currency']}" if isinstance(value, dict)
               and isinstance(value.get("amount"), int | float) and isinstance(value.get("currency"), str)
               else str(value))[:60]
    where = f"`- max cost per item: {written}` under ## Rollout in LOOP_SPEC.md"
    if not isinstance(value, dict) or isinstance(value.get("amount"), bool) \
            or not isinstance(value.get("amount"), int | float):
        return None, f"{where} is not an amount of money, so no cost limit could be checked"
    amount = float(value["amount"])
    if not math.isfinite(amount) or amount <= 0:
        return None, f"{where} is not a positive amount, so no cost limit could be checked"
    currency = str(value.get("currency", "")).upper()
    if currency != "USD":
        return None, (f"{where} is in {currency or 'no currency'}, but run reports carry cost in USD only: "
                      "the limit cannot be compared with them")
    return amount, ""


def _share(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 100 else None


def lower(mode: str) -> str:
    """One step down: pr -> draft-pr -> shadow (shadow stays)."""
    index = MODES.index(mode) if mode in MODES else 0
    return MODES[max(index - 1, 0)]
