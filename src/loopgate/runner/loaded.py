"""Loading a loop before a run: it must verify, name its gates and maker, and live in git.

Everything here can refuse (RunError, exit 2) and nothing here writes: a loop that cannot
run leaves no trace.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

from loopgate.artifacts.artifact import Artifact
from loopgate.artifacts.crosscheck import MODES, spec_mode
from loopgate.artifacts.kinds import CHECKLIST, POLICY, READINESS, SPEC, STATE
from loopgate.artifacts.values import parse_duration
from loopgate.findings import Finding, sort_findings
from loopgate.records import record
from loopgate.runner import git as gitops
from loopgate.runner.commandline import maker_command
from loopgate.runner.control import control_files, read_tampered
from loopgate.runner.github import GitHub, GitHubConfig
from loopgate.runner.outcome import RunError, RunSettings
from loopgate.runner.pricing import SpendError, preflight
from loopgate.runner.rules import Rules, read_rules
from loopgate.runner.sandbox import Containment, SandboxConfig, SandboxError, probe
from loopgate.runner.spend import Budgets
from loopgate.runner.state import LoopState, load_state
from loopgate.verify import load_loop_dir


@record
class LoadedLoop:
    loop_dir: str
    spec: dict[str, Any]
    policy: dict[str, Any] | None
    readiness_ok: bool
    budgets: Budgets
    rules: Rules
    mode: str
    maker: str
    root: str
    base: str
    worktrees: gitops.Worktrees
    state_path: str
    state: LoopState
    control: list[str]
    runtime_dir: str
    github: GitHub | None
    token_env: str
    sandbox: SandboxConfig
    containment: Containment
    spend_warning: str = ""  # what the spend budgets cannot hold to, said at the start of the run
    # what no file or terminal line may show (report.redact): the GitHub token and the values of the
    # variables the spec hands the maker (its API key), which its output may quote
    secrets: tuple[str, ...] = ()
    state_stamp: tuple[int, int] = (0, 0)  # LOOP_STATE.md as read (state_stamp()): changed since, reload


def common_dir(loop: LoadedLoop) -> str:
    """The real common git directory: the runtime directory is <common>/loopgate/<key> (see
    _runtime_dir), so no git process is needed to find it again for every attempt."""
    return os.path.dirname(os.path.dirname(loop.runtime_dir))


def load(settings: RunSettings) -> LoadedLoop:
    loop_dir = os.path.abspath(settings.loop_dir)
    # read once: verify's findings, the artifacts the run uses and the readiness audit's input
    findings, artifacts = load_loop_dir(loop_dir)
    errors = [f for f in sort_findings(findings) if f.severity.value == "error"]
    if errors:
        first = errors[0]
        raise RunError(f"the loop does not verify ({len(errors)} errors), first: "
                       f"{first.path}:{first.line}:{first.column}: {first.code} {first.message}")
    arts = {a.kind: a for a in artifacts}
    spec_art = arts.get(SPEC)
    if spec_art is None:
        raise RunError(f"{loop_dir}: no {SPEC.filename}")
    spec = spec_art.data
    policy = arts[POLICY].data if POLICY in arts else None
    if not settings.dry_run and not (CHECKLIST in arts and arts[CHECKLIST].data.get("required_gates")):
        raise RunError(f"no required gates in {CHECKLIST.filename}: nothing would judge the maker's work "
                       "(add a `## Required Gates` entry; the maker never gets the final vote)")
    readiness_ok = READINESS in arts and all(
        c.get("checked") for group in arts[READINESS].data.get("checks", {}).values() for c in group)
    try:
        budgets = Budgets.from_spec(spec)
    except SpendError as err:
        raise RunError(str(err)) from err
    rules = read_rules(spec, policy)
    mode = _mode(settings, spec, readiness_ok)
    maker = maker_command(spec, settings.maker)
    if not maker and not settings.dry_run:
        raise RunError("no maker command: give --maker CMD or `- maker command: ...` under ## Roles")
    mode = _audited(settings, spec, mode, loop_dir, maker, (findings, artifacts))
    refusal, spend_warning = preflight(budgets.spend, maker)
    if refusal and not settings.dry_run:
        raise RunError(refusal)
    try:
        root = gitops.repo_root(loop_dir)
    except gitops.GitError as err:
        raise RunError(f"the loop must live in a git repository: {err}") from err
    try:
        base = gitops.git(["rev-parse", "--verify", "--quiet", f"{settings.base}^{{commit}}"], root).strip()
    except gitops.GitError as err:
        hint = ("the repository has no commit yet: commit the loop's files first (each item's worktree "
                "starts from a commit)") if settings.base == "HEAD" else \
            f"--base {settings.base} does not name a commit"
        raise RunError(hint) from err
    state_path = os.path.join(loop_dir, STATE.filename)
    stamp = state_stamp(state_path)  # before reading: a write after this shows as a change
    state, state_errors = load_state(state_path, str(spec.get("name", "loop")))
    if state_errors:
        raise RunError(f"{STATE.filename} is invalid: {state_errors[0]}")
    runtime_dir = _runtime_dir(root, loop_dir, settings)
    github, token_env = _github(spec)
    sandbox, containment = _containment(spec, mode)
    worktrees = gitops.Worktrees(root, gitops.loop_key(root, loop_dir, str(spec.get("name") or "")))
    secrets = ([github.config.token] if github is not None else []) + \
        [os.environ.get(name, "") for name in sandbox.environment]
    state.secrets = [s for s in secrets if s]
    return LoadedLoop(loop_dir, spec, policy, readiness_ok, budgets, rules, mode, maker, root, base,
                      worktrees, state_path, state, control_files(loop_dir, root, spec), runtime_dir,
                      github, token_env, sandbox, containment, spend_warning, tuple(state.secrets), stamp)


def state_stamp(path: str) -> tuple[int, int]:
    """When LOOP_STATE.md was last written, and its size; (0, 0) when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


