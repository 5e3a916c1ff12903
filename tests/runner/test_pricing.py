"""Spend accounting that fails closed: prices, currencies, the token budget, per-message sums for an
attempt killed mid-way, and what is exported to the maker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loopgate.runner.pricing import Prices, SpendError, SpendLimits, from_budgets, maker_agent, preflight, remaining_env
from loopgate.runner.usage import Usage, from_output


def lines(*events: Any) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def usd(amount: float) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def assistant(message_id: str, text: str, **usage: int) -> dict[str, Any]:
    return {"type": "assistant", "message": {"id": message_id, "role": "assistant",
                                             "content": [{"type": "text", "text": text}], "usage": usage}}


# -- Claude stream-json: counted once per message id, until the result brings the totals --------------------

CLAUDE_MESSAGES = [
    {"type": "system", "subtype": "init", "session_id": "s"},
    assistant("msg_1", "Looking.", input_tokens=5, cache_read_input_tokens=1000, output_tokens=20),
    # the same message emitted again for its next content block: the same usage, not more
    assistant("msg_1", "Running ls.", input_tokens=5, cache_read_input_tokens=1000, output_tokens=20),
    assistant("msg_2", "Editing.", input_tokens=7, cache_read_input_tokens=1100, cache_creation_input_tokens=50,
              output_tokens=40),
]


def test_a_claude_attempt_killed_before_its_result_is_charged_per_message() -> None:
    usage = from_output(lines(*CLAUDE_MESSAGES))
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (2162, 2100, 60)
    assert usage.reported and not usage.complete and not usage.priced
    prices = SpendLimits(prices=Prices(input=3.0, output=15.0, cached=0.3))
    charged = prices.charge(usage)
    assert charged.cost_usd == pytest.approx((62 * 3.0 + 2100 * 0.3 + 60 * 15.0) / 1e6)
    assert prices.cost_from(charged) == "prices"


def test_claudes_result_is_the_account_when_it_arrives() -> None:
    result = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 2, "total_cost_usd": 0.02,
              "usage": {"input_tokens": 12, "cache_read_input_tokens": 2100, "output_tokens": 60}}
    usage = from_output(lines(*CLAUDE_MESSAGES, result))
    assert usage.complete and usage.priced
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (2112, 60, 0.02)
    # the agent's own cost wins over the spec's prices
    limits = SpendLimits(prices=Prices(input=100.0, output=100.0))
    assert limits.charge(usage).cost_usd == 0.02 and limits.cost_from(usage) == "agent"


# -- Codex: tokens per turn, never a price -------------------------------------------------------------------

CODEX_TURN = [{"type": "thread.started", "thread_id": "t"}, {"type": "turn.started"},
              {"type": "turn.completed", "usage": {"input_tokens": 20000, "cached_input_tokens": 15000,
                                                   "output_tokens": 1000}}]


def test_codex_tokens_are_charged_at_the_specs_prices() -> None:
    usage = from_output(lines(*CODEX_TURN))
    assert usage.complete and not usage.priced and usage.cost_usd == 0.0
    limits = SpendLimits(max_cost_usd=1.0, prices=Prices(input=1.25, output=10.0, cached=0.125))
    charged = limits.charge(usage)
    assert charged.cost_usd == pytest.approx((5000 * 1.25 + 15000 * 0.125 + 1000 * 10.0) / 1e6)
    # without a cached price, cached tokens cost the input price (never cheaper than known)
    assert SpendLimits(prices=Prices(1.25, 10.0)).charge(usage).cost_usd == pytest.approx(35000 / 1e6)


def test_a_codex_turn_cut_off_is_incomplete() -> None:
    usage = from_output(lines(*CODEX_TURN, {"type": "turn.started"}))
    assert not usage.complete and usage.input_tokens == 20000


def test_tokens_without_a_price_under_max_cost_fail_closed() -> None:
    usage = from_output(lines(*CODEX_TURN))
    limits = SpendLimits(max_cost_usd=5.0)
    assert limits.unpriceable(usage, "codex")
    assert limits.cost_from(usage) == "unknown"
    assert not SpendLimits().unpriceable(usage, "codex")  # no max cost: nothing to enforce
    assert not SpendLimits(5.0, prices=Prices(1.0, 2.0)).unpriceable(usage, "codex")
    claude_so_far = from_output(lines(*CLAUDE_MESSAGES))
    assert not limits.unpriceable(claude_so_far, "claude")  # its cost comes with the result


def test_the_token_budget_counts_input_and_output() -> None:
    limits = SpendLimits(max_tokens=21000)
    assert limits.exceeded(from_output(lines(*CODEX_TURN))) == ""
    assert SpendLimits(max_tokens=20999).exceeded(from_output(lines(*CODEX_TURN))) == "tokens"
    assert SpendLimits(max_cost_usd=0.01).exceeded(Usage(cost_usd=0.02)) == "cost"


# -- the spec's budgets ---------------------------------------------------------------------------------------

def test_a_currency_the_agents_do_not_report_is_refused_without_a_rate() -> None:
    with pytest.raises(SpendError, match="agents report cost in USD"):
        from_budgets({"max_cost": {"amount": 20.0, "currency": "EUR"}})
    with pytest.raises(SpendError, match="converts no EUR"):
        from_budgets({"max_cost": {"amount": 20.0, "currency": "EUR"}, "exchange_rate": "1 GBP = 1.27 USD"})
    limits = from_budgets({"max_cost": {"amount": 20.0, "currency": "EUR"}, "exchange_rate": "1 eur = 1.08 usd"})
    assert limits.max_cost_usd == pytest.approx(21.6)
    assert limits.written == "20 EUR (21.6 USD)"
    assert from_budgets({"max_cost": usd(5)}).max_cost_usd == 5.0


def test_prices_come_in_pairs_and_convert_too() -> None:
    with pytest.raises(SpendError, match="price per million output tokens"):
        from_budgets({"price_per_million_input_tokens": usd(3)})
    limits = from_budgets({"price_per_million_input_tokens": {"amount": 2.0, "currency": "EUR"},
                           "price_per_million_output_tokens": usd(10), "exchange_rate": "1 EUR = 1.5 USD",
                           "max_tokens": 5000})
    assert limits.prices == Prices(input=3.0, output=10.0) and limits.max_tokens == 5000


@pytest.mark.parametrize(("command", "agent"), [
    ("codex exec --json --sandbox workspace-write \"$(cat $LOOPGATE_PROMPT_FILE)\"", "codex"),
    ("/usr/local/bin/codex exec --json -", "codex"),
    ("claude -p --output-format stream-json --verbose", "claude"),
    ("python my_agent.py --model codex-mini", ""),
    ("echo 'unbalanced", ""),
])
def test_the_maker_command_names_its_agent(command: str, agent: str) -> None:
    assert maker_agent(command) == agent


def test_a_token_only_maker_under_max_cost_refuses_to_start_without_prices() -> None:
    refusal, warning = preflight(SpendLimits(max_cost_usd=5.0), "codex exec --json -")
    assert "price per million input tokens" in refusal and not warning
    assert preflight(SpendLimits(max_cost_usd=5.0, prices=Prices(1.0, 2.0)), "codex exec --json -") == ("", "")
    assert preflight(SpendLimits(), "codex exec --json -") == ("", "")
    refusal, warning = preflight(SpendLimits(max_cost_usd=5.0), "claude -p --output-format stream-json --verbose")
    assert not refusal and "cannot be charged" in warning


def test_remaining_budgets_exported_to_the_maker() -> None:
    spent = Usage(input_tokens=600, output_tokens=400, cost_usd=1.25)
    env = remaining_env(SpendLimits(max_cost_usd=5.0, max_tokens=3000), spent, 299.7, 20)
    assert env == {"LOOPGATE_REMAINING_SECONDS": "299", "LOOPGATE_MAX_TOOL_CALLS": "20",
                   "LOOPGATE_REMAINING_COST_USD": "3.7500", "LOOPGATE_REMAINING_TOKENS": "2000"}
    assert remaining_env(SpendLimits(), spent, -1, 5) == {"LOOPGATE_REMAINING_SECONDS": "0",
                                                          "LOOPGATE_MAX_TOOL_CALLS": "5"}
