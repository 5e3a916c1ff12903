"""What a run is told and what it returns: its settings, each item's record, the named stops.

Every way a run ends is a `Stop` with its own exit status; the exceptions below carry a stop
from deep inside an item or an attempt up to the run, which turns each into one of them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from loopgate.check import PlannedGate
from loopgate.records import field, record
from loopgate.runner.queue import WorkItem

PlanFactory = Callable[[str, str, WorkItem], list[PlannedGate]]  # (worktree, base, item) -> plan


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
    """The run cannot start: a usage or input error (invalid loop, lock held, bad queue), exit 2,
    or the environment (GitHub's token, limit or outage while reading the work), exit 5."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@record(frozen=True)
class RunSettings:
    loop_dir: str
    maker: str | None = None
    mode: str | None = None
    max_items: int | None = None
    dry_run: bool = False
    base: str = "HEAD"
    grace: float = 3.0


@record
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


@record
class RunOutcome:
    stop: Stop
    detail: str
    run_id: str
    report_path: str = ""
    summary_path: str = ""
    records: list[ItemRecord] = field(default_factory=list)
    stale_lock: str = ""
    report: dict[str, Any] = field(default_factory=dict)  # what report_path holds (a dry run writes none)


class EnvironmentStop(Exception):
    """A gate or the maker failed for a reason outside the change: stop the run."""

    def __init__(self, message: str, fix: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.fix = fix  # what the user must change; the item resumes next run
        self.detail = detail or message  # what happened, without the fix


class BudgetStop(Exception):
    """A budget ran out."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived."""


class Tampering(Exception):
    """The maker did what it may not; `then` is the stop that ended its attempt (a signal, a run
    budget), raised once the item is escalated, so the run still stops for it."""

    def __init__(self, message: str, then: Exception | None = None) -> None:
        super().__init__(message)
        self.then = then


class ControlFileEdited(Tampering):
    """The maker changed a control file (spec, state, checklist, policy, readiness, config)."""


class Escalates(Exception):
    """What the attempt did that a person must review: the item is escalated with `what` and the
    exception's text (what it names), and `action` is the next action the state gives."""

    what = ""
    action = ""

    @classmethod
    def naming(cls, names: list[str], shown: int = 10) -> Escalates:
        """The exception naming the first `shown` of `names` and how many more there are."""
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        return cls(", ".join(names[:shown]) + more)


class GateSuppressed(Escalates):
    """The maker's diff adds a suppression that a gate would obey (see runner/tamper.py)."""

    what = "the maker added a gate suppression"
    action = "review the attempt; only a person may decide that a gate's finding does not apply"


class ChangedAfterJudging(Escalates):
    """The worktree changed after the gates judged it: a gate that rewrites files, or a process
    of the maker's that outlived the attempt. What no gate saw is never committed."""

    what = "the worktree changed after the gates judged it"
    action = ("find what still writes to the worktree (a gate that rewrites files, a process of the maker's that "
              "outlived it); nothing the gates did not judge was committed")


class StoredDifferently(Escalates):
    """The commit would store a changed file as other bytes than the gates read: a `.gitattributes`
    conversion (working-tree-encoding) the maker wrote turned what no gate saw into the commit."""

    what = "the commit would store files as other bytes than the gates read"
    action = ("review the attempt: a .gitattributes conversion (working-tree-encoding, ident) changes what git "
              "stores; nothing was committed")


class NestedRepository(Escalates):
    """Contained, a git repository appeared inside the worktree (the maker's, or a command gate's):
    loopgate's own `git add` looks into it, under that repository's config, outside the sandbox."""

    what = "a git repository was made inside the worktree"
    action = ("review the attempt: loopgate's own git would look into it under its own configuration (a clean "
              "filter), outside the sandbox; nothing was committed")


class LinkOutside(Escalates):
    """The change holds a symlink that leads out of the worktree. The gates run outside the sandbox:
    they would read (and report, into the next prompt) what it points at, and judge content the
    commit does not hold."""

    what = "the maker added a symlink leading outside the worktree"
    action = ("review the attempt; the gates would read what it points at, outside the sandbox, and the commit "
              "would hold only the link")


class PushAttempt(Tampering):
    """The refs of a remote on this machine changed during the attempt: the maker pushed."""


class Paused(Exception):
    """The kill switch was found between two attempts of an item."""
