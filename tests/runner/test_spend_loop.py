"""`loopgate run` end to end with hostile and careless makers (real subprocesses, a real git
repository): a mistyped maker, an agent reporting an auth failure or refused edits, Codex-style
token-only usage against a cost budget, a budget in a currency no agent reports, the per-attempt
runtime and stall limits against an agent that ignores SIGTERM, a tool-call overrun whose work is
still judged, and the remaining budgets exported to the maker."""

from __future__ import annotations

import json
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import Loop, RunError, RunOutcome, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, PlanFactory

AGENT = r'''
"""A stand-in agent. argv: mode. It works in the item's worktree like a real one would."""
import json, os, pathlib, signal, sys, time

mode = sys.argv[1]

def emit(event):
    sys.stdout.write(json.dumps(event) + "\n"); sys.stdout.flush()

def fix():
    guide = pathlib.Path("docs/guide.md")
    guide.write_text(guide.read_text().replace("missing.md", "index.md"))

if mode == "claude-auth":  # Claude Code -p with a revoked key: a result that is an error, exit 1
    emit({"type": "system", "subtype": "init", "session_id": "s", "model": "claude-sonnet-4-5"})
    emit({"type": "assistant", "error": "authentication_failed", "message": {"id": "m0", "content": [
        {"type": "text", "text": "Invalid API key · Please run /login"}]}})
    emit({"type": "result", "subtype": "success", "is_error": True, "num_turns": 1, "duration_ms": 80,
          "result": "Invalid API key · Please run /login", "total_cost_usd": 0, "permission_denials": [],
          "usage": {"input_tokens": 0, "output_tokens": 0}})
    sys.exit(1)
if mode in ("claude-billing", "claude-rate-limit"):  # a result that is an API error, exit 1
    said = ("Credit balance is too low" if mode == "claude-billing" else
            'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens '
            'has exceeded your per-minute rate limit"}}')
    emit({"type": "system", "subtype": "init", "session_id": "s", "model": "claude-sonnet-4-5"})
    emit({"type": "result", "subtype": "success", "is_error": True, "num_turns": 1, "duration_ms": 80,
          "result": said, "total_cost_usd": 0, "permission_denials": [],
          "usage": {"input_tokens": 0, "output_tokens": 0}})
    sys.exit(1)
if mode in ("codex-unauthorized", "codex-quota"):  # codex exec --json whose turn fails at the API
    said = ("unexpected status 401 Unauthorized: Missing bearer or basic authentication in header"
            if mode == "codex-unauthorized" else "Quota exceeded. Check your plan and billing details.")
    emit({"type": "thread.started", "thread_id": "th_1"})
    emit({"type": "turn.started"})
    emit({"type": "error", "message": said})
    emit({"type": "turn.failed", "error": {"message": said}})
    sys.exit(1)
if mode == "claude-denied":  # claude -p without a permission mode: every edit refused
    emit({"type": "system", "subtype": "init", "session_id": "s", "permissionMode": "default"})
    denials = []
    for n in (1, 2):
        emit({"type": "assistant", "message": {"id": f"m{n}", "content": [
            {"type": "tool_use", "id": f"t{n}", "name": "Edit", "input": {"file_path": "docs/guide.md"}}]}})
        emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": f"t{n}", "is_error": True,
              "content": "Claude requested permissions to write to docs/guide.md, but you haven't granted it yet."}]}})
        denials.append({"tool_name": "Edit", "tool_use_id": f"t{n}", "tool_input": {}})
    emit({"type": "result", "subtype": "success", "is_error": False, "num_turns": 3, "result": "I need permission.",
          "total_cost_usd": 0.01, "permission_denials": denials, "usage": {"input_tokens": 900, "output_tokens": 40}})
if mode == "codex-tokens":  # codex exec --json: tokens per turn, never a price, never done
    fix()
    emit({"type": "thread.started", "thread_id": "th_1"})
    while True:
        emit({"type": "turn.started"})
        time.sleep(0.1)
        emit({"type": "turn.completed", "usage": {"input_tokens": 40000, "cached_input_tokens": 30000,
                                                  "output_tokens": 2000}})
if mode == "fix-then-ignore-term":
    fix()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        print("polishing...", flush=True); time.sleep(0.1)
if mode == "stall":
    print("thinking...", flush=True)
    time.sleep(600)
if mode in ("claude-tools", "fix-then-claude-tools"):  # stream-json tool calls, no result (it is killed)
    if mode.startswith("fix"):
        fix()
    n = 0
    while True:
        n += 1
        emit({"type": "assistant", "message": {"id": f"m{n}", "usage": {"input_tokens": 10,
              "cache_read_input_tokens": 4000, "output_tokens": 80},
              "content": [{"type": "tool_use", "id": f"t{n}", "name": "Bash", "input": {}}]}})
        time.sleep(0.05)
if mode == "env":
    names = ("LOOPGATE_REMAINING_SECONDS", "LOOPGATE_REMAINING_COST_USD", "LOOPGATE_REMAINING_TOKENS",
             "LOOPGATE_MAX_TOOL_CALLS")
    print("ENV " + json.dumps({n: os.environ.get(n) for n in names}), flush=True)  # into maker.log
    fix()
'''


