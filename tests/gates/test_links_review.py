"""What a hostile review of the links gate found (symlinks out of the repository, symlink loops),
through the real CLI on real files."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import Cli, make_repo


def test_a_symlink_out_tells_nothing_about_the_files_there(tmp_path: Path, cli: Cli) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.write("a.md", "[a](docs/etc/passwd) [b](docs/etc/doesnotexist) [c](docs/nx/foo) [d](docs/up/x.md)\n"
                       "[e](loop1) [f](docs/in/b.md) [g](docs/in/nope.md)\n")
    repo.write("docs/b.md", "# B\n")
    os.symlink("/etc", repo.path / "docs" / "etc")
    os.symlink("/nonexistent", repo.path / "docs" / "nx")
    os.symlink("../..", repo.path / "docs" / "up")  # relative, and out by `..`
    os.symlink(".", repo.path / "docs" / "in")  # a symlink that stays inside is followed
    os.symlink("loop2", repo.path / "loop1")
    os.symlink("loop1", repo.path / "loop2")
    done = cli("links", "--offline", "a.md", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("a.md:")]
    codes = [line.split(" ")[1] for line in lines]
    assert codes == ["LG448", "LG448", "LG448", "LG448", "LG441", "LG441"], done.stdout
    for line in lines[:4]:
        assert "is a symlink (or under one) to a place outside the repository" in line
    assert "did you mean" not in done.stdout  # no listing of a directory outside
    assert "loop1: loop1 is a symlink loop; it leads to no file" in lines[4]
    assert "docs/in/nope.md: file not found" in lines[5]
