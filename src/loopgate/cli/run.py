"""`loopgate run` and `loopgate status`: parsing and printing around the runner core."""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import click

from loopgate import records, signals
from loopgate.artifacts.artifact import check_artifact
from loopgate.artifacts.crosscheck import LOOP_GATES
from loopgate.artifacts.kinds import CHECKLIST, SPEC, STATE
from loopgate.check import PlannedGate
from loopgate.cli.check import build_plan
from loopgate.cli.loops import resolve_loop_dir
from loopgate.gates.registry import gate
from loopgate.runner.loop import Loop, RunError, RunSettings, Stop
from loopgate.runner.queue import WorkItem
from loopgate.runner.sandbox import SandboxConfig
from loopgate.runner.state import load_state
from loopgate.signals import STOP_SIGNALS


def _fail(message: str, exit_code: int = 2) -> None:
    click.echo(f"loopgate: error: {message}", err=True)
    sys.exit(exit_code)


ITEM_SCOPE = LOOP_GATES[0]


def plan_factory(loop_dir: str) -> Any:
    """Gates for one attempt: the checklist's plan against the run's base, plus the loop's own
    check that the change stays inside the item's expected paths.

    The checklist's scope entry holds the spec's bounds (allowed and forbidden paths, max files);
    the item's paths are a second, narrower bound. Both must hold, so they are two gates rather
    than one gate given the union of both pattern lists.
    """
    offline = _maker_network(loop_dir) != "full"

    def factory(worktree: str, base: str, item: WorkItem) -> list[PlannedGate]:
        plan = build_plan(loop_dir, (), ())
        scoped, item_bounded = [], False
        for planned in plan:
            options = planned.options
            if options is not None and records.is_record(options):
                names = {f.name for f in records.fields(options)}
                if "base" in names and getattr(options, "base", None) in (None, ""):
                    options = records.replace(options, base=base)  # type: ignore[type-var]
                if offline and "offline" in names:
                    # a built-in gate runs in loopgate's own process, outside the maker's sandbox: the URL
                    # a maker without the network wrote into a file must not be fetched for it (that is
                    # the network it was denied, a way to carry data out); external links go unchecked,
                    # as `--offline` reports them. `allowlist` too: the gate does not filter by host.
                    options = records.replace(options, offline=True)  # type: ignore[type-var]
                if planned.spec is not None and planned.spec.name == "scope" and item.expected_paths \
                        and _unbounded(options):
                    # a scope entry with no bounds of its own is bounded by the item's paths
                    options = records.replace(options, allow=item.expected_paths)  # type: ignore[type-var]
                    item_bounded = True
            scoped.append(records.replace(planned, options=options))
        if item.expected_paths and not item_bounded:
            scope = gate("scope")
            assert scope is not None  # shipped with loopgate
            origin = (os.path.join(loop_dir, CHECKLIST.filename), 1, 1)
            scoped.append(PlannedGate(ITEM_SCOPE, scope, scope.options(base=base, allow=item.expected_paths),
                                      True, origin))
        return scoped
    return factory


def _maker_network(loop_dir: str) -> str:
    """The spec's `## Sandbox` network for the maker; "none" when the spec cannot be read (the run
    refuses such a loop anyway; offline is the side to err on)."""
    path = os.path.join(loop_dir, SPEC.filename)
    try:
        with open(path, encoding="utf-8") as handle:
            spec = check_artifact(path, SPEC, handle.read()).data
    except (OSError, UnicodeDecodeError):
        return "none"
    return SandboxConfig.from_spec(spec).network


def _unbounded(options: Any) -> bool:
    return not (options.allow or options.allow_file or options.spec or options.max_files is not None)


