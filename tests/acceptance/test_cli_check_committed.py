"""A change cannot drop, demote or weaken a required gate of the checklist `check` reads (LG806).

Real repositories, the real `loopgate check`: each change below stages a `.env` (which the
forbidden gate fails) together with an edit of the checklist that would let it pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = "# Quality Gate Checklist: demo\n\n"
FORBIDDEN = "### forbidden files\n- gate: forbidden\n- description: no secrets files\n\n"
ECHO = "### echo\n- command: true\n- description: always passes\n\n"
BASE = HEAD + "## Required Gates\n\n" + FORBIDDEN + ECHO
CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD")


def _git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def _check(cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in CI_VARS}
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "loopgate", "check", "--format", "text"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=120)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".loop").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "t")
    _git(root, "config", "user.email", "t@example.invalid")
    (root / ".loop" / "quality-gate-checklist.md").write_text(BASE)
    (root / "README.md").write_text("demo\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "initial")
    return root


WEAKENINGS = {
    "removed": HEAD + "## Required Gates\n\n" + ECHO,
    "moved to Advisory Gates": HEAD + "## Required Gates\n\n" + ECHO + "## Advisory Gates\n\n" + FORBIDDEN,
    "changed": HEAD + "## Required Gates\n\n" + FORBIDDEN.replace(
        "- gate: forbidden\n", "- gate: forbidden\n- args: --no-defaults --forbid nothing.txt\n") + ECHO,
}


@pytest.mark.parametrize("why", sorted(WEAKENINGS))
def test_a_staged_weakening_of_the_checklist_does_not_pass_its_own_change(tmp_path: Path, why: str) -> None:
    root = _repo(tmp_path)
    (root / ".loop" / "quality-gate-checklist.md").write_text(WEAKENINGS[why])
    (root / ".env").write_text("KEY=1\n")
    _git(root, "add", "-A")
    done = _check(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG806" in done.stdout and f"is {why} by this change" in done.stdout
    assert "LG411" in done.stdout and "forbidden files (as at " in done.stdout


def test_a_committed_weakening_on_a_branch_fails_in_ci(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / ".loop" / "quality-gate-checklist.md").write_text(WEAKENINGS["removed"])
    (root / ".env").write_text("KEY=1\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "drop the gate")
    done = _check(root, CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG806" in done.stdout and "LG411" in done.stdout


@pytest.mark.parametrize("in_ci", [False, True])
def test_a_root_checklist_added_by_the_change_does_not_hide_the_bases_loop_checklist(tmp_path: Path,
                                                                                      in_ci: bool) -> None:
    # `loopgate check` looks in . before ./.loop: a new ./quality-gate-checklist.md is what it reads
    root = _repo(tmp_path)
    if in_ci:
        _git(root, "checkout", "-q", "-b", "feature")
    (root / "quality-gate-checklist.md").write_text(WEAKENINGS["removed"])
    (root / ".env").write_text("KEY=1\n")
    _git(root, "add", "-A")
    if in_ci:
        _git(root, "commit", "-qm", "a checklist of my own")
    done = _check(root, **({"CI": "true"} if in_ci else {}))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG806" in done.stdout and "of .loop/quality-gate-checklist.md is removed" in done.stdout
    assert "LG411" in done.stdout and "forbidden files (as at " in done.stdout


def test_a_loop_directory_the_change_turns_into_a_symlink_does_not_hide_the_bases_checklist(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "mine").mkdir()
    (root / "mine" / "quality-gate-checklist.md").write_text(WEAKENINGS["removed"])
    _git(root, "rm", "-rq", ".loop")
    (root / ".loop").symlink_to("mine")  # inside the repository, so read; its path at the base is .loop/...
    (root / ".env").write_text("KEY=1\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "a loop directory of my own")
    done = _check(root, CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG806" in done.stdout and "LG411" in done.stdout and "forbidden files (as at " in done.stdout


def test_a_base_whose_loop_directory_is_a_symlink_still_holds_the_change_to_its_checklist(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "loops").mkdir()
    _git(root, "mv", ".loop", "loops/main")
    (root / ".loop").symlink_to("loops/main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the loop lives in loops/main")
    (root / "loops" / "main" / "quality-gate-checklist.md").write_text(WEAKENINGS["removed"])
    (root / ".env").write_text("KEY=1\n")
    _git(root, "add", "-A")
    done = _check(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG806" in done.stdout and "LG411" in done.stdout


def test_adding_a_gate_or_editing_a_description_is_not_a_weakening(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    edited = BASE.replace("no secrets files", "no secret files at all") + "### more\n- command: true\n" \
        "- description: another\n\n"
    (root / ".loop" / "quality-gate-checklist.md").write_text(edited)
    _git(root, "add", "-A")
    done = _check(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LG806" not in done.stdout and "(as at " not in done.stdout


def test_a_tree_gates_table_added_by_the_change_does_not_apply_to_it(tmp_path: Path) -> None:
    """`[tool.loopgate.gates.links] exclude = ["**"]` staged with a broken link: the links gate's table is
    read from the change's base, as the change-judging gates' are."""
    root = _repo(tmp_path)
    (root / ".loop" / "quality-gate-checklist.md").write_text(
        HEAD + "## Required Gates\n\n### links\n- gate: links\n- args: --offline docs\n- description: x\n\n")
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("fine\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "links gate")
    (root / "docs" / "a.md").write_text("[gone](missing.md)\n")
    (root / "pyproject.toml").write_text('[tool.loopgate.gates.links]\nexclude = ["**"]\n')
    _git(root, "add", "-A")
    done = _check(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG441" in done.stdout and "read from commit" in done.stderr
    _git(root, "commit", "-qm", "exclude everything, reviewed")  # once committed it is the base's own rule
    assert _check(root).returncode == 0


def _links_repo(tmp_path: Path) -> Path:
    root = _repo(tmp_path)
    (root / ".loop" / "quality-gate-checklist.md").write_text(
        HEAD + "## Required Gates\n\n### links\n- gate: links\n- args: --offline docs\n- description: x\n\n")
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("fine\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "links gate")
    return root


def _gate_links(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in CI_VARS}
    return subprocess.run([sys.executable, "-m", "loopgate", "gate", "links", "--offline", "--format", "text", "docs"],
                          cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_an_ignore_file_added_by_the_change_does_not_ignore_its_own_broken_link(tmp_path: Path) -> None:
    """`.loopgate-links-ignore` with `.*` staged with a broken link: `check` and the links hook read the
    ignore file from the change's base, as they read the gate's table, and say the working tree's differs."""
    root = _links_repo(tmp_path)
    (root / "docs" / "a.md").write_text("[gone](missing.md)\n")
    (root / ".loopgate-links-ignore").write_text(".*\n")
    _git(root, "add", "-A")
    for done in (_check(root), _gate_links(root)):
        assert done.returncode == 1, done.stdout + done.stderr
        assert "LG441" in done.stdout
        assert ".loopgate-links-ignore not applied: commit " in done.stdout and "applies once committed" in done.stdout
    _git(root, "commit", "-qm", "ignore everything, reviewed")  # once committed it is the base's own rule
    assert _check(root).returncode == 0
    assert _gate_links(root).returncode == 0


