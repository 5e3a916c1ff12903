"""`loopgate check`: run a loop's quality gates and aggregate one verdict.

The plan (which gate, which options, required or advisory) is built by the CLI layer from
quality-gate-checklist.md; this module only runs it. Independent gates run in parallel;
gates that change the working tree (e.g. `generated`) run alone, before the others.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from loopgate import codes, records, signals
from loopgate.findings import Finding, Severity, sort_findings
from loopgate.gates._process import running, stop_running
from loopgate.gates.base import GateContext, GateResult, GateSpec, GateStatus, Timer
from loopgate.gates.registry import (
    BAD_GATE_ARGS,
    GATE_ERROR,
    NO_CI_BASE,
    NOTHING_DECIDED,
    REQUIRED_GATE_FAILED,
    REQUIRED_GATE_SKIPPED,
)
from loopgate.records import field, record
from loopgate.signals import STOP_SIGNALS


@record(frozen=True)
class PlannedGate:
    name: str  # the checklist entry, e.g. "link check"
    spec: GateSpec | None
    options: Any
    required: bool
    origin: tuple[str, int, int] = ("", 1, 1)  # checklist path, line, column of the entry
    problem: str = ""  # a planning failure: the gate will not run
    no_base: bool = False  # the problem is the CI's (LG807), not the entry's args (LG802)


@record
class CheckResult:
    planned: list[PlannedGate]
    results: list[GateResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    stopped: str = ""  # "deadline" or "stopped" when gates were abandoned unfinished

    def status_of(self, required: bool) -> set[GateStatus]:
        return {r.status for p, r in zip(self.planned, self.results, strict=True) if p.required == required}

    @property
    def ok(self) -> bool:
        """Passed only when required gates ran and every one of them passed: skipped decides nothing."""
        required = self.status_of(True)
        return bool(required) and required <= {GateStatus.PASSED}

    def exit_code(self) -> int:
        if GateStatus.ERROR in self.status_of(True):
            return 2
        return 0 if self.ok else 1


def _at(planned: PlannedGate, code: codes.Code, message: str, severity: Severity | None = None) -> Finding:
    path, line, column = planned.origin
    finding = code.at(path or "quality-gate-checklist.md", line, column, message)
    return records.replace(finding, severity=severity) if severity else finding


def _run_one(planned: PlannedGate, context: GateContext) -> GateResult:
    if planned.spec is None or planned.problem:
        return GateResult(planned.name, GateStatus.ERROR, reason=planned.problem or "unknown gate")
    timer = Timer()
    if context.git_env and not planned.spec.runs_commands:
        context = records.replace(context, env={**(context.env or os.environ), **context.git_env})
    try:
        result = planned.spec.run(planned.options, context)
    except Exception as err:  # a gate bug must not take the whole check down
        result = GateResult(planned.name, GateStatus.ERROR, reason=f"gate crashed: {type(err).__name__}: {err}")
    result.gate = planned.name
    result.duration = result.duration or timer.elapsed()
    return result


def _verdict_findings(planned: PlannedGate, result: GateResult) -> list[Finding]:
    """The gate's own findings (advisory ones as warnings), plus one marking its checklist entry."""
    severity = None if planned.required else Severity.WARNING
    found = [records.replace(f, severity=Severity.WARNING) if severity and f.severity is Severity.ERROR else f
             for f in result.findings]
    if planned.problem:
        code = NO_CI_BASE if planned.no_base else BAD_GATE_ARGS
        found.append(_at(planned, code, f"gate '{planned.name}': {planned.problem}", severity))
    elif result.status is GateStatus.ERROR:
        found.append(_at(planned, GATE_ERROR, f"gate '{planned.name}' could not run: {result.reason}", severity))
    elif result.status is GateStatus.FAILED and planned.required:
        found.append(_at(planned, REQUIRED_GATE_FAILED, f"required gate '{planned.name}' failed"))
    elif result.status is GateStatus.SKIPPED and planned.required:
        why = f": {result.summary}" if result.summary else ""
        found.append(_at(planned, REQUIRED_GATE_SKIPPED, f"required gate '{planned.name}' was skipped{why}"))
    return found


