"""The third hostile review of `loopgate readiness` (issue 11), one regression test per finding:
real git repositories, real LOOP_STATE.md files and run reports, the real audit and CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from loopgate.readiness.audit import audit

from .conftest import git

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def by_id(loop: Path, **kwargs: Any) -> dict[str, Any]:
    result = audit(str(loop), write=False, now=NOW, **kwargs)
    return {c.id: c for c in result.criteria}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=300)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_default_branch_without_a_checklist_is_not_green(loop_repo: Path) -> None:
    # the checklist is in the working tree only: the default branch itself has none
    git(loop_repo.parent, "rm", "-q", "--cached", ".loop/quality-gate-checklist.md")
    git(loop_repo.parent, "commit", "-q", "-m", "checklist not committed")
    green = by_id(loop_repo)["default-branch-green"]
    assert green.ok is False
    assert "the default branch has no quality-gate checklist at .loop/quality-gate-checklist.md" in green.detail
    assert "Commit .loop/quality-gate-checklist.md to main" in green.fix
