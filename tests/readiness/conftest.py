from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repo-maintenance"
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def ready_spec(text: str, mode: str = "shadow") -> str:
    """The article's spec with what promotion asks for: spend and per-attempt budgets, a maker."""
    text = text.replace("- max pull requests per run: 2\n", "- max pull requests per run: 2\n- max cost: $5\n"
                        "- max runtime per iteration: 10 minutes\n")
    # the example's stand-in maker lives in examples/, which these repositories do not have
    text = text.replace("- maker command: sh examples/repo-maintenance/maker.sh\n",
                        "- maker command: python3 maker.py\n")
    return text.replace("- mode: shadow", f"- mode: {mode}")


@pytest.fixture
def loop_repo(tmp_path: Path) -> Path:
    """A repository whose loop (`.loop/`) meets every artifact and repository criterion."""
    repo = tmp_path / "repo"
    loop = repo / ".loop"
    loop.mkdir(parents=True)
    for source in EXAMPLE.iterdir():
        if source.is_file():
            shutil.copy(source, loop / source.name)
    (loop / "LOOP_SPEC.md").write_text(ready_spec((loop / "LOOP_SPEC.md").read_text("utf-8")), encoding="utf-8")
    policy = loop / "escalation-policy.md"
    policy.write_text(policy.read_text("utf-8").replace("- data deletion\n", "- data deletion and migrations\n"),
                      encoding="utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "index.md").write_text("# Docs\n\nSee [the guide](guide.md).\n", encoding="utf-8")
    (repo / "docs" / "guide.md").write_text("# Guide\n", encoding="utf-8")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_docs.py").write_text("def test_docs() -> None:\n    assert True\n", encoding="utf-8")
    (repo / "maker.py").write_text("print('maker')\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "loop")
    return loop
