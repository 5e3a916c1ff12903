"""Fail when a change touches a file that must always go to a person.

The article's gate "no forbidden files changed", and its `## Always Escalate` list made
concrete: production secrets, infrastructure credentials, deployment configuration,
authentication, authorization, billing and payments, and policy changes. A default set of
gitignore patterns covers them (see below); a project adds its own with `--forbid PATTERN`
(repeatable) and `--forbid-file FILE` (one pattern a line, `#` comments), or drops the
defaults with `--no-defaults`. Patterns are relative to the repository root and the last
matching pattern wins, as in `.gitignore`: `--forbid '!.env.example'` takes a default back.

Changed files come from one source: `--base REF` (everything since the merge base of REF and
HEAD, untracked files included), `--files-from FILE` (`-` is stdin), file arguments (as
pre-commit passes them), or, with none of these, the staged changes. Deleted files count:
deleting a deployment file is a deployment change. A path that leads outside the repository
always fails.

Each finding names the pattern that fired and where it came from, e.g.
`deploy/prod.yaml:1:1: LG411 deploy/prod.yaml is forbidden by 'deploy/' (default: deployment
and infrastructure)`.

Examples:

    loopgate gate forbidden --base origin/main
    loopgate gate forbidden --forbid 'migrations/**' --forbid '!.env.example' src/app.py .env
    loopgate gate forbidden --no-defaults --forbid-file .loop-forbidden --base main

Default patterns:

DEFAULTS_TABLE

The gate judges file names only; the secrets gate looks inside files.
"""

from __future__ import annotations

import os
from typing import Any

from loopgate import codes
from loopgate.findings import Finding, Severity
from loopgate.gates import _hookconfig as hookconfig
from loopgate.gates._added import staged_content
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

NAME = "forbidden"
# Codes this gate shares with the other path gates (changed files, patterns); listed in its docs.
SHARED_CODES = CHANGE_CODES
E = Severity.ERROR

FORBIDDEN_PATH = codes.define(
    "LG411", "forbidden-path", E, "A changed file matches a forbidden pattern.",
    "The file is of a kind a loop must never change on its own: secrets and key files, deployment and "
    "infrastructure configuration, CI workflows and commit hooks, authentication, billing and payment code, "
    "or the ownership, security-policy and licence files. Names match whatever their case (`.ENV`, "
    "`ID_RSA`, `Deploy/`): a case-insensitive checkout (macOS, Windows) makes them the same file. The "
    "message names the pattern that fired and whether it is one of the defaults or the project's own.",
    "Revert the change to this file and escalate the work to a person. If the pattern is wrong for this "
    "project, take it back with `--forbid '!PATTERN'` (or `--no-defaults`) in a reviewed change.",
)
HOOK_WEAKENED = codes.define(
    "LG413", "gate-hook-weakened", E, "The change removes or reconfigures a loopgate pre-commit hook.",
    "pre-commit takes its hooks from the tree being committed, so a commit that edits "
    "`.pre-commit-config.yaml` is judged by the hooks it edited: one that drops `loopgate-secrets` or gives "
    "it `exclude: .*` passes its own secrets. The gate compares the config at the change's base with the "
    "changed one: a loopgate hook removed, its settings changed (args, files, exclude, stages, the repo), "
    "the top-level `files`/`exclude`/`default_stages` changed, the file deleted, or a config that cannot be "
    "read (aliases, not YAML) is this finding. Adding the file or hooks, and `pre-commit autoupdate` moving "
    "`rev:`, are not.",
    "Make the hook change in a reviewed commit of its own (a person's decision, e.g. `SKIP=loopgate-forbidden "
    "git commit` after review), never together with the work the hook judges.",
)
NO_FORBIDDEN_PATTERNS = codes.define(
    "LG412", "no-forbidden-patterns", E, "The forbidden gate was left with no patterns.",
    "`--no-defaults` drops the default patterns and no `--forbid` or `--forbid-file` added any, so the "
    "gate would pass every change without looking (exit 2).",
    "Give patterns with `--forbid PATTERN` or `--forbid-file FILE`, or drop `--no-defaults`.",
    input_error=True,
)

SECRETS = "secrets and key files"
INFRA = "deployment and infrastructure"
CI = "CI workflows and commit hooks"
ACCESS = "authentication, authorization, billing and payments"
POLICY = "ownership, security policy and legal"

DEFAULTS: tuple[tuple[str, str], ...] = (
    *((p, SECRETS) for p in (
        "*.pem", "*.key", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.p12", "*.pfx", "*.jks",
        "*.keystore", ".env*", "credentials*", "*secret*", ".netrc", ".pypirc", "*.tfstate*")),
    *((p, INFRA) for p in (
        "*.tf", "*.tfvars", "*.hcl", ".terraform/", "k8s/", "kubernetes/", "helm/", "charts/", "Chart.yaml",
        "kustomization.yaml", "Dockerfile", "Dockerfile.*", "*.dockerfile", "docker-compose*.yml",
        "docker-compose*.yaml", "compose.yml", "compose.yaml", "deploy/", "deployment/", "deployments/",
        "infra/", "infrastructure/", "ansible/", "Procfile", "fly.toml", "serverless.yml")),
    *((p, CI) for p in (
        ".github/workflows/", ".github/actions/", ".gitlab-ci.yml", ".circleci/", "Jenkinsfile",
        "azure-pipelines.yml", "bitbucket-pipelines.yml", ".buildkite/",
        # The links gate's ignore file would let a change silence its own broken links. (Not
        # .pre-commit-config.yaml: people commit it to adopt the hooks at all; a change that weakens a
        # loopgate hook in it is LG413, and the run loop keeps the maker off it as a control file.)
        ".loopgate-links-ignore")),
    *((p, ACCESS) for p in (
        "**/auth/**", "**/authentication/**", "**/authorization/**", "**/oauth/**", "**/billing/**",
        "**/payments/**", "**/payment/**")),
    # The loop's own artifacts (LOOP_SPEC.md, the checklist, the policies) are not here: a person
    # commits them, and keeping the maker away from them is the run loop's job (its control files).
    *((p, POLICY) for p in ("CODEOWNERS", "SECURITY.md", "LICENSE*", "COPYING*")),
)
__doc__ = (__doc__ or "").replace("DEFAULTS_TABLE", "\n".join(
    f"- {kind}: " + ", ".join(f"`{p}`" for p, k in DEFAULTS if k == kind)
    for kind in (SECRETS, INFRA, CI, ACCESS, POLICY)))


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
    forbid: tuple[str, ...] = field(default=(), metadata=opt(
        "Another forbidden path pattern (gitignore syntax; '!PATTERN' takes one back); repeatable.",
        metavar="PATTERN"))
    forbid_file: str = field(default="", metadata=opt(
        "Read more forbidden patterns from FILE, one a line, as in .gitignore.", metavar="FILE"))
    defaults: bool = field(default=True, metadata=opt(
        "Start from the default patterns (secrets, deployment, CI, auth and billing, ownership and legal)."))


