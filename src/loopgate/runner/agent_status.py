"""What the agent itself says about how its run ended, and whether that is the environment's fault.

An agent that cannot authenticate, has run out of credit, is rate limited, or is denied every edit
it tries has not failed the item: every attempt would end the same way. Those stop the run as
environmental (exit 5) with what to fix, and leave the item to resume. The formats read:

- Claude Code (`--output-format json` / `stream-json`): `system` `api_retry` events while it retries
  a failed API call (`error`: `authentication_failed`, `rate_limit`, ...; `error_status`: 401, 429),
  the `result` event's `is_error`, `subtype`,
  `result` (the error text when `is_error`), `errors`, `api_error_status` and `permission_denials`
  (tools the permission mode refused); an `assistant` event may carry an `error` code
  (`authentication_failed`, `billing_error`, `rate_limit`, ...); a refused tool's `tool_result`
  reads "Claude requested permissions to ... but you haven't granted it yet".
- Codex (`exec --json`): `turn.failed` with `error.message`, a top-level `error` event with
  `message` (also while it reconnects: `Reconnecting... waiting for network`); a patch its
  read-only sandbox refuses is said only in its stderr log (`patch rejected: writing is blocked by
  read-only sandbox`), which shares maker.log; a write that failed is a `file_change` completed
  `failed`.
- A shell that cannot start the command: exit 127 (not found) or 126 (found, not executable).
"""

from __future__ import annotations

import re
from typing import Any

from loopgate.records import field, record
from loopgate.runner.commandline import program

MESSAGES_KEPT = 5
REPEATED_DENIALS = 2  # this many refused edits in one attempt (or across an item's attempts) is the setup
HOPELESS_RETRIES = 2  # retries of a call the API refused for credentials or credit: more will not help
EDIT_FLAGS = {"claude": "`--permission-mode acceptEdits`", "codex": "`--sandbox workspace-write`"}

_NETWORK = re.compile(r"waiting for network|failed to lookup address|connection (failed|refused|error)|"
                      r"error sending request|stream disconnected|ENOTFOUND|ECONNREFUSED|getaddrinfo", re.I)
# (kind, pattern over the agent's error text): the first kind that matches names the failure
_KINDS = (
    ("authentication", re.compile(r"\b401\b|\b403\b|unauthori[sz]ed|authenticat|invalid (x-)?api[ _-]?key|"
                                  r"api key|/login|not logged in|log ?in again|auth error|missing env var|"
                                  r"oauth token", re.I)),
    ("billing", re.compile(r"credit balance|billing|\bquota\b|insufficient_quota|usage limit|"
                           r"usage_limit_reached|payment|\b402\b|plan limit", re.I)),
    ("rate-limit", re.compile(r"\b429\b|rate[ _-]?limit|too many requests|overloaded|\b529\b|retry limit", re.I)),
    ("network", _NETWORK),
)
_CLAUDE_ERROR_CODES = {"authentication_failed": "authentication", "billing_error": "billing",
                       "rate_limit": "rate-limit", "oauth_org_not_allowed": "authentication"}
_STATUS_KINDS = {401: "authentication", 403: "authentication", 402: "billing", 429: "rate-limit",
                 529: "rate-limit"}
_READ_ONLY = re.compile(r"read-only file system", re.I)  # a write the read-only sandbox refused
_CODEX_REJECTED = re.compile(r"patch rejected: writing is blocked by read-only sandbox", re.I)
_DENIED_TEXT = re.compile(r"requested permissions? to .* ((haven't|have not) granted|is a sensitive file)", re.I | re.S)
_SENSITIVE = re.compile(r"is a sensitive file", re.I)  # Claude Code's refusal of any path under a .git directory
_FIXES = {
    "authentication": "give the agent its key (ANTHROPIC_API_KEY for claude, OPENAI_API_KEY or CODEX_API_KEY for "
                      "codex) and name it under the spec's ## Sandbox (`- environment: ANTHROPIC_API_KEY`): the "
                      "maker gets only the variables named there and a home of its own, so a login kept in your "
                      "home is not seen",
    "billing": "add credit or raise the plan's limit for the agent's account",
    "rate-limit": "wait for the agent's rate limit to reset (or lower the loop's concurrency), then run again",
    "network": "the agent cannot reach its API: check the network, its proxy settings, and that the maker is "
               "allowed network access",
}


