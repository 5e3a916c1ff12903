"""The same loop in a linked checkout of the repository (`git worktree add`): its runs and the
main checkout's exclude each other (they share refs and the items' worktree folder: run at once,
one removed the other's worktree mid-attempt), and one after the other they keep their own
branches (each checkout has its own LOOP_STATE.md, naming its own branch for review)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopgate.cli.run import run
from loopgate.runner.state import load_state

from .conftest import LoopRepo, git

DRIVER = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
outcome = Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
print(outcome.stop.label)
"""


@pytest.fixture
def linked(loop_repo: LoopRepo, tmp_path: Path) -> Path:
    other = tmp_path / "other"
    git(loop_repo.root, "worktree", "add", "-q", str(other), "-b", "feature")
    return other


def test_a_run_in_a_linked_checkout_refuses_while_the_main_checkouts_runs(
        loop_repo: LoopRepo, linked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "started"
    loop_repo.set_spec(f"echo $$ > {marker}; sleep 600", contain=False)
    git(linked, "merge", "-q", "main")  # the linked checkout has the same spec
    driver = [sys.executable, "-c", DRIVER.format(loop=str(loop_repo.loop))]
    with subprocess.Popen(driver, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as first:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()
        monkeypatch.chdir(linked)
        second = CliRunner().invoke(run, [str(linked / ".loop")])
        worktree_kept = (marker.parent / "DOC-1").is_dir()
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=30)
    assert second.exit_code == 2 and "in progress" in second.output, second.output
    assert worktree_kept  # the first run's item worktree was left alone
    assert out.startswith("interrupted")
    assert not (linked / ".loop" / "LOOP_STATE.md").exists()  # the refused run wrote nothing


def test_runs_one_after_the_other_keep_each_checkouts_branch(
        loop_repo: LoopRepo, linked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop_repo.set_spec("good", contain=False)
    git(linked, "merge", "-q", "main")
    monkeypatch.chdir(loop_repo.root)
    assert CliRunner().invoke(run, [str(loop_repo.loop)]).exit_code == 3  # DOC-1 drafted, others escalated
    main_branch = load_state(str(loop_repo.loop / "LOOP_STATE.md"), "x")[0].items["DOC-1"].extra["branch"]
    main_commit = git(loop_repo.root, "rev-parse", main_branch).strip()

    monkeypatch.chdir(linked)
    second = CliRunner().invoke(run, [str(linked / ".loop")])
    assert second.exit_code == 3, second.output
    linked_doc = load_state(str(linked / ".loop" / "LOOP_STATE.md"), "x")[0].items["DOC-1"]
    assert linked_doc.status == "drafted"
    assert linked_doc.extra["branch"] != main_branch
    # the main checkout's drafted branch, waiting for review, still holds what its gates passed
    assert git(loop_repo.root, "rev-parse", main_branch).strip() == main_commit
