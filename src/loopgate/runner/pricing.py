"""Spend accounting that fails closed: what an attempt costs, in the currency the budget is in.

Agents report spend differently: Claude Code gives a cost in USD with its final `result`, Codex
gives tokens and never a price, a wrapper may write its own usage file. With `max cost` set,
loopgate must be able to price every attempt, also one it killed before the agent's totals
arrived, so the spec's `## Budgets` may give per-million-token prices:

    - max cost: $20
    - price per million input tokens: $3
    - price per million cached input tokens: $0.30
    - price per million output tokens: $15

A maker known to report tokens only (Codex) refuses to start under `max cost` without them. A
budget in another currency than the agents report (USD) needs `exchange rate: 1 EUR = 1.08 USD`:
it is never compared with USD figures as if they were the same money.
"""

from __future__ import annotations

import math
from typing import Any

from loopgate import records
from loopgate.artifacts.spend import REPORTED_CURRENCY, TOKEN_ONLY_AGENTS, exchange_rate, maker_agent
from loopgate.records import record
from loopgate.runner.usage import Usage

PRICE_KEYS = {"input": "price_per_million_input_tokens", "cached": "price_per_million_cached_input_tokens",
              "output": "price_per_million_output_tokens"}
__all__ = ["Prices", "SpendError", "SpendLimits", "from_budgets", "maker_agent", "preflight", "remaining_env"]


class SpendError(ValueError):
    """The spec's budgets cannot be enforced as written: the run must not start."""


@record(frozen=True)
class Prices:
    """USD per million tokens; `cached` defaults to the input price (fail closed: never cheaper)."""

    input: float | None = None
    output: float | None = None
    cached: float | None = None

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None

    def cost(self, usage: Usage) -> float | None:
        if self.input is None or self.output is None:
            return None
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_price = self.cached if self.cached is not None else self.input
        return ((usage.input_tokens - cached) * self.input + cached * cached_price
                + usage.output_tokens * self.output) / 1_000_000


@record(frozen=True)
class SpendLimits:
    """The run's spend budgets, in USD and tokens."""

    max_cost_usd: float | None = None
    max_tokens: int | None = None
    prices: Prices = Prices()
    written: str = ""  # the budget as the spec wrote it, e.g. "20 EUR (21.6 USD at 1.08)"

    def cost_from(self, usage: Usage) -> str:
        """Where an attempt's charged cost comes from: "agent", "prices", or "unknown" (tokens, no price)."""
        if usage.priced:
            return "agent"
        if self.prices.known and usage.reported:
            return "prices"
        return "unknown" if usage.tokens else "none"

    def charge(self, usage: Usage) -> Usage:
        """The usage with the cost loopgate charges for it: the agent's own figure when it gave one,
        else its tokens at the spec's prices (see cost_from)."""
        if usage.priced:
            return usage
        estimate = self.prices.cost(usage)
        if estimate is None:
            return usage
        return records.replace(usage, cost_usd=max(usage.cost_usd, estimate))

    def exceeded(self, spent: Usage) -> str:
        """"cost" or "tokens" when `spent` (already charged) is over a budget, else ""."""
        if self.max_cost_usd is not None and spent.cost_usd > self.max_cost_usd:
            return "cost"
        if self.max_tokens is not None and spent.tokens > self.max_tokens:
            return "tokens"
        return ""

    def unpriceable(self, usage: Usage, agent: str) -> bool:
        """Under `max cost`, tokens that nothing will ever put a price on: stop rather than run blind.
        Claude's cost comes with its final result, so its tokens alone are not yet a reason."""
        if self.max_cost_usd is None or self.prices.known or usage.priced or not usage.tokens:
            return False
        return agent in TOKEN_ONLY_AGENTS or usage.complete


def _rate(budgets: dict[str, Any], currency: str) -> float:
    """USD per unit of `currency`, from `exchange rate: 1 EUR = 1.08 USD` (see LG871)."""
    if currency == REPORTED_CURRENCY:
        return 1.0
    written = str(budgets.get("exchange_rate") or "")
    rate = exchange_rate(written)
    if rate is None or rate[0] != currency:
        given = f" (`exchange rate: {written}` converts no {currency})" if written else ""
        raise SpendError(f"a budget is in {currency}, but agents report cost in {REPORTED_CURRENCY}{given}: write the "
                         f"budget in USD, or add `- exchange rate: 1 {currency} = <rate> USD` under ## Budgets")
    return rate[1]


def _usd(budgets: dict[str, Any], key: str) -> float | None:
    money = budgets.get(key)
    if not isinstance(money, dict):
        return None
    return float(money["amount"]) * _rate(budgets, str(money.get("currency", REPORTED_CURRENCY)).upper())


def from_budgets(budgets: dict[str, Any]) -> SpendLimits:
    """The spec's `## Budgets` (as extracted) -> SpendLimits; SpendError when a budget cannot be enforced."""
    cost = _usd(budgets, "max_cost")
    prices = Prices(*(_usd(budgets, PRICE_KEYS[k]) for k in ("input", "output", "cached")))
    if (prices.input is None) != (prices.output is None):
        missing = "output" if prices.output is None else "input"
        raise SpendError(f"a price per million input and output tokens go together: add `- price per million "
                         f"{missing} tokens: $N` under ## Budgets")
    tokens = budgets.get("max_tokens")
    written = ""
    money = budgets.get("max_cost")
    if isinstance(money, dict) and cost is not None:
        written = f"{money['amount']:g} {money['currency']}"
        if str(money["currency"]).upper() != REPORTED_CURRENCY:
            written += f" ({cost:.4g} USD)"
    return SpendLimits(cost, int(tokens) if isinstance(tokens, int) else None, prices, written)


def preflight(spend: SpendLimits, command: str) -> tuple[str, str]:
    """(refusal, warning) before the run starts: a token-only maker under `max cost` with no prices
    is refused; a Claude maker without prices is told that a killed attempt cannot be charged."""
    if spend.max_cost_usd is None or spend.prices.known:
        return "", ""
    agent = maker_agent(command)
    if agent in TOKEN_ONLY_AGENTS:
        return (f"`max cost` is set, but {agent} reports tokens and no price, so the run could not know what it "
                "spends: add `- price per million input tokens: $N` and `- price per million output tokens: $N` "
                "under ## Budgets (your model's list prices), or remove `max cost`"), ""
    return "", ("`max cost` has no per-million-token prices: an attempt stopped before the agent reports its cost "
                "cannot be charged, and the run will stop there (fail closed); add `price per million input "
                "tokens` and `price per million output tokens` under ## Budgets")


def remaining_env(spend: SpendLimits, spent: Usage, seconds: float, max_tool_calls: int) -> dict[str, str]:
    """What is left, for the maker to hand to the agent's own limits (`--max-budget-usd`, `--max-turns`);
    loopgate's kill stays the backstop. A budget that is not set is not exported."""
    env = {"LOOPGATE_REMAINING_SECONDS": str(max(0, math.floor(seconds))),
           "LOOPGATE_MAX_TOOL_CALLS": str(max_tool_calls)}
    if spend.max_cost_usd is not None:
        env["LOOPGATE_REMAINING_COST_USD"] = f"{max(0.0, spend.max_cost_usd - spent.cost_usd):.4f}"
    if spend.max_tokens is not None:
        env["LOOPGATE_REMAINING_TOKENS"] = str(max(0, spend.max_tokens - spent.tokens))
    return env
