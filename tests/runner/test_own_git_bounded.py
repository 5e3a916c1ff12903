"""What a contained maker leaves in its worktree that loopgate itself reads after the attempt,
outside any sandbox (issue 7, bug 9 of the hostile review): the copies of the control files it
snapshots, and the files its own git hashes to judge the change. A FIFO there must not hang
loopgate, a file of many gigabytes must not hold it past the run's budget (nor fill its memory),
and whatever happens the item's state says what happened.

Real makers under the real bubblewrap sandbox, a real repository with a local bare origin."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopgate.runner import git as gitops

from .conftest import LoopRepo, git
from .test_containment import FIX, hostile
from .test_planted_by_the_maker import run, status


@pytest.mark.parametrize("name", [".loop/LOOP_SPEC.md", "pyproject.toml", ".pre-commit-config.yaml"])
def test_a_fifo_in_place_of_a_control_file_copy_does_not_hang_the_run(
        loop_repo: LoopRepo, origin: Path, name: str) -> None:
    # the worktree's copies of the control files are hashed after every attempt: opening a FIFO
    # blocks until a writer comes, which never does
    hostile(loop_repo, f'rm -f "{name}"; mkfifo "{name}" && echo planted >> "$seen"')
    done = run(loop_repo, 90.0)
    assert done is not None, f"loopgate hung on a FIFO the maker left as {name}"
    found = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1 and "planted" in found[0].read_text(), "the maker did not plant the FIFO"
    state, reason = status(loop_repo)
    if name == ".loop/LOOP_SPEC.md":  # a control file replaced: the maker changed the loop's rules
        assert state == "escalated", (state, reason)
        assert "control files" in reason, reason
    else:
        # pyproject.toml and .pre-commit-config.yaml do not exist in this repository: a FIFO there is
        # a new file, judged as tampering with the gates' configuration all the same
        assert state == "escalated", (state, reason)
    assert git(origin, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_a_huge_file_in_place_of_a_control_file_copy_is_not_read_whole(loop_repo: LoopRepo, origin: Path) -> None:
    # 8 GiB of holes: reading it whole into memory (as the snapshot did) takes seconds and gigabytes
    hostile(loop_repo, 'truncate -s 8G pyproject.toml && echo planted >> "$seen"')
    started = time.monotonic()
    done = run(loop_repo, 120.0)
    assert done is not None, "loopgate hung on an 8 GiB file the maker left as pyproject.toml"
    assert time.monotonic() - started < 60, "loopgate read the maker's 8 GiB file"
    state, reason = status(loop_repo)
    assert state == "escalated" and "pyproject.toml" in reason, (state, reason)


def test_a_huge_file_the_maker_wrote_fails_the_attempt_without_hashing_it(loop_repo: LoopRepo, origin: Path) -> None:
    # git hashes (and compresses) every byte of a new file to judge the change: 6 GiB took minutes,
    # past any runtime budget, before the gates ever ran. A file that size is no change a
    # repository can take (GitHub refuses files over 100 MiB): the attempt fails with feedback
    hostile(loop_repo, 'truncate -s 6G docs/dump.bin && echo planted >> "$seen"')
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max runtime: 5 minutes", "- max runtime: 40 seconds"))
    loop_repo.commit("a small budget")
    started = time.monotonic()
    done = run(loop_repo, 120.0)
    assert done is not None
    assert time.monotonic() - started < 40
    state, reason = status(loop_repo)
    assert state == "escalated", (state, reason)  # one iteration allowed, and it failed
    assert "docs/dump.bin" in reason and "MiB" in reason, reason
    assert git(origin, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_a_change_too_large_to_diff_fails_the_attempt(loop_repo: LoopRepo, origin: Path) -> None:
    # each file under the size a file may have, together more diff than the loop holds in memory
    hostile(loop_repo, 'for n in 1 2 3; do truncate -s 95M "docs/part$n.bin"; done && echo planted >> "$seen"')
    done = run(loop_repo, 120.0)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated", (state, reason)
    assert "too large to judge" in reason, reason


def test_git_past_its_time_is_stopped(tmp_path: Path) -> None:
    # the real git hashing 6 GiB of holes: minutes; given one second, it is killed and said so
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    big = repo / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(6 * 1024 ** 3)
    started = time.monotonic()
    with pytest.raises(gitops.GitTimeout, match="stopped after 1 s"):
        gitops.git(["hash-object", "big.bin"], str(repo), timeout=1.0)
    assert time.monotonic() - started < 10


def test_a_worktrees_git_stops_at_the_runs_deadline(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "a.md").write_text("a\n")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "a")
    worktrees = gitops.Worktrees(str(repo), "docs")
    worktrees.create("ITEM-1", "main")
    with open(Path(worktrees.path("ITEM-1")) / "big.bin", "wb") as handle:
        handle.truncate(6 * 1024 ** 3)
    assert worktrees.scan("ITEM-1").oversized == [("big.bin", 6 * 1024 ** 3)]
    worktrees.deadline = time.monotonic() - 60  # the run's budget ran out a minute ago
    started = time.monotonic()
    with pytest.raises(gitops.GitTimeout):
        worktrees.tree("ITEM-1")  # `git add -A` of 6 GiB
    assert time.monotonic() - started < gitops.GRACE_SECONDS + 5


def test_a_fifo_as_a_pack_index_in_the_makers_objects_does_not_hang_the_run(
        loop_repo: LoopRepo, origin: Path) -> None:
    # after the attempt loopgate lists the objects the maker made (a push of one of them to a local
    # remote is the maker's), reading every pack index in its object directory: a FIFO there made
    # open() wait for good, and SIGTERM did not end it
    hostile(loop_repo, 'git add docs/guide.md 2>/dev/null; pack="$LOOPGATE_ATTEMPT_DIR/objects/pack"; '
                       'mkdir -p "$pack" && mkfifo "$pack/pack-0000000000000000000000000000000000000000.idx" '
                       '&& ln -s /dev/urandom "$pack/pack-1111111111111111111111111111111111111111.idx" '
                       '&& echo planted >> "$seen"')
    done = run(loop_repo, 90.0)
    assert done is not None, "loopgate hung on a FIFO the maker left as a pack index"
    found = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1 and "planted" in found[0].read_text(), "the maker did not plant the FIFO"
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_what_the_maker_leaves_in_its_home_and_objects_is_cleared_once_judged(
        loop_repo: LoopRepo, origin: Path) -> None:
    # an agent's caches in its HOME and the objects its `git add` wrote stayed in the repository's
    # git directory, attempt after attempt, run after run (the hostile review's bug 11)
    hostile(loop_repo, 'head -c 20000000 /dev/urandom > "$HOME/cache.bin"; '
                       'echo note > "$LOOPGATE_ATTEMPT_DIR/note.txt"; '
                       f'{FIX}; git add docs/guide.md; echo planted >> "$seen"')
    done = run(loop_repo)
    assert done is not None
    [attempt] = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1"))
    assert not (attempt / "home").exists() and not (attempt / "maker" / "objects").exists()
    assert (attempt / "maker.log").is_file() and (attempt / "prompt.md").is_file()  # the audit trail stays
    assert (attempt / "maker" / "note.txt").read_text() == "note\n"
    assert "planted" in (attempt / "maker" / "seen.txt").read_text()
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_an_item_whose_gates_never_finish_escalates_after_three_runs(loop_repo: LoopRepo) -> None:
    # a gate script the maker rewrote to hang: each run's budget ends before the gates judge, and the
    # item resumed unjudged, run after run, for good (burning every run's budget, never escalated)
    hostile(loop_repo, "printf 'import time\\ntime.sleep(600)\\n' > check_links.py")
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max runtime: 5 minutes", "- max runtime: 3 seconds"))
    loop_repo.commit("a small budget")
    for _ in range(3):
        done = run(loop_repo)
        assert done is not None and done.returncode == 4, done
        assert status(loop_repo)[0] == "stopped", status(loop_repo)
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated", (state, reason)
    assert "stopped by the run's budget before the gates judged it, in 3 runs in a row" in reason, reason
    # the kept worktree is as the last attempt left it, for the person the reason sends there
    [kept] = list((loop_repo.root / ".git" / "loopgate-worktrees").glob("*/DOC-1"))
    assert "time.sleep(600)" in (kept / "check_links.py").read_text()


def test_a_maker_that_runs_a_while_then_exits_127_is_judged_not_given_back(loop_repo: LoopRepo) -> None:
    # 127 is the shell's word for a command it could not find; one that ran for seconds was found. A
    # maker that spent the budget and then said 127 had its attempt given back, run after run, unjudged
    hostile(loop_repo, "sleep 11; echo 'sh: 1: claud: not found'; exit 127")
    done = run(loop_repo)
    assert done is not None and done.returncode != 5, done.stdout + done.stderr
    state, reason = status(loop_repo)
    # judged as any attempt (it made no change), not given back as "could not start"
    assert state == "escalated" and "the attempt changed no file" in reason, (state, reason)


def _run_measured(repo: LoopRepo) -> tuple[subprocess.CompletedProcess[str], int]:
    """`loopgate run` under a wrapper whose only child it is: (the run, its peak memory in KiB)."""
    wrapper = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(done.returncode)")
    argv = [sys.executable, "-c", wrapper, sys.executable, "-m", "loopgate", "run", str(repo.loop), "-q"]
    done = subprocess.run(argv, cwd=repo.root, capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done, int(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("planted", [
    # 1,200 nested folders: os.walk recursed once a level, RecursionError out of the tamper check
    'p=.loop/runs; for i in $(seq 1200); do p="$p/d"; done; mkdir -p "$p" && echo x > "$p/report.json"',
    # 250 files of 16 MB of holes: each under the per-file cap, 4 GB held at once in all
    "mkdir -p .loop/runs && for i in $(seq 250); do truncate -s 16000000 .loop/runs/r$i.json; done",
])
def test_a_control_directory_the_maker_fills_is_judged_without_recursion_or_gigabytes(
        loop_repo: LoopRepo, origin: Path, planted: str) -> None:
    hostile(loop_repo, planted + ' && echo planted >> "$seen"')
    try:
        done, peak_kib = _run_measured(loop_repo)
        assert done.returncode == 3, done.stdout + done.stderr
        state, reason = status(loop_repo)
        assert state == "escalated" and ".loop/runs (in the item's worktree)" in reason, (state, reason)
        assert peak_kib < 512 * 1024, f"loopgate peaked at {peak_kib // 1024} MiB"
    finally:  # pytest's own clean-up of its temp roots recurses once a level, and would crash on it
        subprocess.run(["rm", "-rf", str(loop_repo.root)], check=False)


def test_a_forged_pack_index_in_the_makers_objects_costs_neither_time_nor_memory(
        loop_repo: LoopRepo, origin: Path) -> None:
    # a 255 MiB index of holes whose fan-out claims 2^32 - 1 objects: `git show-index` printed 479 MB,
    # held whole, twice an attempt
    name = "pack-" + "$n" * 40 + ".idx"
    hostile(loop_repo, 'pack="$LOOPGATE_ATTEMPT_DIR/objects/pack"; mkdir -p "$pack"; '
                       f'for n in 1 2 3; do f="$pack/{name}"; '
                       "{ printf '\\377tOc\\000\\000\\000\\002'; head -c 1024 /dev/zero | tr '\\000' '\\377'; } "
                       '> "$f"; truncate -s 255M "$f"; done && echo planted >> "$seen"')
    started = time.monotonic()
    done, peak_kib = _run_measured(loop_repo)
    assert time.monotonic() - started < 60
    assert status(loop_repo)[0] == "drafted", (status(loop_repo), done.stdout, done.stderr)
    found = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1 and "planted" in found[0].read_text(), "the maker did not plant the index"
    assert peak_kib < 512 * 1024, f"loopgate peaked at {peak_kib // 1024} MiB"
