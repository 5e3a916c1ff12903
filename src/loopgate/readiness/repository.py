"""Criteria from the repository as it is now: can the loop's gates and maker run here at all,
and is the default branch green, so that a failing gate means the maker's change?"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any

from loopgate import records
from loopgate.artifacts.kinds import CHECKLIST
from loopgate.gates.registry import gate as gate_spec
from loopgate.gitquery import default_branch
from loopgate.history.text import code
from loopgate.readiness.artifacts import LoopArtifacts, checklist_entries
from loopgate.readiness.criteria import ALL, PR, PROMOTED, Criterion, judged, met, unmet
from loopgate.readiness.maker import maker_criterion
from loopgate.readiness.sites import site_criterion
from loopgate.runner.commandline import find_program, program
from loopgate.runner.processes import end_family
from loopgate.runner.queue import QueueError, queue_path, read_queue
from loopgate.verify import load_artifact

G = "repository"
# Test files by the conventions of the common test runners (pytest, go test, jest/vitest,
# mocha, rspec, JUnit/Maven, cargo): a loop whose repository has none has no checker for behaviour.
_TEST_PATTERNS = ("tests/", "test/", "spec/", "__tests__/", "src/test/")
_TEST_SUFFIXES = ("_test.go", "_test.py", ".test.js", ".test.ts", ".test.tsx", ".test.jsx", ".spec.js",
                  ".spec.ts", "_spec.rb", "Test.java", "Tests.cs")


def _git(root: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})


def repo_root(loop_dir: str) -> str | None:
    try:
        done = _git(loop_dir, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def repository_criteria(loop_dir: str, loop: LoopArtifacts, *, maker: str | None, run_checks: bool) -> list[Criterion]:
    root = repo_root(loop_dir)
    spec, checklist = loop.spec, loop.checklist()
    out = [_gates_runnable(checklist, root or loop_dir)]
    site = site_criterion(checklist, root or loop_dir, loop_dir)
    out += [site] if site is not None else []
    out += [maker_criterion(spec, maker, root or loop_dir)]  # the maker starts at the root of a checkout
    queue = _work_queue(loop_dir, spec)
    out += [queue] if queue is not None else []
    out.append(_containment(spec))
    if root is None:
        out.append(unmet("git-repository", G, _REPO, f"{loop_dir} is not in one",
                         "`loopgate run` works on git worktrees: run `git init` and commit.", ALL, weight=2))
        return out
    out.append(_has_commit(root))
    out.append(_tests_exist(root))
    out.append(_default_branch_green(loop_dir, root) if run_checks else
               Criterion("default-branch-green", G, "the checklist passes on the default branch", None,
                         "not run (--no-run-checks)", "Run `loopgate readiness` without --no-run-checks.", PROMOTED))
    return out


_REPO = "the loop lives in a git repository with a commit"


def _has_commit(root: str) -> Criterion:
    """`loopgate run` starts each item's worktree from a commit: with none, it refuses even shadow."""
    try:
        done = _git(root, "rev-parse", "--verify", "--quiet", "--short", "HEAD^{commit}")
    except (OSError, subprocess.TimeoutExpired):
        return Criterion("git-repository", G, _REPO, None, "git rev-parse failed",
                         "Check that git works in the repository.", ALL, weight=2)
    return judged(done.returncode == 0, "git-repository", G, _REPO,
                  f"HEAD at {done.stdout.strip()}" if done.returncode == 0 else "no commit yet",
                  "Commit the loop's files (`git add -A && git commit`): each item's worktree starts from a commit.",
                  ALL, weight=2)


def _work_queue(loop_dir: str, spec: dict[str, Any]) -> Criterion | None:
    """The queue the spec's `## Inputs` names, read as `loopgate run` reads it (a run refuses to
    start when it is missing or malformed). None when the spec names no queue."""
    inputs = spec.get("inputs")
    path = queue_path(loop_dir, inputs if isinstance(inputs, dict) else {})
    if path is None:
        return None
    title = "the work queue the spec names can be read"
    try:
        items = read_queue(path)
    except QueueError as err:
        fix = (f"Create {path} with one `### ITEM-ID` section per work item (`- title:`, `- labels:`, "
               "`- expected paths:`), or drop the `- queue:` line under `## Inputs` in LOOP_SPEC.md."
               if not os.path.lexists(path) else f"Fix {path} where the message points.")
        return unmet("work-queue", G, title, ("does not exist: " + path if not os.path.lexists(path) else str(err))
                     [:300], fix, ALL)
    return met("work-queue", G, title, f"{len(items)} item(s) in {path}"
               + ("" if items else " (a run finds no work in it)"), ALL)


