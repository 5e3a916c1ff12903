"""What every gate shares: its options declaration, its result, and its place in the registry.

A gate is a module with a frozen `Options` dataclass and a `run(options, context)` function
that returns a GateResult. It never prints and never exits. The CLI builds `loopgate gate NAME`
from the Options fields (type, default, `help` metadata), pyproject's `[tool.loopgate.gates.NAME]`
fills the same fields, and `loopgate check` runs the same function.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable

from loopgate.findings import Finding, Severity
from loopgate.records import field, record

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any


class GateStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    # The gate could not do its job for a reason outside the change (command not found,
    # timeout, network unreachable). The run loop stops on this instead of retrying the maker.
    ERROR = "error"
    SKIPPED = "skipped"


@record
class GateResult:
    gate: str
    status: GateStatus
    findings: list[Finding] = field(default_factory=list)
    duration: float = 0.0
    # One line of what was checked and, as important, what was not ("12 external links not
    # checked: --offline"). A gate is explicit about its blind spots.
    summary: str = ""
    output_tail: str = ""
    # Set when status is ERROR: the environmental reason, e.g. "command not found: npx".
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "status": self.status.value,
            "duration": round(self.duration, 4),
            "summary": self.summary,
            "reason": self.reason,
            "output_tail": self.output_tail,
            "findings": [f.as_dict() for f in self.findings],
        }


def verdict(findings: list[Finding]) -> GateStatus:
    failed = any(f.severity is Severity.ERROR for f in findings)
    return GateStatus.FAILED if failed else GateStatus.PASSED


def opt(
    help_text: str, *, metavar: str | None = None, argument: bool = False, flag: str | None = None,
    minimum: float | None = None, maximum: float | None = None,
) -> dict[str, Any]:
    """Field metadata for an option: `help`, and `argument=True` for the variadic positional.
    `minimum`, `maximum`: the range a number option takes (command line, checklist and pyproject
    alike); a number outside it, or a float option's nan or inf, is a usage error (exit 2)."""
    return {"help": help_text, "metavar": metavar, "argument": argument, "flag": flag, "minimum": minimum,
            "maximum": maximum}


def bounds_text(meta: Any) -> str:
    """The declared range as help shows it ("0 to 1,024", "1 or more"); "" without one."""
    least, most = meta.get("minimum"), meta.get("maximum")
    if least is not None and most is not None:
        return f"{least:,} to {most:,}"
    if least is not None:
        return f"{least:,} or more"
    return f"at most {most:,}" if most is not None else ""


def out_of_bounds(value: Any, meta: Any) -> str:
    """Why a number option's value is outside its declared range ("" when it is inside, or the
    option declares none). Python's ints are unbounded: an absurd count would start a million
    processes or overflow a float conversion deep inside a gate, so it is refused where it is read."""
    least, most = meta.get("minimum"), meta.get("maximum")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (least is None and most is None):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    if (least is not None and value < least) or (most is not None and value > most):
        low = "" if least is None else f"{least:,}"
        high = "" if most is None else f"{most:,}"
        shown = value if isinstance(value, float) or abs(value) < 10**15 else f"a {len(str(abs(value)))}-digit number"
        if not high:
            return f"must be {low} or more, not {shown}"
        if not low:
            return f"must be {high} or less, not {shown}"
        return f"must be between {low} and {high}, not {shown}"
    return ""


# (argv, env, cwd) -> (argv, env) to execute instead: how a gate's command is started in a sandbox.
Launcher = Callable[[list[str], dict[str, str], str], tuple[list[str], dict[str, str]]]


@record(frozen=True)
class GateContext:
    """Where a gate runs. `cwd` is the repository (or worktree) the gate judges. `launch`, when
    set, wraps every process a gate starts for its command (`loopgate run` passes the sandbox's:
    the command may be the maker's work); None runs it as it is, as `loopgate check` does."""

    cwd: str = "."
    progress: Callable[[str], None] | None = None
    env: dict[str, str] | None = None
    launch: Launcher | None = None
    # Added to `env` for the gates that run no command of the user's (their own git only): `loopgate
    # run` names the worktree's repository (GIT_DIR...) there, so no git of loopgate's follows a
    # `.git` link a contained command gate can repoint while they run. A command (a test suite
    # that makes repositories of its own) must never inherit GIT_DIR, so command gates do not get it.
    git_env: dict[str, str] | None = None


@record(frozen=True)
class GateSpec:
    name: str
    summary: str
    doc: str  # the module docstring: the gate's user documentation
    options: type[Any]
    run: Callable[[Any, GateContext], GateResult]
    # pre-commit hook for this gate, if it makes sense as one
    hook: dict[str, Any] | None = None
    # Changes the working tree while it runs (a generator): `check` runs it alone.
    exclusive: bool = False
    # Runs a command of the user's (command, generated): never given GateContext.git_env.
    runs_commands: bool = False


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
