"""`loopgate readiness`, `loopgate review` and `loopgate report`: parsing and printing only."""

from __future__ import annotations

import datetime as dt
import os
import sys

import click

from loopgate.cli.loops import resolve_loop_dir
from loopgate.readiness.rollout import MODES


def _fail(message: str) -> None:
    click.echo(f"loopgate: error: {message}", err=True)
    sys.exit(2)


@click.command()
@click.argument("loop_dir", required=False, type=click.Path(file_okay=False))
@click.option("--mode", type=click.Choice(MODES), help="The mode to judge (default: the mode the loop runs in).")
@click.option("--maker", metavar="CMD", help="The agent command to check (default: `maker command` under ## Roles).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--run-checks/--no-run-checks", default=True, show_default=True,
              help="Run the checklist on a clean checkout of the default branch (may take as long as your tests).")
@click.option("--dry-run", is_flag=True, help="Judge only: do not record a rollback in LOOP_STATE.md.")
def readiness(loop_dir: str | None, mode: str | None, maker: str | None, fmt: str, run_checks: bool,
              dry_run: bool) -> None:
    """May this loop run in a mode, on the evidence? A verdict per mode, every reason, what to do.

    \b
    Three kinds of evidence:
      artifacts   the spec, budgets, stop conditions, escalation baseline, a deterministic
                  required gate, a scope allowlist, readiness items decided
      repository  the checklist's gates and the maker command can run here, tests exist, the
                  checklist passes on the default branch, a sandbox for the maker (pr)
      history     shadow runs and items, drafts a person accepted (`loopgate review`),
                  escalation, no-progress and environmental-stop rates, cost per item
    Thresholds: `## Rollout` in LOOP_SPEC.md (README: Readiness). When the last items of the
    current mode cross a rollback limit, the loop is demoted one step and LOOP_STATE.md says so.

    \b
    Exit: 0 the mode is allowed, 1 not yet, 2 usage or input error.
    \b
      loopgate readiness .loop
      loopgate readiness .loop --mode draft-pr --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    from loopgate.readiness.audit import audit  # noqa: PLC0415 - only this command pays for it
    from loopgate.readiness.render import RENDERERS  # noqa: PLC0415
    from loopgate.readiness.repository import Interrupted  # noqa: PLC0415

    directory = resolve_loop_dir(loop_dir)
    try:
        result = audit(directory, requested=mode, maker=maker, run_checks=run_checks, write=not dry_run)
    except Interrupted as err:
        click.echo(f"loopgate: interrupted by {err} while the checklist ran on the default branch; its "
                   "processes were ended and the temporary worktree removed", err=True)
        sys.exit(130 if str(err) == "SIGINT" else 143)
    click.echo(RENDERERS[fmt](result), nl=False)
    sys.exit(result.exit_code)


@click.command()
@click.argument("item")
@click.argument("verdict", type=click.Choice(["accept", "reject"]))
@click.option("--loop", "loop_dir", type=click.Path(file_okay=False),
              help="The loop directory (default: . or ./.loop).")
@click.option("--note", default="", help="Why, in a line (kept with the verdict).")
def review(item: str, verdict: str, loop_dir: str | None, note: str) -> None:
    """Record a person's verdict on a drafted item: the evidence promotion weighs most.

    \b
      loopgate review MT-117 accept
      loopgate review MT-118 reject --note "fixed the link by deleting the paragraph"
    """
    from loopgate.history.reviews import ReviewError, record_review  # noqa: PLC0415

    directory = resolve_loop_dir(loop_dir)
    try:
        saved = record_review(directory, item, verdict, note)
    except ReviewError as err:
        _fail(str(err))
        return
    click.echo(f"loopgate: recorded {saved.verdict} for {saved.item} ({saved.at})")


@click.command()
@click.argument("loop_dir", required=False, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True)
@click.option("--by", "period", type=click.Choice(["run", "day", "week"]), default="day", show_default=True,
              help="One point per run, per UTC day or per ISO week.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (atomically; a symlink is followed, a FIFO or device written "
                   "into) instead of stdout; usual with --format html.")
def report(loop_dir: str | None, fmt: str, period: str, output: str | None) -> None:
    """Trends over the loop's run reports (.loop/runs/*.json).

    Runs, items drafted / PRs / escalated / failed, attempts per item, gate failure rates by
    gate, stop reasons, duration and cost per run and per item, and the mode the history had
    earned, over time. `--format html` writes one self-contained page with charts (no network
    needed to open it); `markdown` suits a CI job summary.

    \b
      loopgate report .loop
      loopgate report .loop --format html -o loop-report.html
      loopgate report .loop --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    from loopgate.artifacts.crosscheck import spec_mode  # noqa: PLC0415 - only this command pays for it
    from loopgate.history.html import render_html  # noqa: PLC0415
    from loopgate.history.metrics import totals  # noqa: PLC0415
    from loopgate.history.output import write_output  # noqa: PLC0415
    from loopgate.history.render import Report, left_out, render_json, render_markdown, render_text  # noqa: PLC0415
    from loopgate.history.reviews import ReviewError, load_reviews  # noqa: PLC0415
    from loopgate.history.runs import dated_after, load_history  # noqa: PLC0415
    from loopgate.history.trends import series  # noqa: PLC0415
    from loopgate.readiness.artifacts import spec_data  # noqa: PLC0415
    from loopgate.readiness.rollout import thresholds  # noqa: PLC0415
    from loopgate.runner.atomic import WriteError  # noqa: PLC0415

    directory = resolve_loop_dir(loop_dir)
    history = load_history(directory)  # as written: a run dated past the clock is shown, and said below
    try:
        reviews = load_reviews(directory).bound(history)  # each verdict on one draft, as the audit reads them
    except ReviewError as err:
        _fail(str(err))
        return
    spec = spec_data(directory)
    name = str(spec.get("name") or os.path.basename(os.path.abspath(directory)))
    configured = spec_mode(spec) if spec else "shadow"  # the rollback replay starts from the spec's mode
    result = Report(name, period, series(history, reviews, thresholds(spec), period, configured),
                    totals(history.runs, reviews),
                    history.unreadable, history.runs_dir, reviews.unattributed(history))
    renderers = {"text": render_text, "json": render_json, "markdown": render_markdown, "html": render_html}
    text = renderers[fmt](result)
    warnings = dated_after(history, dt.datetime.now(dt.timezone.utc))
    if output is not None or fmt != "text":  # the text table says it under the table, in front of the reader
        warnings += left_out(result)
    for line in warnings:
        click.echo(f"loopgate: warning: {line}", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_output(output, text)  # through a symlink, a FIFO or /dev/stdout: never a file put in their place
    except WriteError as err:
        _fail(str(err))
    click.echo(f"loopgate: wrote {output} ({len(result.points)} point(s), {result.overall.runs} run(s))", err=True)
