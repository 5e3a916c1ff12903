"""Bugs a third hostile review found in the lock scheme of reviews, demotions and runs, and in
maker-resolves, each with real processes: a demotion written while a run waited for the lock, a
stopped `loopgate review`, a lock file that is a FIFO, a script's own `-m` argument."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopgate.history.runs import load_history
from loopgate.readiness.demotion import Demotion, write_demotion
from loopgate.runner.loaded import run_lock_path, shared_lock_path

from .history import Week, write_history
from .test_fourth_review import _criteria, loopgate

ENV = {**os.environ, "NO_COLOR": "1"}


def _loopgate(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_a_demotion_written_while_a_run_waits_for_the_lock_is_kept(loop_repo: Path) -> None:
    """The run read LOOP_STATE.md before it took the lock, waited for the demotion writer, then wrote
    its stale copy back over the demotion."""
    write_history(loop_repo, [Week(), Week(), Week(), Week()])
    lock_path = run_lock_path(str(loop_repo))
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_SH)  # a demotion writer's moment, held long
        run = subprocess.Popen(  # and the run's 10 s wait for the writers, 2 s
            [sys.executable, "-c", "import sys\nimport loopgate.runner.lock as k\nk.WRITERS_WAIT = 2.0\n"
             "from loopgate.cli.main import main\nsys.argv = ['loopgate', *sys.argv[1:]]\nmain()",
             "run", "--mode", "shadow", ".loop"],
            cwd=loop_repo.parent, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(4)  # the run has loaded the state and waits for the lock (it waits up to 10 s)
        problems: list[str] = []
        assert write_demotion(str(loop_repo), Demotion("shadow", "2026-12-01T00:00:00Z", "last 10 items: 60% "
                                                       "escalated", "draft-pr"), problems, "", lock_path), problems
        fcntl.flock(writer.fileno(), fcntl.LOCK_UN)
    out, _ = run.communicate(timeout=180)
    assert "Traceback" not in out, out
    assert "demoted_to" in (loop_repo / "LOOP_STATE.md").read_text("utf-8"), out


def test_a_stopped_review_neither_hangs_the_next_one_nor_passes_for_a_run(loop_repo: Path) -> None:
    """A `loopgate review` stopped (^Z, SIGSTOP) inside its write hung every later review for good, and
    a run refused with "another run of this loop is in progress (pid ?)" though none was."""
    write_history(loop_repo, [Week(days=3)])
    item = next(i.id for run in reversed(load_history(str(loop_repo)).runs) for i in run.items if i.produced)
    lock_path = run_lock_path(str(loop_repo))
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    open(lock_path, "a").close()  # what any finished run leaves behind
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys\n"
                               "d = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); fcntl.flock(d, fcntl.LOCK_EX)\n"
                               "h = open(sys.argv[2]); fcntl.flock(h.fileno(), fcntl.LOCK_SH)\n"
                               "print('held', flush=True); os.kill(os.getpid(), 19)",
                               os.path.realpath(loop_repo / "reviews.json") + ".lock", lock_path],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # the review's 30 s wait, made 2 s in its own process: the same code path, without waiting it out
        review = subprocess.Popen(
            [sys.executable, "-c", "import sys\nimport loopgate.history.reviews as r\nr.REVIEW_WAIT = 2.0\n"
             "from loopgate.cli.main import main\nsys.argv = ['loopgate', *sys.argv[1:]]\nmain()",
             "review", item, "accept", "--loop", ".loop"],
            cwd=loop_repo.parent, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        run = subprocess.Popen(  # and the run's 10 s wait for the writers, 2 s
            [sys.executable, "-c", "import sys\nimport loopgate.runner.lock as k\nk.WRITERS_WAIT = 2.0\n"
             "from loopgate.cli.main import main\nsys.argv = ['loopgate', *sys.argv[1:]]\nmain()",
             "run", "--mode", "shadow", ".loop"],
            cwd=loop_repo.parent, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reviewed, _ = review.communicate(timeout=120)  # was: no end
        ran, _ = run.communicate(timeout=120)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    assert review.returncode == 2 and "another `loopgate review` has held" in reviewed, reviewed
    assert run.returncode == 2 and "a `loopgate review` or a readiness demotion write" in ran, ran
    assert "another run of this loop is in progress" not in ran


@pytest.mark.parametrize("which", ["runtime", "shared"])
def test_a_run_lock_that_is_a_fifo_is_refused_not_opened(loop_repo: Path, which: str) -> None:
    """open() of a FIFO blocks until a writer comes: the run hung for good."""
    path = run_lock_path(str(loop_repo)) if which == "runtime" else \
        shared_lock_path(str(loop_repo.parent), str(loop_repo))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mkfifo(path)
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", "--mode", "shadow", ".loop"],
                          cwd=loop_repo.parent, env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not a regular file" in done.stdout + done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("maker", ["python3 maker.py -m fast", "python3 maker.py -max 3", "python3 -u maker.py -m x"])
def test_a_scripts_own_dash_m_is_not_the_interpreters(loop_repo: Path, maker: str) -> None:
    result = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "json",
                      "--maker", maker)
    assert _criteria(result)["maker-resolves"]["status"] == "met", result.stdout
