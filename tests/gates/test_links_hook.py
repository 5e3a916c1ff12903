"""The real pre-commit runs the loopgate-links hook from this repository's manifest: pre-commit
installs loopgate into its own virtualenv, as a user's pre-commit would."""

from __future__ import annotations

from pathlib import Path

import yaml

from loopgate.gates import links
from loopgate.hooks import manifest

from .conftest import make_repo, try_repo


def test_hook_declaration() -> None:
    hook = links.HOOK
    assert hook["id"] == "loopgate-links"
    assert hook["entry"] == "loopgate gate links"
    assert hook["language"] == "python"
    assert hook["types"] == ["markdown"]
    assert hook["args"] == ["--offline"]  # a commit never waits on the network
    generated = yaml.safe_load(manifest())
    assert [h for h in generated if h["id"] == "loopgate-links"] == [hook]


def test_links_hook_checks_staged_markdown_offline(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(tmp_path / "scratch")
    repo.write("README.md", "# Project\n\n## Install\n")
    repo.commit("initial")
    # The URL points at a closed port on 127.0.0.1: were it checked, it would fail.
    repo.write("docs/guide.md", "[readme](../README.md#install) [faq](faq.md)\n"
                                "[site](http://127.0.0.1:9/never-asked)\n")
    repo.write("src/app.py", "# [not markdown](gone.md)\n")
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-links", pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "docs/guide.md:1:38: LG441 faq.md: file not found: docs/faq.md" in done.stdout
    assert "1 external not checked (--offline)" in done.stdout
    assert "src/app.py" not in done.stdout
    repo.write("docs/guide.md", "[readme](../README.md#install)\n")
    repo.git("add", "-A")
    fixed = try_repo(repo, "loopgate-links", pre_commit_home)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
