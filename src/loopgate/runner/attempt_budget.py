"""One attempt's limits and what its end means for the run: the per-attempt budgets (tool calls,
runtime per iteration, the stall watchdog), the run-wide ones it stops (runtime, cost, tokens),
and the endings that are the environment's, not the item's (a maker that cannot start, an agent
that cannot log in, spend that cannot be priced).

The attempt module asks three questions of a finished maker run, in this order:
`environment_failure` (stop the run, exit 5, the item resumes), `run_stop` (a run budget ran out,
exit 4), and `over_budget` (a per-attempt limit: recorded, and the gates still judge the work).
"""

from __future__ import annotations

from typing import Any

from loopgate.records import record
from loopgate.runner.agent_status import EDIT_FLAGS, EnvironmentFailure, agent_failure, command_failure
from loopgate.runner.maker import MakerLimits, MakerRun
from loopgate.runner.pricing import Prices, SpendLimits, remaining_env
from loopgate.runner.usage import Usage

PER_ATTEMPT = ("tool-calls", "iteration-timeout", "stalled")  # the item's own overrun: judge what it left
RUN_STOPS = {"timeout": "max runtime reached during an attempt", "cost": "max cost reached during an attempt",
             "tokens": "max tokens reached during an attempt"}


@record(frozen=True)
class AttemptBudget:
    """The spec's per-attempt limits beside `max tool calls per iteration`."""

    max_tool_calls: int
    runtime_per_iteration: float | None = None
    stalled_after: float | None = None

    @classmethod
    def from_budgets(cls, budgets: dict[str, Any]) -> AttemptBudget:
        per = budgets.get("max_runtime_per_iteration")
        stall = budgets.get("stalled_after")
        return cls(int(budgets["max_tool_calls_per_iteration"]), float(per) if isinstance(per, int) else None,
                   float(stall) if isinstance(stall, int) else None)

    def as_dict(self) -> dict[str, Any]:
        return {"max_runtime_per_iteration": self.runtime_per_iteration, "stalled_after": self.stalled_after}

    def limits(self, runtime_left: float, spend: SpendLimits, spent: Usage, grace: float) -> MakerLimits:
        """What the maker may use: the per-attempt limits and what is left of the run's budgets."""
        cost_left = None if spend.max_cost_usd is None else spend.max_cost_usd - spent.cost_usd
        tokens_left = None if spend.max_tokens is None else spend.max_tokens - spent.tokens
        return MakerLimits(runtime_left, self.max_tool_calls, cost_left, grace, tokens_left, spend.prices,
                           self.runtime_per_iteration, self.stalled_after)

    def env(self, limits: MakerLimits, spend: SpendLimits, spent: Usage) -> dict[str, str]:
        """The remaining budgets for the maker to pass to the agent's own limits."""
        return remaining_env(spend, spent, limits.term_after(), self.max_tool_calls)

    def over_budget(self, stopped: str) -> str:
        """The per-attempt limit a stop broke, in words for the report, state and feedback ("" if none)."""
        if stopped == "tool-calls":
            return f"the attempt used more than {self.max_tool_calls} tool calls"
        if stopped == "iteration-timeout":
            return f"the attempt ran past max runtime per iteration ({_seconds(self.runtime_per_iteration)})"
        if stopped == "stalled":
            return f"stalled: no output for {_seconds(self.stalled_after)} (stalled after)"
        return ""


def _seconds(value: float | None) -> str:
    return f"{value:g} s" if value is not None else "?"


STARTED_SECONDS = 10.0  # a command not found (127) or not executable (126) ends at once, sandbox and all


def environment_failure(made: MakerRun, command: str, earlier_denials: int) -> EnvironmentFailure | None:
    """A maker that could not start, or an agent that reports a failure of its setup."""
    if made.stopped in ("signal", "timeout"):
        return None  # the run is stopping anyway: its exit code and last words are not its verdict
    if made.stopped in ("tool-calls", "iteration-timeout") and not made.status.retrying:
        return None  # loopgate ended a working agent (not one stuck retrying a failed API call)
    # a command that ran for a while was found and could run: its 126 or 127 is its own exit code, not
    # the shell's word that it could not start (a maker that spent the run's budget, then said 127, was
    # given its attempt back every run and never judged)
    started = made.duration >= STARTED_SECONDS
    failure = (None if started else command_failure(made.exit_code, command, made.output_tail)) \
        or agent_failure(made.status, earlier_denials)
    status = made.status
    flag = EDIT_FLAGS.get(status.agent, "")
    given = bool(flag) and flag.strip("`") in command
    if failure is None or failure.kind != "permission" or status.sensitive or not given:
        return failure
    # it was given the flag and was still refused: say what else is in the way
    if status.agent == "codex":
        fix = (f"it already runs with {flag}, so its own sandbox cannot write here (Codex's needs Landlock, which "
               "containers and nested sandboxes may lack): see its errors in maker.log; where loopgate contains "
               "the maker (the report's `contained: true`), run it with `--dangerously-bypass-approvals-and-"
               "sandbox` instead and rely on that")
    else:
        tools = ", ".join(sorted(set(status.denied.values())))
        fix = (f"it already runs with {flag}, which grants file edits only: allow the other tools it was refused "
               f"({tools}) with `--allowedTools`")
    return EnvironmentFailure("permission", failure.detail, fix)


def unpriced(made: MakerRun, spend: SpendLimits) -> EnvironmentFailure | None:
    """Fail closed: under `max cost`, an attempt whose spend cannot be known stops the run."""
    if spend.max_cost_usd is None or made.cost_from != "unknown":
        return None
    prices = ("add `- price per million input tokens: $N` and `- price per million output tokens: $N` under "
              "## Budgets (your model's list prices)")
    if made.stopped == "unpriced" or made.usage.complete:
        return EnvironmentFailure("unpriced", "max cost cannot be enforced: the maker reports tokens and no price",
                                  prices)
    return EnvironmentFailure("unpriced", "max cost cannot be enforced: the attempt was stopped before the agent "
                              "reported its cost, and its tokens cannot be charged without prices", prices)


def run_stop(stopped: str) -> str:
    """The run budget an attempt's stop used up ("" when it was not one)."""
    return RUN_STOPS.get(stopped, "")


__all__ = ["AttemptBudget", "Prices", "environment_failure", "run_stop", "unpriced"]
