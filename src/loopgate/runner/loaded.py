"""Loading a loop before a run: it must verify, name its gates and maker, and live in git.

Everything here can refuse (RunError, exit 2) and nothing here writes: a loop that cannot
run leaves no trace.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from loopgate.artifacts.crosscheck import MODES, spec_mode
from loopgate.artifacts.kinds import CHECKLIST, KINDS, POLICY, READINESS, SPEC, STATE
from loopgate.runner import git as gitops
from loopgate.runner.control import control_files, read_tampered
from loopgate.runner.github import GitHub, GitHubConfig
from loopgate.runner.outcome import RunError, RunSettings
from loopgate.runner.rules import Rules, read_rules
from loopgate.runner.sandbox import Containment, SandboxConfig, SandboxError, probe
from loopgate.runner.spend import Budgets
from loopgate.runner.state import LoopState, load_state
from loopgate.verify import VerifySettings, load_artifact, run_verify


@dataclass
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


def load(settings: RunSettings) -> LoadedLoop:
    loop_dir = os.path.abspath(settings.loop_dir)
    result = run_verify(VerifySettings((loop_dir,)))
    errors = [f for f in result.findings if f.severity.value == "error"]
    if errors:
        first = errors[0]
        raise RunError(f"the loop does not verify ({len(errors)} errors), first: "
                       f"{first.path}:{first.line}:{first.column}: {first.code} {first.message}")
    loaded = {k: load_artifact(os.path.join(loop_dir, k.filename), k)[0] for k in KINDS
              if os.path.isfile(os.path.join(loop_dir, k.filename))}
    arts = {k: a for k, a in loaded.items() if a is not None}
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
    budgets = Budgets.from_spec(spec)
    rules = read_rules(spec, policy)
    mode = _mode(settings, spec, readiness_ok)
    maker = settings.maker or str((spec.get("roles") or {}).get("maker_command", "")).strip("` ")
    if not maker and not settings.dry_run:
        raise RunError("no maker command: give --maker CMD or `- maker command: ...` under ## Roles")
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
    state, state_errors = load_state(state_path, str(spec.get("name", "loop")))
    if state_errors:
        raise RunError(f"{STATE.filename} is invalid: {state_errors[0]}")
    # Logs, prompts and the lock live in the git directory: the user's checkout shows nothing.
    # Keyed by the real paths: a second run through a symlinked path finds the same lock.
    common = os.path.realpath(gitops.common_dir(root))
    loop_key = hashlib.sha256(os.path.realpath(loop_dir).encode()).hexdigest()[:12]
    runtime_dir = os.path.join(common, "loopgate", loop_key)
    tampered = read_tampered(runtime_dir)
    if tampered and not settings.dry_run:
        raise RunError(tampered)
    github, token_env = _github(spec)
    sandbox, containment = _containment(spec, mode)
    worktrees = gitops.Worktrees(root, gitops.slug(str(spec.get("name") or "")))
    return LoadedLoop(loop_dir, spec, policy, readiness_ok, budgets, rules, mode, maker, root, base,
                      worktrees, state_path, state, control_files(loop_dir, root, spec), runtime_dir,
                      github, token_env, sandbox, containment)


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


def _github(spec: dict[str, Any]) -> tuple[GitHub | None, str]:
    inputs = spec.get("inputs") or {}
    repo = str(inputs.get("github_repo") or inputs.get("github") or "").strip("` ")
    token_env = str(inputs.get("token_env") or "GITHUB_TOKEN")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        return None, token_env
    config = GitHubConfig(repo=repo, api=str(inputs.get("github_api") or "https://api.github.com"),
                          token=os.environ.get(token_env, ""), label=str(inputs.get("github_label") or ""),
                          pause_label=str(inputs.get("pause_label") or ""))
    return GitHub(config), token_env