@record
class AgentStatus:
    agent: str = ""  # "claude" | "codex" | "" (nothing recognisable seen)
    final: str = ""  # Claude's result subtype, or Codex's last `turn.completed` / `turn.failed`
    is_error: bool = False
    messages: list[str] = field(default_factory=list)  # the agent's own error texts, first few
    error_kinds: list[str] = field(default_factory=list)  # from codes and HTTP statuses the agent gave
    denied: dict[str, str] = field(default_factory=dict)  # refused tool call id -> tool name
    sensitive: bool = False  # an edit was refused as a "sensitive file" (a .git path), not for want of a mode
    retrying: str = ""  # the failure kind the agent is retrying right now ("" once a call succeeds)
    retries: int = 0  # how many times in a row

    def hopeless(self) -> bool:
        """Still retrying what retries do not fix (credentials, credit, no network): stop it now."""
        return self.retrying in ("authentication", "billing", "network") and self.retries >= HOPELESS_RETRIES

    def _retry(self, kind: str, said: str) -> None:
        self.retries = self.retries + 1 if kind == self.retrying else 1
        self.retrying = kind
        self._message(said)

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
        elif kind == "system" and event.get("subtype") == "api_retry":
            code, status = event.get("error"), event.get("error_status")
            retry_kind = _CLAUDE_ERROR_CODES.get(code, "") if isinstance(code, str) else ""
            retry_kind = retry_kind or (_STATUS_KINDS.get(status, "") if isinstance(status, int) else "")
            self._retry(retry_kind or "unknown", f"API call retried ({code}, HTTP {status})")
        elif kind == "assistant" and isinstance(event.get("error"), str) and event["error"]:
            self.error_kinds.append(_CLAUDE_ERROR_CODES.get(event["error"], event["error"]))
            for block in _content(event):
                if block.get("type") == "text":
                    self._message(block.get("text"))
        elif kind == "assistant":  # a call that went through ends any retry streak
            self.retrying, self.retries = "", 0
        elif kind == "user":
            for block in _content(event):
                said = str(block.get("content", ""))
                if block.get("type") == "tool_result" and block.get("is_error") and _DENIED_TEXT.search(said):
                    self._deny(block.get("tool_use_id"), "a tool")
                    self.sensitive = self.sensitive or bool(_SENSITIVE.search(said))

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

    def text(self, line: str) -> None:
        """A log line that is not an event: Codex says a refused patch only on stderr."""
        if _CODEX_REJECTED.search(line):
            self.agent = self.agent or "codex"
            self._deny(f"log#{len(self.denied)}", "apply_patch")

    # -- Codex ----------------------------------------------------------------------------------
    def codex(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str) or not (kind.startswith(("thread.", "turn.", "item.")) or kind == "error"):
            return
        self.agent = "codex"
        if kind == "turn.completed":
            self.final, self.is_error = kind, False
            self.retrying, self.retries = "", 0
        elif kind == "turn.failed":
            self.final, self.is_error = kind, True
            error = event.get("error")
            self._message(error.get("message") if isinstance(error, dict) else error)
        elif kind == "error":
            self.is_error = True
            said = str(event.get("message", ""))
            if said.lower().startswith("reconnecting"):  # Codex retrying: "Reconnecting... 1/5 (<why>)"
                self._retry(next((name for name, pattern in _KINDS if pattern.search(said)), "unknown"), said)
            else:
                self._message(said)
        elif kind == "item.completed":
            item = event.get("item")
            if not isinstance(item, dict):
                return
            if item.get("type") == "file_change" and item.get("status") == "failed":
                self._deny(item.get("id"), "apply_patch")
            elif item.get("type") == "command_execution" and _READ_ONLY.search(str(item.get("aggregated_output", ""))):
                self._deny(item.get("id"), "a shell command")


@record(frozen=True)
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
    first = program(command)  # `VAR=1 claude ...` names claude, not the assignment
    said = next((ln.strip() for ln in reversed(output_tail.splitlines()) if ln.strip()), "")
    if exit_code == 127:
        return EnvironmentFailure("command-not-found",
                                  f"the maker command could not start (exit 127: {said or 'command not found'})",
                                  f"check the spelling of `{first}` in `maker command` (or --maker) and that it is "
                                  "installed on the PATH loopgate runs with")
    return EnvironmentFailure("not-executable",
                              f"the maker command could not be executed (exit 126: {said or 'permission denied'})",
                              f"make `{first}` executable (chmod +x) or call it through its interpreter")


def agent_failure(status: AgentStatus, earlier_denials: int = 0) -> EnvironmentFailure | None:
    """An agent-reported failure of the setup (credentials, credit, rate limit, edit permission).
    An error the agent recovered from (a retried rate limit, then a successful result or turn) is not one."""
    failed = status.is_error or (status.agent == "claude" and not status.final)  # ended in error, or no result
    kind = next((k for k in status.error_kinds if k in _FIXES), "") if failed else ""
    if not kind and status.retrying in _FIXES:  # it ended (or was stopped) still retrying that failure
        kind = status.retrying
    if not kind and status.is_error:
        text = " ".join(status.messages)
        kind = next((name for name, pattern in _KINDS if pattern.search(text)), "")
    if kind:
        said = status.messages[0] if status.messages else kind
        return EnvironmentFailure(kind, f"the agent reports a {kind.replace('-', ' ')} failure ({said})",
                                  _FIXES[kind])
    denials = len(status.denied)
    if status.sensitive and denials:
        return EnvironmentFailure("permission", "the agent refused to edit the item's worktree: Claude Code treats "
                                  "every file under a `.git` directory as sensitive, whatever its permission mode",
                                  "set LOOPGATE_WORKTREE_ROOT to a folder outside the repository (e.g. "
                                  "~/.cache/loopgate-worktrees) so the worktrees live there")
    if denials and denials + earlier_denials >= REPEATED_DENIALS:
        tools = ", ".join(sorted(set(status.denied.values())))
        flag = EDIT_FLAGS.get(status.agent, "its flag that allows edits in the working directory")
        return EnvironmentFailure("permission", f"the agent was refused {denials + earlier_denials} tool calls "
                                  f"({tools}): it cannot edit files with the permissions it runs with",
                                  f"run it with {flag} (see the README's maker examples)")
    return None


def _content(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of a Claude `assistant` / `user` event (malformed ones left out)."""
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
