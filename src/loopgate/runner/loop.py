"""The bounded maker-checker loop: select -> isolate -> make -> check -> decide -> remember.

Core only: the CLI hands in settings, a gate-plan factory and an event callback; this module
returns a RunOutcome and never prints. This is the run: it takes the lock, selects the work,
works the items one by one (runner/item.py; each attempt in runner/attempt.py) within the
budgets across them (runner/spend.py), and turns every way of stopping into a named Stop.
Every state transition is written to LOOP_STATE.md at once (atomically), so a kill at any
moment loses nothing and the next run resumes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from types import FrameType
from typing import Any

from loopgate.runner import git as gitops
from loopgate.runner.approvals import Approvals
from loopgate.runner.atomic import WriteError
from loopgate.runner.context import Events, RunContext
from loopgate.runner.control import mark_checked, read_tampered, unchecked_changes, write_tampered
from loopgate.runner.escapees import kill_orphaned_maker
from loopgate.runner.gatebox import gates_contained, gates_containment
from loopgate.runner.github import GitHubError
from loopgate.runner.item import ItemWork, select
from loopgate.runner.loaded import LoadedLoop, load, shared_lock_path, state_stamp
from loopgate.runner.lock import RunLock, StaleLock
from loopgate.runner.outcome import (
    BudgetStop,
    EnvironmentStop,
    Interrupted,
    ItemRecord,
    Paused,
    PlanFactory,
    RunError,
    RunOutcome,
    RunSettings,
    Stop,
)
from loopgate.runner.progress import normalise_failure
from loopgate.runner.queue import QueueError, WorkItem, queue_path, read_queue
from loopgate.runner.report import redact_data, shown, write_report, write_summary
from loopgate.runner.spend import Spend
from loopgate.signals import STOP_SIGNALS

__all__ = ["Events", "ItemRecord", "Loop", "PlanFactory", "RunError", "RunOutcome", "RunSettings", "Stop",
           "normalise_failure"]


# SIGHUP too: the terminal or ssh session the run was started from closing ended loopgate on the
# spot (no tamper check, no report, the item saying "wait for the gates"); it stops like SIGTERM


def _unique_id(runs: str) -> str:
    """The run id: the UTC second it started, moved on a second while a report already has it
    (two quick runs must not overwrite each other's report)."""
    moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    while True:
        run_id = moment.strftime("%Y-%m-%dT%H%M%SZ")
        if not os.path.exists(os.path.join(runs, f"{run_id}.json")):
            return run_id
        moment += dt.timedelta(seconds=1)


class _Locks:
    """The run's two locks: the loop's in every checkout of the repository (shared_lock_path), then
    this checkout's (its pid tells the next run of a stale one, `stale`)."""

    def __init__(self, shared: RunLock, own: RunLock) -> None:
        self.shared, self.own = shared, own

    @property
    def stale(self) -> StaleLock | None:
        return self.own.stale

    def acquire(self) -> None:
        try:
            self.shared.acquire()
        except Exception as err:
            raise RunError(f"{err} (in this or another checkout of the repository)") from err
        try:
            self.own.acquire()
        except Exception as err:
            self.shared.release()
            raise RunError(str(err)) from err

    def release(self) -> None:
        self.own.release()
        self.shared.release()


class Loop:
    def __init__(self, settings: RunSettings, plan_factory: PlanFactory, events: Events | None = None) -> None:
        self.settings = settings
        self.plan_factory = plan_factory
        self.shown: Events = events or (lambda kind, data: None)  # the caller's, unredacted
        self.emit: Events = self.shown
        self.loop_dir = os.path.abspath(settings.loop_dir)
        self.started = time.monotonic()  # the runtime budget counts from here
        self.loaded: LoadedLoop | None = None
        self.ctx: RunContext | None = None

    def _load(self) -> LoadedLoop:
        self.loaded = load(self.settings)
        caller = self.shown  # wrapped once however often the loop is loaded again (_load_locked)
        secrets = list(self.loaded.secrets)

        def redacted(kind: str, data: dict[str, Any]) -> None:
            # progress lines quote reasons (a maker's output): the terminal sees what the report would
            caller(kind, {k: shown(v, secrets) if isinstance(v, str) else v for k, v in data.items()})
        self.emit = redacted
        return self.loaded

    @property
    def runtime_dir(self) -> str:
        """Where logs, prompts and the lock live (inside the git directory); after _load()."""
        if self.loaded is None:
            raise RunError("the loop is not loaded yet")
        return self.loaded.runtime_dir

    def _signal(self, signum: int, frame: FrameType | None) -> None:
        if self.ctx is not None:
            self.ctx.stop_requested = signal.Signals(signum).name

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> RunOutcome:
        try:
            outcome = self._run()
        except RunError as err:  # its message is printed: it may quote what the maker changed or said
            secrets = list(self.loaded.secrets) if self.loaded is not None else []
            raise RunError(shown(str(err), secrets), err.exit_code) from err
        # the caller prints the items' reasons and the stop's detail, as the report holds them
        secrets = list(self.loaded.secrets) if self.loaded is not None else []
        outcome.detail = shown(outcome.detail, secrets)
        for record in outcome.records:
            record.reason, record.next_action = shown(record.reason, secrets), shown(record.next_action, secrets)
        return outcome

    def _load_locked(self) -> tuple[LoadedLoop, _Locks]:
        """The loop, loaded, with its run lock held."""
        loop = self._load()
        lock = _Locks(RunLock(shared_lock_path(loop.root, loop.loop_dir)),
                      RunLock(os.path.join(loop.runtime_dir, "run.lock")))
        lock.acquire()
        if state_stamp(loop.state_path) != loop.state_stamp:
            # a `loopgate review` or a readiness demotion write finished while this run waited for the
            # lock: the state read before is stale, and the run's first save would write it back
            # without what they recorded (a demotion lost). Read the loop again, under the lock.
            try:
                loop = self._load()
            except RunError:
                lock.release()
                raise
        return loop, lock

    def _run(self) -> RunOutcome:
        loop, lock = self._load_locked()
        ctx = RunContext(self.settings, loop, self.emit, Spend(loop.budgets, self.started), Approvals(loop.mode))
        self.ctx = ctx
        # loopgate's own git (hashing what the maker wrote) is bounded by the run's budget too
        loop.worktrees.deadline = ctx.spend.started + loop.budgets.max_runtime
        orphan = self._left_behind(loop, lock)
        try:  # an unreadable queue or GitHub stops the run before it starts: nothing is written, no report
            work = self.find_work(loop)
        except RunError:
            lock.release()
            raise
        # a signal ignored when the run started stays ignored (`nohup loopgate run` keeps running when
        # its terminal closes)
        handlers = {s: signal.signal(s, self._signal) for s in STOP_SIGNALS
                    if signal.getsignal(s) is not signal.SIG_IGN}
        run_id = _unique_id(self._runs_dir())
        outcome = RunOutcome(Stop.DONE, "every selected item is completed or escalated", run_id)
        if lock.stale is not None:
            outcome.stale_lock = (f"a previous run (pid {lock.stale.pid}) ended without cleaning up; resuming its "
                                  "state" + (f"; killed its orphaned maker (process group {orphan})" if orphan else ""))
            self.emit("stale-lock", {"pid": lock.stale.pid})
        if loop.containment.contained:
            self.emit("containment", {**loop.containment.as_dict(), **gates_containment(loop)})
        elif not self.settings.dry_run:
            ctx.warn(f"the maker and the gates' commands run uncontained: {loop.containment.why}; they can read "
                     "your files and credentials and push with them (see the README, Containment)")
        if loop.containment.contained and not gates_contained(loop)[0] and not self.settings.dry_run:
            ctx.warn(f"the gates' commands run uncontained: {gates_contained(loop)[1]}; a gate script the maker "
                     "rewrote runs with your environment and files (see the README, Containment)")
        for rule in loop.rules.not_enforced:
            ctx.warn(f"work selection rule not checked by the loop (a person must judge it): {rule}")
        ctx.run_id = run_id
        self._carry_over(ctx, work)
        if loop.spend_warning:
            ctx.warn(loop.spend_warning)
        try:
            loop.state.run_id, loop.state.mode = run_id, loop.mode
            try:
                ctx.save()
            except WriteError as err:
                raise RunError(f"{err} (is the disk full, or the file read-only?)") from err
            try:
                outcome.stop, outcome.detail = self._run_items(ctx, work)
            except WriteError as err:  # the state could not be saved: stop rather than run on unrecorded
                outcome.stop, outcome.detail = Stop.ENVIRONMENT, f"{err} (is the disk full, or the file read-only?)"
        finally:
            # the run's own handlers stay until the report is written and the lock released: a second
            # SIGTERM (a supervisor sending it again, Ctrl-C pressed twice) while the run winds down
            # killed it there, without its escalation summary and with the lock left behind
            try:
                outcome.records = ctx.records
                outcome.report_path, outcome.summary_path = self._write_report(ctx, outcome)
                lock.release()
            finally:
                for sig, handler in handlers.items():
                    signal.signal(sig, handler)
        return outcome

    @staticmethod
    def _left_behind(loop: LoadedLoop, lock: _Locks) -> int | None:
        """A run killed with -9 left its maker running and its last attempt unchecked: end the one
        (its process group, returned), then check the other before this run reads a spec or runs a
        hook that maker may have changed; what it changed refuses the run until a person checks."""
        orphan = kill_orphaned_maker(loop.runtime_dir) if lock.stale is not None else None
        unchecked = unchecked_changes(loop.runtime_dir, loop.root)
        if unchecked:
            write_tampered(loop.runtime_dir, ", ".join(unchecked) + " (changed during an attempt of a run that "
                           "was killed before it could check them)")
            mark_checked(loop.runtime_dir)
            lock.release()
            raise RunError(read_tampered(loop.runtime_dir))
        return orphan

    @staticmethod
    def find_work(loop: LoadedLoop) -> list[WorkItem]:
        items: list[WorkItem] = []
        path = queue_path(loop.loop_dir, loop.spec.get("inputs") or {})
        if path is not None:
            try:
                items += read_queue(path)
            except QueueError as err:
                raise RunError(str(err)) from err
        if loop.github is not None and loop.github.config.label:
            try:
                items += loop.github.issues(loop.github.config.label)
            except GitHubError as err:
                raise RunError(f"cannot read work from GitHub: {err}", 2 if err.usage_error else 5) from err
        return items

    def _select_all(self, ctx: RunContext, work: list[WorkItem]) -> list[ItemRecord]:
        selected: list[ItemRecord] = []
        for item in work:
            if self.settings.max_items is not None and len(selected) >= self.settings.max_items:
                break
            decision, reason = select(ctx, item)
            if decision == "done":
                continue
            record = ItemRecord(item)
            ctx.records.append(record)
            if decision == "skip":
                ctx.transition(record, "skipped", reason, "none: outside this loop's work selection rules")
            elif decision == "escalate":
                ctx.escalate(record, reason)
            else:
                ctx.transition(record, "selected", reason, "attempt" if not self.settings.dry_run else "dry run")
                selected.append(record)
        return selected

    def _work_all(self, ctx: RunContext, selected: list[ItemRecord]) -> tuple[Stop, str] | None:
        for record in selected:
            pause = ctx.paused()
            if pause:
                return Stop.PAUSED, pause
            if ctx.stop_requested:
                raise Interrupted(ctx.stop_requested)
            ItemWork(ctx, self.plan_factory, record).run()
        return None

    def _run_items(self, ctx: RunContext, work: list[WorkItem]) -> tuple[Stop, str]:
        pause = ctx.paused()
        if pause:
            return Stop.PAUSED, pause
        selected = self._select_all(ctx, work)
        if self.settings.dry_run:
            return Stop.DONE, f"dry run: {len(selected)} items selected, the maker was not run"
        try:
            stopped = self._work_all(ctx, selected)
        except (BudgetStop, gitops.GitTimeout) as err:
            return self._stopped(ctx, Stop.BUDGET, str(err), f"the budget ran out ({err})")
        except (EnvironmentStop, gitops.GitError) as err:
            return self._stopped(ctx, Stop.ENVIRONMENT, str(err), f"an environmental failure ({err})",
                                 "resumes in the next run, once the environment is fixed")
        except WriteError as err:  # the state itself cannot be written: nothing more to record
            return Stop.ENVIRONMENT, str(err)
        except Interrupted as err:
            return self._stopped(ctx, Stop.INTERRUPTED, f"received {err}", f"a signal ({err})")
        except Paused as err:
            return self._stopped(ctx, Stop.PAUSED, str(err), str(err), "resumes in the next run once the kill "
                                 "switch is off")
        if stopped is not None:
            return stopped
        if any(r.status == "escalated" for r in ctx.records):
            return Stop.ESCALATIONS, "every selected item is completed or escalated; escalations need a human"
        return Stop.DONE, "every selected item is completed"

    @staticmethod
    def _carry_over(ctx: RunContext, work: list[WorkItem]) -> None:
        """Escalations of an earlier run that never wrote its summary (killed with -9): they join
        this run's records, so this run's summary and the state's counts include them, once."""
        by_id = {item.id: item for item in work}
        for item_id, item in ctx.loop.state.items.items():
            escalated_in = item.extra.get("escalated_in", "")
            if item.status == "escalated" and escalated_in and not item.extra.get("summary"):
                record = ItemRecord(by_id.get(item_id, WorkItem(item_id)), "escalated",
                                    f"{item.reason} (escalated by run {escalated_in}, which ended before its "
                                    "summary)", item.next_action)
                ctx.records.append(record)

    @staticmethod
    def _stopped(ctx: RunContext, stop: Stop, detail: str, why: str,
                 next_action: str = "resumes in the next run") -> tuple[Stop, str]:
        """The run stops mid-item: the item says it was stopped, why, and that it resumes (an
        `in-progress / wait for the gates` left behind would say something that is not happening)."""
        for record in ctx.records:
            # only an item caught mid-attempt: one that says more already (its gates passed and its
            # pull request waits, an environmental failure and its fix) keeps what it says
            if record.status == "in-progress" and record.reason.startswith("attempt "):
                attempt = ctx.loop.state.item(record.item.id).attempts
                ctx.transition(record, "stopped", f"stopped during attempt {attempt}: {why}", next_action)
        return stop, detail

    def _runs_dir(self) -> str:
        if os.path.basename(self.loop_dir) == ".loop":
            return os.path.join(self.loop_dir, "runs")
        return os.path.join(self.loop_dir, ".loop", "runs")

    def _write_report(self, ctx: RunContext, outcome: RunOutcome) -> tuple[str, str]:
        loop = ctx.loop
        # the variables the spec hands the maker (its API key) must not reach the report through its output
        secrets = list(loop.secrets)
        report = {
            "run_id": outcome.run_id, "loop": str(loop.spec.get("name", "")), "mode": loop.mode,
            "started_base": loop.base, "duration": round(ctx.spend.elapsed(), 3),
            "budgets": loop.budgets.as_dict(),
            "usage": ctx.spend.usage_dict(), "pull_requests_opened": ctx.prs_opened,
            "items": [r.as_dict() for r in ctx.records],
            "approvals": ctx.approvals.log,
            "stop": {"reason": outcome.stop.label, "detail": outcome.detail, "exit_code": outcome.stop.exit_code},
            "contained": loop.containment.contained,
            "containment": {**loop.containment.as_dict(), **gates_containment(loop)},
            "stale_lock": outcome.stale_lock,
            "warnings": ctx.warnings,
            "rules_not_enforced": list(loop.rules.not_enforced),
        }
        outcome.report = redact_data(report, secrets)  # what the file would hold
        if ctx.settings.dry_run:  # a dry run changes nothing: the caller prints the report
            return "", ""
        try:
            path = write_report(self._runs_dir(), report, secrets)
            summary = os.path.join(os.path.dirname(path), f"{outcome.run_id}-escalations.md")
            write_summary(summary, report, secrets)
        except (WriteError, OSError) as err:
            self.emit("warning", {"message": f"the run report could not be written: {err}"})
            return "", ""
        self._summarised(ctx, os.path.basename(summary))
        return path, summary

    def _summarised(self, ctx: RunContext, summary: str) -> None:
        """Mark every escalation this summary names, so no later summary names it again."""
        marked = False
        for record in ctx.records:
            item = ctx.loop.state.items.get(record.item.id)
            if record.status == "escalated" and item is not None and item.extra.get("escalated_in"):
                item.extra["summary"] = summary
                marked = True
        if marked:
            try:
                ctx.save()
            except WriteError as err:
                self.emit("warning", {"message": f"the state could not record the escalation summary: {err}"})
