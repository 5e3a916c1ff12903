"""`loopgate check`: build the gate plan from quality-gate-checklist.md, run it, report.

Parsing only: each entry's `args:` are parsed by the same click command as `loopgate gate
NAME`, so an entry means exactly what the command line would.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from typing import Any

import click

from loopgate import records
from loopgate.artifacts.kinds import CHECKLIST, SPEC
from loopgate.check import PlannedGate, StopSignals, run_check
from loopgate.cibase import CIBaseError, ci_base, ci_note
from loopgate.cli.gates import build_options, command_for, default_format, in_ci_base
from loopgate.cli.output import COLOR_HELP, REPORT_HELP, emit, is_terminal, parse_reports, use_color, write_reports
from loopgate.committed_checklist import weakened_entries
from loopgate.config import ConfigError, committed_gate_config, find_pyproject, gate_tables, load_config
from loopgate.findings import Finding, sort_findings
from loopgate.gates.base import GateContext, GateResult, GateSpec, GateStatus
from loopgate.gates.registry import CHECKLIST_WEAKENED, gates
from loopgate.reporters import FORMAT_NAMES, Report
from loopgate.reporters.base import printable
from loopgate.verify import LOOP_SUBDIR, load_artifact


def _fail(message: str) -> None:
    click.echo(f"loopgate: error: {message}", err=True)
    sys.exit(2)


def find_loop_dir(given: str | None) -> str:
    candidates = [given] if given else [".", LOOP_SUBDIR]
    for directory in candidates:
        if os.path.isfile(os.path.join(directory, CHECKLIST.filename)):
            return directory
    where = given or f". or ./{LOOP_SUBDIR}"
    _fail(f"no {CHECKLIST.filename} in {where} (run `loopgate init` to write one)")
    raise AssertionError  # unreachable: _fail exits


def loop_root(loop_dir: str) -> str:
    """The repository a loop belongs to, which `check` judges wherever it is run from.

    The git work tree holding the loop directory; outside git, the directory of the
    pyproject.toml whose `[tool.loopgate]` configures it; else the directory holding a `.loop/`,
    or (a loop directory of another name) the current directory. Returned relative to the current directory
    ("." when the current directory is that root), so findings read as they did before.
    """
    root = _git_toplevel(loop_dir)
    if root is None:
        pyproject = find_pyproject(loop_dir)
        if pyproject is not None:
            root = os.path.dirname(pyproject)
        else:
            absolute = os.path.abspath(loop_dir)
            root = os.path.dirname(absolute) if os.path.basename(absolute) == LOOP_SUBDIR else "."
    return os.path.relpath(root)


def _git_toplevel(directory: str) -> str | None:
    try:
        # found from the directory alone: a GIT_DIR set for a hook would make the loop directory its own top
        env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
        done = subprocess.run(["git", "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, check=False, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError):
        return None  # no git here: the fallbacks decide
    top = done.stdout.strip()
    return top if done.returncode == 0 and top else None


def _entry_args(entry: dict[str, Any]) -> tuple[str, list[str]]:
    """(gate name, argv) for a checklist entry: `gate:` + `args:`/`paths:`, or `command:`.

    Raises ValueError when `args:` is not valid shell words (an unclosed quote)."""
    if "command" in entry:
        return "command", ["--shell", str(entry["command"])]
    argv = shlex.split(str(entry.get("args", "")))
    return str(entry.get("gate")), [*argv, *[str(p) for p in entry.get("paths", [])]]


def _with_timeout(spec: GateSpec, entry: dict[str, Any], argv: list[str]) -> list[str]:
    """An entry's `timeout:` is the gate's whole time limit: only gates that have one take it.

    Handing it to any gate's `--timeout` would give it another meaning (the links gate's old
    per-request limit: a five-minute entry timeout would have let each request hang five minutes).
    """
    if entry.get("timeout") is None:
        return argv
    if "timeout" not in {f.name for f in records.fields(spec.options)}:
        raise ValueError(f"`timeout:` is the time limit of a command; gate '{spec.name}' has none "
                         "(drop the line, or run the check as `- command:`)")
    return ["--timeout", str(entry["timeout"]), *argv]  # first: args may end with `-- words`


def _has_scope(spec_path: str) -> bool:
    """Whether the loop's spec bounds the change (`## Scope`): only then is it the scope gate's default."""
    if not os.path.isfile(spec_path):
        return False
    artifact, _ = load_artifact(spec_path, SPEC)
    return artifact is not None and bool(artifact.data.get("scope"))


def plan_entry(name: str, entry: dict[str, Any], required: bool, origin: tuple[str, int, int],
               loop_dir: str, config: dict[str, Any], root: str = ".", ci: bool = False) -> PlannedGate:
    """One checklist entry as a planned gate; paths in its options are relative to `root`, where it runs."""
    try:
        gate, argv = _entry_args(entry)
    except ValueError as err:
        return PlannedGate(name, None, None, required, origin, f"args: cannot split into words: {err}")
    spec = gates().get(gate)
    if spec is None:
        return PlannedGate(name, None, None, required, origin, f"no built-in gate named '{gate}'")
    try:
        argv = _with_timeout(spec, entry, argv)
        command = command_for(spec)
        ctx = command.make_context(f"loopgate gate {gate}", argv, resilient_parsing=False)
        params = {k: v for k, v in ctx.params.items() if k not in ("output_format", "color", "reports")}
        spec_path = os.path.join(loop_dir, SPEC.filename)
        if "spec" in params and params["spec"] is None and _has_scope(spec_path):
            # the gate opens it from `root`, where it runs (the run loop's plan keeps "." and its own paths)
            params["spec"] = spec_path if root == "." else os.path.relpath(spec_path, root)
        gate_config = config.get(gate, {})
        if "base" in {f.name for f in records.fields(spec.options)}:
            # judged as `loopgate gate` judges it: the table from the change's base, never from the change
            gate_config, _, _ = committed_gate_config(gate, str(params.get("base") or ""), root)
            if ci:  # in CI the change is the pull request's, not the (empty) staged changes
                gate_config, _ = in_ci_base(gate, params, gate_config, "", root)
        elif ci:
            # The tree gates too take their table from the change's base: a change that adds
            # `exclude = ["**"]` for the links gate must not pass its own broken links.
            base = ci_base(root)[0] or "HEAD"
            committed, note, working, revision = gate_tables(gate, base, root, takes_base=False)
            if "ignore_file_at" in params and not params["ignore_file_at"]:  # the links gate's ignore file too
                params["ignore_file_at"] = revision
            build_options(spec, {}, working if isinstance(working, dict) else {})  # a typo there: say so now
            if note:
                click.echo(f"loopgate: note: {printable(note, False)}", err=True)
            gate_config = committed
        options = build_options(spec, params, gate_config if isinstance(gate_config, dict) else {})
    except click.exceptions.Exit:
        return PlannedGate(name, spec, None, required, origin, "args may not ask for --help")
    except (click.ClickException, ConfigError, TypeError, ValueError) as err:
        message = err.format_message() if isinstance(err, click.ClickException) else str(err)
        return PlannedGate(name, spec, None, required, origin, message, no_base=isinstance(err, CIBaseError))
    return PlannedGate(name, spec, options, required, origin)


def build_plan(loop_dir: str, only: tuple[str, ...], skip: tuple[str, ...], root: str = ".",
               ci: bool = False) -> list[PlannedGate]:
    """The checklist's entries as planned gates. `ci`: a change-judging gate given no base judges the
    change since the CI's base (`loopgate check`; the run loop sets its own base)."""
    path = os.path.normpath(os.path.join(loop_dir, CHECKLIST.filename))
    artifact, problems = load_artifact(path, CHECKLIST)
    errors = [f for f in problems if f.severity.value == "error"]
    if artifact is None or errors:
        for finding in errors:
            click.echo(printable(f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}",
                                 False), err=True)
        _fail(f"{path} is not a valid checklist; fix it first (`loopgate verify {loop_dir}`)")
    assert artifact is not None
    try:
        # the loop's own repository decides its gates' options, wherever the command runs from
        config = load_config(loop_dir).section("gates")
    except ConfigError as err:
        _fail(str(err))
    sections = [(s, r, artifact.data.get(s, {})) for s, r in (("required_gates", True), ("advisory_gates", False))]
    names = [name for _, _, entries in sections for name in entries]
    unknown = [n for n in (*only, *skip) if n not in names]
    if unknown:
        _fail(f"no checklist entry named {', '.join(repr(n) for n in unknown)} in {path} "
              f"(entries: {', '.join(repr(n) for n in names) or 'none'})")
    plan: list[PlannedGate] = []
    for section, required, entries in sections:
        for name, entry in entries.items():
            if (only and name not in only) or name in skip:
                continue
            pos = artifact.extracted.position((section, name))
            plan.append(plan_entry(name, entry, required, (path, pos.line, pos.column), loop_dir, config, root, ci))
    return plan


