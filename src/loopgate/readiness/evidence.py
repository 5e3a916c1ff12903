"""Criteria from the loop's history: has it earned the next mode?

shadow -> draft-pr is earned in shadow runs; draft-pr -> pr in draft-pr runs. Acceptance counts
only drafts a person reviewed (`loopgate review ITEM accept|reject`): the gates passing is the
loop's own opinion, a person keeping the draft is the evidence.
"""

from __future__ import annotations

from loopgate.history.metrics import Totals, totals
from loopgate.history.reviews import Reviews
from loopgate.history.runs import History
from loopgate.readiness.criteria import PR, Criterion, judged, unmet
from loopgate.readiness.rollout import Thresholds

G = "history"
DRAFT = ("draft-pr",)


def history_criteria(history: History, reviews: Reviews, t: Thresholds) -> list[Criterion]:
    shadow = totals([r for r in history.runs if r.mode == "shadow"], reviews)
    drafts = totals([r for r in history.runs if r.mode == "draft-pr"], reviews)
    return criteria_from(shadow, drafts, totals(history.runs, reviews), t)


def criteria_from(shadow: Totals, drafts: Totals, everything: Totals, t: Thresholds) -> list[Criterion]:
    """The history criteria from running totals (`report` keeps them per point without recounting)."""
    out = _promotion(shadow, t, DRAFT, "shadow", t.min_shadow_items, t.min_accepted_drafts, t.max_escalation_rate)
    # a run that took on nothing (an empty queue, every item skipped) is not a run of evidence
    more = t.min_shadow_runs - shadow.runs_with_work
    idle = shadow.runs - shadow.runs_with_work
    out.insert(0, judged(shadow.runs_with_work >= t.min_shadow_runs, "shadow-runs", G,
                         f"at least {t.min_shadow_runs} shadow runs that took on work",
                         f"{shadow.runs_with_work} shadow run(s) with work"
                         + (f" ({idle} more took on no item)" if idle else ""),
                         f"Run the loop in shadow mode {more} more time(s) on work it may take (`loopgate run`).",
                         DRAFT))
    out += _promotion(drafts, t, PR, "draft-pr", t.min_draft_items, t.min_accepted_drafts_pr, t.max_escalation_rate_pr)
    both = ("draft-pr", "pr")
    # no runs is no evidence: a rate of nothing is not met (0 of 0 would otherwise pass and add to the score)
    out.append(judged(everything.runs > 0 and everything.environmental_rate <= t.max_environmental_stops,
                      "environmental-stops", G,
                      f"at most {t.max_environmental_stops:g}% of runs stopped by the environment",
                      f"{everything.environmental_runs} of {everything.runs} run(s) "
                      f"({everything.environmental_rate:.0f}%)" if everything.runs else "no runs yet",
                      "Fix what the environmental stops name (credentials, rate limits, a missing tool) "
                      "before giving the loop more authority." if everything.runs else _gather("shadow"), both))
    cost = _cost_per_item(everything, t, both)
    out += [cost] if cost is not None else []
    return out


def _cost_per_item(s: Totals, t: Thresholds, modes: tuple[str, ...]) -> Criterion | None:
    """None when the spec sets no `max cost per item`. A cost no run reported is no evidence: a
    maker that reports none leaves a cost_usd of 0 in every report, and $0.00 per item would pass
    any limit. The average is taken over the runs that carry a cost, and says what it left out."""
    if t.cost_unreadable:
        return unmet("cost-per-item", G, "a finished item costs at most the spec's `max cost per item`",
                     t.cost_unreadable, "Write the limit in US dollars under `## Rollout` in LOOP_SPEC.md, e.g. "
                     "`- max cost per item: $2` (run reports carry cost in USD only).", modes)
    if t.max_cost_per_item is None:
        return None
    title = f"a finished item costs at most ${t.max_cost_per_item:g} on average"
    if not s.produced:
        return unmet("cost-per-item", G, title, "no finished item yet", _gather("shadow"), modes)
    unreported = s.produced - s.costed_produced
    if not s.costed_produced:
        return Criterion("cost-per-item", G, title, None,
                         f"no cost reported: none of the {s.runs} run report(s) with {s.produced} finished item(s) "
                         "carries one (their $0.00 is no evidence)",
                         "Have the maker report its cost (`cost_usd` in $LOOPGATE_USAGE_FILE; Claude Code's "
                         "stream-json does), or give token prices under `## Budgets` (`- price per million input "
                         "tokens: $3`, `- price per million output tokens: $15`).", modes)
    per = s.cost_usd / s.costed_produced
    left_out = f" ({unreported} finished item(s) in runs that reported no cost left out)" if unreported else ""
    return judged(per <= t.max_cost_per_item, "cost-per-item", G, title,
                  f"${per:.2f} per finished item over {s.costed_produced}{left_out}",
                  "Narrow the work selection rules or lower the per-attempt budgets.", modes)


