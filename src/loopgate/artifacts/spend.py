"""Budgets in a spec that no run could enforce as written: money in a currency agents never report,
half a token price, a cost budget for a maker that reports tokens and no price.

`loopgate verify` reports them (LG871-LG873) so they are fixed before a run; `loopgate run`
refuses to start on the same rules (runner/pricing.py reads the same helpers).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from loopgate import codes
from loopgate.artifacts.extract import Extracted
from loopgate.findings import Finding

REPORTED_CURRENCY = "USD"  # the only currency an agent reports a cost in
TOKEN_ONLY_AGENTS = frozenset({"codex"})  # makers whose usage carries tokens and never a price
MONEY_KEYS = ("max_cost", "price_per_million_input_tokens", "price_per_million_cached_input_tokens",
              "price_per_million_output_tokens")
PAIR = ("price_per_million_input_tokens", "price_per_million_output_tokens")
_RATE = re.compile(r"^\s*1\s+([A-Za-z]{3})\s*=\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{3})\s*$")


def exchange_rate(text: str) -> tuple[str, float] | None:
    """`1 EUR = 1.08 USD` -> ("EUR", 1.08); None when it is not a rate into USD."""
    match = _RATE.match(text)
    if not match or match.group(3).upper() != REPORTED_CURRENCY or float(match.group(2)) <= 0:
        return None
    return match.group(1).upper(), float(match.group(2))


def maker_agent(command: str) -> str:
    """The agent a maker command runs, when one of its words names a known CLI ("codex", "claude")."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    names = {word.rsplit("/", 1)[-1] for word in words}
    return next((agent for agent in ("codex", "claude") if agent in names), "")


def unconverted(budgets: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, currency) of every money budget that no exchange rate converts into USD."""
    rate = exchange_rate(str(budgets.get("exchange_rate") or ""))
    for key in MONEY_KEYS:
        money = budgets.get(key)
        if not isinstance(money, dict) or not isinstance(money.get("currency"), str):
            continue
        currency = money["currency"].upper()
        if currency != REPORTED_CURRENCY and (rate is None or rate[0] != currency):
            yield key, currency


def spec_findings(path: str, spec: dict[str, Any], extracted: Extracted) -> Iterator[Finding]:
    budgets = spec.get("budgets")
    if not isinstance(budgets, dict):
        return

    def at(key: str, code: codes.Code, message: str, hint: str | None = None) -> Finding:
        pos = extracted.position(("budgets", key))
        return code.at(path, pos.line, pos.value_column, message, hint)

    for key, currency in unconverted(budgets):
        yield at(key, codes.CURRENCY_NOT_REPORTED,
                 f"{key.replace('_', ' ')} is in {currency}, but agents report cost in USD only",
                 f"Write it in USD, or add `- exchange rate: 1 {currency} = <rate> USD` under ## Budgets.")
    given = [k for k in PAIR if isinstance(budgets.get(k), dict)]
    if len(given) == 1:
        missing = next(k for k in PAIR if k not in given).replace("_", " ")
        yield at(given[0], codes.PRICE_PAIR_INCOMPLETE, f"{given[0].replace('_', ' ')} is given without {missing}",
                 f"Add `- {missing}: $N` under ## Budgets.")
    maker = str((spec.get("roles") or {}).get("maker_command", "")).strip("` ")
    agent = maker_agent(maker)
    if isinstance(budgets.get("max_cost"), dict) and agent in TOKEN_ONLY_AGENTS and not given:
        yield at("max_cost", codes.UNPRICED_TOKEN_MAKER,
                 f"max cost is set, but the maker ({agent}) reports tokens and no price: the run cannot know "
                 "what it spends and refuses to start")
