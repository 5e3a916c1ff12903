"""The checklist's gates on an item's worktree, as `loopgate run` runs them: the commands contained
like the maker (runner/gatebox.py), the gates loopgate runs itself with their git pinned to the
worktree's repository, all within what is left of the run's runtime budget."""

from __future__ import annotations

import os
import time
from typing import Any

from loopgate.check import PlannedGate, run_check
from loopgate.gates.base import GateContext
from loopgate.runner.context import RunContext
from loopgate.runner.gatebox import gate_launcher
from loopgate.runner.outcome import BudgetStop, Interrupted, PlanFactory
from loopgate.runner.queue import WorkItem


def run_gates(ctx: RunContext, plan_factory: PlanFactory, worktree: str, item: WorkItem,
              required_only: bool = False, plan: list[PlannedGate] | None = None) -> list[dict[str, Any]]:
    """The checklist's gates on the worktree, within what is left of the runtime budget."""
    plan = plan if plan is not None else plan_factory(worktree, ctx.loop.base, item)
    if required_only:
        plan = [p for p in plan if p.required]
    # a gate's command may be the maker's work: contained like the maker (runner/gatebox.py)
    launch = gate_launcher(ctx.loop, worktree, ctx.loop.worktrees.admin_dir(item.id))
    # the other gates (scope, secrets, links) run here, outside the sandbox: their git is pinned
    context = GateContext(cwd=worktree, launch=launch, git_env=ctx.loop.worktrees.pinned_env(item.id))
    outcome = run_check(plan, jobs=os.cpu_count() or 2, context=context,
                        on_done=lambda p, r: ctx.emit("gate", {"item": item.id, "gate": p.name,
                                                                "status": r.status.value,
                                                                "baseline": required_only}),
                        deadline=time.monotonic() + max(ctx.spend.remaining_runtime(), 0.0),
                        should_stop=lambda: bool(ctx.stop_requested))
    if outcome.stopped == "deadline":
        raise BudgetStop("max runtime reached while the gates ran")
    if outcome.stopped:
        raise Interrupted(ctx.stop_requested or "a stop signal")
    return [{"gate": p.name, "required": p.required, **r.as_dict()}
            for p, r in zip(plan, outcome.results, strict=True)]


