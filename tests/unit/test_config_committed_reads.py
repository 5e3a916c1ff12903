"""pyproject.toml as a commit holds it, read with fewer git processes (issue 10): `ls-tree -l` gives the
sizes that `cat-file -s` gave one process each, and `head_and_toplevel` asks for HEAD and the top at
once. The answers must be the ones the separate lookups gave. Real repositories, real git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from loopgate.config import MAX_BYTES, ConfigError, config_revision, load_config
from loopgate.gitquery import head_and_toplevel


def _git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True, text=True).stdout


def _commit_all(repo: Path) -> str:
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "c")
    return _git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # a newline and a space in the repository's own path: the top is printed on a line of its own
    root = tmp_path / "a repo\nwith a newline"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    return root


def test_head_and_toplevel_agree_with_the_separate_lookups(repo: Path) -> None:
    # no commit yet: no HEAD, and the top still known (the gates then read the files as they are)
    commit, top = head_and_toplevel(str(repo))
    assert commit == "" == config_revision(str(repo), "")
    assert os.path.realpath(os.fsdecode(top)) == os.path.realpath(repo)
    (repo / "sub").mkdir()
    (repo / "sub" / "f").write_text("x\n", "utf-8")
    head = _commit_all(repo)
    for start in (repo, repo / "sub"):
        commit, top = head_and_toplevel(str(start))
        assert commit == head == config_revision(str(start), "")
        assert os.path.realpath(os.fsdecode(top)) == os.path.realpath(repo)


def test_outside_a_repository_there_is_no_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git must not find a repository above
    assert head_and_toplevel(str(outside)) == ("", b"")
    assert config_revision(str(outside), "") == ""


def test_inside_the_git_directory_verify_falls_back_to_the_lookups_one_by_one(repo: Path) -> None:
    """No work tree there: the combined lookup says nothing, and config_revision still finds HEAD."""
    (repo / "f").write_text("x\n", "utf-8")
    head = _commit_all(repo)
    assert head_and_toplevel(str(repo / ".git")) == ("", b"")
    assert config_revision(str(repo / ".git"), "") == head


def test_the_nearest_committed_pyproject_wins_with_or_without_the_known_top(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.loopgate]\nformat = "json"\n', "utf-8")
    (repo / "sub" / "deeper").mkdir(parents=True)
    (repo / "sub" / "pyproject.toml").write_text("[tool.loopgate]\nstrict = true\n", "utf-8")
    head = _commit_all(repo)
    (repo / "sub" / "pyproject.toml").write_text("[tool.loopgate]\nstrict = false\n", "utf-8")  # not committed
    start = str(repo / "sub" / "deeper")
    _, top = head_and_toplevel(start)
    for toplevel in (None, top):
        committed = load_config(start, head, toplevel)
        assert committed.values == {"strict": True}
        assert committed.path == f"sub/pyproject.toml (at {head[:10]})"
    assert load_config(start).values == {"strict": False}  # the working tree's own


def test_a_committed_file_over_the_limit_is_refused(repo: Path) -> None:
    (repo / "pyproject.toml").write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    head = _commit_all(repo)
    with pytest.raises(ConfigError, match="over 4 MiB"):
        load_config(str(repo), head)


def test_a_committed_file_at_the_limit_is_read(repo: Path) -> None:
    body = b"[tool.loopgate]\nstrict = true\n"
    (repo / "pyproject.toml").write_bytes(body + b"#" * (MAX_BYTES - len(body) - 1) + b"\n")
    head = _commit_all(repo)
    assert load_config(str(repo), head).values == {"strict": True}


def test_a_pyproject_that_is_a_directory_in_the_commit_cannot_be_read(repo: Path) -> None:
    (repo / "pyproject.toml").mkdir()
    (repo / "pyproject.toml" / "inside").write_text("x\n", "utf-8")
    head = _commit_all(repo)
    with pytest.raises(ConfigError, match=r"cannot read pyproject\.toml at"):
        load_config(str(repo), head)


def test_a_commit_without_a_pyproject_reads_none(repo: Path) -> None:
    (repo / "f").write_text("x\n", "utf-8")
    head = _commit_all(repo)
    (repo / "pyproject.toml").write_text("[tool.loopgate]\nstrict = true\n", "utf-8")  # only in the working tree
    committed = load_config(str(repo), head)
    assert committed.values == {}


def test_a_commits_file_is_read_once_and_a_branch_name_every_time(repo: Path) -> None:
    """One read a process for a commit id (what it names cannot change); HEAD or a branch is asked again."""
    (repo / "pyproject.toml").write_text("[tool.loopgate]\nstrict = true\n", "utf-8")
    first = _commit_all(repo)
    assert load_config(str(repo), first).values == {"strict": True}
    assert load_config(str(repo), "HEAD").values == {"strict": True}
    (repo / "pyproject.toml").write_text("[tool.loopgate]\nstrict = false\n", "utf-8")
    second = _commit_all(repo)
    assert load_config(str(repo), "HEAD").values == {"strict": False}  # HEAD moved: read again
    assert load_config(str(repo), "main").values == {"strict": False}
    assert load_config(str(repo), second).values == {"strict": False}
    # the commit ids' files were kept: with the repository gone, they still read as they were
    shutil.rmtree(repo / ".git")
    (repo / "pyproject.toml").write_text('[tool.loopgate]\nformat = "json"\n', "utf-8")
    assert load_config(str(repo), first).values == {"strict": True}
    assert load_config(str(repo), second).values == {"strict": False}
    # a name is never taken from the kept reads: outside a repository, the file on disk
    assert load_config(str(repo), "HEAD").values == {"format": "json"}
