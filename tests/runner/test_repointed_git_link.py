"""A maker (or a gate script it rewrote) that repoints its worktree's `.git` at a git directory of
its own (issue 7, third review): that directory's config names programs (a clean filter, an
fsmonitor) that loopgate's own git, or a person's `git status` in the kept worktree, would run
outside any sandbox with the user's whole environment. loopgate's git names the real admin
directory itself, the link is checked after the gates as well as after the maker, a faked sandbox
failure is checked for tampering too, and a repointed worktree never jams later runs.

Real makers under the real bubblewrap sandbox, a real repository with a local bare origin."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from loopgate.runner.git import Worktrees

from .conftest import LoopRepo, git
from .test_containment import FIX, bwrap_here, hostile
from .test_planted_by_the_maker import run, status

__all__ = ["bwrap_here"]  # a fixture, used by name


def evil_gitdir(marker: Path, program: str) -> str:
    """Shell that builds `$wt/evil`, a git directory whose config runs a program writing `marker`
    (`program` is config text naming `$evil/p.sh`: a filter, or core.fsmonitor), and points the
    current directory's `.git` at it."""
    return (f'wt=$(pwd); evil=$wt/evil; mkdir -p $evil/objects $evil/refs/heads $evil/info\n'
            f'echo "ref: refs/heads/main" > $evil/HEAD\n'
            f'cat > $evil/config <<EOF\n[core]\n\trepositoryformatversion = 0\n\tbare = false\n{program}\nEOF\n'
            f'printf \'id > {marker}\\ncat\\n\' > $evil/p.sh\n'
            f'echo "* filter=x" > $evil/info/attributes\n'
            f'echo "gitdir: $evil" > .git\n')


FILTER = '[filter "x"]\n\tclean = sh $evil/p.sh\n\tsmudge = sh $evil/p.sh'


