"""The shipped example as a newcomer meets it, in a fresh checkout with no network: `loopgate
readiness` allows shadow (its stand-in maker resolves) and names what draft-pr still needs, and
the run it allows drafts the item its stand-in maker changes, which the next audit counts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ENV, ROOT

EXAMPLE = "examples/repo-maintenance"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The example and the docs its link gate reads, committed in a fresh repository."""
    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / EXAMPLE, repo / EXAMPLE)
    shutil.copytree(ROOT / "docs", repo / "docs")
    shutil.copy(ROOT / "README.md", repo / "README.md")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "shipped"]):
        subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)
    return repo


def loopgate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """With no network: the example needs none. The maker's own sandbox nests inside this one."""
    if shutil.which("bwrap") is None:
        pytest.fail("bwrap is needed to run the example without a network")
    return subprocess.run(["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", sys.executable,
                           "-m", "loopgate", *args], cwd=repo, env={**ENV, "NO_COLOR": "1"}, capture_output=True,
                          text=True, check=False, timeout=300)


def test_readiness_allows_shadow_for_the_shipped_example_and_names_what_draft_pr_needs(checkout: Path) -> None:
    out = loopgate(checkout, "readiness", EXAMPLE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "shadow    allowed   <- asked for" in out.stdout
    assert "maker-resolves [shadow, draft-pr, pr]: `sh` found" in out.stdout
    assert "environmental-stops [draft-pr, pr]: no runs yet" in out.stdout
    assert out.stdout.rstrip().endswith("loopgate: shadow is allowed")
    draft = re.search(r"^draft-pr  not yet: blocked by (.+)$", out.stdout, re.M)
    assert draft and draft.group(1).startswith("budgets-set, tests-exist, shadow-runs"), out.stdout


def test_the_run_readiness_allows_drafts_an_item_and_the_next_audit_counts_it(checkout: Path) -> None:
    run = loopgate(checkout, "run", EXAMPLE)
    assert run.returncode == 3, run.stdout + run.stderr  # 3: MT-122 is meant to need a human
    assert re.search(r"^MT-121 +drafted +all required gates passed$", run.stdout, re.M), run.stdout
    diff = subprocess.run(["git", "log", "-p", "-1", "--format=", "--branches=loop/*"], cwd=checkout, env=ENV,
                          capture_output=True, text=True, check=True).stdout
    assert "+<!-- MT-121: anchors checked against the headings above -->" in diff
    again = loopgate(checkout, "readiness", EXAMPLE, "--no-run-checks", "--dry-run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "shadow-runs [draft-pr]: 1 shadow run(s) with work" in again.stdout
    assert "drafts-reviewed [draft-pr]: 0 reviewed of 1 produced" in again.stdout
    assert "environmental-stops [draft-pr, pr]: 0 of 1 run(s) (0%)" in again.stdout


def test_the_readme_shows_the_real_output_of_readiness_on_the_shipped_example(tmp_path: Path) -> None:
    """Run where a user runs it: a clone of this project on its default branch (here: the example,
    the docs its gate reads and a test, committed to main), so a CI checkout's detached HEAD does
    not change what the default-branch criterion finds."""
    repo = tmp_path / "clone"
    shutil.copytree(ROOT / EXAMPLE, repo / EXAMPLE)
    shutil.copytree(ROOT / "docs", repo / "docs")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_docs.py").write_text("def test_docs() -> None:\n    assert True\n", encoding="utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```text\n\$ (loopgate readiness examples/repo-maintenance)\n(.*?)```", readme, re.S)
    assert block, "the README's readiness section shows the command's output"
    shown = [line for line in block.group(2).splitlines()
             if line and not line.endswith("...") and not line.startswith("(the artifacts")]
    out = subprocess.run([sys.executable, "-m", "loopgate", *block.group(1).split()[1:]], cwd=repo,
                         env={**ENV, "NO_COLOR": "1"}, capture_output=True, text=True, check=False, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "default-branch-green [draft-pr, pr]: main: " in out.stdout
    real = out.stdout.splitlines()
    at = 0
    for line in shown:  # every line shown, in the order the command prints it
        assert line in real[at:], (line, out.stdout)
        at = real.index(line, at) + 1
