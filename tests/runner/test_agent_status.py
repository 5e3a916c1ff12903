"""What the agent says about its own end: the setup failures that stop a run as environmental
(exit 5) and the near misses that stay the item's own failure. Event shapes follow Claude Code's
headless `result` / `assistant` messages and Codex's `exec --json` events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loopgate.runner.agent_status import AgentStatus, agent_failure, command_failure
from loopgate.runner.usage import OutputUsage


def status_of(*events: Any) -> AgentStatus:
    reader = OutputUsage()
    reader.feed("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events).encode())
    return reader.final().status


def claude_result(**fields: Any) -> dict[str, Any]:
    base = {"type": "result", "subtype": "success", "is_error": False, "duration_ms": 420, "num_turns": 1,
            "result": "", "session_id": "s1", "total_cost_usd": 0.0, "permission_denials": [],
            "usage": {"input_tokens": 0, "output_tokens": 0}}
    return {**base, **fields}


# -- Claude Code ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("event", "kind"), [
    # a failed API call comes as subtype "success" with is_error and the message in `result`
    (claude_result(is_error=True, result="Invalid API key · Please run /login"), "authentication"),
    (claude_result(is_error=True, result="Credit balance is too low"), "billing"),
    (claude_result(is_error=True, result="API Error: 429 {\"type\":\"error\",\"error\":{\"type\":"
                                         "\"rate_limit_error\"}}"), "rate-limit"),
    (claude_result(is_error=True, result="API Error", api_error_status=529), "rate-limit"),
    (claude_result(is_error=True, subtype="error_during_execution", errors=["OAuth token has expired"]),
     "authentication"),
])
def test_claude_reports_a_setup_failure(event: dict[str, Any], kind: str) -> None:
    failure = agent_failure(status_of({"type": "system", "subtype": "init"}, event))
    assert failure is not None and failure.kind == kind
    assert failure.fix and failure.kind in failure.detail.replace(" ", "-")


def test_claude_assistant_error_code_names_the_failure() -> None:
    assistant = {"type": "assistant", "error": "authentication_failed",
                 "message": {"id": "m1", "content": [{"type": "text", "text": "Invalid API key · Please run /login"}]}}
    status = status_of(assistant, claude_result(is_error=True, result="Invalid API key · Please run /login"))
    failure = agent_failure(status)
    assert failure is not None and failure.kind == "authentication"
    assert "Invalid API key" in failure.detail
    assert status.as_dict() == {"agent": "claude", "final": "success", "is_error": True,
                                "messages": ["Invalid API key · Please run /login"], "permission_denials": 0}


@pytest.mark.parametrize("event", [
    claude_result(),  # a clean finish
    claude_result(is_error=True, subtype="error_max_turns"),  # its own turn limit: the item's work ran long
    claude_result(is_error=True, result="The tests still fail after my change"),  # not the setup
    claude_result(is_error=False, result="I could not log in to the staging server mentioned in the issue"),
])
def test_claude_near_misses_are_not_the_environment(event: dict[str, Any]) -> None:
    assert agent_failure(status_of(event)) is None


def denial(tool_id: str, tool: str = "Edit") -> dict[str, Any]:
    return {"tool_name": tool, "tool_use_id": tool_id, "tool_input": {"file_path": "/w/docs/guide.md"}}


def test_repeated_permission_denials_name_the_flag_that_grants_edits() -> None:
    status = status_of(claude_result(permission_denials=[denial("t1"), denial("t2", "Write")]))
    failure = agent_failure(status)
    assert failure is not None and failure.kind == "permission"
    assert "`--permission-mode acceptEdits`" in failure.fix
    assert "Edit, Write" in failure.detail


def test_one_denial_is_repeated_only_with_an_earlier_attempts() -> None:
    status = status_of(claude_result(permission_denials=[denial("t1")]))
    assert agent_failure(status) is None
    failure = agent_failure(status, earlier_denials=1)
    assert failure is not None and failure.kind == "permission"


def test_a_denied_tool_result_in_stream_json_counts_once_per_tool_call() -> None:
    refused = {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
         "content": "Claude requested permissions to write to /w/docs/guide.md, but you haven't granted it yet."}]}}
    status = status_of(refused, refused, claude_result(permission_denials=[denial("t1")]))
    assert len(status.denied) == 1
    ok = {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t2", "is_error": True,
                                                   "content": "Error: file not found"}]}}
    assert status_of(ok).denied == {}


# -- Codex ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("event", "kind"), [
    ({"type": "turn.failed", "error": {"message": "unexpected status 401 Unauthorized: Missing bearer or basic "
                                                  "authentication in header"}}, "authentication"),
    ({"type": "error", "message": "exceeded retry limit, last status: 429 Too Many Requests"}, "rate-limit"),
    ({"type": "turn.failed", "error": {"message": "Quota exceeded. Check your plan and billing details."}},
     "billing"),
])
def test_codex_reports_a_setup_failure(event: dict[str, Any], kind: str) -> None:
    status = status_of({"type": "thread.started", "thread_id": "th_1"}, {"type": "turn.started"}, event)
    failure = agent_failure(status)
    assert status.agent == "codex"
    assert failure is not None and failure.kind == kind


def test_codex_refused_patches_name_the_sandbox_flag() -> None:
    refused = [{"type": "item.completed", "item": {"id": f"item_{n}", "type": "file_change", "status": "failed",
                                                   "changes": [{"path": "docs/guide.md", "kind": "update"}]}}
               for n in (1, 2)]
    failure = agent_failure(status_of({"type": "thread.started", "thread_id": "t"}, *refused))
    assert failure is not None and failure.kind == "permission"
    assert "`--sandbox workspace-write`" in failure.fix


def test_codex_near_misses() -> None:
    done = status_of({"type": "turn.started"}, {"type": "item.completed", "item": {
        "id": "i", "type": "file_change", "status": "completed", "changes": []}},
        {"type": "turn.completed", "usage": {"input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 2}})
    assert agent_failure(done) is None and done.final == "turn.completed"
    failed = status_of({"type": "turn.failed", "error": {"message": "the model refused to continue"}})
    assert agent_failure(failed) is None and failed.is_error


# -- a command that cannot start ----------------------------------------------------------------------------

def test_command_not_found_and_not_executable() -> None:
    missing = command_failure(127, "claud -p --permission-mode acceptEdits", "sh: 1: claud: not found\n")
    assert missing is not None and missing.kind == "command-not-found"
    assert "claud: not found" in missing.detail and "`claud`" in missing.fix
    denied = command_failure(126, "./agent.sh", "sh: 1: ./agent.sh: Permission denied\n")
    assert denied is not None and denied.kind == "not-executable" and "chmod +x" in denied.fix
    assert command_failure(1, "claud", "") is None
    assert command_failure(None, "claud", "") is None  # killed by a signal
    assert command_failure(139, "x", "segfault") is None


def test_claude_json_output_format_is_read_at_the_end() -> None:
    """`--output-format json` prints one document when the run ends, pretty-printed or not."""
    result = claude_result(is_error=True, result="Credit balance is too low", total_cost_usd=0)
    for text in (json.dumps(result, indent=2), json.dumps(result)):
        reader = OutputUsage()
        reader.feed(text.encode())
        failure = agent_failure(reader.final().status)
        assert failure is not None and failure.kind == "billing"
        assert "Credit balance is too low" in failure.detail


def test_an_error_the_agent_recovered_from_is_not_the_environment() -> None:
    retried = {"type": "assistant", "error": "rate_limit", "message": {"id": "m0", "content": [
        {"type": "text", "text": "API Error: 429 rate_limit_error"}]}}
    assert agent_failure(status_of(retried, claude_result(total_cost_usd=0.02))) is None
    assert agent_failure(status_of(retried)) is not None  # no result came: that was its end
    codex_retry = [{"type": "turn.started"}, {"type": "error", "message": "exceeded retry limit, last status: 429"},
                   {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}]
    assert agent_failure(status_of(*codex_retry)) is None


def test_codex_shell_writes_refused_by_the_read_only_sandbox() -> None:
    refused = [{"type": "item.completed", "item": {"id": f"c{n}", "type": "command_execution", "exit_code": 1,
                                                   "command": "sed -i s/a/b/ docs/guide.md", "status": "failed",
                                                   "aggregated_output": "sed: couldn't open temporary file "
                                                                        "docs/sedX1: Read-only file system"}}
               for n in (1, 2)]
    failure = agent_failure(status_of(*refused))
    assert failure is not None and failure.kind == "permission" and "a shell command" in failure.detail
    ok = {"type": "item.completed", "item": {"id": "c3", "type": "command_execution", "exit_code": 1,
                                             "status": "failed", "aggregated_output": "grep: no match"}}
    assert status_of(ok).denied == {}


# -- retries: what Claude Code and Codex print while they retry a failed API call -----------------------------

def api_retry(attempt: int, error: str, status: int | None) -> dict[str, Any]:
    """Claude Code 2.1's stream-json event between retries (seen from the real CLI against a 401)."""
    return {"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 10,
            "retry_delay_ms": 515 * attempt, "error_status": status, "error": error, "session_id": "s"}


