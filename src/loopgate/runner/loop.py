"""The bounded maker-checker loop: select -> isolate -> make -> check -> decide -> remember.

Core only: the CLI hands in settings, a gate-plan factory and an event callback; this module
returns a RunOutcome and never prints. Every state transition is written to LOOP_STATE.md
at once (atomically), so a kill at any moment loses nothing and the next run resumes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import os
import re
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from loopgate.artifacts.crosscheck import MODES, spec_mode
from loopgate.artifacts.kinds import CHECKLIST, KINDS, POLICY, READINESS, SPEC, STATE
from loopgate.check import PlannedGate, run_check
from loopgate.gates._http import default_cache_file
from loopgate.gates.base import GateContext, GateStatus
from loopgate.runner import git as gitops
from loopgate.runner.approvals import Approvals
from loopgate.runner.atomic import WriteError
from loopgate.runner.github import GitHub, GitHubConfig, GitHubError
from loopgate.runner.lock import RunLock
from loopgate.runner.maker import MakerLimits, end_tokened, kill_group, run_maker, write_prompt
from loopgate.runner.queue import QueueError, WorkItem, queue_path, read_queue
from loopgate.runner.report import redact, write_report, write_summary
from loopgate.runner.rules import Rules, read_rules
from loopgate.runner.state import FINAL, LoopState, load_state, save_state
from loopgate.runner.tamper import added_suppressions
from loopgate.runner.usage import Usage
from loopgate.verify import VerifySettings, load_artifact, run_verify


class Stop(enum.Enum):
    """Why a run ended; each has its own exit status (documented in the README)."""

    DONE = ("all-done", 0)
    ESCALATIONS = ("escalations-pending", 3)
    BUDGET = ("budget-exhausted", 4)
    ENVIRONMENT = ("environmental-failure", 5)
    INTERRUPTED = ("interrupted", 6)
    PAUSED = ("paused", 7)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def exit_code(self) -> int:
        return self.value[1]


class RunError(Exception):
    """The run cannot start (invalid loop, lock held, bad queue): a usage or input error, exit 2."""


@dataclass(frozen=True)
class RunSettings:
    loop_dir: str
    maker: str | None = None
    mode: str | None = None
    max_items: int | None = None
    dry_run: bool = False
    base: str = "HEAD"
    grace: float = 3.0


@dataclass
class Budgets:
    max_iterations: int
    max_tool_calls: int
    max_runtime: float
    max_prs: int
    max_cost: float | None

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Budgets:
        b = spec.get("budgets") or {}
        cost = b.get("max_cost")
        return cls(int(b["max_iterations"]), int(b["max_tool_calls_per_iteration"]), float(b["max_runtime"]),
                   int(b["max_pull_requests_per_run"]), float(cost["amount"]) if isinstance(cost, dict) else None)


@dataclass
class ItemRecord:
    item: WorkItem
    status: str = "pending"
    reason: str = ""
    next_action: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    branch: str = ""
    pr_url: str = ""
    commit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**self.item.as_dict(), "status": self.status, "reason": self.reason, "next_action": self.next_action,
                "attempts": self.attempts, "branch": self.branch, "pr_url": self.pr_url, "commit": self.commit}


@dataclass
class RunOutcome:
    stop: Stop
    detail: str
    run_id: str
    report_path: str = ""
    summary_path: str = ""
    records: list[ItemRecord] = field(default_factory=list)
    stale_lock: str = ""
    report: dict[str, Any] = field(default_factory=dict)  # what report_path holds (a dry run writes none)


class _EnvironmentStop(Exception):
    """A gate or the maker failed for a reason outside the change: stop the run."""


class _BudgetStop(Exception):
    """A budget ran out."""


class _ControlFileEdited(Exception):
    """The maker changed a control file (spec, state, checklist, policy, readiness, config)."""


class _GateSuppressed(Exception):
    """The maker's diff adds a suppression that a gate would obey (see runner/tamper.py)."""


PlanFactory = Callable[[str, str, WorkItem], list[PlannedGate]]  # (worktree, base, item) -> plan
Events = Callable[[str, dict[str, Any]], None]


def _unique_id(runs: str) -> str:
    """The run id: the UTC second it started, moved on a second while a report already has it
    (two quick runs must not overwrite each other's report)."""
    moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    while True:
        run_id = moment.strftime("%Y-%m-%dT%H%M%SZ")
        if not os.path.exists(os.path.join(runs, f"{run_id}.json")):
            return run_id
        moment += dt.timedelta(seconds=1)


