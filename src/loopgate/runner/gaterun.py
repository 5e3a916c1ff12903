"""The checklist's gates on an item's worktree, as `loopgate run` runs them: the commands contained
like the maker (runner/gatebox.py), the gates loopgate runs itself with their git pinned to the
worktree's repository, all within what is left of the run's runtime budget."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from loopgate.check import PlannedGate, run_check
from loopgate.gates.base import GateContext, GateResult
from loopgate.runner.context import RunContext
from loopgate.runner.gatebox import gate_launcher
from loopgate.runner.outcome import BudgetStop, Interrupted, PlanFactory
from loopgate.runner.queue import WorkItem


def run_gates(ctx: RunContext, plan_factory: PlanFactory, worktree: str, item: WorkItem,
              required_only: bool = False, plan: list[PlannedGate] | None = None,
              between: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """The checklist's gates on the worktree, within what is left of the runtime budget.

    The gates that run commands go first, all of them, then `between` (the caller's check that they
    left the judged files as they were), then the gates loopgate runs itself. A command gate may be
    the maker's rewritten script, writing the worktree while it runs: side by side, one swapped a
    file's content while the secrets gate read it and put it back before anyone compared, and the
    secret was committed unseen. Contained, nothing a command gate started outlives it."""
    plan = plan if plan is not None else plan_factory(worktree, ctx.loop.base, item)
    if required_only:
        plan = [p for p in plan if p.required]
    # a gate's command may be the maker's work: contained like the maker (runner/gatebox.py)
    launch = gate_launcher(ctx.loop, worktree, ctx.loop.worktrees.admin_dir(item.id))
    # the other gates (scope, secrets, links) run here, outside the sandbox: their git is pinned
    context = GateContext(cwd=worktree, launch=launch, git_env=ctx.loop.worktrees.pinned_env(item.id))
    deadline = time.monotonic() + max(ctx.spend.remaining_runtime(), 0.0)
    commands = [i for i, p in enumerate(plan) if p.spec is not None and p.spec.runs_commands]
    own = [i for i in range(len(plan)) if i not in commands]
    results: dict[int, GateResult] = {}
    for batch in (commands, own):
        if batch is own and between is not None:
            between()
        outcome = run_check([plan[i] for i in batch], jobs=os.cpu_count() or 2, context=context,
                            on_done=lambda p, r: ctx.emit("gate", {"item": item.id, "gate": p.name,
                                                                    "status": r.status.value,
                                                                    "baseline": required_only}),
                            deadline=deadline, should_stop=lambda: bool(ctx.stop_requested))
        if outcome.stopped == "deadline":
            raise BudgetStop("max runtime reached while the gates ran")
        if outcome.stopped:
            raise Interrupted(ctx.stop_requested or "a stop signal")
        results.update(zip(batch, outcome.results, strict=True))
    return [{"gate": p.name, "required": p.required, **results[i].as_dict()} for i, p in enumerate(plan)]
