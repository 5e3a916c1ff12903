"""The shipped example runs as shipped, without a network (in a bubblewrap sandbox with no
network namespace), from a repository laid out like this one; and `run --dry-run` writes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/repo-maintenance"


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("GITHUB_ACTIONS", "CI")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid", NO_COLOR="1")
    return env


def offline(*argv: str) -> list[str]:
    """The command with no network at all; a missing bwrap fails the test in CI."""
    if shutil.which("bwrap") is None:
        if os.environ.get("CI"):
            pytest.fail("bwrap is needed to run the example without a network")
        pytest.skip("bwrap not installed")
    return ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", *argv]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The shipped example and the docs its link gate reads, committed in a fresh repository."""
    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / EXAMPLE, repo / EXAMPLE)
    shutil.copytree(ROOT / "docs", repo / "docs")
    shutil.copy(ROOT / "README.md", repo / "README.md")
    env = git_env()
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "shipped"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def loopgate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(offline(sys.executable, "-m", "loopgate", *args), cwd=repo, env=git_env(),
                          capture_output=True, text=True, check=False, timeout=120)


def tree_digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and ".git" not in p.relative_to(path).parts[:1]}


def test_check_passes_offline(checkout: Path) -> None:
    done = loopgate(checkout, "check", "--loop", EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    for gate in ("link check", "forbidden files", "scope check", "secret scan"):
        assert f"passed  {gate} (" in done.stdout, done.stdout
    assert "loopgate: ok: 4 gates run, no findings" in done.stdout


def test_verify_passes(checkout: Path) -> None:
    done = loopgate(checkout, "verify", "--strict", EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dry_run_selects_and_writes_nothing(checkout: Path) -> None:
    before = tree_digest(checkout)
    done = loopgate(checkout, "run", EXAMPLE, "--dry-run", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MT-121           selected" in done.stdout
    assert "MT-122           escalated" in done.stdout
    assert "MT-123           skipped" in done.stdout
    assert "MT-117" not in done.stdout  # drafted in LOOP_STATE.md already
    assert "report: none (dry run: nothing written)" in done.stdout
    assert tree_digest(checkout) == before  # no LOOP_STATE.md rewrite, no runs/ report
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=checkout, env=git_env(),
                            capture_output=True, text=True, check=True)
    assert status.stdout == ""


def test_dry_run_json_prints_the_report_it_did_not_write(checkout: Path) -> None:
    import json

    done = loopgate(checkout, "run", EXAMPLE, "--dry-run", "--quiet", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {i["id"]: i["status"] for i in report["items"]} == {"MT-121": "selected", "MT-122": "escalated",
                                                                "MT-123": "skipped"}
    assert not (checkout / EXAMPLE / ".loop").exists()


def test_every_path_in_run_help_exists() -> None:
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", "--help"], capture_output=True, text=True,
                          check=True)
    named = [w for w in done.stdout.split() if w.startswith("examples/")]
    assert named, done.stdout
    for path in named:
        assert (ROOT / path).exists(), path