def runtime_dir_of(root: str, loop_dir: str) -> str:
    """The loop's runtime directory (`run.lock` is there): in the git directory, by the loop's real path."""
    common = os.path.realpath(gitops.common_dir(root))
    loop_key = hashlib.sha256(os.path.realpath(loop_dir).encode()).hexdigest()[:12]
    return os.path.join(common, "loopgate", loop_key)


def shared_lock_path(root: str, loop_dir: str) -> str:
    """A second lock, one for the loop in every checkout of the repository: by the real common git
    directory and the loop's path inside its checkout. The main checkout and a linked one (`git
    worktree add`) share refs, the items' worktree folder and `git worktree prune`; their runs of
    one loop exclude each other rather than race there. (run.lock in the runtime directory stays
    per checkout: its stale pid and orphaned maker belong to that checkout's runs.)"""
    common = os.path.realpath(gitops.common_dir(root))
    rel = os.path.relpath(os.path.realpath(loop_dir), os.path.realpath(root))
    return os.path.join(common, "loopgate", "loops", hashlib.sha256(rel.encode()).hexdigest()[:12], "run.lock")


def run_lock_path(loop_dir: str) -> str:
    """The lock `loopgate run` holds on this loop ("" outside a repository: no run can hold one
    there). `loopgate readiness` and `loopgate review` write nothing of the run's while it is held."""
    try:
        return os.path.join(runtime_dir_of(gitops.repo_root(loop_dir), loop_dir), "run.lock")
    except Exception:  # not a repository, or no git
        return ""


def _runtime_dir(root: str, loop_dir: str, settings: RunSettings) -> str:
    """Logs, prompts and the lock live in the git directory: the user's checkout shows nothing.
    Keyed by the real paths: a second run through a symlinked path finds the same lock. A run
    refuses while a maker's tampering that could not be restored waits for a person."""
    runtime_dir = runtime_dir_of(root, loop_dir)
    tampered = read_tampered(runtime_dir)
    if tampered and not settings.dry_run:
        raise RunError(tampered)
    return runtime_dir


