"""Issue 7, sections 3 and 4: state that says what happened, branches per loop, locks and the
maker's start. Real repositories, real makers, real runner processes killed for real."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopgate.runner.lock import RunLock
from loopgate.runner.loop import Loop, RunError, RunSettings
from loopgate.runner.state import load_state

from .conftest import MAKERS, LoopRepo, PlanFactory, git


def run(loop_dir: Path | str, factory: PlanFactory, **kwargs: object) -> object:
    return Loop(RunSettings(str(loop_dir), grace=0.5, **kwargs), factory).run()  # type: ignore[arg-type]


def test_two_loops_in_one_repository_keep_their_own_branches(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    from loopgate.cli.run import plan_factory

    second = loop_repo.root / "second" / ".loop"
    shutil.copytree(loop_repo.loop, second)
    spec = second / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("# Loop Spec: Docs Repair", "# Loop Spec: Docs Repair Two")
                    .replace("sed -i 's/missing.md/index.md/' docs/guide.md && echo 'fixed the link'",
                             "echo 'see also [x](missing.md)' >> docs/guide.md"))
    loop_repo.commit("a second loop")
    run(loop_repo.loop, factory, max_items=1)
    drafted = git(loop_repo.root, "rev-parse", "loop/docs-repair/DOC-1").strip()
    run(second, plan_factory(str(second)), max_items=1)  # its DOC-1 fails: it must not touch the first's branch
    assert git(loop_repo.root, "rev-parse", "loop/docs-repair/DOC-1").strip() == drafted
    assert "index.md" in git(loop_repo.root, "show", "loop/docs-repair/DOC-1:docs/guide.md")
    from loopgate.runner.git import loop_key

    key = loop_key(str(loop_repo.root), str(second), "Docs Repair Two")
    assert key.startswith("docs-repair-two-")  # a loop outside the root's .loop: its name and where it is
    assert git(loop_repo.root, "rev-parse", "--verify", f"loop/{key}/DOC-1").strip()


def test_two_loops_with_the_same_name_share_no_branch_or_worktree(loop_repo: LoopRepo, tmp_path: Path) -> None:
    from loopgate.cli.run import plan_factory

    # a/.loop and b/.loop, both "Docs Repair": a monorepo's two packages with copies of one loop
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(loop_repo.root, "remote", "add", "origin", str(bare))
    loops = []
    for name, maker in (("a", "good"), ("b", "wrong")):
        copy = loop_repo.root / name / ".loop"
        shutil.copytree(loop_repo.loop, copy)
        spec = copy / "LOOP_SPEC.md"
        spec.write_text(spec.read_text().replace(MAKERS["good"], MAKERS[maker]))
        loops.append(copy)
    loop_repo.commit("two loops of one name")
    git(loop_repo.root, "push", "-q", "origin", "main")
    run(loops[0], plan_factory(str(loops[0])), max_items=1)
    branches = git(loop_repo.root, "for-each-ref", "--format=%(refname:short)", "refs/heads/loop/").split()
    assert len(branches) == 1
    drafted = git(loop_repo.root, "rev-parse", branches[0]).strip()
    run(loops[1], plan_factory(str(loops[1])), max_items=1)  # its DOC-1 fails: it must not touch a's branch
    assert git(loop_repo.root, "rev-parse", branches[0]).strip() == drafted
    assert "index.md" in git(loop_repo.root, "show", f"{branches[0]}:docs/guide.md")
    both = git(loop_repo.root, "for-each-ref", "--format=%(refname:short)", "refs/heads/loop/").split()
    assert len(both) == 2, both  # b kept its failed attempt on a branch of its own
    kept = [p for p in (loop_repo.root / ".git" / "loopgate-worktrees").iterdir() if (p / "DOC-1").exists()]
    assert len(kept) == 1 and not branches[0].startswith(f"loop/{kept[0].name}/")  # b's worktree is its own
    assert git(bare, "for-each-ref", "--format=%(refname)").strip() == "refs/heads/main"


def test_a_second_run_through_a_symlinked_path_is_refused(loop_repo: LoopRepo, factory: PlanFactory,
                                                          tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(loop_repo.root)
    first = Loop(RunSettings(str(loop_repo.loop)), factory)
    first._load()
    with RunLock(os.path.join(first.runtime_dir, "run.lock")), \
            pytest.raises(RunError, match="another run of this loop is in progress"):
        run(link / ".loop", factory)


DIES_AT_START = """
import os, signal, sys
from loopgate.runner.maker import MakerLimits, run_maker
# the runner is killed the moment the maker's process exists, before it could record it
run_maker({command!r}, {cwd!r}, dict(os.environ), MakerLimits(timeout=30, grace=0.5), {log!r},
          on_start=lambda pid: os.kill(os.getpid(), signal.SIGKILL), token={token!r})
"""


def test_a_runner_killed_right_after_the_maker_starts_leaves_nothing_running(tmp_path: Path) -> None:
    from loopgate.runner.maker import tokened_pids

    token = "f" * 32
    ran = tmp_path / "ran.txt"
    command = f"echo ran > {ran}; sleep 600"
    script = DIES_AT_START.format(command=command, cwd=str(tmp_path), log=str(tmp_path / "maker.log"), token=token)
    for _ in range(5):  # the window the issue measured was 0-6 ms: repeat, it must hold every time
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30, check=False)
        assert done.returncode == -signal.SIGKILL
    time.sleep(0.3)
    assert not ran.exists()  # the maker's command never ran
    assert tokened_pids(token) == []  # and nothing of it is left


KILLED_MID_ATTEMPT = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
"""


def test_a_contained_maker_dies_with_a_runner_killed_with_9(loop_repo: LoopRepo) -> None:
    from loopgate.runner.maker import tokened_pids

    loop_repo.set_spec('echo up > "$LOOPGATE_ATTEMPT_DIR/up.txt"; setsid sleep 600 & sleep 600')
    runner = subprocess.Popen([sys.executable, "-c", KILLED_MID_ATTEMPT.format(loop=str(loop_repo.loop))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/up.txt")):
        assert time.monotonic() < deadline, "the maker never started"
        time.sleep(0.05)
    token = next((loop_repo.root / ".git" / "loopgate").glob("*/maker.pid")).read_text().split()[1]
    assert tokened_pids(token)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 5
    while tokened_pids(token) and time.monotonic() < deadline:  # --die-with-parent: the kernel ends them
        time.sleep(0.05)
    assert tokened_pids(token) == []
    state, _ = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")
    assert state.items["DOC-1"].attempts == 1


@pytest.mark.parametrize("contain", [True, False])
def test_a_term_ignoring_agent_is_gone_by_the_runtime_budget(loop_repo: LoopRepo, factory: PlanFactory,
                                                             contain: bool) -> None:
    """The budget is the deadline: with a 3 s grace (the default) and a 2 s budget, the old loop
    took budget + grace; now SIGKILL lands on the budget."""
    loop_repo.set_spec("trap '' TERM; while true; do sleep 0.1; done", runtime="2s", contain=contain)
    loop = Loop(RunSettings(str(loop_repo.loop), max_items=1), factory)  # grace: the default 3 s
    started = time.monotonic()
    outcome = loop.run()
    took = time.monotonic() - started
    assert outcome.stop.label == "budget-exhausted"
    assert took < 2 + 1.0, f"the run took {took:.2f} s against a 2 s budget"