def _ci_base(root: str) -> tuple[str, str]:
    """The CI's base, or none when the CI's variable is unusable: every planned gate already stops on it (exit 2)."""
    try:
        return ci_base(root)
    except ConfigError:
        return "", ""


def _of(base_path: str, path: str, root: str) -> str:
    """' of FILE' when the base's checklist is another file than the one the change has."""
    here = os.path.normpath(os.path.join(root, base_path))
    return "" if not base_path or os.path.realpath(here) == os.path.realpath(path) else f" of {here}"


def committed_required(loop_dir: str, root: str, only: tuple[str, ...], skip: tuple[str, ...],
                       plan: list[PlannedGate], named: bool = True) -> tuple[list[PlannedGate], list[Finding]]:
    """The base's required gates that the judged change removes, demotes or edits (LG806): planned to run
    as the base wrote them, so a change cannot drop the gate that would fail it. `named`: --loop was given;
    if not, the base's checklist is the one discovery finds in the base (a change that adds a
    ./quality-gate-checklist.md does not hide the base's ./.loop one)."""
    path = os.path.normpath(os.path.join(loop_dir, CHECKLIST.filename))
    candidates = None if named else [os.path.normpath(os.path.join(d, CHECKLIST.filename))
                                     for d in (".", LOOP_SUBDIR)]  # find_loop_dir's order
    artifact, _ = load_artifact(path, CHECKLIST)
    if artifact is None:
        return [], []
    bases = [str(getattr(p.options, "base", "") or "") for p in plan if p.options is not None]
    base = next((b for b in bases if b), "") or _ci_base(root)[0]  # the gates' base, else the CI's, else HEAD
    try:
        config = load_config(loop_dir).section("gates")
    except ConfigError:
        config = {}
    extra: list[PlannedGate] = []
    findings: list[Finding] = []
    for found in weakened_entries(path, root, base, artifact.data, candidates):
        if (only and found.name not in only) or found.name in skip:
            continue
        pos = artifact.extracted.position((("required_gates" if found.why == "changed" else "advisory_gates"),
                                           found.name)) if found.why != "removed" else None
        line, column = (pos.line, pos.column) if pos is not None else (1, 1)
        label = f"{found.name} (as at {found.revision[:10]})"
        extra.append(plan_entry(label, found.entry, True, (path, line, column), loop_dir, config, root, ci=True))
        findings.append(CHECKLIST_WEAKENED.at(path, line, column, (
            f"required gate '{found.name}'{_of(found.path, path, root)} is {found.why} by this change; it still "
            f"runs as commit {found.revision[:10]} (the change's base) has it, as required gate '{label}'")))
    return extra, findings