def _containment(spec: dict[str, Any], mode: str) -> tuple[SandboxConfig, Containment]:
    """The spec's sandbox and what this machine gives; `pr` mode refuses to run uncontained
    unless the spec opts out in so many words."""
    sandbox = SandboxConfig.from_spec(spec)
    try:
        containment = probe(sandbox)
    except SandboxError as err:
        raise RunError(str(err)) from err
    if mode == "pr" and not containment.contained and not sandbox.allow_uncontained:
        raise RunError(f"mode 'pr' runs the maker contained, and it cannot be here: {containment.why} "
                       "(to run it uncontained anyway, add `- allow uncontained: yes` under ## Sandbox)")
    return sandbox, containment


def _mode(settings: RunSettings, spec: dict[str, Any], readiness_ok: bool) -> str:
    allowed = spec_mode(spec)
    mode = settings.mode or allowed
    if mode not in MODES:
        raise RunError(f"unknown mode '{mode}' (use {', '.join(MODES)})")
    if MODES.index(mode) > MODES.index(allowed):
        raise RunError(f"mode '{mode}' needs explicit opt-in: the spec's ## Rollout allows at most '{allowed}'")
    if mode != "shadow" and not readiness_ok:
        raise RunError(f"mode '{mode}' needs a passing readiness audit (every loop-readiness.md item ticked)")
    return mode


def _audited(settings: RunSettings, spec: dict[str, Any], mode: str, loop_dir: str, maker: str,
             read: tuple[list[Finding], list[Artifact]]) -> str:
    """The readiness audit decides any mode beyond shadow (README: `loopgate readiness`): a mode it
    does not allow is refused with its reasons, and a loop it demoted runs in the lower mode. A
    spec may waive the audit in so many words (`- audit: off` under ## Rollout); the tick boxes of
    loop-readiness.md still hold then."""
    rollout = spec.get("rollout") if isinstance(spec.get("rollout"), dict) else {}
    if mode == "shadow" or (isinstance(rollout, dict) and rollout.get("audit") is False):
        return mode
    from loopgate.readiness.artifacts import loop_artifacts  # noqa: PLC0415 - only promoted runs pay for it
    from loopgate.readiness.audit import audit  # noqa: PLC0415 - only promoted runs pay for the audit
    from loopgate.readiness.repository import Interrupted  # noqa: PLC0415

    try:
        result = audit(loop_dir, requested=settings.mode, maker=maker or None, write=not settings.dry_run,
                       loop=loop_artifacts(*read))
    except Interrupted as err:
        raise RunError(f"interrupted by {err} during the readiness audit; nothing was started") from err
    if result.demotion is not None and MODES.index(mode) > MODES.index(result.mode):
        if settings.mode is not None:
            raise RunError(f"mode '{mode}': the readiness audit demoted the loop to '{result.mode}' on "
                           f"{result.demotion.at}: {result.demotion.because} (evidence gathered since then earns "
                           "the mode back; see `loopgate readiness`)")
        mode = result.mode
    if mode != "shadow" and not result.allowed(mode):
        reasons = "; ".join(f"{c.id}: {c.detail}" for c in result.blocking(mode))
        raise RunError(f"the readiness audit does not allow mode '{mode}': {reasons} "
                       "(`loopgate readiness` says what to do next)")
    return mode


def _github(spec: dict[str, Any]) -> tuple[GitHub | None, str]:
    inputs = spec.get("inputs") or {}
    repo = str(inputs.get("github_repo") or inputs.get("github") or "").strip("` ")
    token_env = str(inputs.get("token_env") or "GITHUB_TOKEN")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        return None, token_env
    try:
        timeout = float(parse_duration(str(inputs["github_timeout"]))) if inputs.get("github_timeout") else 15.0
    except ValueError as err:
        raise RunError(f"{SPEC.filename}: `github timeout`: {err}") from err
    config = GitHubConfig(repo=repo, api=str(inputs.get("github_api") or "https://api.github.com"),
                          token=os.environ.get(token_env, ""), label=str(inputs.get("github_label") or ""),
                          pause_label=str(inputs.get("pause_label") or ""), timeout=timeout, token_env=token_env)
    return GitHub(config), token_env
