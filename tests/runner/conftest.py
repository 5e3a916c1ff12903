"""A real git repository with a loop in `.loop/`, real maker scripts, and the real gate plan
`loopgate run` builds from its checklist: a `command` gate running a link-check script, and the
`scope` gate bounded by each item's expected paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loopgate.check import PlannedGate
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunOutcome, RunSettings
from loopgate.runner.queue import WorkItem

from .fake_github import FakeGitHub, serve

# `- audit: off`: these tests drive the run loop itself (pull requests on the fake GitHub, containment in
# pr mode) without a month of history; tests/readiness/test_run_audit.py holds the audit to account.
SPEC = """\
# Loop Spec: Docs Repair

## Purpose
Repair broken documentation links.

## Trigger
Run every weekday at 08:00 local time.

## Inputs
- queue: work-queue.md

## Work Selection Rules
The loop may select work only when:
- the issue is labeled maintenance
- the expected file changes are below three files

The loop must skip and escalate when:
- the change touches authentication, authorization, payments, or data deletion
- the same item failed twice before

## Roles
- maker: a scripted agent
- maker command: {maker}

## Gates
- links
- scope

## Budgets
- max iterations: {iterations}
- max tool calls per iteration: 20
- max runtime: {runtime}
- max pull requests per run: 2

## Stop Conditions
Stop when one of these is true:
- all selected work items are completed or escalated
- the checker reports no progress across two consecutive attempts

## Rollout
- mode: {mode}
- audit: off

## Sandbox
- contain: {contain}
"""
CHECKLIST = """\
# Quality Gate Checklist: Docs Repair

## Required Gates

### links
- command: {python} check_links.py

### scope
- gate: scope
"""
POLICY = """\
# Escalation Policy: Docs Repair

## Always Escalate
- authentication
- production secrets
"""
READINESS = """\
# Loop Readiness: Docs Repair

## Ready
- [x] the work repeats
- [x] the gates run without the agent
"""
QUEUE = """\
# Work Queue

### DOC-1
- title: Fix the broken link in the guide
- labels: maintenance
- expected paths: docs/guide.md

### AUTH-2
- title: Update the login authentication redirect
- labels: maintenance
- expected paths: src/login.py

### BIG-3
- title: Reorganise the docs tree
- labels: maintenance
- expected paths: docs/a.md, docs/b.md, docs/c.md, docs/d.md

### CHORE-4
- title: Bump a version
- labels: chore
"""
CHECK_LINKS = """\
import pathlib, sys
text = pathlib.Path("docs/guide.md").read_text()
if "missing.md" in text:
    print("docs/guide.md:3:10: link to missing.md is broken")
    sys.exit(1)
