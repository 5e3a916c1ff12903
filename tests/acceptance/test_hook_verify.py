"""The real pre-commit runs the `loopgate-verify` hook from this repository's manifest.

`pre-commit try-repo` installs this checkout (uncommitted changes included) into its own
virtualenv, as a user's pre-commit would, and runs the hook in a scratch repository on the
staged artifact files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
EXAMPLE = ROOT / "examples" / "repo-maintenance"


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("GITHUB_ACTIONS", "CI")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=git_env(), check=True, capture_output=True)


def scratch_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Loop Tester")
    git(path, "config", "user.email", "loop@example.invalid")
    git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("# project\n", encoding="utf-8")
    shutil.copytree(EXAMPLE, path / ".loop")
    return path


def verify_hook() -> dict[str, object]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else []
    found = [h for h in hooks or [] if h.get("id") == "loopgate-verify"]
    if not found:
        pytest.skip("loopgate-verify is not in .pre-commit-hooks.yaml")
    hook: dict[str, object] = found[0]
    return hook


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**git_env(), "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "loopgate-verify", "--verbose"]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_the_manifest_declares_the_verify_hook() -> None:
    hook = verify_hook()
    assert hook["entry"] == "loopgate verify"
    assert hook["language"] == "python"
    pattern = str(hook["files"])
    for name in ("LOOP_SPEC.md", "loops/a/LOOP_STATE.md", ".loop/quality-gate-checklist.md",
                 "x/Escalation-Policy.md", "loop-readiness.md"):
        assert re.search(pattern, name), name
    for name in ("README.md", "docs/LOOP_SPEC.md.bak", "my-LOOP_SPEC.md"):
        assert not re.search(pattern, name), name


def test_the_hook_passes_a_clean_loop(tmp_path: Path, pre_commit_home: Path) -> None:
    verify_hook()
    repo = scratch_repo(tmp_path / "scratch")
    git(repo, "add", "-A")
    done = try_repo(repo, pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loopgate verify" in done.stdout and "Passed" in done.stdout
    # pre-commit may split the file names over several processes: count what they checked together
    checked = re.findall(r"loopgate: ok: (\d+) files? checked, no findings", done.stdout)
    assert sum(map(int, checked)) == 5, done.stdout


def test_the_hook_fails_with_the_code_and_the_place(tmp_path: Path, pre_commit_home: Path) -> None:
    verify_hook()
    repo = scratch_repo(tmp_path / "scratch")
    spec = repo / ".loop" / "LOOP_SPEC.md"
    text = spec.read_text("utf-8")
    line = text[:text.index("- max runtime: 30 minutes")].count("\n") + 1
    spec.write_text(text.replace("- max runtime: 30 minutes", "- max runtime: 30"), encoding="utf-8")
    git(repo, "add", "-A")
    done = try_repo(repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert f".loop/LOOP_SPEC.md:{line}:16: LG203 max runtime: '30' has no unit" in done.stdout
    assert "README.md:" not in done.stdout