def _nothing_decided(plan: list[PlannedGate]) -> list[Finding]:
    if not plan or any(p.required for p in plan):
        return []
    path = plan[0].origin[0] or "quality-gate-checklist.md"
    names = ", ".join(f"'{p.name}'" for p in plan)
    return [NOTHING_DECIDED.at(path, 1, 1, f"no required gate ran (only advisory: {names}); nothing decided "
                               "the verdict")]


def run_check(plan: list[PlannedGate], *, jobs: int = 2, context: GateContext | None = None,
              on_done: Callable[[PlannedGate, GateResult], None] | None = None,
              deadline: float | None = None, should_stop: Callable[[], bool] | None = None) -> CheckResult:
    """Run the plan: tree-changing gates alone first, then the rest on `jobs` workers.

    `deadline` (a time.monotonic() value) and `should_stop` let the run loop hold its runtime
    budget and answer SIGTERM while gates run: the workers are daemon threads, so a gate that
    never returns (a pathological input) is abandoned, reported as not finished, and cannot
    keep the process alive.
    """
    context = context or GateContext()
    results: dict[int, GateResult] = {}
    lock = threading.Lock()

    def work(indices: queue.SimpleQueue[int]) -> None:
        while True:
            try:
                index = indices.get_nowait()
            except queue.Empty:
                return
            result = _run_one(plan[index], context)
            with lock:
                results[index] = result
            if on_done is not None:
                on_done(plan[index], result)

    exclusive = [i for i, p in enumerate(plan) if p.spec is not None and p.spec.exclusive]
    rest = [i for i in range(len(plan)) if i not in exclusive]
    stopped = ""
    batches: tuple[tuple[list[int], int], ...] = ((exclusive, 1), (rest, max(1, jobs)))
    for batch, workers in batches:
        stopped = stopped or _run_batch(batch, min(workers, len(batch)), work, deadline, should_stop)
    outcome = CheckResult(plan, [results.get(i) or _unfinished(plan[i], stopped) for i in range(len(plan))])
    outcome.stopped = stopped
    for planned, result in zip(plan, outcome.results, strict=True):
        outcome.findings.extend(_verdict_findings(planned, result))
    outcome.findings.extend(_nothing_decided(plan))
    outcome.findings = sort_findings(outcome.findings)
    return outcome


def _run_batch(batch: list[int], workers: int, work: Callable[[queue.SimpleQueue[int]], None],
               deadline: float | None, should_stop: Callable[[], bool] | None) -> str:
    """Run one batch; "" when it finished, else why it was abandoned ("deadline" / "stopped")."""
    if not batch:
        return ""
    indices: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in batch:
        indices.put(index)
    threads = [threading.Thread(target=work, args=(indices,), daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        why = "deadline" if deadline is not None and time.monotonic() >= deadline else \
            "stopped" if should_stop is not None and should_stop() else ""
        if why:
            _stop_commands(threads)
            return why
        alive = next((t for t in threads if t.is_alive()), None)
        if alive is not None:
            alive.join(0.05)
    return ""


CLEANUP_WAIT = 30.0  # seconds a stopped gate gets to put back what it changed (the generated gate's tree)


def _stop_commands(threads: list[threading.Thread]) -> None:
    """A stop or the deadline while gates run: their commands (and what those started) are ended, and a
    gate that changed the tree puts it back, before the workers are abandoned. Without this the process
    would exit with a generator half way and the user's work in progress overwritten."""
    stop_running(signal.SIGTERM)
    until = time.monotonic() + CLEANUP_WAIT
    while running() and any(t.is_alive() for t in threads) and time.monotonic() < until:
        time.sleep(0.02)


class StopSignals:
    """SIGTERM, SIGINT and SIGHUP to `loopgate check` (in the main thread) are noted, not fatal: `stopped`
    is then true, `run_check` stops the gates (each cleans up) and the check reports what finished."""

    def __init__(self) -> None:
        self.received = 0
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        signals.put_back(self.previous, bool(self.received))

    def _note(self, signum: int, _frame: Any) -> None:
        self.received = self.received or signum

    def stopped(self) -> bool:
        return bool(self.received)


def _unfinished(planned: PlannedGate, why: str) -> GateResult:
    reason = "did not finish within the run's time limit" if why == "deadline" else "not finished: the run was stopped"
    return GateResult(planned.name, GateStatus.ERROR, reason=reason)
