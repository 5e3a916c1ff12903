"""One work item's life in a run: selected (or skipped, or escalated at once), a baseline,
attempts until the gates pass or a rule gives up, then drafted or a pull request opened.

Its statuses: selected -> in-progress -> drafted | pr-opened | escalated; skipped and
escalated straight from selection. Each change is saved to LOOP_STATE.md at once
(RunContext.transition), so a killed run resumes where it was.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

from loopgate.gates.base import GateStatus
from loopgate.runner import git as gitops
from loopgate.runner.attempt import Attempt
from loopgate.runner.context import RunContext
from loopgate.runner.gaterun import run_gates
from loopgate.runner.github import GitHubError
from loopgate.runner.outcome import (
    BudgetStop,
    ControlFileEdited,
    EnvironmentStop,
    Escalates,
    Interrupted,
    ItemRecord,
    Paused,
    PlanFactory,
    PushAttempt,
)
from loopgate.runner.progress import NoProgress, failing_gates
from loopgate.runner.queue import WorkItem
from loopgate.runner.state import FINAL, ItemState


def select(ctx: RunContext, item: WorkItem) -> tuple[str, str]:
    """("select" | "skip" | "escalate" | "done", reason) by the spec's work selection rules."""
    rules = ctx.loop.rules
    previous = ctx.loop.state.items.get(item.id)
    if previous is not None and previous.status in FINAL:
        return "done", f"already {previous.status} in an earlier run"
    failures = int(previous.extra.get("failures", "0") or 0) if previous else 0
    if failures >= rules.max_failures:
        return "escalate", f"failed {failures} times before"
    missing = [lb for lb in rules.required_labels if lb.lower() not in {x.lower() for x in item.labels}]
    if missing:
        return "skip", f"not labeled {', '.join(missing)}"
    if rules.max_files is not None and len(item.expected_paths) > rules.max_files:
        return "escalate", (f"expects {len(item.expected_paths)} files, over the limit of "
                            f"{rules.max_files}")
    outside = rules.outside_scope(item.expected_paths)
    if outside:
        return "escalate", f"expects to change {', '.join(outside)}, outside the spec's allowed paths"
    text = f"{item.title}\n{item.body}"
    for cat in rules.categories:
        why = cat.matches(item.labels, text, item.expected_paths)
        if why:
            return "escalate", f"always-escalate category '{cat.name}': {why}"
    return "select", "matches the work selection rules"