class _Progress:
    """Progress on stderr: plain lines for logs and CI; on a terminal, also a live line saying
    what runs now and for how long, so a long maker attempt never looks like a hang."""

    def __init__(self, quiet: bool, live: bool | None = None) -> None:
        self.quiet = quiet
        self.live = sys.stderr.isatty() if live is None else live
        self.activity = ""
        self.since = time.monotonic()
        self.lock = threading.Lock()
        self.done = threading.Event()
        if self.live and not quiet:
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self) -> None:
        while not self.done.wait(1.0):
            with self.lock:
                if self.activity:
                    elapsed = time.monotonic() - self.since
                    sys.stderr.write(f"\r\x1b[K  {self.activity} ({elapsed:.0f}s)")
                    sys.stderr.flush()

    def close(self) -> None:
        self.done.set()
        with self.lock:
            if self.live and self.activity:
                sys.stderr.write("\r\x1b[K")
            self.activity = ""

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        line, activity = _describe(kind, data)
        if not line:
            return
        with self.lock:
            if self.live:
                sys.stderr.write("\r\x1b[K")
            click.echo(line, err=True)
            self.activity, self.since = activity, time.monotonic()


def _describe(kind: str, data: dict[str, Any]) -> tuple[str, str]:
    """(the line to print, what is running from now on) for one runner event."""
    if kind == "item":
        reason = f" ({data['reason']})" if data.get("reason") else ""
        running = "gates" if data["status"] == "in-progress" else ""
        return f"item {data['id']}: {data['status']}{reason}", f"item {data['id']}: {running}" if running else ""
    if kind == "attempt":
        return (f"item {data['item']}: attempt {data['attempt']}: running the maker",
                f"item {data['item']}: attempt {data['attempt']}: maker running")
    if kind == "gate":
        before = "baseline (before any change) " if data.get("baseline") else ""
        return (f"item {data['item']}: {before}gate {data['gate']}: {data['status']}",
                f"item {data['item']}: gates running")
    if kind == "warning":
        return f"warning: {data['message']}", ""
    if kind == "containment":
        gates = "; so do the gates' commands" if data.get("gates_contained") else ""
        return f"the maker runs contained by {data['tool']} (network: {data['network']}){gates}", ""
    if kind == "stale-lock":
        return f"warning: a previous run (pid {data['pid']}) died without cleaning up; resuming its state", ""
    return "", ""


@click.command()
@click.argument("loop_dir", required=False, type=click.Path(file_okay=False))
@click.option("--maker", metavar="CMD", help="The agent command (default: `maker command` under ## Roles).")
@click.option("--mode", type=click.Choice(["shadow", "draft-pr", "pr"]), default=None,
              help="Rollout mode (default: the spec's; beyond shadow needs the spec's opt-in and a readiness audit).")
@click.option("--max-items", type=click.IntRange(1), default=None, help="Work on at most N items this run.")
@click.option("--dry-run", is_flag=True,
              help="Select and report; never run the maker, and write nothing (LOOP_STATE.md and reports untouched).")
@click.option("--base", default="HEAD", show_default=True, help="The commit each item's worktree starts from.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", help="Output.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def run(loop_dir: str | None, maker: str | None, mode: str | None, max_items: int | None, dry_run: bool, base: str,
        output_format: str, quiet: bool) -> None:
    """Run the bounded maker-checker loop once.

    Finds work (the spec's Inputs: a local queue file, GitHub issues by label), applies the
    work selection rules, runs the maker in a git worktree per item, checks each attempt
    with the checklist's gates, and records everything in LOOP_STATE.md and a JSON report
    under .loop/runs/. Shadow mode (the default) never pushes or opens pull requests.

    \b
    Exit status:
      0  all selected items completed        4  a budget ran out (runtime, cost, tokens, PRs)
      2  usage or input error                5  environmental failure: the maker cannot start,
      3  escalations pending                    the agent cannot log in, pay, reach its API or
                                                edit, spend cannot be priced, a gate, git or
                                                GitHub failed
                                             6  interrupted (SIGINT/SIGTERM)
                                             7  paused (PAUSE file or pause label)

    \b
    Examples:
      loopgate run examples/shadow-loop/repo/.loop
      loopgate run --dry-run --format json
      loopgate run --maker 'claude -p "$(cat "$LOOPGATE_PROMPT_FILE")" --permission-mode acceptEdits \\
        --output-format stream-json --verbose'
      loopgate run --maker 'codex exec --json --sandbox workspace-write "$(cat "$LOOPGATE_PROMPT_FILE")"'
    """
    directory = resolve_loop_dir(loop_dir)
    settings = RunSettings(directory, maker, mode, max_items, dry_run, base)
    progress = _Progress(quiet)
    # the run answers a stop signal itself (it stops after recording what happened); one that comes
    # again once it has returned, while its outcome is printed, must not kill the command with 143 or
    # 130 instead of the run's own exit code: held until the command returns, and ignored from the
    # interpreter's exit on (Python's shutdown puts back the default action of every signal it handled,
    # and one in that window ended the finished command); see loopgate.signals for who gets them back
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for sig, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(sig, lambda signum, frame: None)
    _ignore_at_exit()
    try:
        _run_and_show(settings, directory, progress, output_format)
    finally:
        # held to the end when this process is the command: its stop is always a signal's business
        signals.put_back(previous, signalled=True)


