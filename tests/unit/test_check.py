"""`loopgate check` orchestration: verdicts, advisory gates, environment errors, exclusivity."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from loopgate.check import PlannedGate, run_check
from loopgate.findings import Finding, Severity
from loopgate.gates.base import GateContext, GateResult, GateSpec, GateStatus


@dataclass(frozen=True)
class _Opts:
    outcome: str = "passed"


def _finding(message: str) -> Finding:
    return Finding("docs/a.md", 3, 5, "LG501", Severity.ERROR, message, "fix it")


def _run(options: Any, context: GateContext) -> GateResult:
    if options.outcome == "failed":
        return GateResult("x", GateStatus.FAILED, [_finding("broken link")])
    if options.outcome == "error":
        return GateResult("x", GateStatus.ERROR, reason="command not found: npx")
    if options.outcome == "crash":
        raise RuntimeError("boom")
    if options.outcome == "skipped":
        return GateResult("x", GateStatus.SKIPPED, summary="no data files given; nothing validated")
    return GateResult("x", GateStatus.PASSED, summary="all good")


SPEC = GateSpec("fake", "a fake gate", "", _Opts, _run)


def _plan(name: str, outcome: str, *, required: bool = True) -> PlannedGate:
    return PlannedGate(name, SPEC, _Opts(outcome), required, ("quality-gate-checklist.md", 7, 5))


def test_all_required_pass_is_exit_0_and_results_keep_plan_order() -> None:
    outcome = run_check([_plan("b", "passed"), _plan("a", "passed")])
    assert outcome.exit_code() == 0 and outcome.ok
    assert [r.gate for r in outcome.results] == ["b", "a"]
    assert outcome.findings == []


def test_required_failure_is_exit_1_with_the_gates_findings_and_a_marker_on_the_entry() -> None:
    outcome = run_check([_plan("links", "failed"), _plan("scope", "passed")])
    assert outcome.exit_code() == 1 and not outcome.ok
    codes = sorted(f.code for f in outcome.findings)
    assert codes == ["LG501", "LG803"]
    marker = next(f for f in outcome.findings if f.code == "LG803")
    assert (marker.path, marker.line, marker.column) == ("quality-gate-checklist.md", 7, 5)


def test_advisory_failure_never_outvotes_and_its_findings_become_warnings() -> None:
    outcome = run_check([_plan("tests", "passed"), _plan("reviewer", "failed", required=False)])
    assert outcome.exit_code() == 0 and outcome.ok
    assert {f.severity for f in outcome.findings} == {Severity.WARNING}
    assert not any(f.code == "LG803" for f in outcome.findings)


def test_environment_error_in_a_required_gate_is_exit_2_and_reported_at_the_entry() -> None:
    outcome = run_check([_plan("tests", "error"), _plan("links", "failed")])
    assert outcome.exit_code() == 2
    error = next(f for f in outcome.findings if f.code == "LG801")
    assert "command not found: npx" in error.message


def test_a_crashing_gate_is_an_error_not_a_traceback() -> None:
    outcome = run_check([_plan("tests", "crash")])
    assert outcome.results[0].status is GateStatus.ERROR
    assert "RuntimeError: boom" in outcome.results[0].reason


def test_planning_problem_is_reported_as_bad_args() -> None:
    bad = PlannedGate("links", SPEC, None, True, ("quality-gate-checklist.md", 9, 5), "no such option: --offlin")
    outcome = run_check([bad])
    assert outcome.exit_code() == 2
    assert [f.code for f in outcome.findings] == ["LG802"]


def test_independent_gates_run_in_parallel_and_exclusive_ones_alone() -> None:
    lock = threading.Lock()
    state = {"running": 0, "max": 0, "exclusive_overlap": False, "exclusive_running": False}

    def slow(options: Any, context: GateContext) -> GateResult:
        with lock:
            state["running"] += 1
            state["max"] = max(state["max"], state["running"])
            if state["exclusive_running"]:
                state["exclusive_overlap"] = True
        time.sleep(0.05)
        with lock:
            state["running"] -= 1
        return GateResult("x", GateStatus.PASSED)

    def exclusive(options: Any, context: GateContext) -> GateResult:
        with lock:
            state["exclusive_running"] = True
            if state["running"]:
                state["exclusive_overlap"] = True
        time.sleep(0.05)
        with lock:
            state["exclusive_running"] = False
        return GateResult("x", GateStatus.PASSED)

    parallel = GateSpec("slow", "", "", _Opts, slow)
    alone = GateSpec("generated", "", "", _Opts, exclusive, exclusive=True)
    plan = [PlannedGate(f"g{i}", parallel, _Opts(), True) for i in range(4)]
    plan.insert(2, PlannedGate("gen", alone, _Opts(), True))
    outcome = run_check(plan, jobs=2)
    assert outcome.exit_code() == 0
    assert state["max"] == 2
    assert state["exclusive_overlap"] is False


def _hangs(options: object, context: object) -> GateResult:
    """Stands in for a gate stuck on a pathological input: no real gate should ever do this."""
    time.sleep(30)
    return GateResult("hang", GateStatus.PASSED)


def _quick(options: object, context: object) -> GateResult:
    return GateResult("quick", GateStatus.PASSED)


HANG = GateSpec("hang", "", "", object, _hangs)
QUICK = GateSpec("quick", "", "", object, _quick)


@pytest.mark.parametrize("why", ["deadline", "stopped"])
def test_a_gate_that_never_returns_is_abandoned_at_the_deadline_or_on_stop(why: str) -> None:
    plan = [PlannedGate("hang", HANG, None, True), PlannedGate("quick", QUICK, None, True)]
    started = time.monotonic()
    outcome = run_check(plan, jobs=2, deadline=started + 0.3 if why == "deadline" else None,
                        should_stop=(lambda: time.monotonic() > started + 0.3) if why == "stopped" else None)
    assert time.monotonic() - started < 10  # not the 30 s the gate would take
    assert outcome.stopped == why
    hang, quick = outcome.results
    assert quick.status is GateStatus.PASSED
    assert hang.status is GateStatus.ERROR and ("time limit" in hang.reason or "stopped" in hang.reason)
    assert outcome.exit_code() == 2


@pytest.mark.parametrize("advisory", ["passed", "failed", "skipped"])
def test_only_advisory_gates_decide_nothing_and_do_not_pass(advisory: str) -> None:
    outcome = run_check([_plan("style", advisory, required=False), _plan("docs", "passed", required=False)])
    assert outcome.exit_code() == 1 and not outcome.ok
    undecided = [f for f in outcome.findings if f.code == "LG805"]
    assert len(undecided) == 1 and "'style', 'docs'" in undecided[0].message
    assert (undecided[0].path, undecided[0].line, undecided[0].column) == ("quality-gate-checklist.md", 1, 1)


def test_a_skipped_required_gate_does_not_pass_even_beside_a_passing_one() -> None:
    outcome = run_check([_plan("data", "skipped"), _plan("tests", "passed")])
    assert outcome.exit_code() == 1 and not outcome.ok
    [skipped] = [f for f in outcome.findings if f.code == "LG804"]
    assert (skipped.line, skipped.column) == (7, 5)
    assert "nothing validated" in skipped.message
    assert [f.code for f in outcome.findings] == ["LG804"]


def test_an_advisory_skip_or_error_does_not_decide() -> None:
    outcome = run_check([_plan("tests", "passed"), _plan("style", "skipped", required=False),
                         _plan("lint", "error", required=False)])
    assert outcome.exit_code() == 0 and outcome.ok
