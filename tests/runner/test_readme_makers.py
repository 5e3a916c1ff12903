"""The README's maker examples, run as written, against stand-ins for `claude` and `codex` that keep
the agents' documented headless defaults: `claude -p` refuses edits unless a permission mode grants
them (and its stream-json output needs `--verbose`); `codex exec` runs in a read-only sandbox unless
given `--sandbox workspace-write`. The stand-ins print the agents' JSON event shapes. Without the
flag, the same command stops the run as environmental and names the flag."""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from loopgate.runner.loop import Loop, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, PlanFactory

ROOT = Path(__file__).resolve().parents[2]

FAKE_CLAUDE = r'''
import argparse, json, pathlib, sys
parser = argparse.ArgumentParser(prog="claude")
parser.add_argument("prompt", nargs="?")
parser.add_argument("-p", "--print", action="store_true")
parser.add_argument("--permission-mode", default="default",
                    choices=["acceptEdits", "bypassPermissions", "default", "plan"])
parser.add_argument("--output-format", default="text", choices=["text", "json", "stream-json"])
parser.add_argument("--verbose", action="store_true")
parser.add_argument("--include-partial-messages", action="store_true")
parser.add_argument("--max-turns", type=int)
parser.add_argument("--max-budget-usd", type=float)
args = parser.parse_args()
if args.print and args.output_format == "stream-json" and not args.verbose:
    sys.exit("Error: When using --print, --output-format=stream-json requires --verbose")
if not args.print or not args.prompt or "Work item" not in args.prompt:
    sys.exit("Error: expected -p with the rendered prompt")
if args.max_turns is not None and args.max_turns < 1 or args.max_budget_usd is not None and args.max_budget_usd <= 0:
    sys.exit("Error: bad limit")
def emit(event):
    print(json.dumps(event), flush=True)
emit({"type": "system", "subtype": "init", "session_id": "s", "permissionMode": args.permission_mode})
emit({"type": "assistant", "message": {"id": "m1", "usage": {"input_tokens": 900, "output_tokens": 30},
      "content": [{"type": "tool_use", "id": "t1", "name": "Edit", "input": {"file_path": "docs/guide.md"}}]}})
denials = []
if args.permission_mode in ("acceptEdits", "bypassPermissions"):
    guide = pathlib.Path("docs/guide.md")
    guide.write_text(guide.read_text().replace("missing.md", "index.md"))
    emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}})
else:  # headless Claude Code asks no one: an edit without a permission mode is refused
    for n in (1, 2):
        denials.append({"tool_name": "Edit", "tool_use_id": f"t{n}", "tool_input": {"file_path": "docs/guide.md"}})
        emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": f"t{n}", "is_error": True,
              "content": "Claude requested permissions to write to docs/guide.md, but you haven't granted it yet."}]}})
emit({"type": "result", "subtype": "success", "is_error": False, "num_turns": 2, "result": "done",
      "total_cost_usd": 0.004, "permission_denials": denials, "usage": {"input_tokens": 900, "output_tokens": 30}})
'''

FAKE_CODEX = r'''
import argparse, json, pathlib, sys
parser = argparse.ArgumentParser(prog="codex")
parser.add_argument("command", choices=["exec"])
parser.add_argument("prompt")
parser.add_argument("--json", action="store_true")
parser.add_argument("-s", "--sandbox", default="read-only",
                    choices=["read-only", "workspace-write", "danger-full-access"])
args = parser.parse_args()
if "Work item" not in args.prompt:
    sys.exit("error: expected the rendered prompt")
def emit(event):
    print(json.dumps(event), flush=True)
emit({"type": "thread.started", "thread_id": "th_1"})
emit({"type": "turn.started"})
for n in (1, 2):
    status = "failed"
    if args.sandbox != "read-only":  # the default sandbox lets it read, never write
        guide = pathlib.Path("docs/guide.md")
        guide.write_text(guide.read_text().replace("missing.md", "index.md"))
        status = "completed"
    emit({"type": "item.completed", "item": {"id": f"item_{n}", "type": "file_change", "status": status,
                                             "changes": [{"path": "docs/guide.md", "kind": "update"}]}})
    if status == "completed":
        break
emit({"type": "turn.completed", "usage": {"input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 50}})
'''


def readme_makers() -> dict[str, str]:
    """The `--maker` argument of each `loopgate run .loop --maker '...'` line of the README, by agent."""
    text = (ROOT / "README.md").read_text("utf-8")
    makers = {}
    for line in re.findall(r"^loopgate run \.loop --maker .*$", text, re.M):
        command = shlex.split(line)[4]
        makers[command.split()[0]] = command
    return makers


@pytest.fixture
def agents_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # the system's python: a virtualenv's may link into a home the maker's sandbox hides
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    for name, source in (("claude", FAKE_CLAUDE), ("codex", FAKE_CODEX)):
        path = bin_dir / name
        path.write_text(f"#!{python}\n{source}")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return bin_dir


def run(repo: LoopRepo, factory: PlanFactory, maker: str) -> tuple[Stop, str, str]:
    outcome = Loop(RunSettings(str(repo.loop), maker=maker, max_items=1, grace=0.5), factory).run()
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return outcome.stop, outcome.detail, state.items["DOC-1"].status


def test_the_readme_names_both_agents() -> None:
    assert set(readme_makers()) == {"claude", "codex"}


@pytest.mark.parametrize("agent", ["claude", "codex"])
def test_the_readmes_maker_example_works_as_written(agent: str, loop_repo: LoopRepo, factory: PlanFactory,
                                                    agents_on_path: Path) -> None:
    stop, detail, status = run(loop_repo, factory, readme_makers()[agent])
    assert (stop, status) == (Stop.DONE, "drafted"), detail


@pytest.mark.parametrize(("agent", "flag"), [("claude", "--permission-mode acceptEdits"),
                                             ("codex", "--sandbox workspace-write")])
def test_without_the_flag_the_run_stops_and_names_it(agent: str, flag: str, loop_repo: LoopRepo,
                                                     factory: PlanFactory, agents_on_path: Path) -> None:
    command = readme_makers()[agent]
    assert flag in command
    stop, detail, status = run(loop_repo, factory, command.replace(flag, ""))
    assert stop is Stop.ENVIRONMENT and f"`{flag}`" in detail
    assert status == "in-progress"  # not the item's failure: it resumes


def test_claude_stream_json_without_verbose_fails_as_the_real_one_does(
        loop_repo: LoopRepo, factory: PlanFactory, agents_on_path: Path) -> None:
    """The stand-in refuses what Claude Code refuses, so the passing example above proves something."""
    stop, _, status = run(loop_repo, factory, readme_makers()["claude"].replace(" --verbose", ""))
    assert stop is not Stop.DONE and status != "drafted"
