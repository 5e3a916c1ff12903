"""What an attempt cost: the parsers on each agent's real output shapes, and the budgets that
read them enforced mid-attempt against real maker subprocesses that never exit on their own."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import Loop, RunOutcome, RunSettings, Stop
from loopgate.runner.maker import MakerLimits, run_maker
from loopgate.runner.state import load_state
from loopgate.runner.usage import Usage, from_output, from_usage_file
from loopgate.verify import VerifySettings, run_verify

from .conftest import LoopRepo, PlanFactory, pid_alive


def lines(*events: Any) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


# -- samples shaped like the real tools' output --------------------------------------------------------------

CLAUDE_USAGE = {"input_tokens": 12, "cache_creation_input_tokens": 7924, "cache_read_input_tokens": 13368,
                "output_tokens": 431, "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard"}
CLAUDE_RESULT = {"type": "result", "subtype": "success", "is_error": False, "duration_ms": 39520,
                 "duration_api_ms": 36110, "num_turns": 4, "result": "Fixed the link in docs/guide.md.",
                 "session_id": "1f0e6a52-2f55-4b8e-9d1b-0c8f3d7d2a11", "total_cost_usd": 0.10457895,
                 "usage": CLAUDE_USAGE, "permission_denials": [], "uuid": "b5a0c0f4-93f4-4e39-bb5e-5b7f8f3f1d2e"}


def claude_tool_use(tool_id: str, name: str = "Bash", **extra: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {"command": "ls docs"}, **extra}


def claude_assistant(*content: dict[str, Any], message_id: str = "msg_01") -> dict[str, Any]:
    return {"type": "assistant", "parent_tool_use_id": None, "session_id": "1f0e6a52",
            "message": {"id": message_id, "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                        "content": list(content), "stop_reason": None,
                        "usage": {"input_tokens": 3, "cache_read_input_tokens": 13368, "output_tokens": 27}}}


def claude_tool_result(tool_id: str) -> dict[str, Any]:
    return {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tool_id, "content": "guide.md\nindex.md", "is_error": False}]}}


CLAUDE_STREAM = [
    {"type": "system", "subtype": "init", "cwd": "/w", "session_id": "1f0e6a52", "tools": ["Bash", "Read", "Edit"],
     "model": "claude-sonnet-4-5", "permissionMode": "acceptEdits"},
    claude_assistant({"type": "text", "text": "I'll look at the docs first."}),
    # two tool calls in one message, emitted as one event per content block (same message id)
    claude_assistant(claude_tool_use("toolu_01A", "Bash"), message_id="msg_02"),
    claude_assistant(claude_tool_use("toolu_01B", "Read"), message_id="msg_02"),
    claude_tool_result("toolu_01A"),
    claude_tool_result("toolu_01B"),
    claude_assistant(claude_tool_use("toolu_01C", "Edit"), {"type": "text", "text": "Editing."}, message_id="msg_03"),
    claude_tool_result("toolu_01C"),
    claude_assistant({"type": "text", "text": "Done."}, message_id="msg_04"),
    CLAUDE_RESULT,
]


def codex_item(kind: str, number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"item_{number}", "type": kind, **fields}


def codex_command(number: int, status: str = "completed") -> dict[str, Any]:
    return codex_item("command_execution", number, command="bash -lc 'ls docs'", aggregated_output="guide.md\n",
                      exit_code=0 if status == "completed" else None, status=status)


CODEX_STREAM = [
    {"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": codex_item("reasoning", 0, text="**Looking at the docs**")},
    {"type": "item.started", "item": codex_command(1, "in_progress")},
    {"type": "item.completed", "item": codex_command(1)},
    {"type": "item.started", "item": codex_item("todo_list", 2, items=[{"text": "fix link", "completed": False}])},
    {"type": "item.completed", "item": codex_item("file_change", 3, changes=[{"path": "docs/guide.md",
                                                                               "kind": "update"}],
                                                  status="completed")},
    {"type": "item.started", "item": codex_item("mcp_tool_call", 4, server="docs", tool="search", arguments={},
                                                result=None, error=None, status="in_progress")},
    {"type": "item.completed", "item": codex_item("mcp_tool_call", 4, server="docs", tool="search", arguments={},
                                                  result={"content": [], "structured_content": None}, error=None,
                                                  status="completed")},
    {"type": "item.completed", "item": codex_item("web_search", 5, query="commonmark link syntax")},
    {"type": "item.completed", "item": codex_item("agent_message", 6, text="Fixed the link.")},
    {"type": "turn.completed", "usage": {"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122}},
]


# -- the usage file ------------------------------------------------------------------------------------------

def test_usage_file_is_read_and_marked_reported(tmp_path: Path) -> None:
    path = tmp_path / "usage.json"
    path.write_text(json.dumps({"tool_calls": 7, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.042}))
    # the maker's own account: complete whenever it is read, priced when it names a cost
    assert from_usage_file(str(path)) == Usage(7, 1200, 300, 0.042, True, priced=True, complete=True)
    path.write_text(json.dumps({"tool_calls": 1, "cost": 0.5}))  # `cost` is accepted for `cost_usd`
    assert from_usage_file(str(path)) == Usage(1, 0, 0, 0.5, True, priced=True, complete=True)
    path.write_text(json.dumps({"input_tokens": 900, "cached_input_tokens": 800, "output_tokens": 10}))
    assert from_usage_file(str(path)) == Usage(0, 900, 10, 0.0, True, 800, priced=False, complete=True)


@pytest.mark.parametrize("text", [
    '{"tool_calls": 3, "input_tok',  # the maker was killed while writing it
    "",  # opened for writing, nothing written yet
    "[1, 2, 3]", '"usage"', "null", "\x00\xff not json",
])
def test_a_broken_usage_file_reports_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "usage.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert from_usage_file(str(path)) == Usage()
    assert from_usage_file(str(tmp_path / "absent.json")) == Usage()


def test_nonsense_values_in_the_usage_file_count_as_zero(tmp_path: Path) -> None:
    path = tmp_path / "usage.json"
    path.write_text('{"tool_calls": -4, "input_tokens": "many", "output_tokens": true, "cost_usd": Infinity}')
    usage = from_usage_file(str(path))
    assert usage == Usage(0, 0, 0, 0.0, True, priced=True, complete=True)
    json.dumps(usage.as_dict(), allow_nan=False)  # the run report stays valid JSON


# -- Claude Code ---------------------------------------------------------------------------------------------

def test_claude_json_result() -> None:
    usage = from_output(json.dumps(CLAUDE_RESULT))
    assert usage.reported
    assert usage.cost_usd == pytest.approx(0.10457895)
    assert usage.input_tokens == 12 + 7924 + 13368  # cache reads and writes are input the run paid for
    assert usage.output_tokens == 431


def test_claude_json_pretty_printed_and_with_an_older_cost_field() -> None:
    assert from_output(json.dumps(CLAUDE_RESULT, indent=2)).cost_usd == pytest.approx(0.10457895)
    older = {k: v for k, v in CLAUDE_RESULT.items() if k != "total_cost_usd"} | {"cost_usd": 0.3}
    assert from_output(json.dumps(older)).cost_usd == pytest.approx(0.3)


def test_claude_stream_json_counts_every_tool_use_across_messages() -> None:
    usage = from_output(lines(*CLAUDE_STREAM))
    assert usage.tool_calls == 3
    assert usage.cost_usd == pytest.approx(0.10457895)
    assert (usage.input_tokens, usage.output_tokens) == (12 + 7924 + 13368, 431)


def test_claude_stream_json_counts_a_repeated_tool_use_once() -> None:
    """A message re-emitted with its content so far must not count its earlier tool calls again."""
    first = claude_assistant(claude_tool_use("toolu_01A"), message_id="msg_02")
    again = claude_assistant(claude_tool_use("toolu_01A"), claude_tool_use("toolu_01B"), message_id="msg_02")
    assert from_output(lines(first, again)).tool_calls == 2


def test_claude_stream_json_killed_mid_write() -> None:
    """No final result yet and half a line at the end: what is complete counts, nothing crashes."""
    text = lines(*CLAUDE_STREAM[:7]) + json.dumps(CLAUDE_STREAM[8])[:40]
    usage = from_output(text)
    assert usage.tool_calls == 3
    assert usage.cost_usd == 0.0
    assert usage.reported


def test_claude_stream_json_with_partial_messages_and_noise() -> None:
    partial = {"type": "stream_event", "event": {"type": "content_block_start", "index": 0,
                                                 "content_block": {"type": "tool_use", "id": "toolu_01A"}}}
    text = ("\x1b[2mLoading MCP servers...\x1b[0m\n" + lines(CLAUDE_STREAM[0], partial, CLAUDE_STREAM[2])
            + "Warning: {not json}\n\n   \n" + lines(CLAUDE_STREAM[3], CLAUDE_RESULT) + "exit\n")
    usage = from_output(text)
    assert usage.tool_calls == 2  # the partial-message event does not count the tool call a second time
    assert usage.cost_usd == pytest.approx(0.10457895)


# -- Codex -----------------------------------------------------------------------------------------------------

def test_codex_exec_json_counts_completed_tool_items_and_turn_tokens() -> None:
    usage = from_output(lines(*CODEX_STREAM))
    # command_execution, file_change, mcp_tool_call, web_search; not reasoning, todo_list, agent_message
    assert usage.tool_calls == 4
    assert (usage.input_tokens, usage.output_tokens) == (24763, 122)
    assert usage.cost_usd == 0.0  # codex reports no cost
    assert usage.reported


def test_codex_turns_add_up_and_collab_tool_calls_count() -> None:
    collab = {"type": "item.completed", "item": codex_item("collab_tool_call", 9, tool="spawn_agent",
                                                           sender_thread_id="t", receiver_thread_ids=[],
                                                           prompt="help", agents_states={}, status="completed")}
    usage = from_output(lines(*CODEX_STREAM, {"type": "turn.started"}, collab,
                              {"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 0,
                                                                   "output_tokens": 8}}))
    assert usage.tool_calls == 5
    assert (usage.input_tokens, usage.output_tokens) == (24863, 130)


def test_codex_killed_mid_command() -> None:
    text = lines(*CODEX_STREAM[:4]) + json.dumps(CODEX_STREAM[4])[:25]
    usage = from_output(text)
    assert usage.tool_calls == 0  # the command never completed
    assert usage.input_tokens == 0


# -- malformed input never crashes -------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    '{"type": "assistant", "message": "text instead of an object"}',
    '{"type": "assistant", "message": {"content": 5}}',
    '{"type": "assistant", "message": {"content": "tool_use"}}',
    '{"type": "assistant", "message": {"content": [null, 3, "x", {"type": "tool_use", "id": ["list"]}]}}',
    '{"type": "result", "usage": [1, 2], "total_cost_usd": "0.5"}',
    '{"type": "result", "usage": {"input_tokens": 1e400}, "total_cost_usd": Infinity}',
    '{"type": "result", "total_cost_usd": NaN}',
    '{"num_turns": "many"}',
    '{"type": "item.completed", "item": "command_execution"}',
    '{"type": "item.completed", "item": {"type": ["command_execution"]}}',
    '{"type": "turn.completed", "usage": null}',
    '{"type": "turn.completed", "usage": "lots"}',
    '{"type": 7}', "[1, 2]", '"just a string"', "{", "}{", "{" * 5000, "\x00\x01\x02",
])
def test_malformed_events_never_crash(line: str) -> None:
    for text in (line, line + "\n" + lines(CLAUDE_RESULT), lines(CODEX_STREAM[4]) + line):
        usage = from_output(text)
        json.dumps(usage.as_dict(), allow_nan=False)
    assert from_output(line + "\n" + lines(CLAUDE_RESULT)).cost_usd == pytest.approx(0.10457895)
    assert from_output(lines(CODEX_STREAM[4]) + line).tool_calls >= 1


def test_plain_text_output_reports_nothing() -> None:
    assert from_output("fixed the link\nall tests pass\n") == Usage()
    assert from_output("") == Usage()


def test_usage_adds_up() -> None:
    total = Usage()
    total.add(Usage(2, 100, 10, 0.01, True, priced=True, complete=True))
    total.add(Usage(3, 50, 5, 0.02, False))  # reported nothing: says so itself, leaves the total's flags
    assert total == Usage(5, 150, 15, pytest.approx(0.03), True, priced=True, complete=True)  # type: ignore[arg-type]
    total.add(Usage(1, 10, 1, 0.0, True, priced=False, complete=False))  # killed before its totals came
    assert not total.complete and not total.priced
    assert total.as_dict() == {"tool_calls": 6, "input_tokens": 160, "output_tokens": 16, "cost_usd": 0.03,
                               "reported": True, "cached_input_tokens": 0, "priced": False, "complete": False}


# -- real maker subprocesses -----------------------------------------------------------------------------------

AGENT = r'''
"""A stand-in agent: prints one format's events slowly, and never exits on its own."""
import json, os, subprocess, sys, time