def _from_here(root: str) -> Any:
    """`on_done` for a check of another directory's loop: a gate's finding paths are relative to the root it
    ran in; shown relative to the current directory (`../other/.env`), they name the file that was judged."""
    def done(planned: PlannedGate, result: GateResult) -> None:
        if root != ".":
            result.findings = [f if os.path.isabs(f.path) else
                               records.replace(f, path=os.path.normpath(os.path.join(root, f.path)))
                               for f in result.findings]
        _progress(planned, result)
    return done


def _progress(planned: PlannedGate, result: GateResult) -> None:
    if is_terminal(sys.stderr):
        kind = "required" if planned.required else "advisory"
        click.echo(f"  {result.status.value:<7} {printable(planned.name, False)} ({kind}, {result.duration:.2f}s)",
                   err=True)


@click.command()
@click.option("--loop", "loop_dir", type=click.Path(file_okay=False), default=None,
              help="The loop directory holding quality-gate-checklist.md (default: . or ./.loop).")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this checklist entry (repeatable).")
@click.option("--skip", multiple=True, metavar="NAME", help="Do not run this checklist entry (repeatable).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Gates run at once (default: the number of CPUs).")
@click.option("--format", "output_format", type=click.Choice(FORMAT_NAMES), default=None,
              help="Output: text, json, github, sarif, junit or markdown (default: github under GitHub Actions, "
              "else text).")
