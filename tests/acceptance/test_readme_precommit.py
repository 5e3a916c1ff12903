"""The README's pre-commit snippet, as written, with the real pre-commit.

A release is made as CHANGELOG.md says (commit, annotated tag `v<__version__>`) in a clone of this
checkout (uncommitted work included, so the test checks what is being changed); the snippet's
`repo:` is pointed at that clone and everything else, `rev:` included, is used as the README gives
it. Every hook must pass on a clean loop and fail with `file:line` on a planted defect, a deleted
forbidden file included.
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

from loopgate import __version__

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
AWS = "AKIA" + "IOSFODNN7EXAMPLE"


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("GITHUB_ACTIONS", "CI")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="Loop Tester", GIT_AUTHOR_EMAIL="loop@example.invalid",
               GIT_COMMITTER_NAME="Loop Tester", GIT_COMMITTER_EMAIL="loop@example.invalid")
    return env


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=git_env(), check=True, capture_output=True, text=True)
    return done.stdout


def readme_block(lang: str, marker: str) -> str:
    """The first ```lang block of the README that contains `marker`."""
    for block in re.findall(rf"```{lang}\n(.*?)```", README.read_text("utf-8"), flags=re.S):
        if marker in block:
            return str(block)
    raise AssertionError(f"no ```{lang} block with {marker!r} in the README")


def release_clone(dest: Path, tag: str) -> Path:
    """This checkout, working tree as it is, committed and tagged as the release procedure says."""
    git(dest.parent, "clone", "-q", "--no-local", str(ROOT), str(dest))
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
        elif not source.exists():  # deleted in the working tree
            (dest / rel).unlink(missing_ok=True)
    git(dest, "add", "-A")
    git(dest, "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", f"release {tag}")
    git(dest, "-c", "tag.gpgsign=false", "tag", "-a", tag, "-m", f"loopgate {tag}")
    return dest


@pytest.fixture(scope="module")
def snippet() -> dict[str, object]:
    config: dict[str, object] = yaml.safe_load(readme_block("yaml", "loopgate-verify"))
    return config


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, snippet: dict[str, object]) -> Path:
    repos = snippet["repos"]
    assert isinstance(repos, list)
    return release_clone(tmp_path_factory.mktemp("release") / "loopgate", str(repos[0]["rev"]))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def project(path: Path, snippet: dict[str, object], release: Path) -> Path:
    """A newcomer's repository: `loopgate init .loop` and the README's pre-commit config."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    subprocess.run([sys.executable, "-m", "loopgate", "init", ".loop", "--name", "Docs Link Repair"],
                   cwd=path, check=True, capture_output=True)
    # No pyproject.toml: the forbidden gate leaves the loop's own artifacts to the person committing them.
    (path / "README.md").write_text("# project\n\nSee [the guide](docs/guide.md).\n", encoding="utf-8")
    (path / "docs").mkdir()
    (path / "docs" / "guide.md").write_text("# Guide\n\nBack to [the readme](../README.md).\n", encoding="utf-8")
    config = yaml.safe_load(yaml.safe_dump(snippet))
    config["repos"][0]["repo"] = str(release)
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run_hooks(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**git_env(), "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    git(repo, "add", "-A")
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--verbose"], cwd=repo, env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def test_the_snippet_names_this_release(snippet: dict[str, object]) -> None:
    repos = snippet["repos"]
    assert isinstance(repos, list)
    assert repos[0]["rev"] == f"v{__version__}", "the README's rev: must be the tag of the current version"
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert f"\n## {__version__} - " in changelog, "CHANGELOG.md needs a section for this version"
    manifest = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert {h["id"] for h in repos[0]["hooks"]} <= manifest


def test_every_hook_passes_clean_and_fails_at_the_defect(tmp_path: Path, snippet: dict[str, object],
                                                        release: Path, home: Path) -> None:
    repo = project(tmp_path / "newcomer", snippet, release)
    (repo / "deploy").mkdir()
    (repo / "deploy" / "prod.yaml").write_text("replicas: 2\n", encoding="utf-8")
    clean = run_hooks(repo, home)
    out = clean.stdout + clean.stderr
    assert clean.returncode == 1, out  # deploy/prod.yaml is forbidden even in the first commit
    assert "deploy/prod.yaml:1:1: LG411" in out
    for hook in ("loopgate verify", "loopgate secrets", "loopgate links"):
        assert re.search(rf"^{hook}\.+Passed$", out, flags=re.M), (hook, out)
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "initial")

    clean = run_hooks(repo, home)  # nothing staged: all pass (forbidden and its always_run included)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"^loopgate forbidden\.+Passed$", clean.stdout, flags=re.M), clean.stdout

    spec = repo / ".loop" / "LOOP_SPEC.md"
    text = spec.read_text("utf-8")
    budget = re.search(r"^- max runtime: .*$", text, flags=re.M)
    assert budget is not None
    spec_line = text[:budget.start()].count("\n") + 1
    spec.write_text(text[:budget.start()] + "- max runtime: 30" + text[budget.end():], encoding="utf-8")
    (repo / "docs" / "guide.md").write_text("# Guide\n\nSee [setup](setup.md).\n", encoding="utf-8")
    (repo / "settings.py").write_text(f'KEY = "{AWS}"\n', encoding="utf-8")
    git(repo, "rm", "-q", "deploy/prod.yaml")
    failed = run_hooks(repo, home)
    out = failed.stdout
    assert failed.returncode == 1, out + failed.stderr
    assert f".loop/LOOP_SPEC.md:{spec_line}:16: LG203" in out
    assert re.search(r"^docs/guide.md:3:\d+: LG4\d\d ", out, flags=re.M), out
    assert re.search(r"^settings\.py:1:\d+: LG4\d\d ", out, flags=re.M), out
    assert AWS not in out + failed.stderr
    assert "deploy/prod.yaml:1:1: LG411 deploy/prod.yaml (deleted) is forbidden" in out
    for hook in ("loopgate verify", "loopgate forbidden", "loopgate secrets", "loopgate links"):
        assert re.search(rf"^{hook}\.+Failed$", out, flags=re.M), (hook, out)


def test_a_frozen_rev_is_not_a_secret(tmp_path: Path, snippet: dict[str, object], release: Path,
                                      home: Path) -> None:
    """`pre-commit autoupdate --freeze` writes the tag's 40-hex SHA; the secrets hook must not object."""
    repo = project(tmp_path / "frozen", snippet, release)
    sha = git(release, "rev-parse", "HEAD").strip()
    config = (repo / ".pre-commit-config.yaml").read_text("utf-8")
    rev = f"v{__version__}"
    assert f"rev: {rev}" in config
    (repo / ".pre-commit-config.yaml").write_text(config.replace(f"rev: {rev}", f"rev: {sha}  # frozen: {rev}"),
                                                 encoding="utf-8")
    done = run_hooks(repo, home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^loopgate secrets\.+Passed$", done.stdout, flags=re.M), done.stdout
