"""Budgets across the run: what the spec allows, and what is left of it.

The run's clock starts when the run does; every attempt's usage adds to one total. What is
left is handed to each attempt as its hard limit (runner/maker.py enforces it mid-attempt).
Money is held in USD (runner/pricing.py converts and prices); the per-attempt limits are in
runner/attempt_budget.py.
"""

from __future__ import annotations

import time
from typing import Any

from loopgate.records import field, record
from loopgate.runner.attempt_budget import AttemptBudget
from loopgate.runner.pricing import SpendLimits, from_budgets
from loopgate.runner.usage import Usage


@record
class Budgets:
    max_iterations: int
    max_tool_calls: int
    max_runtime: float
    max_prs: int
    max_cost: float | None  # in USD, converted at the spec's exchange rate
    spend: SpendLimits = field(default_factory=SpendLimits)  # cost, tokens and prices
    attempt: AttemptBudget = field(default_factory=lambda: AttemptBudget(0))  # per-attempt limits

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Budgets:
        """SpendError when a budget cannot be enforced as written (a currency no agent reports)."""
        b = spec.get("budgets") or {}
        spend = from_budgets(b)
        return cls(int(b["max_iterations"]), int(b["max_tool_calls_per_iteration"]), float(b["max_runtime"]),
                   int(b["max_pull_requests_per_run"]), spend.max_cost_usd, spend, AttemptBudget.from_budgets(b))

    def as_dict(self) -> dict[str, Any]:
        prices = self.spend.prices
        return {"max_iterations": self.max_iterations, "max_tool_calls_per_iteration": self.max_tool_calls,
                "max_runtime": self.max_runtime, "max_pull_requests_per_run": self.max_prs,
                "max_cost_usd": self.max_cost, "max_cost": self.spend.written, "max_tokens": self.spend.max_tokens,
                "price_per_million_tokens_usd": {"input": prices.input, "cached_input": prices.cached,
                                                 "output": prices.output},
                **self.attempt.as_dict()}


@record
class Spend:
    """The run's running totals against its budgets."""

    budgets: Budgets
    started: float = field(default_factory=time.monotonic)
    usage: Usage = field(default_factory=Usage)
    unreported_warned: bool = False
    incomplete_attempts: int = 0  # attempts whose usage totals never arrived (`usage: incomplete`)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining_runtime(self) -> float:
        return self.budgets.max_runtime - self.elapsed()

    def remaining_cost(self) -> float | None:
        return None if self.budgets.max_cost is None else self.budgets.max_cost - self.usage.cost_usd

    def exhausted(self) -> str:
        """Which budget is already spent before an attempt starts ("" when none)."""
        if self.remaining_runtime() <= 0:
            return "max runtime reached"
        cost_left = self.remaining_cost()
        if cost_left is not None and cost_left <= 0:
            return "max cost reached"
        tokens = self.budgets.spend.max_tokens
        if tokens is not None and self.usage.tokens >= tokens:
            return "max tokens reached"
        return ""

    def usage_dict(self) -> dict[str, Any]:
        return {**self.usage.as_dict(), "incomplete_attempts": self.incomplete_attempts}

    def add(self, usage: Usage) -> str:
        """Count an attempt's usage; a warning, once a run, when the maker reports none at all
        (the budgets that depend on it cannot be enforced)."""
        self.usage.add(usage)
        self.incomplete_attempts += not usage.complete
        if usage.reported or self.unreported_warned:
            return ""
        self.unreported_warned = True
        named = ["`max tool calls per iteration`", *(["`max cost`"] if self.budgets.max_cost is not None else []),
                 *(["`max tokens`"] if self.budgets.spend.max_tokens is not None else [])]
        budgets = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]
        return (f"the maker reports no usage, so {budgets} cannot be enforced: have it write "
                "$LOOPGATE_USAGE_FILE, or run Claude Code with `--output-format stream-json --verbose` "
                "or `codex exec --json`")