def _run_and_show(settings: RunSettings, directory: str, progress: _Progress, output_format: str) -> None:
    try:
        outcome = Loop(settings, plan_factory(directory), progress).run()
    except RunError as err:
        progress.close()
        _fail(str(err), err.exit_code)
        return
    progress.close()
    if output_format == "json" and outcome.report_path:
        with open(outcome.report_path, encoding="utf-8") as handle:
            click.echo(handle.read(), nl=False)
    elif output_format == "json":  # a dry run: the report was not written, only printed
        click.echo(json.dumps(outcome.report, indent=2, ensure_ascii=False))
    else:
        for record in outcome.records:
            click.echo(f"{record.item.id:<16} {record.status:<12} {record.reason}")
        click.echo(f"stopped: {outcome.stop.label}: {outcome.detail}")
        click.echo(f"report: {outcome.report_path or 'none (dry run: nothing written)'}")
        if outcome.summary_path and any(r.status == "escalated" for r in outcome.records):
            click.echo(f"escalations: {outcome.summary_path}")
    sys.exit(outcome.stop.exit_code)




@functools.cache
def _ignore_at_exit() -> None:
    """Once a process: at the interpreter's exit (atexit runs before Python puts the default actions
    back), the stop signals are ignored, so none ends a command that has finished."""
    atexit.register(lambda: [signal.signal(s, signal.SIG_IGN) for s in STOP_SIGNALS])


@click.command()
@click.argument("loop_dir", required=False, type=click.Path(file_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", help="Output.")
def status(loop_dir: str | None, output_format: str) -> None:
    """Print the loop's state (LOOP_STATE.md) as a table."""
    directory = resolve_loop_dir(loop_dir)
    state, errors = load_state(os.path.join(directory, STATE.filename), "loop")
    if errors:
        _fail(errors[0])
    if output_format == "json":
        click.echo(json.dumps({"name": state.name, "run_id": state.run_id, "mode": state.mode,
                               "counters": state.counters,
                               "items": [records.asdict(i) for i in state.items.values()]}, indent=2))
        return
    click.echo(f"{state.name}: run {state.run_id}, mode {state.mode}, "
               + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in state.counters.items()))
    rows = [("ITEM", "STATUS", "ATTEMPTS", "REASON", "NEXT ACTION")]
    rows += [(i.id, i.status, str(i.attempts), i.reason, i.next_action) for i in state.items.values()]
    widths = [min(max(len(r[c]) for r in rows), 40) for c in range(4)]
    for row in rows:
        click.echo("  ".join(_cut(cell, 40).ljust(widths[c]) for c, cell in enumerate(row[:4])) + "  " + row[4])


def _cut(text: str, width: int) -> str:
    """A table cell that says when it was shortened (the whole text is in LOOP_STATE.md)."""
    return text if len(text) <= width else text[:width - 1] + "…"


__all__ = ["Stop", "run", "status"]
