"""`loopgate report -o PATH` writes into what stands at PATH: through a symlink (the link stays), into a
FIFO, /dev/null or /dev/stdout (written, not replaced by a regular file); a directory is exit 2."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from loopgate.history.output import write_output
from loopgate.runner.atomic import WriteError
from readiness.history import Week, write_history

from .conftest import loopgate


@pytest.fixture
def repo(loop_repo: Path) -> Path:
    write_history(loop_repo, [Week(days=2)])
    return loop_repo.parent


def test_a_symlink_is_followed_and_stays_a_link(repo: Path) -> None:
    (repo / "site").mkdir()
    target = repo / "site" / "report.html"
    target.write_text("the old report\n", encoding="utf-8")
    link = repo / "report.html"
    link.symlink_to(os.path.join("site", "report.html"))
    done = loopgate(repo, "report", "--format", "html", "-o", "report.html")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("site", "report.html")
    assert target.read_text("utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in (repo / "site").iterdir()) == ["report.html"]  # no temporary file left


def test_a_link_to_nothing_yet_makes_its_target(repo: Path) -> None:
    link = repo / "latest.json"
    link.symlink_to("report-1.json")
    done = loopgate(repo, "report", "--format", "json", "-o", "latest.json")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and json.loads((repo / "report-1.json").read_text("utf-8"))["overall"]["runs"] == 2


def _drain(fifo: Path, into: list[bytes], deadline: float) -> None:
    """Read the FIFO until its writer closes it. Opened first without blocking, so the report's open
    for writing finds a reader; a writer that never comes (the FIFO was replaced) ends at `deadline`."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:  # a writer, nothing written yet
                time.sleep(0.02)
                continue
            if chunk:
                into.append(chunk)
            elif into:
                return  # the writer closed it
            else:
                time.sleep(0.02)  # no writer yet
    finally:
        os.close(fd)


def test_a_fifo_is_written_into_not_replaced(repo: Path) -> None:
    fifo = repo / "report.pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(fifo, got, time.monotonic() + 60), daemon=True)
    reader.start()
    done = loopgate(repo, "report", "--format", "json", "-o", str(fifo))
    reader.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert not reader.is_alive() and json.loads(b"".join(got))["overall"]["runs"] == 2


def test_dev_null_stays_the_null_device(repo: Path) -> None:
    before = os.stat(os.devnull)
    done = loopgate(repo, "report", "--format", "html", "-o", os.devnull)
    assert done.returncode == 0, done.stderr
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dev_stdout_is_written_and_an_appended_summary_keeps_what_it_held(repo: Path) -> None:
    piped = loopgate(repo, "report", "--format", "markdown", "-o", "/dev/stdout")
    assert piped.returncode == 0 and piped.stdout.startswith("## loopgate report"), piped.stderr
    summary = repo / "summary.md"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    with open(summary, "a", encoding="utf-8") as handle:  # `>> "$GITHUB_STEP_SUMMARY"`
        done = subprocess.run([sys.executable, "-m", "loopgate", "report", "--format", "markdown", "-o",
                               "/dev/stdout"], cwd=repo, stdout=handle, stderr=subprocess.PIPE, text=True,
                              check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    text = summary.read_text("utf-8")
    assert text.startswith("## an earlier step\n## loopgate report") and text.count("## loopgate report") == 1


@pytest.mark.parametrize("name", ["out", "out-link"])
def test_a_directory_is_exit_2_with_a_message(repo: Path, name: str) -> None:
    (repo / "out").mkdir()
    (repo / "out-link").symlink_to("out")
    done = loopgate(repo, "report", "-o", name)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is a directory" in done.stderr and not list((repo / "out").iterdir())
    with pytest.raises(WriteError, match="it is a directory"):  # the writer refuses it on its own too
        write_output(str(repo / name), "report\n")


def test_a_socket_or_a_symlink_loop_is_exit_2_with_a_message(repo: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(repo / "report.sock"))
        done = loopgate(repo, "report", "-o", "report.sock")
        assert done.returncode == 2 and "it is a socket" in done.stderr and "Traceback" not in done.stderr
    (repo / "a").symlink_to("b")
    (repo / "b").symlink_to("a")
    done = loopgate(repo, "report", "-o", "a")
    assert done.returncode == 2 and "loopgate: error: cannot write a" in done.stderr, done.stderr
    assert (repo / "a").is_symlink() and (repo / "b").is_symlink()