def _hash_files(paths: list[str]) -> dict[str, str]:
    """A digest for each path: a file's content, a directory's names and contents, or 'absent'."""
    out = {}
    for path in paths:
        digest = hashlib.sha256()
        try:
            if os.path.isdir(path):
                for folder, dirs, names in os.walk(path):
                    dirs.sort()
                    for name in sorted(names):
                        full = os.path.join(folder, name)
                        digest.update(os.path.relpath(full, path).encode() + b"\0")
                        with contextlib.suppress(OSError), open(full, "rb") as handle:
                            digest.update(handle.read())
            else:
                with open(path, "rb") as handle:
                    digest.update(handle.read())
            out[path] = digest.hexdigest()
        except OSError:
            out[path] = "absent"
    return out


_VOLATILE = re.compile(r"0x[0-9a-f]+|\d+(\.\d+)?|/tmp/\S+|[0-9a-f]{7,40}")


def normalise_failure(text: str) -> str:
    """Failure output with what changes between identical failures (times, addresses) removed."""
    return _VOLATILE.sub("#", text.lower())


class Loop:
    def __init__(self, settings: RunSettings, plan_factory: PlanFactory, events: Events | None = None) -> None:
        self.settings = settings
        self.plan_factory = plan_factory
        self.emit: Events = events or (lambda kind, data: None)
        self.stop_requested = ""
        self.loop_dir = os.path.abspath(settings.loop_dir)
        self.started = time.monotonic()
        self.usage = Usage()
        self.records: list[ItemRecord] = []
        self.prs_opened = 0
        self.warnings: list[str] = []
        self.attempt_token = ""
        self.usage_warned = False

    # -- setup -----------------------------------------------------------------------------
    def _load(self) -> None:
        result = run_verify(VerifySettings((self.loop_dir,)))
        errors = [f for f in result.findings if f.severity.value == "error"]
        if errors:
            first = errors[0]
            raise RunError(f"the loop does not verify ({len(errors)} errors), first: "
                           f"{first.path}:{first.line}:{first.column}: {first.code} {first.message}")
        loaded = {k: load_artifact(os.path.join(self.loop_dir, k.filename), k)[0] for k in KINDS
                  if os.path.isfile(os.path.join(self.loop_dir, k.filename))}
        arts = {k: a for k, a in loaded.items() if a is not None}
        spec = arts.get(SPEC)
        if spec is None:
            raise RunError(f"{self.loop_dir}: no {SPEC.filename}")
        self.spec = spec.data
        self.policy = arts[POLICY].data if POLICY in arts else None
        if not self.settings.dry_run and not (CHECKLIST in arts and arts[CHECKLIST].data.get("required_gates")):
            raise RunError(f"no required gates in {CHECKLIST.filename}: nothing would judge the maker's work "
                           "(add a `## Required Gates` entry; the maker never gets the final vote)")
        self.readiness_ok = READINESS in arts and all(
            c.get("checked") for group in arts[READINESS].data.get("checks", {}).values() for c in group)
        self.budgets = Budgets.from_spec(self.spec)
        self.rules: Rules = read_rules(self.spec, self.policy)
        self.mode = self._mode()
        self.maker = self.settings.maker or str((self.spec.get("roles") or {}).get("maker_command", "")).strip("` ")
        if not self.maker and not self.settings.dry_run:
            raise RunError("no maker command: give --maker CMD or `- maker command: ...` under ## Roles")
        try:
            self.root = gitops.repo_root(self.loop_dir)
        except gitops.GitError as err:
            raise RunError(f"the loop must live in a git repository: {err}") from err
        try:
            self.base = gitops.git(["rev-parse", "--verify", "--quiet", f"{self.settings.base}^{{commit}}"],
                                   self.root).strip()
        except gitops.GitError as err:
            hint = ("the repository has no commit yet: commit the loop's files first (each item's worktree "
                    "starts from a commit)") if self.settings.base == "HEAD" else \
                f"--base {self.settings.base} does not name a commit"
            raise RunError(hint) from err
        self.worktrees = gitops.Worktrees(self.root)
        self.state_path = os.path.join(self.loop_dir, STATE.filename)
        state, errors_ = load_state(self.state_path, str(self.spec.get("name", "loop")))
        if errors_:
            raise RunError(f"{STATE.filename} is invalid: {errors_[0]}")
        self.state: LoopState = state
        self.control = self._control_files(self.loop_dir, self.root)
        # Logs, prompts and the lock live in the git directory: the user's checkout shows nothing.
        loop_key = hashlib.sha256(self.loop_dir.encode()).hexdigest()[:12]
        self.runtime_dir = os.path.join(gitops.common_dir(self.root), "loopgate", loop_key)
        self.github = self._github()

    def _mode(self) -> str:
        allowed = spec_mode(self.spec)
        mode = self.settings.mode or allowed
        if mode not in MODES:
            raise RunError(f"unknown mode '{mode}' (use {', '.join(MODES)})")
        if MODES.index(mode) > MODES.index(allowed):
            raise RunError(f"mode '{mode}' needs explicit opt-in: the spec's ## Rollout allows at most '{allowed}'")
        if mode != "shadow" and not self.readiness_ok:
            raise RunError(f"mode '{mode}' needs a passing readiness audit (every loop-readiness.md item ticked)")
        return mode

    def _control_files(self, loop_dir: str, root: str) -> list[str]:
        """What the maker may not change: the loop's artifacts, the gates' configuration, the
        work queue, and the repository's own config, hooks and ignore/attribute rules (which
        every worktree shares, and which decide what git shows the gates and what a commit runs)."""
        files = [os.path.join(loop_dir, k.filename) for k in KINDS]
        common = gitops.common_dir(root)
        files += [os.path.join(root, "pyproject.toml"), os.path.join(common, "config"),
                  os.path.join(common, "info"), os.path.join(common, "hooks")]
        queue = queue_path(loop_dir, self.spec.get("inputs") or {})
        return files + ([queue] if queue else [])

    def _github(self) -> GitHub | None:
        inputs = self.spec.get("inputs") or {}
        repo = str(inputs.get("github_repo") or inputs.get("github") or "").strip("` ")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            return None
        token_env = str(inputs.get("token_env") or "GITHUB_TOKEN")
        self.token_env = token_env
        config = GitHubConfig(repo=repo, api=str(inputs.get("github_api") or "https://api.github.com"),
                              token=os.environ.get(token_env, ""), label=str(inputs.get("github_label") or ""),
                              pause_label=str(inputs.get("pause_label") or ""))
        return GitHub(config)

    # -- budgets and stops -------------------------------------------------------------------
    def remaining_runtime(self) -> float:
        return self.budgets.max_runtime - (time.monotonic() - self.started)

    def remaining_cost(self) -> float | None:
        return None if self.budgets.max_cost is None else self.budgets.max_cost - self.usage.cost_usd

    def paused(self) -> str:
        if os.path.exists(os.path.join(self.loop_dir, "PAUSE")):
            return f"kill switch: {os.path.join(self.settings.loop_dir, 'PAUSE')} exists"
        if self.github is not None and self.github.config.pause_label:
            try:
                if self.github.repo_has_label_on_open_issue(self.github.config.pause_label):
                    return f"kill switch: an open issue carries the '{self.github.config.pause_label}' label"
            except GitHubError as err:
                return f"kill switch unknown (GitHub unreachable: {err})"
        return ""

    def _signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = signal.Signals(signum).name

    def warn(self, message: str) -> None:
        """Something the run cannot hold to: shown now, and kept in the run report."""
        self.warnings.append(message)
        self.emit("warning", {"message": message})

    def _warn_unreported_usage(self, usage: Usage) -> None:
        if usage.reported or self.usage_warned:
            return
        self.usage_warned = True
        budgets = "`max tool calls per iteration`" + (" and `max cost`" if self.budgets.max_cost is not None else "")
        self.warn(f"the maker reports no usage, so {budgets} cannot be enforced: have it write "
                  "$LOOPGATE_USAGE_FILE, or run Claude Code with `--output-format stream-json --verbose` "
                  "or `codex exec --json`")

    # -- state -----------------------------------------------------------------------------
    def save(self) -> None:
        self.state.counters["selected_items"] = sum(1 for r in self.records if r.status not in ("skipped", "pending"))
        self.state.counters["opened_pull_requests"] = self.prs_opened
        self.state.counters["escalations"] = sum(1 for r in self.records if r.status == "escalated")
        if self.settings.dry_run:  # a dry run changes nothing: the state stays in memory
            return
        save_state(self.state_path, self.state)

    def transition(self, record: ItemRecord, status: str, reason: str = "", next_action: str = "") -> None:
        record.status, record.reason = status, reason or record.reason
        record.next_action = next_action or record.next_action
        item = self.state.item(record.item.id)
        item.status, item.reason, item.next_action = status, record.reason, record.next_action
        if record.branch:
            item.extra["branch"] = record.branch
        if record.pr_url:
            item.extra["pull_request"] = record.pr_url
        self.save()
        self.emit("item", {"id": record.item.id, "status": status, "reason": record.reason})

    def escalate(self, record: ItemRecord, reason: str, next_action: str = "human review required") -> None:
        self.transition(record, "escalated", reason, next_action)
        self._comment(record, f"loopgate escalated this item and will not work on it further.\n\n"
                              f"- reason: {reason}\n- next action: {next_action}")

    def _comment(self, record: ItemRecord, body: str) -> None:
        """Tell the GitHub issue, in the modes that may write, through the approval point."""
        number = record.item.number
        if self.github is None or number is None or not self.approvals.ask("comment", f"#{number}"):
            return
        try:
            self.github.comment(number, body)
        except GitHubError as err:
            self.emit("warning", {"message": f"could not comment on #{number}: {err}"})

    # -- work ------------------------------------------------------------------------------
    def find_work(self) -> list[WorkItem]:
        items: list[WorkItem] = []
        path = queue_path(self.loop_dir, self.spec.get("inputs") or {})
        if path is not None:
            try:
                items += read_queue(path)
            except QueueError as err:
                raise RunError(str(err)) from err
        if self.github is not None and self.github.config.label:
            try:
                items += self.github.issues(self.github.config.label)
            except GitHubError as err:
                raise RunError(f"cannot read work from GitHub: {err}") from err
        return items

    def select(self, item: WorkItem) -> tuple[str, str]:
        """("select" | "skip" | "escalate" | "done", reason) by the spec's work selection rules."""
        previous = self.state.items.get(item.id)
        if previous is not None and previous.status in FINAL:
            return "done", f"already {previous.status} in an earlier run"
        failures = int(previous.extra.get("failures", "0") or 0) if previous else 0
        if failures >= self.rules.max_failures:
            return "escalate", f"failed {failures} times before"
        missing = [lb for lb in self.rules.required_labels if lb.lower() not in {x.lower() for x in item.labels}]
        if missing:
            return "skip", f"not labeled {', '.join(missing)}"
        if self.rules.max_files is not None and len(item.expected_paths) > self.rules.max_files:
            return "escalate", (f"expects {len(item.expected_paths)} files, over the limit of "
                                f"{self.rules.max_files}")
        outside = self.rules.outside_scope(item.expected_paths)
        if outside:
            return "escalate", f"expects to change {', '.join(outside)}, outside the spec's allowed paths"
        text = f"{item.title}\n{item.body}"
        for cat in self.rules.categories:
            why = cat.matches(item.labels, text, item.expected_paths)
            if why:
                return "escalate", f"always-escalate category '{cat.name}': {why}"
        return "select", "matches the work selection rules"

    def run_gates(self, worktree: str, item: WorkItem, required_only: bool = False,
                  plan: list[PlannedGate] | None = None) -> list[dict[str, Any]]:
        plan = plan if plan is not None else self.plan_factory(worktree, self.base, item)
        if required_only:
            plan = [p for p in plan if p.required]
        outcome = run_check(plan, jobs=os.cpu_count() or 2, context=GateContext(cwd=worktree),
                            on_done=lambda p, r: self.emit("gate", {"item": item.id, "gate": p.name,
                                                                     "status": r.status.value,
                                                                     "baseline": required_only}),
                            deadline=time.monotonic() + max(self.remaining_runtime(), 0.0),
                            should_stop=lambda: bool(self.stop_requested))
        if outcome.stopped == "deadline":
            raise _BudgetStop("max runtime reached while the gates ran")
        if outcome.stopped:
            raise _Interrupted(self.stop_requested or "a stop signal")
        return [{"gate": p.name, "required": p.required, **r.as_dict()}
                for p, r in zip(plan, outcome.results, strict=True)]

    def baseline(self, record: ItemRecord) -> bool:
        """Required gates must pass before any change; failing already means escalate, not start."""
        worktree = self.worktrees.create(record.item.id, self.base)
        results = self.run_gates(worktree, record.item, required_only=True)
        env = [r for r in results if r["status"] == GateStatus.ERROR.value]
        if env:
            raise _EnvironmentStop(f"gate '{env[0]['gate']}' could not run: {env[0]['reason']}")
        failing = [r["gate"] for r in results if r["status"] == GateStatus.FAILED.value
                   and not _the_items_own_work(r["findings"], record.item.expected_paths)]
        if failing:
            self.escalate(record, f"required gates fail before any change: {', '.join(failing)}",
                          "fix the baseline (the default branch) before the loop takes this item")
            return False
        return True

    # -- one item ----------------------------------------------------------------------------
    def _env(self, record: ItemRecord, attempt: int, prompt: str, usage_file: str, worktree: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPGATE_")}
        if self.github is not None:  # the maker never sees the loop's own API token, whatever its name
            env.pop("GITHUB_TOKEN", None)
            env.pop(self.token_env, None)
        item = record.item
        env.update({"LOOPGATE_ITEM_ID": item.id, "LOOPGATE_ITEM_TITLE": item.title, "LOOPGATE_ATTEMPT": str(attempt),
                    "LOOPGATE_PROMPT_FILE": prompt, "LOOPGATE_USAGE_FILE": usage_file,
                    "LOOPGATE_WORKTREE": worktree, "LOOPGATE_MODE": self.mode,
                    "LOOPGATE_ALLOWED_PATHS": ",".join(item.expected_paths),
                    "LOOPGATE_MAX_TOOL_CALLS": str(self.budgets.max_tool_calls)})
        return env

    def _control_snapshot(self, worktree: str, extra: list[str] | None = None) -> dict[str, str]:
        """Hashes of every control file: the main checkout's and the worktree's copies.

        The main LOOP_STATE.md is the one control file the loop itself writes, so it is
        compared with what the loop last wrote rather than with the start of the run.
        `extra` are files the gates read their rules from (ignore files, pattern files, the
        links cache): a maker that rewrites them rewrites the checker.
        """
        copies = []
        extra = extra or []
        for original in [*self.control, *extra]:
            rel = os.path.relpath(original, self.root)
            if not rel.startswith(".."):
                copies.append(os.path.join(worktree, rel))
        return _hash_files(list(dict.fromkeys([*self.control, *extra, *copies])))

    def _repository_snapshot(self) -> dict[str, str]:
        """The repository's refs and the user's checkout (its changed and untracked files, with
        their contents): a maker works in its worktree only."""
        refs = gitops.git(["for-each-ref", "--format=%(refname) %(objectname)"], self.root)
        status = gitops.git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], self.root)
        listed = sorted({entry[3:] for entry in status.split("\0") if len(entry) > 3})
        contents = _hash_files([os.path.join(self.root, p) for p in listed])
        return {"[refs]": hashlib.sha256(refs.encode()).hexdigest(),
                "[your checkout]": hashlib.sha256((status + repr(sorted(contents.items()))).encode()).hexdigest()}

    def _edited_control_files(self, before: dict[str, str], worktree: str) -> list[str]:
        after = _hash_files([p for p in before if not p.startswith("[")])
        after.update(self._repository_snapshot())
        return sorted(self._shown(p, worktree) for p, digest in after.items() if digest != before[p])

    def _shown(self, path: str, worktree: str) -> str:
        if path == "[refs]":
            return "the repository's branches or tags"
        if path == "[your checkout]":
            return "files in your checkout (outside the item's worktree)"
        if path.startswith(worktree + os.sep):
            return f"{os.path.relpath(path, worktree)} (in the item's worktree)"
        if path.startswith(self.root + os.sep):
            return os.path.relpath(path, self.root)
        return path

    def _maker_pid_file(self) -> str:
        return os.path.join(self.runtime_dir, "maker.pid")

    def _maker_started(self, pid: int) -> None:
        with open(self._maker_pid_file(), "w", encoding="utf-8") as handle:
            handle.write(f"{pid} {self.attempt_token}")

    def _kill_orphaned_maker(self) -> int | None:
        """A run killed with -9 leaves its maker running; the next run ends it before starting:
        its process group, and whatever left the group carrying the attempt's token."""
        try:
            with open(self._maker_pid_file(), encoding="utf-8") as handle:
                words = handle.read().split()
            pgid, token = int(words[0]) if words else 0, words[1] if len(words) > 1 else ""
        except (OSError, ValueError):
            return None
        if pgid > 0:
            kill_group(pgid, signal.SIGKILL)
        if token:
            end_tokened(token)
        os.unlink(self._maker_pid_file())
        return pgid

    def attempt(self, record: ItemRecord, number: int, worktree: str, feedback: str) -> dict[str, Any]:
        runtime = self.remaining_runtime()
        if runtime <= 0:
            raise _BudgetStop("max runtime reached")
        cost_left = self.remaining_cost()
        if cost_left is not None and cost_left <= 0:
            raise _BudgetStop("max cost reached")
        self.worktrees.reset(record.item.id, self.base)
        plan = self.plan_factory(worktree, self.base, record.item)
        before = self._control_snapshot(worktree, _gate_files(plan, self.root))
        before.update(self._repository_snapshot())
        work_dir = os.path.join(self.runtime_dir, "attempts", record.item.id, str(number))
        os.makedirs(work_dir, exist_ok=True)
        prompt, usage_file = os.path.join(work_dir, "prompt.md"), os.path.join(work_dir, "usage.json")
        rules = [str(r) for r in (self.spec.get("work_selection_rules") or {}).get("must_skip_and_escalate", [])]
        write_prompt(prompt, record.item.as_dict(), rules, feedback, number)
        self.emit("attempt", {"item": record.item.id, "attempt": number})
        self.attempt_token = secrets.token_hex(16)
        limits = MakerLimits(runtime, self.budgets.max_tool_calls, cost_left, self.settings.grace)
        made = run_maker(self.maker, worktree, self._env(record, number, prompt, usage_file, worktree), limits,
                         os.path.join(work_dir, "maker.log"), lambda: bool(self.stop_requested), self._maker_started,
                         token=self.attempt_token)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._maker_pid_file())
        self.usage.add(made.usage)
        self._warn_unreported_usage(made.usage)
        entry: dict[str, Any] = {"attempt": number, "maker": {"exit_code": made.exit_code, "stopped": made.stopped,
                                                             "duration": round(made.duration, 3),
                                                             "usage": made.usage.as_dict()}}
        record.attempts.append(entry)
        if not made.started:
            raise _EnvironmentStop(made.error)
        return self._judge(record, entry, made.stopped, before, worktree, plan)

    def _judge(self, record: ItemRecord, entry: dict[str, Any], stopped: str, before: dict[str, str],
               worktree: str, plan: list[PlannedGate]) -> dict[str, Any]:
        """The checker's verdict on an attempt the maker has finished: never the maker's own."""
        if stopped in ("signal", "timeout", "cost"):
            entry["verdict"] = "stopped"  # the checker never saw it: neither passed nor failed
        if stopped == "signal":
            return entry
        if stopped in ("timeout", "cost"):
            raise _BudgetStop("max runtime reached during an attempt" if stopped == "timeout"
                              else "max cost reached during an attempt")
        edited = self._edited_control_files(before, worktree)
        if edited:
            raise _ControlFileEdited(", ".join(edited))
        moved = self.worktrees.head_moved(record.item.id, self.base)
        if moved:
            raise _ControlFileEdited(f"its worktree's HEAD: {moved}")
        self.worktrees.candidate(record.item.id, self.base)
        if stopped == "tool-calls":
            entry["verdict"] = "over-budget"
            entry["feedback"] = f"the attempt used more than {self.budgets.max_tool_calls} tool calls"
            entry["signature"] = "over-budget"
            return entry
        diff = self.worktrees.diff(record.item.id, self.base)
        entry["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest()
        entry["changed_files"] = self.worktrees.changed_files(record.item.id, self.base)
        if not diff.strip():
            entry.update(verdict="no-change", feedback="the attempt changed no file", signature="no-change")
            return entry
        suppressions = added_suppressions(diff)
        if suppressions:
            raise _GateSuppressed("; ".join(str(s) for s in suppressions[:3]))
        gates = self.run_gates(worktree, record.item, plan=plan)
        entry["gates"] = gates
        env = [g for g in gates if g["required"] and g["status"] == GateStatus.ERROR.value]
        if env:
            raise _EnvironmentStop(f"gate '{env[0]['gate']}' could not run: {env[0]['reason']}")
        failed = [g for g in gates if g["required"] and g["status"] == GateStatus.FAILED.value]
        entry["verdict"] = "failed" if failed else "passed"
        entry["feedback"] = _feedback(failed)
        entry["signature"] = _signature(gates) if failed else ""
        return entry

    def work_item(self, record: ItemRecord) -> None:
        if self.rules.baseline and not self.baseline(record):
            return
        worktree = self.worktrees.create(record.item.id, self.base)
        record.branch = self.worktrees.branch(record.item.id)
        state_item = self.state.item(record.item.id)
        feedback, repeats, last = "", 0, None
        while state_item.attempts < self.budgets.max_iterations:
            if self.stop_requested:
                raise _Interrupted(self.stop_requested)
            state_item.attempts += 1
            self.transition(record, "in-progress", f"attempt {state_item.attempts}", "wait for the gates")
            try:
                entry = self.attempt(record, state_item.attempts, worktree, feedback)
            except _ControlFileEdited as err:
                self.escalate(record, f"the maker edited control files: {err}", "review the attempt; "
                              "the maker may not change the loop's own rules")
                return
            except _GateSuppressed as err:
                self.escalate(record, f"the maker added a gate suppression: {err}", "review the attempt; "
                              "only a person may decide that a gate's finding does not apply")
                return
            if self.stop_requested:
                raise _Interrupted(self.stop_requested)
            state_item.gates = {g["gate"]: g["status"] for g in entry.get("gates", [])}
            if entry.get("verdict") == "passed":
                self.finish(record, worktree)
                return
            feedback = str(entry.get("feedback", ""))
            signature = (entry.get("signature"), entry.get("diff_sha256"))
            repeats = repeats + 1 if last is not None and (signature[0] == last[0] or signature[1] == last[1]) else 0
            last = signature
            if repeats + 1 >= self.rules.no_progress_attempts:
                self._fail(record, f"no progress across {repeats + 1} consecutive attempts: {feedback[:200]}")
                return
        self._fail(record, f"gates still failing after {self.budgets.max_iterations} attempts: {feedback[:200]}")

    def _fail(self, record: ItemRecord, reason: str) -> None:
        item = self.state.item(record.item.id)
        item.extra["failures"] = str(int(item.extra.get("failures", "0") or 0) + 1)
        self.escalate(record, reason, f"inspect the kept worktree at {self.worktrees.path(record.item.id)}")

    def finish(self, record: ItemRecord, worktree: str) -> None:
        """All required gates passed: draft in shadow mode, or open a (draft) pull request."""
        commit = self.worktrees.commit_all(record.item.id, f"loopgate: {record.item.id} {record.item.title}".strip())
        record.commit = commit or ""  # the reviewed branch can be compared with what the gates passed
        self.state.item(record.item.id).extra["commit"] = record.commit
        if self.mode == "shadow":
            self.transition(record, "drafted", "all required gates passed", "human review of branch " + record.branch)
            self.worktrees.remove(record.item.id)
            return
        if self.prs_opened >= self.budgets.max_prs:
            self.transition(record, "drafted", "all required gates passed; max pull requests per run reached",
                            "open a pull request in a later run or by hand")
            self.worktrees.remove(record.item.id)
            raise _BudgetStop("max pull requests per run reached")
        self.open_pull_request(record, worktree, commit)

    def open_pull_request(self, record: ItemRecord, worktree: str, commit: str | None) -> None:
        approvals = self.approvals
        draft = self.mode == "draft-pr"
        if self.github is None or not approvals.ask("push", record.branch):
            self.transition(record, "drafted", "gates passed; no GitHub repository to open a pull request in",
                            "push the branch by hand")
            return
        try:
            gitops.git(["push", "--force", "-u", "origin", f"{record.branch}:{record.branch}"], worktree)
            if not approvals.ask("draft-pr" if draft else "pr", record.branch):
                self.transition(record, "drafted", "gates passed; pull request not approved in this mode")
                return
            base_branch = gitops.git(["rev-parse", "--abbrev-ref", "HEAD"], self.root).strip()
            record.pr_url = self.github.create_pull_request(record.branch, base_branch,
                                                            record.item.title or record.item.id,
                                                            f"Drafted by loopgate for {record.item.id}.", draft)
        except (gitops.GitError, GitHubError) as err:
            raise _EnvironmentStop(f"cannot open the pull request: {err}") from err
        self.prs_opened += 1
        self.transition(record, "pr-opened", "all required gates passed", "human review of " + record.pr_url)
        self.worktrees.remove(record.item.id)

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> RunOutcome:
        self._load()
        self.approvals = Approvals(self.mode)
        lock = RunLock(os.path.join(self.runtime_dir, "run.lock"))
        try:
            lock.acquire()
        except Exception as err:
            raise RunError(str(err)) from err
        try:  # an unreadable queue or GitHub is a usage error: nothing is written, no report claims a run
            self.work = self.find_work()
        except RunError:
            lock.release()
            raise
        handlers = {s: signal.signal(s, self._signal) for s in (signal.SIGINT, signal.SIGTERM)}
        run_id = _unique_id(self._runs_dir())
        outcome = RunOutcome(Stop.DONE, "every selected item is completed or escalated", run_id)
        if lock.stale is not None:
            orphan = self._kill_orphaned_maker()
            outcome.stale_lock = (f"a previous run (pid {lock.stale.pid}) ended without cleaning up; resuming its "
                                  "state" + (f"; killed its orphaned maker (process group {orphan})" if orphan else ""))
            self.emit("stale-lock", {"pid": lock.stale.pid})
        for rule in self.rules.not_enforced:
            self.warn(f"work selection rule not checked by the loop (a person must judge it): {rule}")
        try:
            self.state.run_id, self.state.mode = run_id, self.mode
            try:
                self.save()
            except WriteError as err:
                raise RunError(f"{err} (is the disk full, or the file read-only?)") from err
            try:
                outcome.stop, outcome.detail = self._run_items()
            except WriteError as err:  # the state could not be saved: stop rather than run on unrecorded
                outcome.stop, outcome.detail = Stop.ENVIRONMENT, f"{err} (is the disk full, or the file read-only?)"
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            outcome.records = self.records
            outcome.report_path, outcome.summary_path = self._write_report(outcome)
            lock.release()
        return outcome

    def _select_all(self) -> list[ItemRecord]:
        selected: list[ItemRecord] = []
        for item in self.work:
            if self.settings.max_items is not None and len(selected) >= self.settings.max_items:
                break
            decision, reason = self.select(item)
            if decision == "done":
                continue
            record = ItemRecord(item)
            self.records.append(record)
            if decision == "skip":
                self.transition(record, "skipped", reason, "none: outside this loop's work selection rules")
            elif decision == "escalate":
                self.escalate(record, reason)
            else:
                self.transition(record, "selected", reason, "attempt" if not self.settings.dry_run else "dry run")
                selected.append(record)
        return selected

    def _work_all(self, selected: list[ItemRecord]) -> tuple[Stop, str] | None:
        for record in selected:
            pause = self.paused()
            if pause:
                return Stop.PAUSED, pause
            if self.stop_requested:
                raise _Interrupted(self.stop_requested)
            self.work_item(record)
        return None

    def _run_items(self) -> tuple[Stop, str]:
        pause = self.paused()
        if pause:
            return Stop.PAUSED, pause
        selected = self._select_all()
        if self.settings.dry_run:
            return Stop.DONE, f"dry run: {len(selected)} items selected, the maker was not run"
        try:
            stopped = self._work_all(selected)
        except _BudgetStop as err:
            return Stop.BUDGET, str(err)
        except (_EnvironmentStop, gitops.GitError, WriteError) as err:
            return Stop.ENVIRONMENT, str(err)
        except _Interrupted as err:
            return Stop.INTERRUPTED, f"received {err}"
        if stopped is not None:
            return stopped
        if any(r.status == "escalated" for r in self.records):
            return Stop.ESCALATIONS, "every selected item is completed or escalated; escalations need a human"
        return Stop.DONE, "every selected item is completed"

    def _runs_dir(self) -> str:
        if os.path.basename(self.loop_dir) == ".loop":
            return os.path.join(self.loop_dir, "runs")
        return os.path.join(self.loop_dir, ".loop", "runs")

    def _write_report(self, outcome: RunOutcome) -> tuple[str, str]:
        secrets = [self.github.config.token] if self.github is not None else []
        report = {
            "run_id": outcome.run_id, "loop": str(self.spec.get("name", "")), "mode": self.mode,
            "started_base": self.base, "duration": round(time.monotonic() - self.started, 3),
            "budgets": {"max_iterations": self.budgets.max_iterations,
                        "max_tool_calls_per_iteration": self.budgets.max_tool_calls,
                        "max_runtime": self.budgets.max_runtime, "max_pull_requests_per_run": self.budgets.max_prs,
                        "max_cost_usd": self.budgets.max_cost},
            "usage": self.usage.as_dict(), "pull_requests_opened": self.prs_opened,
            "items": [r.as_dict() for r in self.records],
            "approvals": self.approvals.log,
            "stop": {"reason": outcome.stop.label, "detail": outcome.detail, "exit_code": outcome.stop.exit_code},
            "stale_lock": outcome.stale_lock,
            "warnings": self.warnings,
            "rules_not_enforced": list(self.rules.not_enforced) if hasattr(self, "rules") else [],
        }
        outcome.report = json.loads(redact(json.dumps(report), secrets))  # what the file would hold
        if self.settings.dry_run:  # a dry run changes nothing: the caller prints the report
            return "", ""
        try:
            path = write_report(self._runs_dir(), report, secrets)
            summary = os.path.join(os.path.dirname(path), f"{outcome.run_id}-escalations.md")
            write_summary(summary, report, secrets)
        except (WriteError, OSError) as err:
            self.emit("warning", {"message": f"the run report could not be written: {err}"})
            return "", ""
        return path, summary


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


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


def _gate_files(plan: list[PlannedGate], root: str) -> list[str]:
    """Files the planned gates take rules or verdicts from: `*_file` options (pattern files, the
    links ignore file) and the links cache, whose default lives outside the repository."""
    files = []
    for planned in plan:
        options = planned.options
        if options is None or not dataclasses.is_dataclass(options):
            continue
        for f in dataclasses.fields(options):
            value = getattr(options, f.name)
            if not f.name.endswith("_file") or not isinstance(value, str) or value == "-":
                continue
            if not value and f.name == "cache_file":
                value = default_cache_file()
            if value:
                files.append(value if os.path.isabs(value) else os.path.join(root, value))
    return files


def _feedback(failed: list[dict[str, Any]]) -> str:
    lines = []
    for gate in failed:
        lines.append(f"- {gate['gate']}: {gate['summary'] or gate['status']}")
        for finding in gate["findings"][:20]:
            lines.append(f"  - {finding['path']}:{finding['line']}:{finding['column']}: {finding['code']} "
                         f"{finding['message']}")
        if gate.get("output_tail"):
            lines.append("  output tail:\n" + "\n".join("    " + ln for ln in gate["output_tail"].splitlines()[-15:]))
    return "\n".join(lines)


def _signature(gates: list[dict[str, Any]]) -> str:
    """The same vector of gate results with the same normalised failure output = no progress."""
    parts = []
    for gate in gates:
        findings = sorted(f"{f['code']} {f['path']} {f['message']}" for f in gate["findings"])
        parts.append(f"{gate['gate']}={gate['status']}|{'|'.join(findings)}|{gate.get('output_tail', '')}")
    return hashlib.sha256(normalise_failure("\n".join(parts)).encode()).hexdigest()
