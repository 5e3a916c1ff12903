"""What a second hostile review of readiness, review and report (issue 11) found, each held to account."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def loopgate(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=timeout)


def _criteria(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {c["id"]: c for c in json.loads(result.stdout)["criteria"]}


def test_a_queue_that_is_a_fifo_or_endless_is_refused_not_read(loop_repo: Path) -> None:
    """A FIFO blocked the read forever; a symlink to /dev/zero read until memory ran out."""
    queue = loop_repo / "work-queue.md"
    for make in (lambda: os.mkfifo(queue), lambda: queue.symlink_to("/dev/zero")):
        queue.unlink()
        make()
        result = loopgate(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format",
                          "json", timeout=20)
        criterion = _criteria(result)["work-queue"]
        assert criterion["status"] == "not-met", criterion
        assert "not a regular file" in str(criterion["detail"])
        run = loopgate(loop_repo.parent, "run", ".loop", "--dry-run", timeout=20)
        assert run.returncode == 2, run.stderr
        assert "not a regular file" in run.stderr and "Traceback" not in run.stderr