def _tree_checklist(loop_dir: str) -> dict[str, dict[str, Any]]:
    path = os.path.join(loop_dir, CHECKLIST.filename)
    artifact, _ = load_artifact(path, CHECKLIST) if os.path.isfile(path) else (None, [])
    return checklist_entries(artifact.data) if artifact is not None and isinstance(artifact.data, dict) else {}


def change_gates(checklist: dict[str, dict[str, Any]]) -> list[str]:
    """Checklist entries whose gate judges a change (scope, forbidden, secrets: they have a base):
    on the default branch itself there is no change, so they have nothing to say there."""
    names = []
    for name, entry in checklist.items():
        spec = gate_spec(str(entry.get("gate", ""))) if entry.get("gate") else None
        if spec is not None and "base" in {f.name for f in records.fields(spec.options)}:
            names.append(name)
    return names


def _gates_runnable(checklist: dict[str, dict[str, Any]], root: str) -> Criterion:
    problems = []
    for name, entry in checklist.items():
        if entry.get("gate"):
            if gate_spec(str(entry["gate"])) is None:
                problems.append(f"{name}: no loopgate gate '{entry['gate']}'")
        elif entry.get("command") and find_program(str(entry["command"]), root) is None:
            problems.append(f"{name}: {code(program(str(entry['command'])))} is not installed or not found")
    if not checklist:
        return unmet("gates-runnable", G, "every gate in the checklist can run here", "no checklist gates",
                     "Write quality-gate-checklist.md with at least one required gate.", ALL, weight=2)
    return judged(not problems, "gates-runnable", G, "every gate in the checklist can run here",
                  f"{len(checklist)} gate(s) runnable" if not problems else "; ".join(problems)[:300],
                  "Install the missing tools, or fix the command in quality-gate-checklist.md.", ALL, weight=2)


def _containment(spec: dict[str, Any]) -> Criterion:
    """What `loopgate run` itself would find: the same probe, with the spec's ## Sandbox."""
    from loopgate.runner.sandbox import SandboxConfig, SandboxError, probe  # noqa: PLC0415

    config = SandboxConfig.from_spec(spec)
    try:
        found = probe(config)
    except SandboxError as err:
        return unmet("containment", G, "the maker can run inside a sandbox", str(err),
                     "Fix ## Sandbox in LOOP_SPEC.md.", PR)
    if found.contained:
        return met("containment", G, "the maker can run inside a sandbox", f"{found.tool}, network {found.network}",
                   PR)
    waived = config.allow_uncontained
    return judged(waived, "containment", G, "the maker can run inside a sandbox",
                  f"not contained: {found.why}" + (" (the spec allows uncontained runs)" if waived else ""),
                  "Install bubblewrap (`apt-get install bubblewrap`) where the loop runs, or opt out with "
                  "`- allow uncontained: yes` under ## Sandbox.", PR)


def _tests_exist(root: str) -> Criterion:
    try:
        done = _git(root, "ls-files", "-z")
    except (OSError, subprocess.TimeoutExpired):
        return Criterion("tests-exist", G, "the repository has tests", None, "git ls-files failed",
                         "Check that git works in the repository.", PROMOTED)
    files = [f for f in done.stdout.split("\0") if f]
    tests = [f for f in files if any(f.startswith(p) or f"/{p}" in f for p in _TEST_PATTERNS)
             or os.path.basename(f).startswith("test_") or f.endswith(_TEST_SUFFIXES)]
    return judged(bool(tests), "tests-exist", G, "the repository has tests",
                  f"{len(tests)} test file(s) tracked" if tests else "no test files tracked by git",
                  "Add tests the checklist can run: a loop without a behavioural check drafts unverified changes.",
                  PROMOTED)


def _default_branch(root: str) -> tuple[str, str]:
    """(the default branch as a commit-ish, its name as shown): the gates' own answer (config.py:
    origin's HEAD, init.defaultBranch, main or master), so the audit checks the branch the change
    gates compare against. ("", name) for a branch with no commit yet, ("", "") for none."""
    ref = default_branch(root)
    if ref:
        return ref, ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
    head = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    unborn = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode != 0
    return "", head.stdout.strip() if head.returncode == 0 and unborn else ""