print("links ok")
"""

MAKERS = {
    "good": "sed -i 's/missing.md/index.md/' docs/guide.md && echo 'fixed the link'",
    "wrong": "echo 'see also [x](missing.md)' >> docs/guide.md && echo 'all tests pass'",
    "liar": "echo 'all tests pass, done!'",
    "outside": "echo 'x = 1' > src/app.py && sed -i 's/missing.md/index.md/' docs/guide.md",
    "forever": "sleep 600",
    "sleepy-child": "(sleep 600 & echo $! > \"$LOOPGATE_WORKTREE/../child.pid\"; wait)",
    "ignores-term": "trap '' TERM; echo $$ > \"$LOOPGATE_WORKTREE/../maker.pid\"; while true; do sleep 0.1; done",
    "edits-state": "echo '- tampered: yes' >> .loop/LOOP_STATE.md && sed -i 's/missing.md/index.md/' docs/guide.md",
    "edits-checklist": "printf '\\n## Advisory Gates\\n' >> .loop/quality-gate-checklist.md "
                       "&& sed -i 's/missing.md/index.md/' docs/guide.md",
    "crash": "echo 'segfault' >&2; exit 139",
    "edits-spec": "sed -i 's/max iterations: 3/max iterations: 99/' .loop/LOOP_SPEC.md "
                  "&& sed -i 's/missing.md/index.md/' docs/guide.md",
    "edits-gate-config": "printf '[tool.loopgate.gates.scope]\\nallow = [\"**\"]\\n' > pyproject.toml "
                         "&& sed -i 's/missing.md/index.md/' docs/guide.md",
    # the worktree lives in .git/loopgate-worktrees/<loop>/<id>: four levels up is the user's checkout
    "edits-checkout-policy": "echo '- nothing' >> \"$LOOPGATE_WORKTREE/../../../../.loop/escalation-policy.md\" "
                             "&& sed -i 's/missing.md/index.md/' docs/guide.md",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class LoopRepo:
    root: Path
    loop: Path

    def set_spec(self, maker: str = "good", iterations: int = 3, runtime: str = "5 minutes",
                 mode: str = "shadow", contain: bool = True) -> None:
        """`contain=False` runs the maker uncontained: the path where no sandbox is available, whose
        own defences (process-group and token kills, tamper checks) those tests prove."""
        command = MAKERS.get(maker, maker)
        if "<!--" in command:  # markdown hides an HTML comment outside a code span, and so does the reader
            command = f"`` {command} ``"
        (self.loop / "LOOP_SPEC.md").write_text(SPEC.format(maker=command.replace("\n", " "), iterations=iterations,
                                                             runtime=runtime, mode=mode,
                                                             contain="yes" if contain else "no"))
        self.commit("spec")

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        subprocess.run(["git", "commit", "-qm", message], cwd=self.root, capture_output=True, check=False)

    def state(self) -> str:
        return (self.loop / "LOOP_STATE.md").read_text()


@pytest.fixture
def loop_repo(tmp_path: Path) -> LoopRepo:
    root = tmp_path / "repo"
    loop = root / ".loop"
    (root / "docs").mkdir(parents=True)
    (root / "src").mkdir()
    loop.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "docs" / "guide.md").write_text("# Guide\n\nRead [the index](missing.md).\n")
    (root / "docs" / "index.md").write_text("# Index\n")
    (root / "src" / "login.py").write_text("x = 0\n")
    (root / "check_links.py").write_text(CHECK_LINKS)
    (loop / "quality-gate-checklist.md").write_text(CHECKLIST.format(python=sys.executable))
    (loop / "escalation-policy.md").write_text(POLICY)
    (loop / "loop-readiness.md").write_text(READINESS)
    (loop / "work-queue.md").write_text(QUEUE)
    repo = LoopRepo(root, loop)
    repo.set_spec()
    return repo


PlanFactory = Callable[[str, str, WorkItem], list[PlannedGate]]


@pytest.fixture
def factory(loop_repo: LoopRepo) -> PlanFactory:
    """The real gate plan `loopgate run` builds: the checklist's command and scope gates."""
    return plan_factory(str(loop_repo.loop))  # type: ignore[no-any-return]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """GitHub's REST API on 127.0.0.1, scriptable to fail (see fake_github.py)."""
    yield from serve()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


__all__ = ["MAKERS", "LoopRepo", "git", "pid_alive", "textwrap"]


@pytest.fixture
def origin(loop_repo: LoopRepo, tmp_path: Path) -> Path:
    """A local bare repository as the loop repository's `origin`, with main pushed to it."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(loop_repo.root, "remote", "add", "origin", str(bare))
    git(loop_repo.root, "push", "-q", "origin", "main")
    return bare


def require_bwrap(what: str) -> None:
    """A test that needs bwrap and finds none fails in CI and skips elsewhere."""
    from loopgate.runner.sandbox import SandboxConfig, probe

    containment = probe(SandboxConfig())
    if containment.contained:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} need bubblewrap: {containment.why}")
    pytest.skip(containment.why)


def run_one(repo: LoopRepo, factory: PlanFactory) -> RunOutcome:
    """`loopgate run` of the first item, with a short TERM grace (the hostile-maker tests)."""
    return Loop(RunSettings(str(repo.loop), grace=0.5, max_items=1), factory).run()


def seen_by_maker(repo: LoopRepo) -> str:
    """What the hostile maker wrote to `$LOOPGATE_ATTEMPT_DIR/seen.txt` in its first attempt."""
    found = list((repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1, "the maker did not run (or could not write its attempt directory)"
    return found[0].read_text()


def path_without(program: str, tmp_path: Path) -> str:
    """This PATH with every folder that holds `program` replaced by a folder of links to all of it but
    `program`: the machine without that tool (dropping /usr/bin would drop git too)."""
    without = tmp_path / f"bin-without-{program}"
    without.mkdir()
    path = []
    for folder in os.environ["PATH"].split(os.pathsep):
        if not shutil.which(program, path=folder):
            path.append(folder)
            continue
        for entry in os.scandir(folder):
            if entry.name != program and not (without / entry.name).exists():
                (without / entry.name).symlink_to(entry.path)
        path.append(str(without))
    return os.pathsep.join(dict.fromkeys(path))
