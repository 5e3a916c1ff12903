"""What the agent itself says about how its run ended, and whether that is the environment's fault.

An agent that cannot authenticate, has run out of credit, is rate limited, or is denied every edit
it tries has not failed the item: every attempt would end the same way. Those stop the run as
environmental (exit 5) with what to fix, and leave the item to resume. The formats read:

- Claude Code (`--output-format json` / `stream-json`): the `result` event's `is_error`, `subtype`,
  `result` (the error text when `is_error`), `errors`, `api_error_status` and `permission_denials`
  (tools the permission mode refused); an `assistant` event may carry an `error` code
  (`authentication_failed`, `billing_error`, `rate_limit`, ...); a refused tool's `tool_result`
  reads "Claude requested permissions to ... but you haven't granted it yet".
- Codex (`exec --json`): `turn.failed` with `error.message`, a top-level `error` event with
  `message`; a patch the read-only sandbox refused is a `file_change` item that completed `failed`.
- A shell that cannot start the command: exit 127 (not found) or 126 (found, not executable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MESSAGES_KEPT = 5
REPEATED_DENIALS = 2  # this many refused edits in one attempt (or across an item's attempts) is the setup
EDIT_FLAGS = {"claude": "`--permission-mode acceptEdits`", "codex": "`--sandbox workspace-write`"}

# (kind, pattern over the agent's error text): the first kind that matches names the failure
_KINDS = (
    ("authentication", re.compile(r"\b401\b|\b403\b|unauthori[sz]ed|authenticat|invalid (x-)?api[ _-]?key|"
                                  r"api key|/login|not logged in|log ?in again|auth error|missing env var|"
                                  r"oauth token", re.I)),
    ("billing", re.compile(r"credit balance|billing|\bquota\b|insufficient_quota|usage limit|"
                           r"usage_limit_reached|payment|\b402\b|plan limit", re.I)),
    ("rate-limit", re.compile(r"\b429\b|rate[ _-]?limit|too many requests|overloaded|\b529\b|retry limit", re.I)),
)
_CLAUDE_ERROR_CODES = {"authentication_failed": "authentication", "billing_error": "billing",
                       "rate_limit": "rate-limit", "oauth_org_not_allowed": "authentication"}
_STATUS_KINDS = {401: "authentication", 403: "authentication", 402: "billing", 429: "rate-limit",
                 529: "rate-limit"}
_DENIED_TEXT = re.compile(r"requested permissions? to .* (haven't|have not) granted", re.I | re.S)
_FIXES = {
    "authentication": "log the agent in (`claude /login` or ANTHROPIC_API_KEY; `codex login` or OPENAI_API_KEY) "
                      "and make sure the maker's environment has its key",
    "billing": "add credit or raise the plan's limit for the agent's account",
    "rate-limit": "wait for the agent's rate limit to reset (or lower the loop's concurrency), then run again",
}


@dataclass
class AgentStatus:
    agent: str = ""  # "claude" | "codex" | "" (nothing recognisable seen)
    final: str = ""  # Claude's result subtype, or Codex's last `turn.completed` / `turn.failed`
    is_error: bool = False
    messages: list[str] = field(default_factory=list)  # the agent's own error texts, first few
    error_kinds: list[str] = field(default_factory=list)  # from codes and HTTP statuses the agent gave
    denied: dict[str, str] = field(default_factory=dict)  # refused tool call id -> tool name

    def as_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "final": self.final, "is_error": self.is_error,
                "messages": list(self.messages), "permission_denials": len(self.denied)}

    def _message(self, text: Any) -> None:
        said = " ".join(text.split())[:500] if isinstance(text, str) else ""
        if said and said not in self.messages and len(self.messages) < MESSAGES_KEPT:
            self.messages.append(said)

    def _deny(self, key: Any, tool: Any) -> None:
        name = tool if isinstance(tool, str) else "a tool"
        self.denied[key if isinstance(key, str) and key else f"#{len(self.denied)}"] = name

    # -- Claude Code --------------------------------------------------------------------------
    def claude(self, event: dict[str, Any]) -> None:
        self.agent = "claude"
        kind = event.get("type")
        if kind == "result" or "num_turns" in event:
            self._claude_result(event)
        elif kind == "assistant" and isinstance(event.get("error"), str) and event["error"]:
            self.error_kinds.append(_CLAUDE_ERROR_CODES.get(event["error"], event["error"]))
            for block in _content(event):
                if block.get("type") == "text":
                    self._message(block.get("text"))
        elif kind == "user":
            for block in _content(event):
                if (block.get("type") == "tool_result" and block.get("is_error")
                        and _DENIED_TEXT.search(str(block.get("content", "")))):
                    self._deny(block.get("tool_use_id"), "a tool")

    def _claude_result(self, event: dict[str, Any]) -> None:
        self.final = str(event.get("subtype") or "result")
        # a failed API call still comes as subtype "success", with is_error and the message in `result`
        self.is_error = event.get("is_error") is True or self.final.startswith("error")
        if self.is_error:
            self._message(event.get("result"))
            errors = event.get("errors")
            for text in errors if isinstance(errors, list) else []:
                self._message(text)
        status = event.get("api_error_status")
        if isinstance(status, int) and status in _STATUS_KINDS:
            self.error_kinds.append(_STATUS_KINDS[status])
        denials = event.get("permission_denials")
        for denial in denials if isinstance(denials, list) else []:
            if isinstance(denial, dict):
                self._deny(denial.get("tool_use_id"), denial.get("tool_name"))

    # -- Codex ----------------------------------------------------------------------------------
    def codex(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str) or not (kind.startswith(("thread.", "turn.", "item.")) or kind == "error"):
            return
        self.agent = "codex"
        if kind == "turn.completed":
            self.final, self.is_error = kind, False
        elif kind == "turn.failed":
            self.final, self.is_error = kind, True
            error = event.get("error")
            self._message(error.get("message") if isinstance(error, dict) else error)
        elif kind == "error":
            self.is_error = True
            self._message(event.get("message"))
        elif kind == "item.completed":
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "file_change" and item.get("status") == "failed":
                self._deny(item.get("id"), "apply_patch")


@dataclass(frozen=True)
class EnvironmentFailure:
    """Why the run must stop before judging anything, and what the user must change."""

    kind: str  # "command-not-found" | "not-executable" | "authentication" | "billing" | "rate-limit" | "permission"
    detail: str
    fix: str

    def __str__(self) -> str:
        return f"{self.detail}: {self.fix}"


def command_failure(exit_code: int | None, command: str, output_tail: str) -> EnvironmentFailure | None:
    """The shell's own codes for a command it could not start: 127 not found, 126 not executable."""
    if exit_code not in (126, 127):
        return None
    first = (command.split(maxsplit=1) or [command])[0]
    said = next((ln.strip() for ln in reversed(output_tail.splitlines()) if ln.strip()), "")
    if exit_code == 127:
        return EnvironmentFailure("command-not-found",
                                  f"the maker command could not start (exit 127: {said or 'command not found'})",
                                  f"check the spelling of `{first}` in `maker command` (or --maker) and that it is "
                                  "installed on the PATH loopgate runs with; the items were not attempted and resume "
                                  "next run")
    return EnvironmentFailure("not-executable",
                              f"the maker command could not be executed (exit 126: {said or 'permission denied'})",
                              f"make `{first}` executable (chmod +x) or call it through its interpreter; the items "
                              "resume next run")


def agent_failure(status: AgentStatus, earlier_denials: int = 0) -> EnvironmentFailure | None:
    """An agent-reported failure of the setup (credentials, credit, rate limit, edit permission)."""
    kind = next((k for k in status.error_kinds if k in _FIXES), "")
    if not kind and status.is_error:
        text = " ".join(status.messages)
        kind = next((name for name, pattern in _KINDS if pattern.search(text)), "")
    if kind:
        said = status.messages[0] if status.messages else kind
        return EnvironmentFailure(kind, f"the agent reports a {kind.replace('-', ' ')} failure ({said})",
                                  _FIXES[kind] + "; the items resume next run")
    denials = len(status.denied)
    if denials and denials + earlier_denials >= REPEATED_DENIALS:
        tools = ", ".join(sorted(set(status.denied.values())))
        flag = EDIT_FLAGS.get(status.agent, "its flag that allows edits in the working directory")
        return EnvironmentFailure("permission", f"the agent was refused {denials + earlier_denials} tool calls "
                                  f"({tools}): it cannot edit files with the permissions it runs with",
                                  f"run it with {flag} (see the README's maker examples); the items resume next run")
    return None


def _content(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of a Claude `assistant` / `user` event (malformed ones left out)."""
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
