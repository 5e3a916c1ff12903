"""One attempt: run the maker in the item's worktree within what is left of the budgets, then
judge what it left. The checker's verdict is the only one: the maker's own never counts.

An attempt returns its entry for the run report (maker exit, usage, verdict, feedback, the
no-progress signature) or raises a stop: the maker tampered (ControlFileEdited,
GateSuppressed), a budget ran out (BudgetStop), the environment failed (EnvironmentStop).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from typing import Any

from loopgate.check import PlannedGate
from loopgate.gates.base import GateStatus
from loopgate.runner import git as gitops
from loopgate.runner.attempt_budget import environment_failure, run_stop, unpriced
from loopgate.runner.bounds import diff_or_fail, scanned, too_large, too_large_to_judge
from loopgate.runner.context import RunContext
from loopgate.runner.control import (
    REFS,
    REMOTE,
    ControlWatch,
    Snapshot,
    gate_files,
    mark_checked,
    mark_unchecked,
    write_tampered,
)
from loopgate.runner.escapees import maker_pid_file
from loopgate.runner.gaterun import run_gates
from loopgate.runner.gitconfig import write_maker_config
from loopgate.runner.gitobjects import stored_differently
from loopgate.runner.loaded import common_dir
from loopgate.runner.maker import MakerLimits, MakerRun, run_maker, write_prompt
from loopgate.runner.makerbox import maker_argv, maker_home, sandbox_failed
from loopgate.runner.makerlog import redact_log
from loopgate.runner.outcome import (
    BudgetStop,
    ChangedAfterJudging,
    ControlFileEdited,
    EnvironmentStop,
    GateSuppressed,
    Interrupted,
    ItemRecord,
    LinkOutside,
    PlanFactory,
    PushAttempt,
    StoredDifferently,
)
from loopgate.runner.progress import feedback, signature
from loopgate.runner.report import redact_cut
from loopgate.runner.sandbox import Mounts, git_env, maker_env
from loopgate.runner.tamper import added_suppressions, links_outside

OUTPUT_LINES = 20  # of the maker's output in the run report; the whole of it is in maker.log


def last_lines(text: str, count: int = OUTPUT_LINES) -> str:
    return "\n".join(text.splitlines()[-count:])


class Attempt:
    """One attempt at one item: maker, usage, and the checker's verdict."""

    def __init__(self, ctx: RunContext, plan_factory: PlanFactory, record: ItemRecord, number: int,
                 worktree: str) -> None:
        self.ctx, self.plan_factory, self.record, self.number, self.worktree = (
            ctx, plan_factory, record, number, worktree)
        containment = ctx.loop.containment
        # a remote on this machine is read-only or hidden to a contained maker (srt runs the same bwrap
        # sandbox inside): a change there is a person's push
        self.watch = ControlWatch(ctx.loop.root, ctx.loop.control, containment.contained,
                                  remotes=not containment.contained)
        self.token = ""
        self.admin = ""  # the worktree's git admin directory, found once per attempt
        self.attempt_dir = ""  # attempts/<item>/<run id>-<n>, made fresh by run()

    def _env(self, work_dir: str, prompt: str, usage_file: str, git_config: dict[str, str]) -> dict[str, str]:
        """An allowlist (runner/sandbox.py): never the user's environment minus a denylist.
        `work_dir` is the maker's own, writable part of the attempt's directory; `git_config` names
        the cleaned global git config loopgate wrote for it (runner/gitconfig.py)."""
        loop = self.ctx.loop
        item = self.record.item
        attempt = {"LOOPGATE_ITEM_ID": item.id, "LOOPGATE_ITEM_TITLE": item.title,
                   "LOOPGATE_ATTEMPT": str(self.number), "LOOPGATE_PROMPT_FILE": prompt,
                   "LOOPGATE_USAGE_FILE": usage_file, "LOOPGATE_WORKTREE": self.worktree,
                   "LOOPGATE_ATTEMPT_DIR": work_dir,
                   "LOOPGATE_MODE": loop.mode, "LOOPGATE_ALLOWED_PATHS": ",".join(item.expected_paths),
                   "LOOPGATE_MAX_TOOL_CALLS": str(loop.budgets.max_tool_calls), **git_config}
        if loop.containment.contained:
            attempt.update(git_env(work_dir, common_dir(loop)))
            # what it makes lands there only: a remote ref to one of those is its push (ControlWatch.maker_pushed)
            self.watch.maker_objects = attempt["GIT_OBJECT_DIRECTORY"]
        # the maker never sees the loop's own API token, whatever its name, even when the spec names it
        withheld = ("GITHUB_TOKEN", loop.token_env) if loop.github is not None else ()
        return maker_env(os.environ, loop.sandbox.environment, self._home(), attempt, withheld)

    def _home(self) -> str:
        """The maker's HOME: a fresh one each attempt (runner/makerbox.py), never the user's."""
        return maker_home(self.attempt_dir)

    def _mounts(self, work_dir: str, over: tuple[tuple[str, str], ...]) -> Mounts:
        """What the sandbox makes writable and shows: of the attempt's directory only `work_dir`
        and HOME are writable to the maker; its log and prompt are not."""
        loop = self.ctx.loop
        return Mounts(self.worktree, self.admin, work_dir, self._home(), loop.root, common_dir(loop),
                      loop.sandbox.read_only, over=over)

    def _fresh_dir(self) -> str:
        """A directory no attempt has had: attempts/<item>/<run id>-<attempt>. Created here, never
        reused: an attempt that did not count (an environmental failure) has the same number next
        run, and a maker must find nothing of an earlier one there (a symlink in place of the log
        would have had loopgate write the next maker's output through it, outside any sandbox)."""
        parent = os.path.join(self.ctx.loop.runtime_dir, "attempts", self.record.item.id)
        os.makedirs(parent, exist_ok=True)
        name = f"{self.ctx.run_id or 'run'}-{self.number}"
        for extra in range(100):
            path = os.path.join(parent, name + (f".{extra}" if extra else ""))
            try:
                os.mkdir(path, 0o755)
                return path
            except FileExistsError:
                continue
        raise EnvironmentStop(f"cannot make a fresh attempt directory under {parent}")

    def _displaced(self) -> str:
        """Where the changed control files' contents are kept before they are restored: the
        attempt's own directory, outside the part the maker may write."""
        return os.path.join(self.attempt_dir, "displaced")

    def _maker_started(self, pid: int) -> None:
        with open(maker_pid_file(self.ctx.loop.runtime_dir), "w", encoding="utf-8") as handle:
            handle.write(f"{pid} {self.token}")

    def _make(self, env: dict[str, str], limits: MakerLimits, attempt_dir: str, mounts: Mounts) -> MakerRun:
        """The maker's run; then, however it ended, its log without the secrets it was handed."""
        ctx, log = self.ctx, os.path.join(attempt_dir, "maker.log")
        try:
            made = run_maker(ctx.loop.maker, self.worktree, env, limits, log, lambda: bool(ctx.stop_requested),
                             self._maker_started, token=self.token, argv=maker_argv(ctx.loop, mounts, attempt_dir))
        finally:
            redact_log(log, ctx.loop.secrets)
        # the log's last bytes, quoted in the report and in reasons: a window that began inside a key
        # showed the key's second half, which no whole form of it matches
        made.output_tail = redact_cut(made.output_tail, ctx.loop.secrets)
        return made

    def run(self, feedback_text: str) -> dict[str, Any]:
        ctx, loop, record = self.ctx, self.ctx.loop, self.record
        runtime = ctx.spend.remaining_runtime()
        spent = ctx.spend.exhausted()
        if spent:
            raise BudgetStop(spent)
        loop.worktrees.reset(record.item.id, loop.base)
        plan = self.plan_factory(self.worktree, loop.base, record.item)
        self.admin = loop.worktrees.admin_dir(record.item.id)
        before = self.watch.snapshot(self.worktree, gate_files(plan, loop.root), self.admin)
        attempt_dir = self.attempt_dir = self._fresh_dir()
        work_dir = os.path.join(attempt_dir, "maker")
        os.mkdir(work_dir)
        prompt, usage_file = os.path.join(attempt_dir, "prompt.md"), os.path.join(work_dir, "usage.json")
        rules = [str(r) for r in (loop.spec.get("work_selection_rules") or {}).get("must_skip_and_escalate", [])]
        write_prompt(prompt, record.item.as_dict(), rules, feedback_text, self.number)
        ctx.emit("attempt", {"item": record.item.id, "attempt": self.number})
        self.token = secrets.token_hex(16)
        per_attempt, spend = loop.budgets.attempt, loop.budgets.spend
        limits = per_attempt.limits(runtime, spend, ctx.spend.usage, ctx.settings.grace)
        over, git_config = write_maker_config(attempt_dir, loop.root, common_dir(loop))
        env = {**self._env(work_dir, prompt, usage_file, git_config), **per_attempt.env(limits, spend, ctx.spend.usage)}
        mounts = self._mounts(work_dir, over)
        mark_unchecked(loop.runtime_dir, before)
        try:
            made = self._make(env, limits, attempt_dir, mounts)
        except BaseException:  # whatever ends the attempt, the next run never reads what the maker changed
            changed = self.watch.changed(before)
            self.watch.keep(before, changed, self._displaced())
            self.watch.restore(before, changed)
            mark_checked(loop.runtime_dir)
            raise
        entry = self._recorded(made)
        failed = made.error if not made.started else sandbox_failed(loop, mounts, made)
        if failed:  # the maker never ran: nothing of the item's to judge (the run report's stop says why)
            # unless it did and faked the failure: tampering is checked all the same, and wins
            changed = self.watch.changed(before)
            if changed:
                self._tampered(before, changed)
            mark_checked(loop.runtime_dir)
            raise EnvironmentStop(failed, "make the sandbox start (see the README, Containment), or run with "
                                          "`- contain: no` under ## Sandbox" if made.started else "")
        try:
            return self._judge(entry, made, before, plan)
        finally:
            mark_checked(loop.runtime_dir)
            self._clear_scratch()

    def _recorded(self, made: MakerRun) -> dict[str, Any]:
        """The maker has ended: its usage charged, and the attempt's entry in the run report begun."""
        ctx = self.ctx
        with contextlib.suppress(FileNotFoundError):
            os.unlink(maker_pid_file(ctx.loop.runtime_dir))
        warning = ctx.spend.add(made.usage)
        if warning and made.exit_code not in (126, 127):  # a maker that never started has nothing to report
            ctx.warn(warning)
        entry: dict[str, Any] = {"attempt": self.number, "maker": {
            "exit_code": made.exit_code, "stopped": made.stopped, "duration": round(made.duration, 3),
            "usage": made.usage.as_dict(), "cost_from": made.cost_from, "agent": made.status.as_dict(),
            # the audit trail: where the whole output is, its last lines, whether its totals arrived
            "log": os.path.join(self.attempt_dir, "maker.log"), "output_tail": last_lines(made.output_tail),
            "usage_complete": made.usage.complete}}
        self.record.attempts.append(entry)
        return entry

    def _clear_scratch(self) -> None:
        """Once the attempt is judged: the maker's HOME (an agent's caches, a `node_modules`) and its
        git objects go; they grew the repository's git directory by what every attempt left, run after
        run. The audit trail stays: maker.log, the prompt, and the files in its attempt directory."""
        for scratch in (os.path.join(self.attempt_dir, "home"), os.path.join(self.attempt_dir, "maker", "objects")):
            shutil.rmtree(scratch, ignore_errors=True)  # never follows a symlink the maker left

    def _tampered(self, before: Snapshot, changed: list[str], then: Exception | None = None) -> None:
        """The maker changed what it may not: put back what can be put back, say which, and
        escalate. What cannot be restored is written down; the next run refuses until a person
        has looked (runner/loaded.py)."""
        kept = self.watch.keep(before, changed, self._displaced())
        restored, failed = self.watch.restore(before, changed)
        mark_checked(self.ctx.loop.runtime_dir)  # restored, or written down below
        shown = [self.watch.shown(p, self.worktree) for p in changed]
        note = ""
        if restored:
            note += f"; restored: {', '.join(self.watch.shown(p, self.worktree) for p in restored)}"
        if kept:  # a person's edit made during the attempt is not lost to the restore
            note += f"; what they held is kept in {self._displaced()}"
        if failed:
            names = ", ".join(self.watch.shown(p, self.worktree) for p in failed)
            note += f"; could not restore: {names} (the next run refuses until a person checks them)"
            write_tampered(self.ctx.loop.runtime_dir, names)
        if REFS in changed:
            note += "; the refs are left as they are: check them"
        pushed = [self.watch.shown(p, self.worktree) for p in changed if p.startswith(REMOTE)]
        if pushed:
            raise PushAttempt(", ".join(pushed) + note, then)
        raise ControlFileEdited(", ".join(sorted(shown)) + note, then)

    def _environment(self, entry: dict[str, Any], made: MakerRun, empty_diff: bool | None) -> None:
        """Stop the run when the attempt's end is the environment's fault (see runner/attempt_budget.py).
        Refused edits count only once the attempt is known to have changed nothing (`empty_diff`):
        work that got done anyway is judged."""
        earlier = sum(int(a["maker"].get("agent", {}).get("permission_denials", 0))
                      for a in self.record.attempts[:-1])
        failure = (environment_failure(made, self.ctx.loop.maker, earlier)
                   or unpriced(made, self.ctx.loop.budgets.spend))
        if failure is None or (failure.kind == "permission" and empty_diff is not True):
            return
        entry["environment"] = {"kind": failure.kind, "detail": failure.detail, "fix": failure.fix}
        raise EnvironmentStop(f"{failure}; the items resume when the run is started again", failure.fix,
                              failure.detail)

    def _judge(self, entry: dict[str, Any], made: MakerRun, before: Snapshot,
               plan: list[PlannedGate]) -> dict[str, Any]:
        """The checker's verdict on an attempt the maker has finished: never the maker's own."""
        loop, item_id, stopped = self.ctx.loop, self.record.item.id, made.stopped
        if stopped == "signal" or run_stop(stopped):
            entry["verdict"] = "stopped"  # the checker never saw it: neither passed nor failed
        # first, however the attempt ended (a signal to loopgate, a budget, a timeout): tampering is
        # put back and the item escalated before the run stops, or the next run reads a loosened spec
        changed = self.watch.changed(before)
        if not changed:
            mark_checked(loop.runtime_dir)  # a kill -9 from here on leaves nothing unchecked
        else:
            then: Exception | None = (Interrupted(self.ctx.stop_requested or "a stop signal") if stopped == "signal"
                                      else BudgetStop(run_stop(stopped)) if run_stop(stopped) else None)
            self._tampered(before, changed, then)
        if stopped == "signal":
            return entry
        if run_stop(stopped):
            raise BudgetStop(run_stop(stopped))
        moved = loop.worktrees.head_moved(item_id, loop.base)
        if moved:
            raise ControlFileEdited(f"its worktree's HEAD: {moved}")
        self._environment(entry, made, empty_diff=None)
        loop.worktrees.clear_after_maker(item_id)
        loop.worktrees.candidate(item_id, loop.base)
        over = loop.budgets.attempt.over_budget(stopped)
        if over:  # the item's own overrun: recorded, and the work it paid for is still judged
            entry["over_budget"] = over
            loop.state.item(item_id).extra["attempt_stopped"] = f"attempt {self.number}: {over}"
            if self.ctx.spend.remaining_runtime() <= 0:
                raise BudgetStop("max runtime reached during an attempt")
        return self._judge_change(entry, made, before, plan, over)

    def _judge_change(self, entry: dict[str, Any], made: MakerRun, before: Snapshot, plan: list[PlannedGate],
                      over: str) -> dict[str, Any]:
        """The verdict on the change itself, in the worktree made exactly what a commit would hold."""
        loop, item_id = self.ctx.loop, self.record.item.id
        contained = loop.containment.contained
        diff = None if too_large(loop.worktrees, item_id, contained, entry, over) else \
            diff_or_fail(loop.worktrees, item_id, loop.base, entry, over)
        if diff is None:
            return entry
        entry["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest()
        entry["changed_files"] = loop.worktrees.changed_files(item_id, loop.base)
        self._environment(entry, made, empty_diff=not diff.strip())
        if not diff.strip():
            entry.update(verdict="no-change", feedback="; ".join(filter(None, ["the attempt changed no file", over])),
                         signature="no-change")
            return entry
        changed = loop.worktrees.changed_files(item_id, loop.base, errors="surrogateescape")
        outside = links_outside(self.worktree, changed)
        if outside:
            raise LinkOutside.naming(outside)
        suppressions = added_suppressions(diff)
        if suppressions:
            raise GateSuppressed("; ".join(str(s) for s in suppressions[:3]))
        judged = loop.worktrees.tree(item_id)
        try:
            converted = stored_differently(loop.worktrees, item_id, loop.base, judged)
        except gitops.GitOutputTooLarge:
            return too_large_to_judge(entry, "the change is too large to judge; make a smaller change", over)
        if converted:
            raise StoredDifferently.naming(converted)
        entry["judged"] = {"base": loop.base, "tree": judged}
        gates = self._gates(entry, before, plan)
        if not loop.containment.contained:  # contained, nothing can write the worktree after the command
            self._unchanged_since(entry, judged)  # gates (checked then): their processes and the maker's are gone
        env = [g for g in gates if g["required"] and g["status"] == GateStatus.ERROR.value]
        if env and self.ctx.stop_requested:  # a gate the stop signal cut short (exit 127 from its killed
            raise Interrupted(self.ctx.stop_requested)  # launcher) is no environmental failure: the run stops
        if env:
            raise EnvironmentStop(f"gate '{env[0]['gate']}' could not run: {env[0]['reason']}")
        failed = [g for g in gates if g["required"] and g["status"] == GateStatus.FAILED.value]
        entry["verdict"] = "failed" if failed else "passed"
        entry["feedback"] = "\n".join(filter(None, [over, feedback(failed)]))
        entry["signature"] = signature(gates) if failed else ""
        return entry

    def _gates(self, entry: dict[str, Any], before: Snapshot, plan: list[PlannedGate]) -> list[dict[str, Any]]:
        """The gates' results, once the worktree's git files are checked again: a gate runs what the
        maker wrote with the worktree writable, and a `.git` link it repointed is tampering (and is
        put back before anyone's git reads it)."""
        gates = entry["gates"] = run_gates(self.ctx, self.plan_factory, self.worktree, self.record.item, plan=plan,
                                           between=lambda: self._unchanged_since(entry, entry["judged"]["tree"]))
        relinked = [p for p in self.watch.changed(before) if p in self.watch.git_files(self.worktree, self.admin)]
        if relinked:
            self._tampered(before, relinked)
        return gates

    def _unchanged_since(self, entry: dict[str, Any], judged: str) -> None:
        """The tree now against the one the gates judged. The commit holds the judged tree whatever
        happened since (Worktrees.commit_tree); a file of it changed or deleted since escalates the
        item: something outside the checker (a gate that rewrites files, a maker's process that
        outlived the attempt) was still at work. New files are only left out of the commit (and
        said): a gate's caches (`__pycache__` in a repository that ignores none) are new files."""
        worktrees, item_id = self.ctx.loop.worktrees, self.record.item.id
        scanned(worktrees, item_id, self.ctx.loop.containment.contained)  # a command gate writes it too
        now = worktrees.tree(item_id)
        if now == judged:
            return
        changed, added = worktrees.tree_changes(item_id, judged, now)
        if added:
            entry["not_committed"] = added
        if changed:
            raise ChangedAfterJudging.naming(changed)
