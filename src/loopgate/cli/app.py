"""The click command line. Parsing only: every decision lives in the core modules.

The console script's entry is cli/main.py, which runs the common `loopgate verify` and `loopgate
gate NAME` without importing this module when it can (cli/fast.py); everything else, --help and
every error message come from here.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
from typing import Any

import click

from loopgate import __version__
from loopgate.cli.output import COLOR_HELP, REPORT_HELP, cannot_write, parse_reports, require_cwd
from loopgate.cli.verifying import FORMATS, fail, verify_command
from loopgate.codes import codes_markdown

# Commands that need the gates, the runner or jsonschema are imported on first use: pre-commit
# starts `loopgate verify` or `loopgate gate NAME` on every commit, and each should pay only for
# what it runs.
_LAZY = {"check": "loopgate.cli.check:check", "gate": "loopgate.cli.gates:gate_group",
         "run": "loopgate.cli.run:run", "status": "loopgate.cli.run:status",
         "readiness": "loopgate.cli.history:readiness", "review": "loopgate.cli.history:review",
         "report": "loopgate.cli.history:report"}

SCHEMA_ALIASES = {"spec": "loop-spec", "state": "loop-state", "checklist": "quality-gate-checklist",
                  "policy": "escalation-policy", "escalation": "escalation-policy", "readiness": "loop-readiness"}


def _fail(message: str) -> None:
    """A usage or input error: one clear line on stderr, exit 2."""
    fail(message)


class _LazyGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """click's main, which re-raises every OSError but a broken pipe: output that cannot be written
        (a full disk, an stdout encoding without the text's characters) by a command that writes with
        click.echo is one line and exit 2 as well (output.echo says it for verify and gate)."""
        try:
            return super().main(*args, **kwargs)
        except OSError as err:
            if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
                raise
            cannot_write("the output", err.strerror or str(err))
        except UnicodeEncodeError as err:
            cannot_write("the output", str(err))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY:
            module, attr = _LAZY[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="loopgate")
def cli() -> None:
    """loopgate: the gate-first control plane for recurring AI-agent loops.

    A loop is described by five markdown artifacts: LOOP_SPEC.md, LOOP_STATE.md,
    quality-gate-checklist.md, escalation-policy.md and loop-readiness.md.

    \b
    Start here:
      loopgate init my-loop --name "Docs Link Repair"   write a starting set
      loopgate verify my-loop                           check it (exit 0/1/2)
      loopgate explain LG203                            what a finding means

    Exit codes: 0 clean, 1 findings, 2 usage or input error.
    """
    require_cwd()  # before any subcommand parses a path (fast.run_fast checks at the same point)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict/--no-strict", default=None,
              help="Fail on warnings too (default: errors only, or `strict` in [tool.loopgate.verify]).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="Output: text, json, github (annotations), sarif (code scanning), junit (CI test reports) or "
              "markdown (a job-summary table). auto (default) = github under GitHub Actions, else text.")
@click.option("--color/--no-color", default=None, help=COLOR_HELP)
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE", callback=parse_reports, help=REPORT_HELP)
def verify(paths: tuple[str, ...], strict: bool | None, output_format: str | None, color: bool | None,
           reports: tuple[tuple[str, str], ...]) -> None:
    """Validate loop artifacts against their schemas and against each other.

    PATHS are loop directories or artifact files. With none, the current directory (and its
    .loop/ folder). A directory without artifacts is searched for LOOP_SPEC.md files below it,
    so `loopgate verify` at the root of a monorepo checks every loop.

    \b
    Examples:
      loopgate verify                          the loop in . or ./.loop
      loopgate verify loops/ --strict          every loop below loops/, warnings fail
      loopgate verify LOOP_STATE.md            one file (its siblings give context)
      loopgate verify --format json            {"ok": ..., "problems": [...]}
      loopgate verify --format sarif > loopgate.sarif     for GitHub code scanning

    Defaults can be set in pyproject.toml under [tool.loopgate] or [tool.loopgate.verify]:
    strict = true, format = "github". A `strict = true` the last commit holds stays on when the
    change being verified drops it (`--no-strict` still turns it off on purpose).
    """
    verify_command(paths, strict, output_format, color, reports)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", help="The loop's name, used in every title (default: from the directory name).")
@click.option("--force", is_flag=True, help="Overwrite existing artifact files (and the CI workflow).")
@click.option("--ci", type=click.Choice(["github"]), default=None,
              help="Also write a CI workflow: github = .github/workflows/loopgate.yml at the repository root "
              "(verify and check on pull requests, the loop in shadow mode on the spec's trigger). For a loop "
              "that already exists, only the workflow is written.")
def init(directory: str, name: str | None, force: bool, ci: str | None) -> None:
    """Write a complete, commented artifact set to DIRECTORY (default: .).

    The set passes `loopgate verify` at once (its readiness items are left unticked: warnings
    until you have audited the loop). Existing files are never overwritten without --force,
    and if any would be, nothing is written.

    \b
    Examples:
      loopgate init loops/docs-links --name "Documentation Link Repair"
      loopgate init .loop --ci github      the loop and its GitHub Actions workflow
    """
    from loopgate.artifacts.kinds import KINDS  # noqa: PLC0415
    from loopgate.ci_github import CiError, workflow_target, write_workflow  # noqa: PLC0415
    from loopgate.init_loop import InitError, InitSettings, default_name, run_init  # noqa: PLC0415

    present = [k for k in KINDS if os.path.lexists(os.path.join(directory, k.filename))]
    keep_loop = ci is not None and len(present) == len(KINDS) and not force  # an existing loop: add CI only
    if ci is not None and not force and os.path.lexists(workflow_target(directory)[0]):
        _fail(f"would overwrite {workflow_target(directory)[0]} (use --force to replace it)")
    written: list[str] = []
    try:
        if not keep_loop:
            written = run_init(InitSettings(directory, name or default_name(directory), force))
        if ci is not None:
            written.append(write_workflow(directory, force))
    except (InitError, CiError) as err:
        _fail(str(err))
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: edit the files, then run `loopgate verify {directory}` and `loopgate readiness {directory}`")


@cli.command()
@click.argument("name", required=False)
def schema(name: str | None) -> None:
    """Print an artifact's JSON schema (draft 2020-12), or list the names.

    NAME is a schema name (loop-spec, loop-state, quality-gate-checklist, escalation-policy,
    loop-readiness), a short name (spec, state, checklist, policy, readiness) or a file name
    (LOOP_SPEC.md). The schemas describe the data loopgate reads from the markdown: durations
    in seconds, money as {amount, currency}.

    \b
    Example:
      loopgate schema spec > loop-spec.schema.json
    """
    from loopgate.artifacts.kinds import BY_FILENAME, BY_NAME  # noqa: PLC0415
    from loopgate.artifacts.schema import schema_names, schema_text  # noqa: PLC0415

    if name is None:
        for known in schema_names():
            click.echo(f"{known:<24} {BY_NAME[known].filename if known in BY_NAME else ''}")
        return
    key = name.strip().lower()
    kind = BY_FILENAME.get(key)
    resolved = kind.name if kind else SCHEMA_ALIASES.get(key, key.removesuffix(".schema.json"))
    if resolved not in schema_names():
        _fail(f"no schema named '{name}' (try: {', '.join(schema_names())})")
    click.echo(schema_text(resolved), nl=False)


@cli.command()
@click.argument("code", required=False)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="text for people, json for tools, markdown for the docs (docs/codes.md is this output).")
def explain(code: str | None, output_format: str) -> None:
    """Say what a finding code means and how to fix it. With no CODE, list every code.

    \b
    Examples:
      loopgate explain LG203
      loopgate explain            the table of all codes
    """
    from loopgate.gates.registry import all_codes, code_for  # noqa: PLC0415 - imports every gate

    entries = list(all_codes().values()) if code is None else [code_for(code)]
    if entries == [None]:
        _fail(f"unknown code '{code}' (run `loopgate explain` for the list)")
    found = [e for e in entries if e is not None]
    if output_format == "json":
        click.echo(json.dumps([{"code": e.code, "name": e.name, "severity": e.severity.value,
                                "summary": e.summary, "explanation": e.explanation, "hint": e.hint}
                               for e in found], indent=2))
        return
    if output_format == "markdown":
        click.echo(codes_markdown(found), nl=False)
        return
    if code is None:
        for e in found:
            click.echo(f"{e.code}  {e.severity.value:<7}  {e.name:<22} {e.summary}")
        return
    e = found[0]
    click.echo(f"{e.code} {e.name} ({e.severity.value})\n\n{e.summary}\n\n{e.explanation}\n\nFix: {e.hint}")


@cli.command(hidden=True)
def hooks() -> None:
    """Print .pre-commit-hooks.yaml as generated from the gate registry."""
    from loopgate.hooks import manifest  # noqa: PLC0415

    click.echo(manifest(), nl=False)


@cli.command("gates-doc", hidden=True)
def gates_doc() -> None:
    """Print docs/gates.md as generated from the gate registry."""
    from loopgate.gatedocs import gates_markdown  # noqa: PLC0415

    click.echo(gates_markdown(), nl=False)