def test_a_loosened_ignore_file_is_read_as_the_base_holds_it(tmp_path: Path) -> None:
    root = _links_repo(tmp_path)
    (root / ".loopgate-links-ignore").write_text("^https://example\\.invalid/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "ignore one host")
    (root / "docs" / "a.md").write_text("[gone](missing.md)\n")
    (root / ".loopgate-links-ignore").write_text("^https://example\\.invalid/\nmissing\n")  # unstaged, even
    done = _gate_links(root)
    assert done.returncode == 1 and "LG441" in done.stdout, done.stdout + done.stderr
    assert ".loopgate-links-ignore read from commit " in done.stdout and "working tree's version differs" in done.stdout


def test_an_ignore_file_committed_on_a_branch_does_not_apply_to_it_in_ci(tmp_path: Path) -> None:
    root = _links_repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "docs" / "a.md").write_text("[gone](missing.md)\n")
    (root / ".loopgate-links-ignore").write_text("missing\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "break a link and ignore it")
    done = _check(root, CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG441" in done.stdout and ".loopgate-links-ignore not applied" in done.stdout


def test_an_ignore_file_at_a_revision_that_is_not_a_commit_is_a_usage_error(tmp_path: Path) -> None:
    root = _links_repo(tmp_path)
    (root / ".loopgate-links-ignore").write_text("missing\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in CI_VARS}
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "links", "--offline", "--ignore-file-at",
                           "no-such-rev", "docs"], cwd=root, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--ignore-file-at no-such-rev: not a commit" in done.stderr


def test_in_ci_the_links_gate_on_its_own_takes_its_rules_from_the_base_not_the_pull_request(tmp_path: Path) -> None:
    """Under CI, HEAD is the pull request's commit: `loopgate gate links` reads its table and ignore file
    from the CI's base (here the merge base with the default branch), as `check` does."""
    root = _links_repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "docs" / "a.md").write_text("[gone](missing.md)\n[also](gone.md)\n")
    (root / ".loopgate-links-ignore").write_text("missing\n")
    (root / "pyproject.toml").write_text('[tool.loopgate.gates.links]\nexclude = ["docs/**"]\n')
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "break links and ignore them")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in CI_VARS}
    run = [sys.executable, "-m", "loopgate", "gate", "links", "--offline", "--format", "text", "docs"]
    done = subprocess.run(run, cwd=root, env={**env, "CI": "true"}, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "missing.md" in done.stdout and "gone.md" in done.stdout
    assert ".loopgate-links-ignore not applied" in done.stdout and "read from commit" in done.stderr
    # outside CI HEAD is the base: the branch's own committed rules apply, as before
    outside = subprocess.run(run, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert outside.returncode == 0, outside.stdout + outside.stderr
