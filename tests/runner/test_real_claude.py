"""The real Claude Code CLI as the maker (the binary the `claude-agent-sdk` wheel bundles), with no
credentials and with a key a local API refuses: what it prints is what loopgate must read. It
accepts the README's flags as written, and its auth failures stop the run as environmental (exit 5)
with the item left to resume; against a refusing API it retries for minutes, and loopgate stops it
after two retries. No test here reaches the network: the API is a server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loopgate.runner.loop import Loop, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, PlanFactory
from .fake_anthropic import OUTPUT_TOKENS, USAGE, fake_anthropic

ROOT = Path(__file__).resolve().parents[2]


def bundled_claude() -> Path | None:
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "_bundled" / "claude"
    return path if os.access(path, os.X_OK) else None


@pytest.fixture
def claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`claude` on PATH, with a home that holds no credentials and no key in the environment."""
    path = bundled_claude()
    if path is None:
        message = "the real Claude Code CLI is missing: pip install -e '.[test]' (claude-agent-sdk bundles it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{path.parent}:{os.environ['PATH']}")
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL",
                 "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    return path


def readme_worktree_root() -> str:
    """The README's `export LOOPGATE_WORKTREE_ROOT=...` before its Claude example ("" when it has none)."""
    text = (ROOT / "README.md").read_text("utf-8")
    found = re.search(r"^export LOOPGATE_WORKTREE_ROOT=(\S+)", text, re.M)
    return found.group(1) if found else ""


def readme_claude_maker() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("loopgate run .loop --maker 'claude "))
    return shlex.split(line)[4]


def run(repo: LoopRepo, factory: PlanFactory, maker: str) -> tuple[Any, dict[str, Any]]:
    outcome = Loop(RunSettings(str(repo.loop), maker=maker, max_items=1, grace=0.5), factory).run()
    report: dict[str, Any] = json.loads(Path(outcome.report_path).read_text())
    return outcome, next(i for i in report["items"] if i["id"] == "DOC-1")


def assert_resumable(repo: LoopRepo) -> None:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    item = state.items["DOC-1"]
    assert item.status == "in-progress" and item.attempts == 0 and "resumes" in item.next_action


def test_the_readme_example_logged_out_stops_the_run_and_says_to_log_in(
        claude: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    outcome, item = run(loop_repo, factory, readme_claude_maker())
    assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
    assert "authentication failure" in outcome.detail and "`- environment: ANTHROPIC_API_KEY`" in outcome.detail
    [attempt] = item["attempts"]
    agent = attempt["maker"]["agent"]
    # the CLI took every flag of the README's example: it got as far as asking for a login
    assert agent["agent"] == "claude" and agent["is_error"] is True
    assert any(re.search(r"log ?in", m, re.I) for m in agent["messages"]), agent
    assert attempt["environment"]["kind"] == "authentication"
    assert attempt["maker"]["usage"]["complete"] is True and attempt["maker"]["cost_from"] == "agent"
    assert_resumable(loop_repo)


def test_stream_json_without_verbose_is_refused_by_the_real_cli(claude: Path, tmp_path: Path) -> None:
    """What the README's example must not drop (and what tests/runner/test_readme_makers.py's stand-in mimics)."""
    done = subprocess.run([str(claude), "-p", "hi", "--permission-mode", "acceptEdits", "--output-format",
                           "stream-json"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "requires --verbose" in done.stderr + done.stdout


class _RefusingAPI(BaseHTTPRequestHandler):
    """The Messages API answering every call as Anthropic does for a bad key."""

    calls = 0

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).calls += 1
        body = json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                      "message": "invalid x-api-key"}}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def refusing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_key_is_stopped_after_two_retries_not_ten(
        claude: Path, loop_repo: LoopRepo, factory: PlanFactory, refusing_api: str) -> None:
    # the variables ride on the command line, so they reach the agent whatever environment loopgate passes
    maker = f"ANTHROPIC_BASE_URL={refusing_api} ANTHROPIC_API_KEY=sk-ant-test-not-a-key {readme_claude_maker()}"
    start = time.monotonic()
    outcome, item = run(loop_repo, factory, maker)
    took = time.monotonic() - start
    assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
    [attempt] = item["attempts"]
    assert attempt["maker"]["stopped"] == "agent-failure"
    assert attempt["environment"]["kind"] == "authentication"
    assert _RefusingAPI.calls >= 2
    assert took < 30  # Claude Code's own ten retries back off for minutes
    assert "sk-ant-test-not-a-key" not in Path(outcome.report_path).read_text()
    assert_resumable(loop_repo)


def with_api(url: str, command: str) -> str:
    return f"ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=sk-ant-test-not-a-key {command}"


