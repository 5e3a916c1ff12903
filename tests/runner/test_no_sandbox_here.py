"""Where no sandbox can run, the run says so and why (issue 7, containment): a machine without
bubblewrap, and one where bubblewrap is installed but cannot create its namespaces (a container
without user namespaces). Both are real here: a PATH with every folder that holds `bwrap` replaced by
links to all of it but `bwrap`, and `loopgate run` started inside a real bwrap that forbids new user
namespaces and holds no capability, as Docker's default profile does. Shadow runs uncontained and
warns; `pr` refuses unless the spec opts out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LoopRepo, path_without, require_bwrap


def _run(repo: LoopRepo, *, env: dict[str, str] | None = None, prefix: list[str] | None = None,
         mode: str = "") -> subprocess.CompletedProcess[str]:
    argv = [*(prefix or []), sys.executable, "-m", "loopgate", "run", str(repo.loop),
            *(["--mode", mode] if mode else [])]
    return subprocess.run(argv, cwd=repo.root, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=300, check=False)


def _report(repo: LoopRepo) -> dict[str, object]:
    reports = sorted((repo.loop / "runs").glob("*.json"))
    assert len(reports) == 1, reports
    loaded: dict[str, object] = json.loads(reports[0].read_text())
    return loaded


def _no_namespaces() -> list[str]:
    """A real bwrap around loopgate that leaves it root without a capability and forbids it new user
    namespaces: the inner bwrap fails as it does in a default Docker container."""
    require_bwrap("this test runs loopgate inside bwrap")
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    return [bwrap, "--dev-bind", "/", "/", "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--"]


def test_without_bwrap_the_run_is_uncontained_and_says_why(loop_repo: LoopRepo, tmp_path: Path) -> None:
    path = path_without("bwrap", tmp_path)
    assert shutil.which("bwrap", path=path) is None and shutil.which("git", path=path)
    done = _run(loop_repo, env={"PATH": path})
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stdout + done.stderr  # the queue holds items that always escalate
    said = done.stdout + done.stderr
    assert "uncontained" in said and "bubblewrap (`bwrap`) is not installed" in said, said
    containment = _report(loop_repo)["containment"]
    assert isinstance(containment, dict)
    assert containment["contained"] is False
    assert "bubblewrap (`bwrap`) is not installed" in containment["why"]
    assert "drafted" in loop_repo.state()  # shadow still does its work, uncontained, and says so


def test_where_bwrap_cannot_create_namespaces_the_run_says_bwraps_own_words(loop_repo: LoopRepo) -> None:
    prefix = _no_namespaces()
    check = subprocess.run([*prefix, "bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--", "true"],
                           capture_output=True, text=True, check=False)
    assert check.returncode != 0, "bwrap still creates namespaces inside the test's sandbox"
    done = _run(loop_repo, prefix=prefix)
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stdout + done.stderr  # the queue holds items that always escalate
    containment = _report(loop_repo)["containment"]
    assert isinstance(containment, dict)
    assert containment["contained"] is False
    why = str(containment["why"])
    assert why.startswith("bwrap cannot create its namespaces here: ") and "bwrap:" in why, why
    assert why in done.stdout + done.stderr


@pytest.mark.parametrize("where", ["no bwrap", "no namespaces"])
def test_pr_mode_refuses_where_no_sandbox_runs(loop_repo: LoopRepo, tmp_path: Path, where: str) -> None:
    loop_repo.set_spec(mode="pr")
    readiness = loop_repo.loop / "loop-readiness.md"
    assert "[ ]" not in readiness.read_text()  # the readiness audit passes: only containment can refuse
    if where == "no bwrap":
        done = _run(loop_repo, env={"PATH": path_without("bwrap", tmp_path)}, mode="pr")
    else:
        done = _run(loop_repo, prefix=_no_namespaces(), mode="pr")
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mode 'pr' runs the maker contained, and it cannot be here" in done.stderr, done.stderr
    assert "allow uncontained: yes" in done.stderr
    assert not (loop_repo.loop / "runs").exists() or not list((loop_repo.loop / "runs").glob("*.json"))