@click.option("--color/--no-color", default=None, help=COLOR_HELP)
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE", callback=parse_reports, help=REPORT_HELP)
def check(loop_dir: str | None, only: tuple[str, ...], skip: tuple[str, ...], jobs: int | None,
          output_format: str | None, color: bool | None, reports: tuple[tuple[str, str], ...]) -> None:
    """Run the gates of quality-gate-checklist.md and give one verdict.

    Required gates decide: exit 0 when all pass, 1 when one fails or is skipped (it checked
    nothing) or when no required gate ran at all, 2 when one could not run for an environmental
    reason (command not found, timeout, network) or the checklist is invalid. Advisory gates are
    run and reported (as warnings) but never decide. Gates run in the loop's repository (the git
    work tree holding --loop), wherever the command is run from. Independent gates run in
    parallel; gates that change the tree run alone. In CI (CI, GITHUB_ACTIONS or GITLAB_CI set),
    a gate that judges a change and was given no base judges the pull request: the change since
    GITHUB_BASE_REF (GitLab: the merge request's base; a GitHub push: the event's `before`; else
    the merge base with the default branch), not the staged changes, of which a CI checkout has none.

    \b
    Examples:
      loopgate check                       the loop in . or ./.loop
      loopgate check --loop loops/docs --format junit > gates.xml
      loopgate check --only "link check"
    """
    directory = find_loop_dir(loop_dir)
    root = loop_root(directory)  # `--loop ../other/.loop` judges ../other, whose config it reads
    plan = build_plan(directory, only, skip, root, ci=True)
    # the base's required gates still decide
    kept, weakened = committed_required(directory, root, only, skip, plan, named=loop_dir is not None)
    plan += kept
    ci, source = _ci_base(root)
    if ci and any(p.options is not None and getattr(p.options, "base", None) == ci for p in plan):
        click.echo(f"loopgate: note: {ci_note(ci, source)}", err=True)
    if not plan:  # a check that runs nothing must not read as a pass in CI
        _fail("no gates to run: the checklist has no entries" + (" left after --skip" if skip else ""))
    with StopSignals() as signals:  # a stop ends the gates' commands and lets the generated gate put the tree back
        outcome = run_check(plan, jobs=jobs or os.cpu_count() or 2, context=GateContext(cwd=root),
                            on_done=_from_here(root), should_stop=signals.stopped)
    outcome.findings = sort_findings([*outcome.findings, *weakened])
    ok = outcome.ok and all(r.status is not GateStatus.ERROR for p, r in zip(plan, outcome.results, strict=True)
                            if p.required)
    advisory = frozenset(p.name for p in plan if not p.required)
    report = Report(outcome.findings, ok, results=outcome.results, color=use_color(color), command="check",
                    exit_code=outcome.exit_code(), advisory=advisory)
    emit(report, output_format or default_format())
    write_reports(report, reports)
    sys.exit(report.code)