class ItemWork:
    """Works one selected item to a final status, or raises the stop that ends the run."""

    def __init__(self, ctx: RunContext, plan_factory: PlanFactory, record: ItemRecord) -> None:
        self.ctx, self.plan_factory, self.record = ctx, plan_factory, record

    def run(self) -> None:
        ctx, loop, record = self.ctx, self.ctx.loop, self.record
        if self.resume_pull_request():
            return
        if loop.rules.baseline and not self.baseline():
            return
        state_item = loop.state.item(record.item.id)
        _unjudged_back(state_item)
        record.branch = loop.worktrees.branch(record.item.id)
        if self._stopped_unjudged_too_often(state_item):  # before the worktree is made afresh: a person
            return  # inspects it as the last attempt left it
        worktree = loop.worktrees.create(record.item.id, loop.base)
        feedback, failing = "", _failing_recorded(state_item)
        progress = NoProgress(loop.rules.no_progress_attempts)
        while state_item.attempts < loop.budgets.max_iterations:
            if ctx.stop_requested:
                raise Interrupted(ctx.stop_requested)
            state_item.attempts += 1
            # saved with the transition: a run stopped (signal, budget, kill -9) before the gates judge
            # this attempt gives it back on the next run (_unjudged_back), so a stop at the last allowed
            # attempt resumes with an attempt, as the state says, instead of escalating unjudged
            state_item.extra[UNJUDGED] = str(state_item.attempts)
            ctx.transition(record, "in-progress", f"attempt {state_item.attempts}", "wait for the gates")
            try:
                entry = self._counted_attempt(state_item, worktree, feedback)
                if entry is None:  # escalated: the maker tampered
                    return
            except EnvironmentStop as err:  # not the item's failure: the attempt does not count
                _unjudged_back(state_item)
                ctx.transition(record, "in-progress", f"stopped: environmental failure: {err.detail}",
                               f"{err.fix or 'fix the environment'}; the item resumes when the run is started again")
                raise
            if entry.get("verdict") == "stopped":  # a signal ended the maker: the gates never judged it
                raise Interrupted(ctx.stop_requested or "a stop signal")
            state_item.extra[UNJUDGED] = state_item.extra[BUDGET_STOPS] = ""  # judged: it counts (saved with the
            # next transition), and the runs the budget stopped before the gates are counted afresh
            state_item.gates = {g["gate"]: g["status"] for g in entry.get("gates", [])}
            # a stop asked for once the gates judged is honoured at the top of the loop: the judged
            # attempt is decided first (drafted, or escalated when it was the last one allowed)
            if entry.get("verdict") == "passed":
                self.finish(str(entry["judged"]["tree"]))
                entry["commit"] = record.commit  # the commit holds the tree the gates judged
                return
            feedback = str(entry.get("feedback", ""))
            failing = failing_gates(entry)
            matched = progress.record(entry)
            entry["no_progress"] = progress.matched  # which signal repeated ("" when none did)
            if matched:
                self.fail(f"no progress across {progress.attempts} consecutive attempts ({matched}): {failing}")
                return
            pause = ctx.paused()  # the kill switch holds between attempts, not only between items
            if pause:
                raise Paused(pause)
        self.fail(f"gates still failing after {loop.budgets.max_iterations} attempts: {failing}")

    def _stopped_unjudged_too_often(self, state_item: ItemState) -> bool:
        """Escalate an item whose attempts the run's budget ended before the gates judged them, run
        after run: a gate that never finishes (or a budget too small) would burn every run's budget."""
        if int(state_item.extra.get(BUDGET_STOPS) or 0) < BUDGET_STOPS_LIMIT:
            return False
        state_item.extra[BUDGET_STOPS] = ""  # a person decides; a later run counts afresh
        self.ctx.escalate(self.record, f"its attempt was stopped by the run's budget before the gates judged it, "
                          f"in {BUDGET_STOPS_LIMIT} runs in a row: a gate that never finishes (a gate script the "
                          "maker rewrote can hang), or a max runtime too small for the work",
                          "run the gates by hand in the kept worktree; raise `max runtime` if they are only slow")
        return True

    def _counted_attempt(self, state_item: ItemState, worktree: str, feedback: str) -> dict[str, Any] | None:
        """An attempt; one the run's budget ends after the maker ran and before the gates judged it is
        counted, run to run (a budget spent before the maker started was spent by the items before)."""
        made = len(self.record.attempts)
        try:
            return self._attempt(state_item.attempts, worktree, feedback)
        except (BudgetStop, gitops.GitTimeout):  # loopgate's own git stopped at the deadline: a budget stop too
            if state_item.extra.get(UNJUDGED) and len(self.record.attempts) > made:
                state_item.extra[BUDGET_STOPS] = str(int(state_item.extra.get(BUDGET_STOPS) or 0) + 1)
            raise

    def _attempt(self, number: int, worktree: str, feedback: str) -> dict[str, Any] | None:
        """One attempt's entry, or None when the maker tampered and the item is escalated for it."""
        ctx, record = self.ctx, self.record
        try:
            return Attempt(ctx, self.plan_factory, record, number, worktree).run(feedback)
        except ControlFileEdited as err:
            self._judged()
            ctx.escalate(record, f"the maker edited control files: {err}", "review the attempt; "
                         "the maker may not change the loop's own rules")
            if err.then is not None:  # the signal or budget that ended the attempt still stops the run
                raise err.then from err
        except PushAttempt as err:
            self._judged()
            ctx.escalate(record, f"push attempt: the maker changed {err}", "check the remote for what "
                         "was pushed and undo it; a maker never pushes, the loop does (in draft-pr and pr modes)")
            if err.then is not None:
                raise err.then from err
        except Escalates as err:  # what a person must review: the attempt was decided, and counts
            self._judged()
            ctx.escalate(record, f"{err.what}: {err}", err.action)
        return None

    def _judged(self) -> None:
        """The attempt was decided (the maker's tampering escalates the item): it counts."""
        self.ctx.loop.state.item(self.record.item.id).extra[UNJUDGED] = ""

    def baseline(self) -> bool:
        """Required gates must pass before any change; failing already means escalate, not start."""
        loop, record = self.ctx.loop, self.record
        worktree = loop.worktrees.create(record.item.id, loop.base)
        results = run_gates(self.ctx, self.plan_factory, worktree, record.item, required_only=True)
        env = [r for r in results if r["status"] == GateStatus.ERROR.value]
        if env:
            raise EnvironmentStop(f"gate '{env[0]['gate']}' could not run: {env[0]['reason']}")
        failing = [r["gate"] for r in results if r["status"] == GateStatus.FAILED.value
                   and not _the_items_own_work(r["findings"], record.item.expected_paths)]
        if failing:
            self.ctx.escalate(record, f"required gates fail before any change: {', '.join(failing)}",
                              "fix the baseline (the default branch) before the loop takes this item")
            return False
        return True

    def fail(self, reason: str) -> None:
        loop, record = self.ctx.loop, self.record
        item = loop.state.item(record.item.id)
        item.extra["failures"] = str(int(item.extra.get("failures", "0") or 0) + 1)
        self.ctx.escalate(record, reason, f"inspect the kept worktree at {loop.worktrees.path(record.item.id)}")

    def finish(self, judged: str) -> None:
        """All required gates passed: commit the tree they judged (`judged`, not the worktree as it is
        now), then draft in shadow mode, or open a (draft) pull request."""
        ctx, loop, record = self.ctx, self.ctx.loop, self.record
        commit = loop.worktrees.commit_tree(record.item.id, loop.base, judged,
                                            f"loopgate: {record.item.id} {record.item.title}".strip())
        record.commit = commit or ""  # the reviewed branch can be compared with what the gates passed
        loop.state.item(record.item.id).extra["commit"] = record.commit
        if loop.mode == "shadow":
            ctx.transition(record, "drafted", "all required gates passed", "human review of branch " + record.branch)
            loop.worktrees.remove(record.item.id)
            return
        self.publish()

    def publish(self) -> None:
        """Push the passed commit's branch and open its pull request, within the run's budget."""
        ctx, loop, record = self.ctx, self.ctx.loop, self.record
        if ctx.prs_opened >= loop.budgets.max_prs:
            ctx.transition(record, "drafted", "all required gates passed; max pull requests per run reached",
                           "open a pull request in a later run or by hand")
            loop.worktrees.remove(record.item.id)
            raise BudgetStop("max pull requests per run reached")
        self.open_pull_request()

    def resume_pull_request(self) -> bool:
        """An item whose gates passed in an earlier run but whose push or pull request failed (see
        not_opened) gets that pull request now, for the commit the gates passed: its work was
        judged and paid for, and its attempts may all be used up."""
        loop, record = self.ctx.loop, self.record
        state_item = loop.state.item(record.item.id)
        pending = state_item.extra.get("pull_request_pending", "")
        branch = loop.worktrees.branch(record.item.id)
        if not pending or loop.mode == "shadow":
            return False
        if gitops.git(["rev-parse", "-q", "--verify", f"refs/heads/{branch}"], loop.root, check=False).strip() \
                != pending:
            state_item.extra["pull_request_pending"] = ""  # the branch moved on: judge the item afresh
            return False
        record.branch, record.commit = branch, pending
        loop.worktrees.remove(record.item.id)
        self.publish()
        return True

    def open_pull_request(self) -> None:
        ctx, loop, record = self.ctx, self.ctx.loop, self.record
        approvals = ctx.approvals
        draft = loop.mode == "draft-pr"
        if loop.github is None or not approvals.ask("push", record.branch):
            ctx.transition(record, "drafted", "gates passed; no GitHub repository to open a pull request in",
                           "push the branch by hand")
            return
        try:
            # from the user's checkout, not the worktree: the worktree's `.git` link and admin files were
            # the maker's to write. Never a credential prompt on the terminal (it would wait for good),
            # and never longer than the run has left (at least PUSH_SECONDS: a judged item is worth it)
            gitops.git(["push", "--force", "-u", "origin", f"{record.branch}:{record.branch}"], loop.root,
                       env={"GIT_TERMINAL_PROMPT": "0"}, timeout=max(ctx.spend.remaining_runtime(), PUSH_SECONDS))
        except gitops.GitError as err:
            self.not_opened(f"cannot push {record.branch} to origin: {err}")
        if not approvals.ask("draft-pr" if draft else "pr", record.branch):
            ctx.transition(record, "drafted", "gates passed; pull request not approved in this mode")
            return
        try:
            base_branch = gitops.git(["rev-parse", "--abbrev-ref", "HEAD"], loop.root).strip()
            record.pr_url = loop.github.create_pull_request(record.branch, base_branch,
                                                            record.item.title or record.item.id,
                                                            f"Drafted by loopgate for {record.item.id}.", draft)
        except gitops.GitError as err:
            self.not_opened(f"cannot open the pull request: {err}")
        except GitHubError as err:
            if err.environmental:
                self.not_opened(f"cannot open the pull request: {err}")
            # GitHub answered about this pull request (422: one exists already, the base is gone...):
            # the item needs a person, the run goes on with the next
            loop.state.item(record.item.id).extra["pull_request_pending"] = ""
            ctx.escalate(record, f"gates passed, but the pull request was not opened: {err}",
                         f"{record.branch} is pushed: open its pull request by hand once GitHub's reason is fixed")
            loop.worktrees.remove(record.item.id)
            return
        ctx.prs_opened += 1
        loop.state.item(record.item.id).extra["pull_request_pending"] = ""
        ctx.transition(record, "pr-opened", "all required gates passed", "human review of " + record.pr_url)
        loop.worktrees.remove(record.item.id)

    def not_opened(self, reason: str) -> NoReturn:
        """The gates passed but the push or the pull request failed for a reason outside the item:
        the item stays resumable (the next run pushes the same commit and opens its pull request,
        without another attempt) and the run stops."""
        self.ctx.loop.state.item(self.record.item.id).extra["pull_request_pending"] = self.record.commit
        self.ctx.transition(self.record, "in-progress", f"gates passed; {reason}",
                            "the next run opens the pull request for the commit the gates passed")
        raise EnvironmentStop(reason)


