"""Per-attempt limits against real maker subprocesses: the per-iteration deadline (with the SIGTERM
grace inside it, against an agent that ignores TERM), the stall watchdog, and spend that fails
closed: Codex-style token-only usage charged at the spec's prices mid-attempt, refused without them,
the token budget, and a Claude attempt killed before its result charged per message."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from loopgate.runner.maker import MakerLimits, MakerRun, run_maker
from loopgate.runner.pricing import Prices

from .conftest import pid_alive

AGENT = r'''
"""A stand-in agent: `mode` picks what it prints; it never exits on its own."""
import json, os, signal, sys, time

mode = sys.argv[1]
with open(sys.argv[2], "w") as handle:
    handle.write(str(os.getpid()))

def emit(event):
    sys.stdout.write(json.dumps(event) + "\n"); sys.stdout.flush()

if mode == "ignores-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        print("still working", flush=True); time.sleep(0.1)
elif mode == "stalls":
    print("thinking...", flush=True)
    time.sleep(600)
elif mode == "codex":
    emit({"type": "thread.started", "thread_id": "th_1"})
    while True:
        emit({"type": "turn.started"})
        time.sleep(0.15)
        emit({"type": "turn.completed", "usage": {"input_tokens": 40000, "cached_input_tokens": 30000,
                                                  "output_tokens": 2000}})
elif mode == "claude":
    emit({"type": "system", "subtype": "init", "session_id": "s"})
    n = 0
    while True:
        n += 1
        message = {"id": f"msg_{n}", "role": "assistant", "usage": {"input_tokens": 10,
                   "cache_read_input_tokens": 5000, "output_tokens": 100},
                   "content": [{"type": "tool_use", "id": f"toolu_{n}", "name": "Edit", "input": {}}]}
        emit({"type": "assistant", "message": message})
        emit({"type": "assistant", "message": message})  # re-emitted per content block: counted once
        time.sleep(0.1)
'''


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    path = tmp_path / "agent.py"
    path.write_text(AGENT)
    return path


def make(tmp_path: Path, agent: Path, mode: str, limits: MakerLimits) -> tuple[MakerRun, int]:
    pid_file = tmp_path / f"{mode}.pid"
    command = f"exec {shlex.quote(sys.executable)} {shlex.quote(str(agent))} {mode} {shlex.quote(str(pid_file))}"
    made = run_maker(command, str(tmp_path), dict(os.environ), limits, str(tmp_path / "maker.log"))
    return made, int(pid_file.read_text())


def test_a_term_ignoring_agent_is_gone_by_the_per_iteration_deadline(tmp_path: Path, agent: Path) -> None:
    """A grace longer than the attempt is cut so that SIGKILL lands on the deadline: with the grace
    added on top, this agent would live 1.2 + 2.0 seconds."""
    start = time.monotonic()
    made, pid = make(tmp_path, agent, "ignores-term", MakerLimits(timeout=60, iteration_timeout=1.2, grace=2.0))
    took = time.monotonic() - start
    assert made.stopped == "iteration-timeout"  # its own reason: the run's budget was not what ran out
    assert made.exit_code == -9  # TERM was ignored; KILL came at the deadline
    assert made.duration >= 1.2 and took < 2.4, took  # well before 3.2 s, whatever the machine's load
    assert not pid_alive(pid)


def test_the_run_deadline_keeps_its_own_reason(tmp_path: Path, agent: Path) -> None:
    made, _ = make(tmp_path, agent, "ignores-term", MakerLimits(timeout=0.8, iteration_timeout=30, grace=0.3))
    assert made.stopped == "timeout"


def test_the_stall_watchdog_stops_an_agent_that_prints_nothing(tmp_path: Path, agent: Path) -> None:
    made, pid = make(tmp_path, agent, "stalls", MakerLimits(timeout=60, stall=0.6, grace=0.3))
    assert made.stopped == "stalled"
    assert 0.6 <= made.duration < 3
    assert "thinking..." in made.output_tail
    assert not pid_alive(pid)


PRICES = Prices(input=1.25, output=10.0, cached=0.125)
TURN_COST = (10000 * 1.25 + 30000 * 0.125 + 2000 * 10.0) / 1e6  # 0.03625 USD a turn


def test_codex_token_only_usage_is_charged_and_stopped_by_max_cost(tmp_path: Path, agent: Path) -> None:
    made, pid = make(tmp_path, agent, "codex", MakerLimits(timeout=20, max_cost_usd=0.1, prices=PRICES, grace=0.3))
    assert made.stopped == "cost"
    assert made.cost_from == "prices"
    turns = made.usage.output_tokens // 2000
    assert turns >= 3 and made.usage.cost_usd == pytest.approx(turns * TURN_COST)
    assert made.status.agent == "codex"
    assert not pid_alive(pid)


def test_codex_without_prices_under_max_cost_is_stopped_unpriced(tmp_path: Path, agent: Path) -> None:
    made, _ = make(tmp_path, agent, "codex", MakerLimits(timeout=20, max_cost_usd=5.0, grace=0.3))
    assert made.stopped == "unpriced"
    assert made.usage.cost_usd == 0.0 and made.usage.input_tokens >= 40000
    assert made.cost_from == "unknown"


def test_max_tokens_stops_the_attempt(tmp_path: Path, agent: Path) -> None:
    made, _ = make(tmp_path, agent, "codex", MakerLimits(timeout=20, max_tokens=100000, grace=0.3))
    assert made.stopped == "tokens"
    assert made.usage.tokens > 100000


def test_a_claude_attempt_killed_mid_way_is_charged_what_it_used(tmp_path: Path, agent: Path) -> None:
    made, _ = make(tmp_path, agent, "claude", MakerLimits(timeout=20, max_tool_calls=3, prices=Prices(3.0, 15.0, 0.3),
                                                          grace=0.3))
    assert made.stopped == "tool-calls"
    usage = made.usage
    messages = usage.tool_calls  # one message per tool call, each emitted twice and counted once
    assert messages > 3
    assert (usage.input_tokens, usage.output_tokens) == (5010 * messages, 100 * messages)
    assert not usage.complete  # the result never came
    assert usage.cost_usd == pytest.approx(messages * (10 * 3.0 + 5000 * 0.3 + 100 * 15.0) / 1e6)
    assert made.cost_from == "prices"
    log = [json.loads(ln) for ln in (tmp_path / "maker.log").read_text().splitlines() if ln.startswith("{")]
    assert sum(1 for e in log if e["type"] == "assistant") >= 2 * messages