@pytest.fixture
def agent(tmp_path: Path) -> str:
    path = tmp_path / "agent.py"
    path.write_text(AGENT)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def set_budgets(repo: LoopRepo, *lines: str, iterations: int = 2) -> None:
    repo.set_spec(iterations=iterations)
    spec = repo.loop / "LOOP_SPEC.md"
    anchor = "- max pull requests per run: 2"
    spec.write_text(spec.read_text().replace(anchor, "\n".join([anchor, *lines])))
    repo.commit("budgets")


def run(repo: LoopRepo, factory: PlanFactory, maker: str | None = None) -> RunOutcome:
    return Loop(RunSettings(str(repo.loop), maker=maker, max_items=1, grace=0.5), factory).run()


def report_of(outcome: RunOutcome) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    return report


def doc(report: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = next(i for i in report["items"] if i["id"] == "DOC-1")
    return item


def state_item(repo: LoopRepo) -> Any:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return state.items["DOC-1"]


def assert_resumable(repo: LoopRepo, factory: PlanFactory) -> None:
    """Not escalated, no attempt spent: the spec's own maker finishes it in the next run."""
    item = state_item(repo)
    assert item.status not in ("escalated", "drafted"), item
    assert item.attempts == 0
    assert "failures" not in item.extra
    again = run(repo, factory)
    assert again.stop is Stop.DONE, again.detail
    assert state_item(repo).status == "drafted"
    assert [a["attempt"] for a in doc(report_of(again))["attempts"]] == [1]


# -- section 5: the environment is not the item ----------------------------------------------------------

def test_a_mistyped_maker_stops_the_run_as_environmental_and_a_fixed_rerun_works(
        loop_repo: LoopRepo, factory: PlanFactory) -> None:
    outcome = run(loop_repo, factory, "claud -p --permission-mode acceptEdits")
    assert outcome.stop is Stop.ENVIRONMENT and outcome.stop.exit_code == 5
    assert "exit 127" in outcome.detail and "check the spelling of `claud`" in outcome.detail
    [attempt] = doc(report_of(outcome))["attempts"]
    assert attempt["environment"]["kind"] == "command-not-found"
    assert "verdict" not in attempt  # nothing was judged: there was no agent
    item = state_item(loop_repo)
    assert "resumes" in item.next_action and "claud" in item.reason
    assert_resumable(loop_repo, factory)


def test_a_maker_that_is_not_executable(loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path) -> None:
    script = tmp_path / "agent.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    outcome = run(loop_repo, factory, str(script))
    assert outcome.stop is Stop.ENVIRONMENT
    assert "exit 126" in outcome.detail and "chmod +x" in outcome.detail
    assert state_item(loop_repo).status != "escalated"


def test_an_agent_reporting_an_auth_failure_stops_the_run_and_the_item_resumes(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    outcome = run(loop_repo, factory, f"{agent} claude-auth")
    assert outcome.stop is Stop.ENVIRONMENT
    assert "authentication failure (Invalid API key · Please run /login)" in outcome.detail
    assert "- environment: ANTHROPIC_API_KEY" in outcome.detail
    [attempt] = doc(report_of(outcome))["attempts"]
    assert attempt["environment"]["kind"] == "authentication"
    assert attempt["maker"]["agent"]["is_error"] is True
    assert_resumable(loop_repo, factory)


@pytest.mark.parametrize(("mode", "kind", "said"), [
    ("claude-billing", "billing", "Credit balance is too low"),
    ("claude-rate-limit", "rate-limit", "rate_limit_error"),
    ("codex-unauthorized", "authentication", "401 Unauthorized"),
    ("codex-quota", "billing", "Quota exceeded"),
])
def test_an_agent_reporting_a_setup_failure_stops_the_run_and_the_item_resumes(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str, mode: str, kind: str, said: str) -> None:
    # the whole loop around a real process printing what the agent prints: not the item's failure,
    # the run stops as environmental (exit 5 from the CLI), says what to fix, and the item resumes
    outcome = run(loop_repo, factory, f"{agent} {mode}")
    assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
    assert said in outcome.detail, outcome.detail
    [attempt] = doc(report_of(outcome))["attempts"]
    assert attempt["environment"]["kind"] == kind
    item = state_item(loop_repo)
    assert item.status != "escalated" and "resumes" in item.next_action, (item.status, item.next_action)
    assert_resumable(loop_repo, factory)


def test_refused_edits_name_the_permission_flag(loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    outcome = run(loop_repo, factory, f"{agent} claude-denied")
    assert outcome.stop is Stop.ENVIRONMENT
    assert "`--permission-mode acceptEdits`" in outcome.detail
    assert state_item(loop_repo).status != "escalated"


def test_the_cli_exits_5_for_a_mistyped_maker(loop_repo: LoopRepo) -> None:
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop), "--max-items", "1", "-q",
                           "--maker", "claud -p"], cwd=loop_repo.root, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "environmental-failure" in done.stdout and "claud" in done.stdout


# -- section 6: spend that fails closed ---------------------------------------------------------------------

def test_a_codex_maker_under_max_cost_without_prices_refuses_to_start(
        loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    codex = bin_dir / "codex"
    codex.write_text(f"#!{sys.executable}\nprint('never run')\n")
    codex.chmod(0o755)
    set_budgets(loop_repo, "- max cost: $5")
    state_before = (loop_repo.loop / "LOOP_STATE.md").exists()
    with pytest.raises(RunError, match=r"codex reports tokens and no price.*price per million input tokens"):
        run(loop_repo, factory, f"{codex} exec --json --sandbox workspace-write -")
    assert (loop_repo.loop / "LOOP_STATE.md").exists() == state_before  # nothing written


PRICES = ("- price per million input tokens: $1.25", "- price per million cached input tokens: $0.125",
          "- price per million output tokens: $10")


def test_codex_style_token_only_usage_is_charged_at_the_specs_prices_and_stops_max_cost(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max cost: $0.10", *PRICES)
    outcome = run(loop_repo, factory, f"{agent} codex-tokens")
    assert outcome.stop is Stop.BUDGET and outcome.detail == "max cost reached during an attempt"
    report = report_of(outcome)
    [attempt] = doc(report)["attempts"]
    maker = attempt["maker"]
    assert maker["stopped"] == "cost" and maker["cost_from"] == "prices"
    turns = maker["usage"]["output_tokens"] // 2000
    assert maker["usage"]["cost_usd"] == pytest.approx(turns * 0.03625, abs=1e-6) and maker["usage"]["cost_usd"] > 0.1
    assert report["usage"]["cost_usd"] == maker["usage"]["cost_usd"]
    assert state_item(loop_repo).status != "escalated"


def test_token_only_usage_without_prices_stops_the_run_rather_than_run_unmetered(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max cost: $5")
    outcome = run(loop_repo, factory, f"{agent} codex-tokens")  # a wrapper: its name does not say codex
    assert outcome.stop is Stop.ENVIRONMENT
    assert "tokens and no price" in outcome.detail and "price per million input tokens" in outcome.detail
    [attempt] = doc(report_of(outcome))["attempts"]
    assert attempt["maker"]["stopped"] == "unpriced" and attempt["maker"]["cost_from"] == "unknown"
    assert state_item(loop_repo).status != "escalated"


def test_a_claude_attempt_killed_before_its_cost_arrives_fails_closed_without_prices(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max cost: $5")
    loop_repo.loop.joinpath("LOOP_SPEC.md").write_text(loop_repo.loop.joinpath("LOOP_SPEC.md").read_text().replace(
        "max tool calls per iteration: 20", "max tool calls per iteration: 3"))
    loop_repo.commit("tool calls")
    outcome = run(loop_repo, factory, f"{agent} claude-tools")
    report = report_of(outcome)
    [attempt] = doc(report)["attempts"]
    assert attempt["maker"]["stopped"] == "tool-calls"
    assert attempt["maker"]["usage"]["complete"] is False  # usage: incomplete
    assert report["usage"]["incomplete_attempts"] == 1
    assert outcome.stop is Stop.ENVIRONMENT and "cannot be charged" in outcome.detail


def test_max_tokens_is_a_budget_beside_cost(loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max tokens: 100,000")
    outcome = run(loop_repo, factory, f"{agent} codex-tokens")
    assert outcome.stop is Stop.BUDGET and outcome.detail == "max tokens reached during an attempt"
    report = report_of(outcome)
    assert report["budgets"]["max_tokens"] == 100000
    assert report["usage"]["input_tokens"] + report["usage"]["output_tokens"] > 100000


def test_a_currency_no_agent_reports_needs_a_rate(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    set_budgets(loop_repo, "- max cost: 20 EUR")
    with pytest.raises(RunError, match="agents report cost in USD"):
        run(loop_repo, factory)
    set_budgets(loop_repo, "- max cost: 20 EUR", "- exchange rate: 1 EUR = 1.08 USD")
    report = report_of(run(loop_repo, factory))
    assert report["budgets"]["max_cost_usd"] == pytest.approx(21.6)
    assert report["budgets"]["max_cost"] == "20 EUR (21.6 USD)"


def test_a_term_ignoring_agent_against_a_small_per_attempt_budget(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max runtime per iteration: 1 second")
    # a 3 s grace on top of the 1 s budget would let it live 4 s: the grace is cut to fit inside
    outcome = Loop(RunSettings(str(loop_repo.loop), maker=f"{agent} fix-then-ignore-term", max_items=1, grace=3.0),
                   factory).run()
    report = report_of(outcome)
    [attempt] = doc(report)["attempts"]
    assert attempt["maker"]["stopped"] == "iteration-timeout"
    assert attempt["maker"]["duration"] < 2.5  # gone by the deadline (test_maker_limits.py times it exactly)
    # the work it did before the deadline was paid for: the gates judged it, and both facts are kept
    assert attempt["verdict"] == "passed" and "max runtime per iteration" in attempt["over_budget"]
    assert outcome.stop is Stop.DONE and state_item(loop_repo).status == "drafted"
    assert "max runtime per iteration" in state_item(loop_repo).extra["attempt_stopped"]


def test_the_stall_watchdog_has_its_own_stop_reason(loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- stalled after: 1 second")
    outcome = run(loop_repo, factory, f"{agent} stall")
    report = report_of(outcome)
    attempts = doc(report)["attempts"]
    assert [a["maker"]["stopped"] for a in attempts] == ["stalled", "stalled"]
    assert [a["verdict"] for a in attempts] == ["no-change", "no-change"]
    assert "stalled: no output for 1 s" in attempts[0]["over_budget"]
    assert "stalled" in state_item(loop_repo).extra["attempt_stopped"]
    assert outcome.stop is Stop.ESCALATIONS  # the same nothing twice: no progress, the item's own failure


def test_a_tool_call_overrun_is_still_judged_when_runtime_remains(
        loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo)
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("max tool calls per iteration: 20", "max tool calls per iteration: 3"))
    loop_repo.commit("tool calls")
    outcome = run(loop_repo, factory, f"{agent} fix-then-claude-tools")
    [attempt] = doc(report_of(outcome))["attempts"]
    assert attempt["maker"]["stopped"] == "tool-calls"
    assert attempt["over_budget"] == "the attempt used more than 3 tool calls"
    assert attempt["verdict"] == "passed" and [g["status"] for g in attempt["gates"]] == ["passed", "passed"]
    assert state_item(loop_repo).status == "drafted"


def test_remaining_budgets_are_exported_to_the_maker(loop_repo: LoopRepo, factory: PlanFactory, agent: str) -> None:
    set_budgets(loop_repo, "- max cost: $4", "- max tokens: 50000", "- max runtime per iteration: 2 minutes", *PRICES)
    outcome = run(loop_repo, factory, f"{agent} env")
    assert outcome.stop is Stop.DONE
    env = _printed_env(loop_repo)
    assert env["LOOPGATE_REMAINING_COST_USD"] == "4.0000"
    assert env["LOOPGATE_REMAINING_TOKENS"] == "50000"
    assert env["LOOPGATE_MAX_TOOL_CALLS"] == "20"
    assert 110 <= int(env["LOOPGATE_REMAINING_SECONDS"]) <= 120  # the per-iteration limit, less the grace


def _printed_env(repo: LoopRepo) -> dict[str, str]:
    """What the maker printed of its environment, from its maker.log (kept in the git directory)."""
    for log in list(Path(repo.root, ".git").rglob("maker.log")):  # a list: the scandir iterators close
        for line in log.read_text().splitlines():
            if line.startswith("ENV "):
                data: dict[str, str] = json.loads(line[4:])
                return data
    raise AssertionError("the maker did not print its environment")
