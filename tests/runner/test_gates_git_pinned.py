"""The gates loopgate runs in its own process (scope, secrets, links) judge the worktree outside any
sandbox while contained command gates, which may be the maker's rewritten scripts, write that same
worktree in parallel. A command gate that repointed the worktree's `.git` link at a git directory of
its own, whose config names an fsmonitor program, had those gates' git run the program outside the
sandbox, with the user's environment (the hostile review's bug 9). Their git now names the
worktree's repository (GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR) and never discovers it.

Deterministic: the link is repointed before the gates start, as the racing gate had it while they
ran; the control run without the pinned environment shows the program does run when it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.check import PlannedGate, run_check
from loopgate.gates.base import GateContext
from loopgate.gates.command import Options
from loopgate.gates.registry import gate
from loopgate.runner import git as gitops
from loopgate.runner.queue import WorkItem

from .conftest import CHECKLIST, LoopRepo, PlanFactory, git
from .test_planted_by_the_maker import run, status

BUILT_IN = CHECKLIST + "\n### secrets\n- gate: secrets\n"


def _repointed(loop_repo: LoopRepo, marker: Path) -> tuple[gitops.Worktrees, str]:
    (loop_repo.loop / "quality-gate-checklist.md").write_text(BUILT_IN.format(python=sys.executable))
    loop_repo.commit("scope and secrets")
    worktrees = gitops.Worktrees(str(loop_repo.root), "docs")
    worktree = worktrees.create("DOC-1", "main")
    worktrees.admin_dir("DOC-1")  # found before anything repoints the link, as the loop does
    Path(worktree, "docs", "guide.md").write_text("# Guide\n\nRead [the index](index.md).\n")
    evil = Path(worktree, "evilgit")
    subprocess.run(["git", "init", "-q", "--bare", str(evil)], check=True)
    common = git(loop_repo.root, "rev-parse", "--absolute-git-dir").strip()
    (evil / "objects" / "info" / "alternates").write_text(f"{common}/objects\n")
    (evil / "HEAD").write_text(git(loop_repo.root, "rev-parse", "HEAD"))
    with open(evil / "config", "a", encoding="utf-8") as config:
        config.write(f'[core]\n\tbare = false\n\tfsmonitor = "echo ran outside >> {marker}; false"\n')
    Path(worktree, ".git").write_text("gitdir: evilgit\n")
    return worktrees, worktree


@pytest.mark.parametrize("pinned", [True, False])
def test_the_built_in_gates_git_never_follows_a_repointed_git_link(
        loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path, pinned: bool) -> None:
    marker = tmp_path / "ran-outside.txt"
    worktrees, worktree = _repointed(loop_repo, marker)
    base = git(loop_repo.root, "rev-parse", "HEAD").strip()
    plan = [p for p in factory(worktree, base, WorkItem("DOC-1", expected_paths=("docs/guide.md",)))
            if p.spec is not None and not p.spec.runs_commands]
    assert {p.spec.name for p in plan if p.spec} >= {"scope", "secrets"}
    context = GateContext(cwd=worktree, git_env=worktrees.pinned_env("DOC-1") if pinned else None)
    outcome = run_check(plan, context=context)
    if pinned:
        assert not marker.exists(), marker.read_text()
        scope = next(r for p, r in zip(plan, outcome.results, strict=True) if p.spec and p.spec.name == "scope")
        # judged against the real repository: the planted git directory is what it is there, untracked
        # files in the worktree (evilgit's own index would have shown other changes, or an error)
        assert scope.status.value == "failed" and scope.findings, scope.reason
        assert all(f.path.startswith("evilgit/") for f in scope.findings), [f.path for f in scope.findings]
    else:  # the control: without the pinned environment the planted program runs
        assert marker.exists() and "ran outside" in marker.read_text()


def test_command_gates_never_get_the_pinned_repository(loop_repo: LoopRepo, tmp_path: Path) -> None:
    # a test suite run as a gate makes repositories of its own: GIT_DIR in its environment would
    # have its git write into the worktree's admin directory instead
    command = gate("command")
    assert command is not None and command.runs_commands
    generated = gate("generated")
    assert generated is not None and generated.runs_commands
    worktrees = gitops.Worktrees(str(loop_repo.root), "docs")
    worktree = worktrees.create("DOC-1", "main")
    seen = tmp_path / "env.txt"
    options = Options(shell=f"env > {seen}")
    run_check([PlannedGate("env", command, options, True)],
              context=GateContext(cwd=worktree, git_env=worktrees.pinned_env("DOC-1")))
    text = seen.read_text()
    assert "PATH=" in text and "GIT_DIR=" not in text and "GIT_CONFIG_COUNT=" not in text, text
    assert os.environ.get("GIT_DIR") is None


NESTED = r"""
sed -i 's/missing.md/index.md/' docs/guide.md
recorded=$(git ls-tree HEAD libs/vendored | awk '{print $3}')
alternates=$GIT_ALTERNATE_OBJECT_DIRECTORIES
unset GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
mkdir -p libs/vendored && cd libs/vendored
git init -q -b main .
echo "$alternates" > .git/objects/info/alternates
git config filter.evil.clean "sh -c 'echo ran outside >> MARKER; cat'"
echo '* filter=evil' > .gitattributes
echo hello > a.txt
git add a.txt .gitattributes
echo "$recorded" > .git/refs/heads/main
echo changed > a.txt
echo planted >> "$LOOPGATE_ATTEMPT_DIR/seen.txt"
"""


def test_a_repository_the_maker_makes_at_a_submodules_path_escalates_and_runs_nothing(
        loop_repo: LoopRepo, tmp_path: Path) -> None:
    # the repository has a submodule; the maker makes a repository of its own at its path, whose HEAD
    # names the recorded commit and whose config holds a clean filter: loopgate's own `git add` asked
    # it whether it was dirty (`git status` there), running the filter outside the sandbox
    marker = tmp_path / "ran-outside.txt"
    recorded = git(loop_repo.root, "commit-tree", "-m", "sub", git(loop_repo.root, "mktree").strip()).strip()
    git(loop_repo.root, "update-index", "--add", "--cacheinfo", f"160000,{recorded},libs/vendored")
    (loop_repo.root / ".gitmodules").write_text(
        '[submodule "libs/vendored"]\n\tpath = libs/vendored\n\turl = https://example.com/vendored.git\n')
    (loop_repo.root / "libs" / "vendored").mkdir(parents=True)  # not checked out, as git leaves one
    loop_repo.commit("a submodule")
    assert git(loop_repo.root, "ls-tree", "HEAD", "libs/vendored").startswith("160000 commit")
    (loop_repo.root / "tools").mkdir(exist_ok=True)
    (loop_repo.root / "tools" / "nested.sh").write_text(NESTED.replace("MARKER", str(marker)))
    loop_repo.set_spec("sh tools/nested.sh", iterations=1)
    assert git(loop_repo.root, "ls-tree", "HEAD", "libs/vendored").startswith("160000 commit")
    done = run(loop_repo)
    assert done is not None
    seen = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(seen) == 1 and "planted" in seen[0].read_text(), "the maker did not make its repository"
    assert not marker.exists(), marker.read_text()
    state, reason = status(loop_repo)
    assert state == "escalated" and "a git repository was made inside the worktree: libs/vendored/.git" in reason, \
        (state, reason)