def _promotion(s: Totals, t: Thresholds, modes: tuple[str, ...], earned_in: str, min_items: int,
               min_accepted: float, max_escalation: float) -> list[Criterion]:
    suffix = "" if modes == DRAFT else "-pr"
    need = t.min_reviewed_drafts
    reviewed_ok = s.reviewed >= need
    gather = _gather(earned_in)
    review = _review_step(s, need, earned_in)
    skipped = f"; {s.skipped} skipped, not counted" if s.skipped else ""
    if s.escalated_at_selection:  # never attempted: neither an item taken on nor an escalation of the loop's
        skipped += f"; {s.escalated_at_selection} escalated by the policy at selection, not counted"
    if s.reviewed and not reviewed_ok:  # too few verdicts to judge a rate: say so, not "find out why"
        accepted = Criterion(f"drafts-accepted{suffix}", G,
                             f"at least {min_accepted:g}% of reviewed {earned_in} drafts accepted", None,
                             f"{s.accepted} of {s.reviewed} accepted ({s.accepted_rate:.0f}%); judged once {need} "
                             "drafts are reviewed", review, modes, weight=2)
    else:
        # a share of no verdicts is no evidence, even where the spec asks for 0 reviewed drafts
        accepted = judged(s.reviewed > 0 and reviewed_ok and s.accepted_rate >= min_accepted,
                          f"drafts-accepted{suffix}", G,
                          f"at least {min_accepted:g}% of reviewed {earned_in} drafts accepted",
                          f"{s.accepted} of {s.reviewed} accepted ({s.accepted_rate:.0f}%)" if s.reviewed
                          else "no reviews yet",
                          "Find out why drafts are rejected (the run reports' feedback) and tighten the spec or the "
                          "gates." if s.reviewed else review, modes, weight=2)
    return [
        judged(s.items >= min_items, f"{earned_in}-items", G,
               f"at least {min_items} items attempted in {earned_in} runs",
               f"{s.items} item(s) attempted in {s.runs} {earned_in} run(s){skipped}",
               f"Let the loop attempt {min_items - s.items} more item(s) in {earned_in} mode.", modes, weight=2),
        judged(reviewed_ok, f"drafts-reviewed{suffix}", G,
               f"at least {need} of the {earned_in} drafts reviewed by a person",
               f"{s.reviewed} reviewed of {s.produced} produced", review, modes),
        accepted,
        judged(s.items > 0 and s.rate(s.escalated) <= max_escalation, f"escalation-rate{suffix}", G,
               f"at most {max_escalation:g}% of {earned_in} items escalated",
               f"{s.escalated} of {s.items} escalated ({s.rate(s.escalated):.0f}%)" if s.items else "no items yet",
               "Read the escalation summaries: narrow the work selection rules to work the loop can finish."
               if s.items else gather, modes, weight=2),
        judged(s.items > 0 and s.rate(s.no_progress) <= t.max_no_progress_rate, f"no-progress-rate{suffix}", G,
               f"at most {t.max_no_progress_rate:g}% of {earned_in} items stopped making progress",
               f"{s.no_progress} of {s.items} ({s.rate(s.no_progress):.0f}%)" if s.items else "no items yet",
               "Give the maker better feedback (gate output) or smaller items." if s.items else gather, modes),
    ]


def _gather(mode: str) -> str:
    return f"Run the loop in {mode} mode to gather evidence (`loopgate run`)."


def _review_step(s: Totals, need: int, earned_in: str) -> str:
    """What gets the reviews promotion needs: verdicts on the drafts there are, and more drafts
    when there are too few to review (a person's verdicts, not more runs alone, are the evidence)."""
    record = "`loopgate review ITEM accept` (or reject)"
    unreviewed = s.produced - s.reviewed
    short = need - s.produced  # drafts still to be made, even if every one is reviewed
    if not s.produced:
        return (f"Run the loop in {earned_in} mode (`loopgate run`), then review each draft it leaves and "
                f"record it: {record}.")
    if short > 0 and unreviewed:
        return (f"Review the {unreviewed} {earned_in} draft(s) not yet reviewed ({record}), and let the loop "
                f"draft {short} more.")
    if short > 0:
        return f"Every {earned_in} draft is reviewed: let the loop draft {short} more, and review each ({record})."
    return f"Review {need - s.reviewed} more of the {unreviewed} unreviewed {earned_in} draft(s): {record}."