mode, pid_file = sys.argv[1], sys.argv[2]
child = subprocess.Popen(["sleep", "600"])  # what a real agent leaves running: a shell, a server
with open(pid_file, "w") as handle:
    handle.write(f"{os.getpid()} {os.getpgrp()} {child.pid}")

def emit(event, split=False):
    text = json.dumps(event) + "\n"
    if split:  # half a line now, the rest later: the budget check must not choke on it
        sys.stdout.write(text[:30]); sys.stdout.flush(); time.sleep(0.05); text = text[30:]
    sys.stdout.write(text); sys.stdout.flush()
    time.sleep(0.1)

print("starting agent (not JSON)", flush=True)
n = 0
while True:
    n += 1
    if mode == "claude-stream":
        emit({"type": "assistant", "message": {"id": f"msg_{n}", "content": [
            {"type": "tool_use", "id": f"toolu_{n}", "name": "Bash", "input": {"command": "ls"}}]}}, split=True)
        emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": f"toolu_{n}"}]}})
    elif mode == "codex":
        item = {"id": f"item_{n}", "type": "command_execution", "command": "ls", "status": "in_progress"}
        emit({"type": "item.started", "item": item})
        emit({"type": "item.completed", "item": {**item, "status": "completed", "exit_code": 0}}, split=True)
    elif mode == "usage-file":  # a wrapper that keeps its own account as it goes
        with open(os.environ["LOOPGATE_USAGE_FILE"], "w") as handle:
            json.dump({"tool_calls": n, "input_tokens": 1000 * n, "output_tokens": 100 * n,
                       "cost_usd": 0.01 * n}, handle)
        emit({"type": "heartbeat", "n": n})
    elif mode == "claude-result":  # claude finished; the wrapper around it hangs
        emit({"type": "assistant", "message": {"content": [{"type": "text", "text": "working"}]}})
        if n == 3:
            emit({"type": "result", "subtype": "success", "num_turns": 3, "total_cost_usd": 0.08,
                  "usage": {"input_tokens": 5000, "output_tokens": 700}})
    elif mode == "huge-then-result":  # more output than any fixed-size read, then the cost at the end
        if n == 1:
            blob = "x" * 100_000
            for i in range(180):
                sys.stdout.write(json.dumps({"type": "user", "message": {"content": [
                    {"type": "tool_result", "tool_use_id": f"t{i}", "content": blob}]}}) + "\n")
            emit({"type": "result", "num_turns": 2, "total_cost_usd": 0.9, "usage": {"output_tokens": 1}})
        time.sleep(0.1)