HOOK: dict[str, Any] = {
    "id": "loopgate-forbidden",
    "name": "loopgate forbidden",
    "description": "No staged file is a secret or key file, deployment or CI configuration, auth or billing "
    "code, or an ownership, security-policy or licence file (patterns: [tool.loopgate.gates.forbidden]).",
    "entry": "loopgate gate forbidden",
    "language": "python",
    # The gate reads the staged changes from git itself: pre-commit's file list leaves out deletions
    # (`git rm deploy/prod.yaml` would be "no files to check"), and deleting one is a change too.
    "pass_filenames": False,
    "always_run": True,
    "require_serial": True,
}


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    rules, problems = _rules(options, context)
    if problems:
        return error_result(NAME, problems, timer)
    changes = collect(Source(options.base, options.files_from, options.files), context)
    if isinstance(changes, Problem):
        return error_result(NAME, [changes], timer)
    findings = [finding for changed in changes.files if (finding := _judge(changed, rules)) is not None]
    findings += _hook_config(changes, options, context)
    count = len(changes.files)
    own = sum(1 for r in rules.rules if not r.origin.startswith("default"))
    summary = (f"{count} changed file{'s' if count != 1 else ''} {changes.described} checked against "
               f"{len(rules)} forbidden patterns ({len(rules) - own} default, {own} the project's)")
    if findings:
        summary += f"; {len(findings)} forbidden"
    if changes.mode == "staged":
        summary += "; unstaged and untracked files not checked"
    summary += "; file contents not checked (see the secrets gate)"
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


def _hook_config(changes: Changes, options: Options, context: GateContext) -> list[Finding]:
    """LG413 when the change weakens the loopgate hooks in the root's .pre-commit-config.yaml."""
    changed = next((c for c in changes.files if c.path == hookconfig.NAME and not c.outside), None)
    committed = committed_reader(options.base, context) if changed is not None else None
    if changed is None or committed is None:
        return []
    full = os.path.join(changes.root, hookconfig.NAME)
    before = committed(full)
    after = staged_content(changes.root, hookconfig.NAME, context.env) if changes.mode == "staged" \
        else _read(full)
    said = hookconfig.weakened(before, after)
    if not said:
        return []
    text = (after or b"").decode("utf-8", "replace").split("\n")
    hook = said[0].rsplit(" ", 1)[-1]  # at the first hook it names, when that is still in the file
    line = next((n for n, t in enumerate(text, 1) if hook.startswith("loopgate-") and hook in t), 1)
    return [HOOK_WEAKENED.at(changed.shown, line, 1, f"{changed.shown}: the change {'; '.join(said)}; "
                                                     "pre-commit would judge this commit with the weakened hooks")]


def _read(full: str) -> bytes | None:
    try:
        with open(full, "rb") as handle:
            return handle.read(hookconfig.MAX_BYTES + 1)
    except OSError:
        return None


def _judge(changed: Changed, rules: RuleSet) -> Finding | None:
    if changed.outside:
        return OUTSIDE_REPOSITORY.at(changed.shown, 1, 1, f"{changed.label()} {changed.outside}")
    if not rules.included(changed.path):
        return None
    _, rule = rules.match(changed.path)
    return FORBIDDEN_PATH.at(changed.shown, 1, 1, f"{changed.label()} is forbidden by "
                             f"{rule.describe() if rule else 'a pattern'}")


def _rules(options: Options, context: GateContext) -> tuple[RuleSet, list[Problem]]:
    rules = [Rule(pattern, f"default: {kind}") for pattern, kind in DEFAULTS] if options.defaults else []
    problems: list[Problem] = []
    if options.forbid_file:
        committed = committed_reader(options.base, context)  # the base's rules, not the change's
        from_file, problem = rules_from_file(options.forbid_file, context.cwd, BAD_PATTERN_FILE, committed)
        if problem is not None:
            problems.append(Problem(problem, problem.message))
        rules += from_file
    rules += rules_from_values(options.forbid, "--forbid")
    compiled = RuleSet(rules, BAD_PATTERN, ignore_case=True)
    problems += [Problem(p, p.message) for p in compiled.problems]
    if not problems and not any(not r.pattern.startswith("!") for r in compiled.rules):
        message = "--no-defaults and no --forbid or --forbid-file patterns: nothing would be forbidden"
        problems.append(Problem(NO_FORBIDDEN_PATTERNS.at(".", 1, 1, message), message))
    return compiled, problems