@pytest.fixture
def worktree_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As the README says for Claude Code (under this test's own folder, not ~/.cache)."""
    assert readme_worktree_root(), "the README's Claude example must move the worktrees out of .git"
    root = tmp_path / "worktrees"
    monkeypatch.setenv("LOOPGATE_WORKTREE_ROOT", str(root))
    return root


def test_under_git_the_real_agent_refuses_to_edit_and_the_run_says_why(
        claude: Path, loop_repo: LoopRepo, factory: PlanFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOPGATE_WORKTREE_ROOT", raising=False)
    with fake_anthropic() as url:
        outcome, item = run(loop_repo, factory, with_api(url, readme_claude_maker()))
    assert outcome.stop is Stop.ENVIRONMENT
    assert "sensitive" in outcome.detail and "LOOPGATE_WORKTREE_ROOT" in outcome.detail
    assert item["attempts"][0]["environment"]["kind"] == "permission"
    assert_resumable(loop_repo)


def test_the_real_agent_repairs_the_link_with_the_readmes_command(
        claude: Path, loop_repo: LoopRepo, factory: PlanFactory, worktree_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As the README says: the key named under ## Sandbox, the command exactly as written."""
    spec = loop_repo.loop / "LOOP_SPEC.md"
    text = spec.read_text()
    assert "## Sandbox\n" in text
    spec.write_text(text.replace("## Sandbox\n", "## Sandbox\n- environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL\n"))
    loop_repo.commit("the agent's key reaches the maker")
    with fake_anthropic() as url:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
        outcome, item = run(loop_repo, factory, readme_claude_maker())
    assert outcome.stop is Stop.DONE, outcome.detail
    assert item["status"] == "drafted"
    [attempt] = item["attempts"]
    usage = attempt["maker"]["usage"]
    # Claude Code's own account: its result's totals and cost, two tool calls (Read, Edit)
    assert usage["complete"] and usage["priced"] and attempt["maker"]["cost_from"] == "agent"
    assert usage["tool_calls"] == 2 and usage["cost_usd"] > 0
    assert usage["output_tokens"] >= 3 * OUTPUT_TOKENS and usage["cached_input_tokens"] >= 3 * 800
    assert attempt["maker"]["agent"]["final"] == "success" and not attempt["maker"]["agent"]["is_error"]
    assert (loop_repo.root / "docs" / "guide.md").read_text().count("missing.md") == 1  # your checkout: untouched
    assert list(worktree_root.iterdir())  # the worktrees lived where the README's variable put them


def test_a_real_agent_stopped_mid_way_is_charged_what_it_used_and_its_work_judged(
        claude: Path, loop_repo: LoopRepo, factory: PlanFactory, worktree_root: Path) -> None:
    spec = loop_repo.loop / "LOOP_SPEC.md"
    # the deadline must leave the real CLI time to start, read and edit on a loaded machine (at 4 s,
    # 1 run in 3 under load was cut before its Edit and took a second attempt); the stall waits it out
    spec.write_text(spec.read_text().replace("- max pull requests per run: 2", "\n".join([
        "- max pull requests per run: 2", "- max runtime per iteration: 12 seconds", "- max cost: $5",
        "- price per million input tokens: $3", "- price per million cached input tokens: $0.30",
        "- price per million output tokens: $15"])))
    loop_repo.commit("per-attempt runtime, prices")
    with fake_anthropic(stall_on=2) as url:  # the answer after the Edit never comes in time
        outcome, item = run(loop_repo, factory, with_api(url, readme_claude_maker()))
    [attempt] = item["attempts"]
    usage = attempt["maker"]["usage"]
    assert attempt["maker"]["stopped"] == "iteration-timeout"
    assert usage["complete"] is False  # usage: incomplete, the result never came
    # two messages (Read, Edit), each counted once, at their final usage (--include-partial-messages)
    per_message = USAGE["input_tokens"] + USAGE["cache_read_input_tokens"]
    assert (usage["input_tokens"], usage["cached_input_tokens"], usage["output_tokens"]) == (
        2 * per_message, 2 * USAGE["cache_read_input_tokens"], 2 * OUTPUT_TOKENS)
    assert attempt["maker"]["cost_from"] == "prices"
    assert usage["cost_usd"] == pytest.approx((2 * 1200 * 3 + 2 * 800 * 0.3 + 2 * OUTPUT_TOKENS * 15) / 1e6)
    # the edit it made before the deadline was judged: it passes, and the overrun is on record
    assert attempt["verdict"] == "passed" and "max runtime per iteration" in attempt["over_budget"]
    assert outcome.stop is Stop.DONE and item["status"] == "drafted"
