"""When the last items of a mode cross a rollback limit: one rule for the audit and the report.

`loopgate readiness` applies it to the history as it is now; `loopgate report` replays it point by
point, so the mode the report shows over time drops where the audit would have demoted the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loopgate.history.runs import ItemRecord, RunRecord
from loopgate.readiness.rollout import Thresholds

Verdict = Callable[[RunRecord, ItemRecord], str | None]  # a person's verdict on one draft, if any


def rollback_reasons(items: Sequence[tuple[RunRecord, ItemRecord]], verdict: Verdict, t: Thresholds,
                     mode: str) -> list[str]:
    """Why the last `rollback_window` of `items` (the items of `mode`, oldest first) cross a
    rollback limit (empty: they do not)."""
    if mode == "shadow":
        return []
    window = list(items[-t.rollback_window:])
    # judge a window only once half of it (at least 3 items, at most the whole window) is there
    if len(window) < min(t.rollback_window, max(3, (t.rollback_window + 1) // 2)):
        return []
    reasons = []
    escalated = sum(item.status == "escalated" for _, item in window)
    if 100.0 * escalated / len(window) > t.rollback_escalation_rate:
        reasons.append(f"{escalated} of the last {len(window)} {mode} items escalated "
                       f"(rollback limit {t.rollback_escalation_rate:g}%)")
    judged = [v for run, item in window if item.produced and (v := verdict(run, item))]
    rejected = judged.count("reject")
    if len(judged) >= 2 and 100.0 * rejected / len(judged) > t.rollback_rejection_rate:
        reasons.append(f"{rejected} of {len(judged)} reviewed drafts among the last {len(window)} {mode} items "
                       f"rejected (rollback limit {t.rollback_rejection_rate:g}%)")
    return reasons