def test_retrying_a_refused_key_is_hopeless_but_a_rate_limit_is_waited_out() -> None:
    assert not status_of(api_retry(1, "authentication_failed", 401)).hopeless()
    refused = status_of(api_retry(1, "authentication_failed", 401), api_retry(2, "authentication_failed", 401))
    assert refused.hopeless() and refused.retrying == "authentication"
    failure = agent_failure(refused)
    assert failure is not None and failure.kind == "authentication"
    limited = status_of(*(api_retry(n, "rate_limit", 429) for n in (1, 2, 3)))
    assert not limited.hopeless() and limited.retrying == "rate-limit"
    failure = agent_failure(limited)  # stopped while still waiting: the rate limit is why
    assert failure is not None and failure.kind == "rate-limit"
    answered = {"type": "assistant", "message": {"id": "m1", "content": []}}
    recovered = status_of(api_retry(1, "rate_limit", 429), answered)
    assert recovered.retrying == "" and agent_failure(recovered) is None


# the real `codex exec --json` (0.169) with no route to its API: it reconnects, then waits for the network
CODEX_OFFLINE = [
    {"type": "thread.started", "thread_id": "01a230bd-21b2-7f71-ad83-627d540a6101"},
    {"type": "turn.started"},
    {"type": "error", "message": "Reconnecting... 2/5 (stream disconnected before completion: failed to lookup "
                                 "address information: Name does not resolve)"},
    {"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Falling back from WebSockets "
                                        "to HTTPS transport. stream disconnected before completion"}},
    {"type": "error", "message": "Reconnecting... waiting for network (Connection failed: error sending request)"},
]


def test_codex_waiting_for_the_network_is_hopeless() -> None:
    status = status_of(*CODEX_OFFLINE)
    assert status.hopeless() and status.retrying == "network"
    failure = agent_failure(status)
    assert failure is not None and failure.kind == "network" and "reach its API" in failure.fix
    assert not status_of(*CODEX_OFFLINE[:3]).hopeless()


def test_codex_patches_refused_by_its_read_only_sandbox_are_read_from_its_stderr() -> None:
    """Codex 0.169 says so only in its log (stderr shares maker.log), never in its --json events."""
    reader = OutputUsage()
    line = ("2026-12-01T09:03:02.497173Z ERROR codex_core::tools::router: error=patch rejected: writing is "
            "blocked by read-only sandbox; rejected by user approval settings\n")
    reader.feed(("Reading additional input from stdin...\n" + line + line).encode())
    status = reader.final().status
    failure = agent_failure(status)
    assert failure is not None and failure.kind == "permission" and "`--sandbox workspace-write`" in failure.fix
    quiet = OutputUsage()
    quiet.feed(b"2026-12-01T09:03:02Z ERROR codex_api::endpoint: failed to connect\n")
    assert quiet.final().status.denied == {}
