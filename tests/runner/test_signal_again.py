"""A stop signal that comes again while the run winds down (a supervisor re-sending SIGTERM, Ctrl-C
pressed twice): the run still writes its report and escalation summary, releases its lock and exits
6 (interrupted). The default handlers used to come back before the report was written, and Python's
own shutdown puts them back too: a second signal there ended the command with 143 or 130, the
summary (sometimes the report) missing and the lock left behind (the hostile review's bug 3).

A real `loopgate run`, a real gate that takes seconds, signals sent every 20 ms for three seconds."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from .conftest import CHECKLIST, LoopRepo
from .test_planted_by_the_maker import status


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sent_again_and_again_still_ends_the_run_as_interrupted(loop_repo: LoopRepo,
                                                                         sig: signal.Signals) -> None:
    # the system's python inside the `sh -c` string: the gate's sandbox hides /root, where the test's own
    # may live (pyenv), and shows only what a command's first word needs (it was not found, exit 127,
    # whenever the gate outlived the signals under load)
    checklist = CHECKLIST.format(python=sys.executable).replace(
        f"- command: {sys.executable} check_links.py", "- command: sh -c 'sleep 3; /usr/bin/python3 check_links.py'")
    (loop_repo.loop / "quality-gate-checklist.md").write_text(checklist)
    loop_repo.set_spec("good", iterations=1)
    # SIGINT at its default: a test runner may have started this process with it ignored
    launcher = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                "os.execv(sys.executable, [sys.executable, '-m', 'loopgate', 'run', sys.argv[1]])")
    proc = subprocess.Popen([sys.executable, "-c", launcher, str(loop_repo.loop)], cwd=loop_repo.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # inside the run: the first gate (sleeping) or the maker
    ended = time.monotonic() + 3.0
    while time.monotonic() < ended and proc.poll() is None:
        proc.send_signal(sig)
        time.sleep(0.02)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    reports = sorted((loop_repo.loop / "runs").glob("*.json"))
    shown = [r.read_text()[-3000:] for r in reports]  # what the run said of its gates, when it fails
    assert proc.returncode == 6, (proc.returncode, out, err[-2000:], shown)
    assert len(reports) == 1, reports
    assert "stopped: interrupted" in out
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/run.lock")) or all(
        not p.read_text().strip() for p in (loop_repo.root / ".git" / "loopgate").glob("*/run.lock"))
    assert status(loop_repo)[0] in ("stopped", "in-progress", "selected"), status(loop_repo)


def test_the_run_command_run_in_process_leaves_the_callers_signal_handlers_as_they_were(loop_repo: LoopRepo) -> None:
    # the command ignored the stop signals on its way out; run inside a test runner's process, that
    # left SIGTERM ignored there, and every process the runner started after it inherited the ignored
    # signal: a `loopgate run` it then stopped with SIGTERM ran on (a drafted item, a 30 s hang)
    from click.testing import CliRunner

    from loopgate.cli.app import cli

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    loop_repo.set_spec("good", iterations=1, contain=False)
    result = CliRunner().invoke(cli, ["run", str(loop_repo.loop), "-q"])
    assert result.exit_code in (0, 3), result.output
    assert {s: signal.getsignal(s) for s in before} == before
    child = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGTERM))"],
                           capture_output=True, text=True, check=True)
    assert "SIG_IGN" not in child.stdout, child.stdout  # what a process started now inherits
