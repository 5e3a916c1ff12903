"""Where git cannot give the committed table, the change being judged must not supply it (a hostile
review found each): a repository git refuses to read ("dubious ownership", a broken `.git`), a start
inside `.git`, and a branch without a commit all used to fall back to the working tree's
pyproject.toml, so a staged `exclude = ["**"]` switched the links gate off (exit 0)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Cli, Repo

WEAKENED = '[tool.loopgate.gates.links]\nexclude = ["**"]\n'


@pytest.fixture
def broken_link(repo: Repo) -> Repo:
    repo.write("pyproject.toml", "[tool.loopgate.gates.links]\nexclude = []\n")
    repo.write("README.md", "# demo\n\n[gone](missing.md)\n")
    repo.commit("a broken link, checked")
    repo.write("pyproject.toml", WEAKENED)
    repo.git("add", "-A")
    return repo


def test_the_staged_exclude_does_not_apply_where_git_reads_the_repository(broken_link: Repo, cli: Cli) -> None:
    done = cli("links", "--offline", cwd=broken_link.path)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout + done.stderr


def test_a_repository_git_refuses_is_a_usage_error_not_the_working_trees_table(broken_link: Repo, cli: Cli) -> None:
    if os.geteuid() == 0:  # another user's checkout: git refuses it ("dubious ownership"), as in CI containers
        subprocess.run(["chown", "-R", "nobody", str(broken_link.path)], check=True)
        expected = "dubious ownership"
    else:  # not root here: a `.git` git cannot read refuses the same way
        (broken_link.path / ".git" / "HEAD").write_text("garbage\n", encoding="utf-8")
        expected = "not a git repository"
    done = cli("links", "--offline", cwd=broken_link.path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "git cannot read the repository here" in done.stderr and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_inside_the_git_directory_the_gate_asks_for_the_work_tree(broken_link: Repo, cli: Cli) -> None:
    done = cli("links", "--offline", "..", cwd=broken_link.path / ".git")
    assert done.returncode == 2 and "no work tree here" in done.stderr, done.stdout + done.stderr


def test_an_orphan_branch_is_judged_by_the_default_branchs_table(broken_link: Repo, cli: Cli) -> None:
    broken_link.git("checkout", "-q", "--orphan", "evil")  # keeps the index: the staged exclude and the link
    done = cli("links", "--offline", cwd=broken_link.path)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout + done.stderr
    assert "read from commit" in done.stderr, done.stderr


def test_a_repository_without_any_commit_still_reads_the_files(tmp_path: Path, cli: Cli) -> None:
    # nothing is committed anywhere: there is no other table to trust (as before)
    shutil.rmtree(tmp_path / "fresh", ignore_errors=True)
    subprocess.run(["git", "init", "-q", str(tmp_path / "fresh")], check=True)
    (tmp_path / "fresh" / "pyproject.toml").write_text(WEAKENED, encoding="utf-8")
    (tmp_path / "fresh" / "README.md").write_text("[gone](missing.md)\n", encoding="utf-8")
    done = cli("links", "--offline", cwd=tmp_path / "fresh")
    assert done.returncode == 0, done.stdout + done.stderr
