"""LOOP_STATE.md as a value: read it with the artifact reader, render it back as markdown.

The rendered file is the article's format, so a human reviews it like any other artifact and
`loopgate verify` checks it. Fields the loop does not know are kept, so hand-written notes
survive a rewrite.
"""

from __future__ import annotations

import re
from typing import Any

from loopgate.artifacts.artifact import check_artifact
from loopgate.artifacts.kinds import STATE
from loopgate.records import field, record
from loopgate.runner.atomic import write_atomic
from loopgate.runner.report import shown

COUNTERS = ("selected_items", "opened_pull_requests", "escalations")
_ITEM_ORDER = ("status", "reason", "attempts", "gates", "next_action")
# Statuses that end an item's life in the loop: a later run does not pick them up again.
FINAL = {"done", "pr-opened", "drafted", "escalated", "skipped"}


@record
class ItemState:
    id: str
    status: str = "pending"
    reason: str = ""
    attempts: int = 0
    gates: dict[str, str] = field(default_factory=dict)
    next_action: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@record
class LoopState:
    name: str
    run_id: str = "not-started"
    mode: str = "shadow"
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    run_extra: dict[str, str] = field(default_factory=dict)
    items: dict[str, ItemState] = field(default_factory=dict)
    # values never written to the file (the spec's sandbox environment, the GitHub token): a maker
    # that prints its API key into an error the state quotes must not leave it in LOOP_STATE.md
    secrets: list[str] = field(default_factory=list, repr=False, compare=False)

    def item(self, item_id: str) -> ItemState:
        if item_id not in self.items:
            self.items[item_id] = ItemState(item_id)
        return self.items[item_id]


def _text(value: Any) -> str:
    return " ".join(str(value).split())  # one line: a newline would break the bullet


def _shown(value: Any) -> str:
    """A value as written to the state: one line, and an HTML comment in it (a gate suppression
    the maker added, quoted in its reason) inside a code span, where markdown keeps it as text
    instead of hiding it (and the artifact reader drops comments outside code spans)."""
    text = _text(value)
    if "<!--" not in text:
        return text
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks} {text} {ticks}"


def state_bullet(key: str, value: Any) -> str:
    """One `- key: value` line as the state writes it (the readiness audit edits single bullets)."""
    return f"- {key}: {_shown(value)}"


def _read(value: Any) -> str:
    """The inverse of `_shown`: a value written as one whole code span comes back without it."""
    text = _text(value)
    run = len(text) - len(text.lstrip("`"))
    ticks = text[:run]
    whole = text.startswith(ticks + " ") and text.endswith(" " + ticks) and len(text) > 2 * run + 2
    if run and "<!--" in text and whole:
        return text[run + 1:-run - 1]
    return text


def from_data(data: dict[str, Any], fallback_name: str) -> LoopState:
    run = data.get("current_run") or {}
    state = LoopState(str(data.get("name") or fallback_name))
    state.run_id = _text(run.get("run_id", state.run_id))
    state.mode = _text(run.get("mode", state.mode))
    for key, value in run.items():
        if key in COUNTERS and isinstance(value, int):
            state.counters[key] = value
        elif key not in ("run_id", "mode"):
            state.run_extra[key] = _read(value)
    for item_id, raw in (data.get("items") or {}).items():
        if not isinstance(raw, dict):
            continue
        item = ItemState(item_id, _text(raw.get("status", "pending")), _read(raw.get("reason", "")))
        attempts = raw.get("attempts", 0)
        item.attempts = attempts if isinstance(attempts, int) else 0
        gates = raw.get("gates")
        item.gates = {k: _text(v) for k, v in gates.items()} if isinstance(gates, dict) else {}
        item.next_action = _read(raw.get("next_action", ""))
        item.extra = {k: _read(v) for k, v in raw.items() if k not in _ITEM_ORDER}
        state.items[item_id] = item
    return state


def load_state(path: str, fallback_name: str) -> tuple[LoopState, list[str]]:
    """The state and the errors that make it unusable (an invalid state is not guessed at)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return LoopState(fallback_name), []
    except (OSError, UnicodeDecodeError) as err:
        return LoopState(fallback_name), [f"{path}: cannot read: {err}"]
    artifact = check_artifact(path, STATE, text)
    errors = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in artifact.findings
              if f.severity.value == "error"]
    return from_data(artifact.data, fallback_name), errors


def render(state: LoopState) -> str:
    lines = [f"# Loop State: {_text(state.name)}", "", "## Current Run",
             f"- run_id: {_text(state.run_id)}", f"- mode: {_text(state.mode)}"]
    lines += [f"- {key}: {state.counters.get(key, 0)}" for key in COUNTERS]
    lines += [f"- {key}: {_shown(value)}" for key, value in state.run_extra.items()]
    lines += ["", "## Items"]
    for item in state.items.values():
        lines += ["", f"### {_text(item.id)}", f"- status: {item.status}"]
        if item.reason:
            lines.append(f"- reason: {_shown(item.reason)}")
        lines.append(f"- attempts: {item.attempts}")
        if item.gates:
            lines.append("- gates:")
            # keys come back normalised (`link_check`); spaces read better and mean the same
            lines += [f"  - {_text(name).replace('_', ' ')}: {result}" for name, result in item.gates.items()]
        lines += [f"- {key}: {_shown(value)}" for key, value in item.extra.items() if value]
        if item.next_action:
            lines.append(f"- next_action: {_shown(item.next_action)}")
    return shown("\n".join(lines) + "\n", state.secrets)


def save_state(path: str, state: LoopState) -> None:
    write_atomic(path, render(state))