def test_a_gate_script_that_repoints_git_runs_no_program_outside_and_is_escalated(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # the maker leaves .git alone; it rewrites the gate's script, which (sandboxed, the worktree
    # writable) repoints .git at gate time; loopgate's `git add -A` after the gates ran the filter
    marker = tmp_path / "ran-outside"
    (loop_repo.root / "tools").mkdir(exist_ok=True)
    (loop_repo.root / "tools" / "gate.sh").write_text(
        evil_gitdir(marker, FILTER) + "echo links ok\n")
    hostile(loop_repo, "printf 'import subprocess\\nsubprocess.run([\"sh\", \"tools/gate.sh\"])\\n' > check_links.py")
    done = run(loop_repo)
    assert done is not None
    assert not marker.exists(), marker.read_text()
    state, reason = status(loop_repo)
    assert state == "escalated", reason
    assert ".git (in the item's worktree)" in reason and "restored: .git" in reason, reason


def test_a_faked_sandbox_failure_is_checked_for_tampering_and_escalated(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # the maker repoints .git, erases the sandbox's proof of start and fails like bwrap: the run
    # stopped as environmental (exit 5) without the tamper check, and every later run stopped too
    marker = tmp_path / "ran-outside"
    hostile(loop_repo, evil_gitdir(marker, FILTER) + 'rm -f "$LOOPGATE_ATTEMPT_DIR/.sandbox-started"\n'
            + "echo \"bwrap: Can't mount proc on /newroot/proc: Operation not permitted\"; exit 1")
    done = run(loop_repo)
    assert done is not None and done.returncode != 5, done and done.stdout
    state, reason = status(loop_repo)
    assert state == "escalated" and "restored: .git" in reason, reason
    assert not marker.exists(), marker.read_text()
    loop_repo.set_spec()  # a good maker now: the next run is not jammed by what was left
    (loop_repo.loop / "LOOP_STATE.md").unlink()
    loop_repo.commit("fresh state")
    again = run(loop_repo)
    assert again is not None and again.returncode != 5 and "fatal" not in again.stderr, again and again.stderr
    assert status(loop_repo)[0] == "drafted", status(loop_repo)
    assert not marker.exists()


def test_the_kept_worktree_of_an_escalated_repointing_runs_nothing_on_git_status(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran-outside"
    hostile(loop_repo, evil_gitdir(marker, "\tfsmonitor = sh $evil/p.sh"))
    assert run(loop_repo) is not None
    state, reason = status(loop_repo)
    assert state == "escalated" and "restored: .git (in the item's worktree)" in reason, reason
    kept = Worktrees(str(loop_repo.root), "docs-repair")
    link = Path(kept.path("DOC-1")) / ".git"
    assert link.read_text() == f"gitdir: {kept.admin_dir('DOC-1')}\n"
    subprocess.run(["git", "status", "--short"], cwd=link.parent, capture_output=True, check=True)
    assert not marker.exists(), marker.read_text()


def test_a_worktree_whose_git_points_elsewhere_is_replaced_by_the_next_create(
        loop_repo: LoopRepo, tmp_path: Path) -> None:
    worktrees = Worktrees(str(loop_repo.root), "docs-repair")
    base = git(loop_repo.root, "rev-parse", "HEAD").strip()
    path = Path(worktrees.create("DOC-1", base))
    elsewhere = tmp_path / "elsewhere.git"
    subprocess.run(["git", "init", "-q", "--bare", str(elsewhere)], check=True)
    (path / ".git").write_text(f"gitdir: {elsewhere}\n")
    (path / "left.txt").write_text("the maker's\n")
    fresh = Worktrees(str(loop_repo.root), "docs-repair")  # the next run's
    again = Path(fresh.create("DOC-1", base))
    assert again == path and not (path / "left.txt").exists()
    assert (path / ".git").read_text() == f"gitdir: {fresh.admin_dir('DOC-1')}\n"
    assert fresh.head_moved("DOC-1", base) == ""
    # a `.git` made a directory of the maker's is no obstacle either
    (path / ".git").unlink()
    (path / ".git").mkdir()
    fresh.remove("DOC-1", delete_branch=True)
    assert not os.path.lexists(path)
    assert "loop/docs-repair/DOC-1" not in git(loop_repo.root, "branch", "--list")


def test_a_maker_cannot_erase_the_sandboxs_word_that_it_started(loop_repo: LoopRepo, origin: Path) -> None:
    # the proof used to be a file in the maker's own folder: deleted, the maker's own failure
    # passed for the sandbox's, and the run stopped as environmental (exit 5) with nothing judged
    hostile(loop_repo, 'd="$LOOPGATE_ATTEMPT_DIR"; rm -f "$d/.sandbox-started"\n'
                       ': > "$d/../sandbox-started" 2>/dev/null; rm -f "$d/../sandbox-started" 2>/dev/null\n'
                       'printf x >&3 2>/dev/null; : >&3 2>/dev/null\n'
                       "echo \"bwrap: Can't mount proc on /newroot/proc: Operation not permitted\"; exit 1")
    done = run(loop_repo)
    assert done is not None and done.returncode != 5, done and done.stdout
    assert "could not start the maker" not in done.stdout + done.stderr
    assert status(loop_repo)[0] != "stopped", status(loop_repo)


def test_a_contained_makers_push_to_a_local_remote_over_the_network_is_escalated(
        loop_repo: LoopRepo, origin: Path) -> None:
    # the local-path origin is read-only to a contained maker, but served by `git daemon` on
    # localhost (network: full) its push landed, and the item ended drafted
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--port={port}", "--listen=127.0.0.1",
                               f"--base-path={origin.parent}", "--export-all", "--enable=receive-pack",
                               str(origin.parent)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hostile(loop_repo, f"{FIX}\ngit add -A && c=$(git commit-tree $(git write-tree) -p HEAD -m mine) && "
                           f"git push git://127.0.0.1:{port}/{origin.name} $c:refs/heads/pushed-by-maker "
                           '&& echo pushed >> "$seen"')
        time.sleep(0.5)
        assert run(loop_repo) is not None
    finally:
        daemon.terminate()
        daemon.wait()
    landed = git(origin, "for-each-ref", "--format=%(refname)")
    assert "pushed-by-maker" in landed  # the push did land: the test shows what it claims
    state, reason = status(loop_repo)
    assert state == "escalated" and "remote 'origin'" in reason, reason


def test_a_repository_nested_in_the_worktree_runs_none_of_its_programs_outside(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # loopgate's `git diff` asked a nested repository whether it is dirty: `git status` there, under
    # that repository's own config, ran its clean filter outside any sandbox
    marker = tmp_path / "ran-outside"
    hostile(loop_repo, "mkdir -p docs/sub && cd docs/sub && env -u GIT_OBJECT_DIRECTORY -u "
                       "GIT_ALTERNATE_OBJECT_DIRECTORIES sh -c 'git init -q && echo a > f && git add f && "
                       "git -c user.name=m -c user.email=m@m commit -qm s && "
                       f"git config filter.x.clean \"sh -c \\\"id > {marker}; cat\\\"\" && "
                       "echo \"* filter=x\" > .git/info/attributes && echo b > f' ; cd ../..")
    assert run(loop_repo) is not None
    assert not marker.exists(), marker.read_text()
    assert status(loop_repo)[0] in ("drafted", "escalated"), status(loop_repo)