'''


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    path = tmp_path / "agent.py"
    path.write_text(AGENT)
    return path


def agent_command(agent: Path, mode: str) -> str:
    pids = agent.parent / f"{mode}.pids"
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(agent))} {mode} {shlex.quote(str(pids))}"


def group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process left in the process group."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def assert_all_dead(agent: Path, mode: str) -> None:
    """SIGKILL was sent to the whole group; the kernel ends its processes asynchronously."""
    pid, pgid, child = (int(x) for x in (agent.parent / f"{mode}.pids").read_text().split())
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid)
    assert not pid_alive(child)
    assert not group_alive(pgid)


def test_run_maker_reads_the_cost_after_more_output_than_a_fixed_read(tmp_path: Path, agent: Path) -> None:
    env = {**os.environ, "LOOPGATE_USAGE_FILE": str(tmp_path / "usage.json")}
    made = run_maker(agent_command(agent, "huge-then-result"), str(tmp_path), env,
                     MakerLimits(timeout=20, max_cost_usd=0.05, grace=0.5), str(tmp_path / "maker.log"))
    assert made.stopped == "cost"
    assert made.usage.cost_usd == pytest.approx(0.9)
    assert_all_dead(agent, "huge-then-result")


def test_run_maker_stops_on_the_usage_file_alone(tmp_path: Path, agent: Path) -> None:
    env = {**os.environ, "LOOPGATE_USAGE_FILE": str(tmp_path / "usage.json")}
    made = run_maker(agent_command(agent, "usage-file"), str(tmp_path), env,
                     MakerLimits(timeout=20, max_tool_calls=2, grace=0.5), str(tmp_path / "maker.log"))
    assert made.stopped == "tool-calls"
    assert made.usage.tool_calls > 2 and made.usage.reported
    assert made.exit_code is not None and made.exit_code < 0  # killed by a signal, not exited
    assert_all_dead(agent, "usage-file")


# -- the loop, end to end --------------------------------------------------------------------------------------

def set_budgets(repo: LoopRepo, iterations: int = 3, tool_calls: int | None = None,
                cost: str | None = None) -> None:
    # uncontained: the stand-in agent lives in the test's /tmp and reports host pids (a sandbox has
    # a private /tmp and its own PID namespace); what these tests prove is the accounting
    repo.set_spec(iterations=iterations, contain=False)
    spec = repo.loop / "LOOP_SPEC.md"
    text = spec.read_text()
    if tool_calls is not None:
        text = text.replace("- max tool calls per iteration: 20", f"- max tool calls per iteration: {tool_calls}")
    if cost is not None:
        text = text.replace("- max pull requests per run: 2", f"- max pull requests per run: 2\n- max cost: {cost}")
    spec.write_text(text)
    repo.commit("budgets")


def run(repo: LoopRepo, factory: PlanFactory, maker: str | None = None) -> RunOutcome:
    return Loop(RunSettings(str(repo.loop), maker=maker, max_items=1, grace=0.5), factory).run()


def report_of(outcome: RunOutcome) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    return report


def doc_item(report: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = next(i for i in report["items"] if i["id"] == "DOC-1")
    return item


def state_of(repo: LoopRepo) -> dict[str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return {i.id: i.status for i in state.items.values()}


@pytest.mark.parametrize("mode", ["claude-stream", "codex"])
def test_too_many_tool_calls_kill_the_maker_mid_attempt(loop_repo: LoopRepo, factory: PlanFactory, agent: Path,
                                                       mode: str) -> None:
    set_budgets(loop_repo, iterations=3, tool_calls=3)
    outcome = run(loop_repo, factory, agent_command(agent, mode))
    assert_all_dead(agent, mode)  # the maker never exits on its own: the run killed its whole group
    report = report_of(outcome)
    doc = doc_item(report)
    # the gates still judge what an overrun left (here nothing); the same nothing twice is no progress
    assert [a["verdict"] for a in doc["attempts"]] == ["no-change", "no-change"]
    assert doc["status"] == "escalated" and "no progress across 2" in doc["reason"]
    assert "more than 3 tool calls" in doc["attempts"][0]["feedback"]
    assert doc["attempts"][0]["over_budget"] == "the attempt used more than 3 tool calls"
    for attempt in doc["attempts"]:
        assert attempt["maker"]["stopped"] == "tool-calls"
        assert attempt["maker"]["usage"]["tool_calls"] > 3
        assert attempt["maker"]["usage"]["reported"] is True
    assert report["usage"]["tool_calls"] == sum(a["maker"]["usage"]["tool_calls"] for a in doc["attempts"])
    assert outcome.stop is Stop.ESCALATIONS
    assert state_of(loop_repo)["DOC-1"] == "escalated"


@pytest.mark.parametrize("mode", ["usage-file", "claude-result"])
def test_max_cost_stops_the_run_mid_attempt_and_leaves_the_item_resumable(
        loop_repo: LoopRepo, factory: PlanFactory, agent: Path, mode: str) -> None:
    set_budgets(loop_repo, cost="$0.05")
    outcome = run(loop_repo, factory, agent_command(agent, mode))
    assert outcome.stop is Stop.BUDGET and outcome.stop.exit_code == 4
    assert outcome.detail == "max cost reached during an attempt"
    assert_all_dead(agent, mode)
    report = report_of(outcome)
    assert report["stop"] == {"reason": "budget-exhausted", "detail": outcome.detail, "exit_code": 4}
    [attempt] = doc_item(report)["attempts"]
    assert attempt["maker"]["stopped"] == "cost"
    assert attempt["verdict"] == "stopped"  # never checked: the run stopped
    assert attempt["maker"]["usage"]["cost_usd"] > 0.05
    assert report["usage"]["cost_usd"] == attempt["maker"]["usage"]["cost_usd"]
    assert report["budgets"]["max_cost_usd"] == 0.05
    # consistent and resumable: the state verifies, the item says it was stopped, the lock is free
    assert state_of(loop_repo)["DOC-1"] == "stopped"
    assert not [f for f in run_verify(VerifySettings((str(loop_repo.loop),))).findings if f.severity.value == "error"]
    resumed = run(loop_repo, factory)  # the spec's own maker fixes the link and reports no cost
    assert state_of(loop_repo)["DOC-1"] == "drafted"
    # the stopped attempt was never judged, so it did not use up an iteration: the resumed run makes it again
    assert [a["attempt"] for a in doc_item(report_of(resumed))["attempts"]] == [1]


def test_the_cli_exits_4_when_max_cost_runs_out(loop_repo: LoopRepo, agent: Path) -> None:
    set_budgets(loop_repo, cost="$0.05")
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop), "--max-items", "1", "-q",
                           "--maker", agent_command(agent, "usage-file")],
                          cwd=loop_repo.root, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "budget-exhausted: max cost reached during an attempt" in done.stdout
    assert_all_dead(agent, "usage-file")


USAGE_MAKER = ("n=$LOOPGATE_ATTEMPT; printf '{\"tool_calls\": %s, \"input_tokens\": %s00, \"output_tokens\": %s0, "
               "\"cost_usd\": 0.0%s}' $n $n $n $n > \"$LOOPGATE_USAGE_FILE\"; echo 'no change made'")


def test_usage_file_sums_across_attempts_into_the_report(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    set_budgets(loop_repo, iterations=3, cost="$5")
    outcome = run(loop_repo, factory, USAGE_MAKER)
    report = report_of(outcome)
    doc = doc_item(report)
    assert [a["verdict"] for a in doc["attempts"]] == ["no-change", "no-change"]
    assert [a["maker"]["usage"]["tool_calls"] for a in doc["attempts"]] == [1, 2]
    assert report["usage"] == {"tool_calls": 3, "input_tokens": 300, "output_tokens": 30, "cost_usd": 0.03,
                               "reported": True, "cached_input_tokens": 0, "priced": True, "complete": True,
                               "incomplete_attempts": 0}