PUSH_SECONDS = 120.0  # the least time a push is given, even when the run's budget is nearly spent
BUDGET_STOPS = "budget_stops_unjudged"  # runs in a row whose budget stopped the item's attempt unjudged
BUDGET_STOPS_LIMIT = 3
UNJUDGED = "unjudged_attempt"  # the state's field for an attempt started and not yet judged


def _unjudged_back(item: ItemState) -> None:
    """An attempt the gates never judged (the run was stopped during it) does not use up one of
    the item's iterations: it was not the item's failure, and the next run makes it again."""
    if item.extra.get(UNJUDGED):
        item.attempts = max(0, item.attempts - 1)
        item.extra[UNJUDGED] = ""


def _failing_recorded(item: ItemState) -> str:
    """What failed in the last judged attempt, by the state's gate results: the reason an item
    that has no attempt left escalates with (never an empty one)."""
    failed = [name for name, status in item.gates.items() if status == GateStatus.FAILED.value]
    if failed:
        return "failed required gates: " + ", ".join(failed)
    return "the last attempt's gate results are not recorded"


def _the_items_own_work(findings: list[dict[str, Any]], expected: tuple[str, ...]) -> bool:
    """A baseline failure located only in the files the item is meant to change is the item's work.

    A link-repair item fails the link gate before it starts: that is why it exists. What the
    baseline guards against is a tree already broken elsewhere (the article's "required tests
    are missing or failing before the change starts"), so a gate counts as failing there when
    any of its errors lies outside the item's expected paths, or cannot be placed in a file.
    """
    errors = [f for f in findings if f.get("severity") == "error"]
    wanted = {os.path.normpath(p) for p in expected}
    return bool(errors) and bool(wanted) and all(os.path.normpath(str(f["path"])) in wanted for f in errors)