class Interrupted(Exception):
    """SIGTERM or SIGINT arrived while the checklist ran; the worktree and processes were cleaned up."""


def _run_check(argv: list[str], cwd: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """The check in its own process group, ended as a group on a timeout or a signal (a gate's
    own children included), so nothing outlives the audit and the caller's `finally` runs."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)} if main else {}
    try:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    finally:
        if proc.poll() is None:
            end_family(proc, grace=3)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _default_branch_green(loop_dir: str, root: str) -> Criterion:
    """`loopgate check` on a clean checkout of the default branch, in a temporary worktree, so the
    user's uncommitted work neither helps nor hurts and nothing in their checkout changes."""
    title = "the checklist passes on the default branch"
    ref, branch = _default_branch(root)
    if not branch:
        return Criterion("default-branch-green", G, title, None, "no default branch found",
                         "Commit to main (or set origin/HEAD, or init.defaultBranch).", PROMOTED)
    if not ref:
        return unmet("default-branch-green", G, title, f"{branch} has no commits yet",
                     f"Commit the loop and the code it works on to {branch} (`git add -A && git commit`).",
                     PROMOTED, weight=2)
    rel = os.path.relpath(os.path.realpath(loop_dir), os.path.realpath(root))
    with tempfile.TemporaryDirectory(prefix="loopgate-readiness-") as scratch:
        tree = os.path.join(scratch, "tree")
        added = _git(root, "worktree", "add", "--detach", "--quiet", tree, ref, timeout=120)
        if added.returncode != 0:
            return Criterion("default-branch-green", G, title, None,
                             f"could not check out {branch}: {added.stderr.strip()[:160]}",
                             "Check that the default branch exists and the repository is not locked.", PROMOTED)
        try:
            loop_in_tree = os.path.join(tree, rel)
            if not os.path.isdir(loop_in_tree):
                return unmet("default-branch-green", G, title, f"the loop is not on {branch} yet",
                             f"Commit the loop to {branch} first.", PROMOTED, weight=2)
            # the default branch's own checklist: with none there, nothing shows the branch green
            shown = os.path.normpath(os.path.join(rel, CHECKLIST.filename)).replace(os.sep, "/")
            if not os.path.isfile(os.path.join(loop_in_tree, CHECKLIST.filename)):
                return unmet("default-branch-green", G, title,
                             f"the default branch has no quality-gate checklist at {shown} ({branch})",
                             f"Commit {shown} to {branch}: without it no gate has checked {branch}.", PROMOTED,
                             weight=2)
            there = _tree_checklist(loop_in_tree)
            if not there:
                return unmet("default-branch-green", G, title,
                             f"the quality-gate checklist at {shown} on {branch} has no gates (or does not load)",
                             f"Fix {shown} on {branch} (`loopgate verify`) so it names at least one gate.",
                             PROMOTED, weight=2)
            skip = [arg for name in change_gates(there) for arg in ("--skip", name)]
            if len(skip) // 2 == len(there):
                return met("default-branch-green", G, title, "every checklist gate judges a change; nothing to run "
                           f"on {branch}", PROMOTED, weight=2)
            done = _run_check([sys.executable, "-m", "loopgate", "check", "--loop", loop_in_tree, "--format",
                               "text", *skip], tree, timeout=1800)
        except subprocess.TimeoutExpired:
            return unmet("default-branch-green", G, title, f"the checklist on {branch} ran past 30 minutes",
                         "Make the checklist's gates faster, or fix the one that hangs.", PROMOTED, weight=2)
        finally:
            _git(root, "worktree", "remove", "--force", tree, timeout=120)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode == 0:
        return met("default-branch-green", G, title, f"{branch}: {last}"[:200], PROMOTED, weight=2)
    failing = [line for line in done.stdout.splitlines() if "failed" in line or "error" in line][:3]
    return unmet("default-branch-green", G, title,
                 f"{branch}: `loopgate check` exit {done.returncode}: {'; '.join(failing) or last}"[:300],
                 f"Fix {branch} first: on a red branch every attempt fails for reasons that are not the maker's.",
                 PROMOTED, weight=2)
