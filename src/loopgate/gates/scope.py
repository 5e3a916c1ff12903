"""Fail when a change touches files outside its allowed paths, or too many files.

The article's gate "diff stays within allowed paths": every changed file must match an
allow pattern, and the change may touch at most `max files` files. Patterns are gitignore
patterns (`docs/**`, `*.md`, `src/pkg/`, `!docs/private/**` to take a path back out),
relative to the repository root; the last matching pattern wins, as in `.gitignore`. One
difference from git: a `!` pattern takes a path back even inside a directory that an earlier
pattern matched, so `docs/**` followed by `!docs/private/**` means what it says.

Changed files come from git or from a list (one source at a time):

- `--base REF`: everything since the merge base of REF and HEAD: committed, staged, unstaged
  and untracked files. Deleted files count, and a rename counts on both sides.
- `--files-from FILE` (`-` reads stdin; one path a line, or NUL-separated), or file arguments.
- neither: the staged changes (what `git commit` would record, deletions included).

Rules come from `--allow PATTERN` (repeatable), `--allow-file FILE` (one pattern a line,
`#` comments) and `--spec LOOP_SPEC.md`, whose `## Scope` section reads:

    ## Scope
    - allowed paths: docs/**, README.md, `*.md`
    - forbidden paths: `**/auth/**`
    - max files: 5

(or one pattern per nested bullet under `- allowed paths:`). Backticks keep markdown from
reading `*` as emphasis. A path matching a `forbidden paths` pattern fails even when it is
allowed. `--max-files N` overrides the spec's `max files`. A path that leads outside the
repository (`..`, an absolute path elsewhere, a symlink pointing outside) always fails.

Each offending file is reported with the rule that caught it, e.g.
`src/app.py:1:1: LG401 src/app.py is outside the allowed paths: matched no allow pattern`.

Examples:

    loopgate gate scope --base origin/main --spec LOOP_SPEC.md
    loopgate gate scope --allow 'docs/**' --allow README.md --max-files 5 --base main
    git diff --name-only -z main | loopgate gate scope --files-from - --allow-file .loop-scope

The gate judges file names only: what the change does inside an allowed file is for the
other gates (tests, lint, secrets).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from loopgate import codes, records
from loopgate.findings import Finding, Severity
from loopgate.gates._changes import (
    BAD_PATTERN,
    BAD_PATTERN_FILE,
    CHANGE_CODES,
    OUTSIDE_REPOSITORY,
    Changed,
    Changes,
    Problem,
    Source,
    collect,
    committed_reader,
    error_result,
)
from loopgate.gates._patterns import Rule, RuleSet, rules_from_file, rules_from_values
from loopgate.gates.base import GateContext, GateResult, Timer, opt, verdict
from loopgate.records import field, record

NAME = "scope"
# Codes this gate shares with the other path gates (changed files, patterns); listed in its docs.
SHARED_CODES = CHANGE_CODES
E = Severity.ERROR

OUT_OF_SCOPE = codes.define(
    "LG401", "out-of-scope", E, "A changed file is outside the allowed paths.",
    "The loop spec bounds what a change may touch. This file matched no allow pattern, or the last "
    "pattern that matched it is a `!` exclusion. Work outside the allowed paths is outside the loop's "
    "mandate: it must be escalated to a person, not merged.",
    "Revert the change to this file, or, if the loop should be allowed to touch it, widen the allowed "
    "paths in the spec on purpose (a reviewed change).",
)
TOO_MANY_FILES = codes.define(
    "LG402", "too-many-files", E, "The change touches more files than allowed.",
    "The spec limits how many files one change may touch (the article's example: below five). Deleted "
    "files count, and so do both sides of a rename. A change this large is no longer the small, "
    "reviewable work the loop was built for.",
    "Split the work into smaller changes, or escalate it; raise `max files` only on purpose.",
)
FORBIDDEN_BY_SPEC = codes.define(
    "LG403", "forbidden-by-spec", E, "A changed file matches the spec's forbidden paths.",
    "The `## Scope` section of the loop spec lists `forbidden paths`, which win over `allowed paths`. "
    "Changes there must always go to a person.",
    "Revert the change to this file and escalate the work item.",
)
NO_SCOPE_RULES = codes.define(
    "LG404", "no-scope-rules", E, "The scope gate was given nothing to check against.",
    "There are no allow patterns and no file limit (no `--allow`, `--allow-file`, `--spec` or "
    "`--max-files`, and nothing under `[tool.loopgate.gates.scope]`). A scope gate without rules "
    "would pass everything, so it refuses to run (exit 2).",
    "Pass `--spec LOOP_SPEC.md` (with a `## Scope` section) or `--allow PATTERN`, or set "
    "`allow = [\"docs/**\"]` under `[tool.loopgate.gates.scope]` in pyproject.toml.",
    input_error=True,
)
BAD_SCOPE_SPEC = codes.define(
    "LG405", "bad-scope-spec", E, "The spec's `## Scope` section cannot be used.",
    "`--spec` names a loop spec whose `## Scope` section is missing, empty, or holds a value the gate "
    "cannot use (`max files` must be a positive whole number; the known keys are `allowed paths`, "
    "`forbidden paths` and `max files`). The gate will not guess the scope (exit 2).",
    "Add or fix the section, e.g. `## Scope` with `- allowed paths: docs/**, README.md` and "
    "`- max files: 5`; `loopgate verify` checks it too.",
    input_error=True,
)


@record(frozen=True)
class Options:
    files: tuple[str, ...] = field(default=(), metadata=opt(
        "Changed files to check (as pre-commit passes them); relative to the working directory.",
        argument=True))
    base: str = field(default="", metadata=opt(
        "Check every change since the merge base of REF and HEAD: committed, staged, unstaged and untracked.",
        metavar="REF"))
    files_from: str = field(default="", metadata=opt(
        "Read the changed paths from FILE ('-': stdin), one a line or NUL-separated; relative to the working "
        "directory.", metavar="FILE"))
    allow: tuple[str, ...] = field(default=(), metadata=opt(
        "An allowed path pattern (gitignore syntax, from the repository root); repeatable.", metavar="PATTERN"))
    allow_file: str = field(default="", metadata=opt(
        "Read allowed path patterns from FILE, one a line, as in .gitignore.", metavar="FILE"))
    spec: str = field(default="", metadata=opt(
        "Read allowed paths, forbidden paths and max files from the spec's `## Scope` section.",
        metavar="LOOP_SPEC.md"))
    max_files: int | None = field(default=None, metadata=opt(
        "Fail when more than N files change (deletions and both sides of a rename count).", metavar="N",
        maximum=10**9))


HOOK: dict[str, Any] = {
    "id": "loopgate-scope",
    "name": "loopgate scope",
    "description": "Staged changes stay within the allowed paths and the file limit "
    "(configure [tool.loopgate.gates.scope] or pass --spec/--allow in args).",
    "entry": "loopgate gate scope",
    "language": "python",
    # The gate reads the staged changes from git itself: pre-commit's file list leaves out
    # deletions, and may be split across several runs, which would break the file count.
    "pass_filenames": False,
    "always_run": True,
    "require_serial": True,
}


@record
class _Rules:
    allow: RuleSet | None = None
    forbid: RuleSet | None = None
    max_files: int | None = None
    max_at: tuple[str, int, int] = (".", 1, 1)  # where the limit was set, for the finding
    origins: list[str] = field(default_factory=list)


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    rules = _rules(options, context)
    if isinstance(rules, list):
        return error_result(NAME, rules, timer)
    changes = collect(Source(options.base, options.files_from, options.files), context)
    if isinstance(changes, Problem):
        return error_result(NAME, [changes], timer)
    findings = [finding for changed in changes.files if (finding := _judge(changed, rules)) is not None]
    count = len(changes.files)
    if rules.max_files is not None and count > rules.max_files:
        path, line, column = rules.max_at
        findings.append(TOO_MANY_FILES.at(path, line, column, f"{count} files changed {changes.described}, "
                                          f"over the limit of {rules.max_files} (deletions and both sides "
                                          "of a rename count)"))
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), _summary(changes, rules, findings))


def _judge(changed: Changed, rules: _Rules) -> Finding | None:
    if changed.outside:
        return OUTSIDE_REPOSITORY.at(changed.shown, 1, 1, f"{changed.label()} {changed.outside}")
    if rules.forbid is not None and rules.forbid.included(changed.path):
        _, rule = rules.forbid.match(changed.path)
        return FORBIDDEN_BY_SPEC.at(changed.shown, 1, 1, f"{changed.label()} matches forbidden path "
                                    f"{rule.describe() if rule else ''}")
    if rules.allow is None or rules.allow.included(changed.path):
        return None
    _, rule = rules.allow.match(changed.path)
    why = "matched no allow pattern" if rule is None else f"excluded by {rule.describe()}"
    return OUT_OF_SCOPE.at(changed.shown, 1, 1, f"{changed.label()} is outside the allowed paths: {why}")


def _summary(changes: Changes, rules: _Rules, findings: list[Finding]) -> str:
    count = len(changes.files)
    parts = [f"{count} changed file{'s' if count != 1 else ''} {changes.described}"]
    checks = []
    if rules.allow is not None:
        checks.append(f"{len(rules.allow)} allow pattern{'s' if len(rules.allow) != 1 else ''}")
    if rules.forbid is not None:
        checks.append(f"{len(rules.forbid)} forbidden pattern{'s' if len(rules.forbid) != 1 else ''}")
    if rules.max_files is not None:
        checks.append(f"a limit of {rules.max_files} files")
    parts.append(f"checked against {', '.join(checks)} from {', '.join(rules.origins)}")
    bad = sum(1 for f in findings if f.code != TOO_MANY_FILES.code)
    if bad:
        parts.append(f"{bad} outside scope")
    if rules.allow is None:
        parts.append("paths not checked: no allow patterns")
    if changes.mode == "staged":
        parts.append("unstaged and untracked files not checked")
    return "; ".join(parts) + "; file contents not checked"


def _rules(options: Options, context: GateContext) -> _Rules | list[Problem]:
    rules = _Rules()
    allow: list[Rule] = []
    forbid: list[Rule] = []
    problems: list[Problem] = []
    if options.spec:
        # the base's spec, not the change's: a branch must not widen its own `allowed paths`
        spec = _read_spec(options.spec, context.cwd, committed_reader(options.base, context))
        if isinstance(spec, Problem):
            return [spec]
        allow, forbid, limit = spec
        if limit is not None:
            rules.max_files, rules.max_at = limit
        rules.origins.append(options.spec)
    if options.allow_file:
        committed = committed_reader(options.base, context)  # the base's rules, not the change's
        from_file, problem = rules_from_file(options.allow_file, context.cwd, BAD_PATTERN_FILE, committed)
        problems += [Problem(problem, problem.message)] if problem is not None else []
        allow += from_file
        rules.origins.append(options.allow_file)
    if options.allow:
        allow += rules_from_values(options.allow, "--allow")
        rules.origins.append("--allow")
    if options.max_files is not None:
        rules.max_files, rules.max_at = options.max_files, (".", 1, 1)
        rules.origins.append("--max-files")
    if allow or options.allow_file or options.allow:
        rules.allow = RuleSet(allow, BAD_PATTERN)
    if forbid:
        rules.forbid = RuleSet(forbid, BAD_PATTERN)
    return _check_rules(rules, problems)


def _check_rules(rules: _Rules, problems: list[Problem]) -> _Rules | list[Problem]:
    for ruleset in (rules.allow, rules.forbid):
        problems += [Problem(p, p.message) for p in ruleset.problems] if ruleset is not None else []
    if rules.max_files is not None and rules.max_files < 0:
        message = f"--max-files {rules.max_files}: the limit cannot be negative"
        problems.append(Problem(BAD_SCOPE_SPEC.at(".", 1, 1, message), message))
    if not problems and rules.allow is None and rules.max_files is None and rules.forbid is None:
        message = "no allow patterns and no file limit: give --spec, --allow, --allow-file or --max-files"
        problems.append(Problem(NO_SCOPE_RULES.at(".", 1, 1, message), message))
    return problems or rules


Limit = tuple[int, tuple[str, int, int]]


def _read_spec(spec: str, cwd: str, committed: Callable[[str], bytes | None] | None = None,
               ) -> tuple[list[Rule], list[Rule], Limit | None] | Problem:
    from loopgate.artifacts.loader import loaded_from_bytes, read_artifact  # noqa: PLC0415

    raw = committed(os.path.abspath(os.path.join(cwd, spec))) if committed is not None else None
    # a spec the base does not hold (a new loop) is read from the tree, as pattern files are
    loaded = read_artifact(os.path.join(cwd, spec)) if raw is None else loaded_from_bytes(spec, raw)
    if loaded.problem is not None or loaded.text is None:
        finding = records.replace(loaded.problem, path=spec) if loaded.problem else \
            BAD_SCOPE_SPEC.at(spec, 1, 1, f"cannot read {spec}")
        return Problem(finding, f"--spec {spec}: {finding.message}")
    return read_spec_scope(spec, loaded.text)


def read_spec_scope(spec: str, text: str) -> tuple[list[Rule], list[Rule], Limit | None] | Problem:
    """(allow rules, forbid rules, (max files, where)) from the spec's `## Scope` section.

    The patterns are exactly the values `loopgate verify` reads (one reader: line endings, values
    continued on the next line, HTML comments and backticks all mean the same to both); this
    function only adds where each pattern sits, for the findings.
    """
    from loopgate.artifacts.artifact import check_artifact  # noqa: PLC0415
    from loopgate.artifacts.kinds import SPEC  # noqa: PLC0415
    from loopgate.markdown.document import source_lines  # noqa: PLC0415

    artifact = check_artifact(spec, SPEC, text)
    scope = artifact.data.get("scope")
    lines = source_lines(text)

    def bad(message: str, at: tuple[str | int, ...] = ("scope",)) -> Problem:
        pos = artifact.extracted.position(at)
        return Problem(BAD_SCOPE_SPEC.at(spec, pos.line, pos.column, message), f"--spec {spec}: {message}")

    if not isinstance(scope, dict) or not scope:
        return bad(f"{spec} has no `## Scope` section with allowed paths or max files")
    unknown = sorted(set(scope) - {"allowed_paths", "forbidden_paths", "max_files"})
    if unknown:
        return bad(f"unknown key '{unknown[0].replace('_', ' ')}' in `## Scope` "
                   "(known: allowed paths, forbidden paths, max files)", ("scope", unknown[0]))
    limit = None
    if "max_files" in scope:
        value = scope["max_files"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
            return bad(f"max files: '{shown}' is not a positive whole number", ("scope", "max_files"))
        pos = artifact.extracted.position(("scope", "max_files"))
        limit = (value, (spec, pos.line, pos.value_column))

    def patterns(key: str) -> list[Rule] | Problem:
        found = scope.get(key, [])
        if not isinstance(found, list):
            return bad(f"{key.replace('_', ' ')}: expected a list of path patterns", ("scope", key))
        spots = _where(artifact.extracted.positions, lines, ("scope", key), [str(p) for p in found])
        return [Rule(str(pattern).strip(), f"{spec}:{line}", spec, line, column)
                for pattern, (line, column) in zip(found, spots, strict=True) if str(pattern).strip()]

    allow, forbid = patterns("allowed_paths"), patterns("forbidden_paths")
    if isinstance(allow, Problem):
        return allow
    if isinstance(forbid, Problem):
        return forbid
    return allow, forbid, limit


def _where(positions: dict[tuple[str | int, ...], Any], lines: list[str], key: tuple[str, str],
           patterns: list[str]) -> list[tuple[int, int]]:
    """Line and column of each pattern: its own nested bullet, or its place after `key:`.

    Comma-separated patterns are found on the key's line left to right; one continued onto a
    later line is reported at the key's value.
    """
    pos = positions.get(key)
    source = lines[pos.line - 1] if pos is not None and 0 < pos.line <= len(lines) else ""
    start = pos.value_column - 1 if pos is not None else 0
    spots: list[tuple[int, int]] = []
    for index, pattern in enumerate(patterns):
        own = positions.get((*key, index))
        if own is not None:
            spots.append((own.line, own.value_column))
            continue
        if pos is None:
            spots.append((1, 1))
            continue
        if not pattern.strip():  # dropped by the caller
            spots.append((pos.line, pos.value_column))
            continue
        found = source.find(pattern.strip(), start) if start >= 0 else -1
        if found < 0:  # on a later line, and so is every pattern after it: stop searching this one
            spots.append((pos.line, pos.value_column))
            start = -1
            continue
        spots.append((pos.line, found + 1))
        start = found + len(pattern.strip())
    return spots
