"""Which `[tool.loopgate.gates.NAME]` judges a change in CI: the CI base's, never the pull request's own.

Each test is a reproduction from a hostile review that passed a leak (exit 0) or read the change's
own table before the fix; real repositories with a bare origin, the real CLI, the CI's own variables.
"""

from __future__ import annotations

from pathlib import Path

from .conftest import Repo, make_repo
from .test_ci_base import _shallow_clone, ci_checkout, run

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"  # pragma: allowlist secret
CHECKLIST = """# Quality Gate Checklist: CI

## Required Gates

### secrets
- gate: secrets
- description: no credentials in the change
"""
PR = {"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main", "CI": "true"}


def _origin(tmp_path: Path) -> Repo:
    """main holds a checklist and a links table that checks everything; origin/main is fetched."""
    return ci_checkout(tmp_path, {"README.md": "# demo\n", ".loop/quality-gate-checklist.md": CHECKLIST,
                                  "pyproject.toml": "[tool.loopgate.gates.links]\nexclude = []\n"})


def test_a_pull_requests_own_base_key_does_not_choose_its_table(tmp_path: Path) -> None:
    # the branch names a base itself, so the CI's base was not consulted and its own exclude applied
    repo = _origin(tmp_path)
    repo.write("pyproject.toml", '[tool.loopgate.gates.secrets]\nbase = "main"\nexclude = ["**"]\n')
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.commit("weaken the secrets gate and add a token")
    for args in (("gate", "secrets"), ("check", "--format", "text")):
        done = run(repo.path, *args, **PR)
        assert done.returncode == 1, (args, done.stdout + done.stderr)
        assert "src/settings.py" in done.stdout and TOKEN not in done.stdout + done.stderr


def test_files_given_in_ci_are_judged_by_the_ci_bases_table(tmp_path: Path) -> None:
    # `pre-commit run --all-files` in CI passes files: HEAD's table is the pull request's own
    repo = _origin(tmp_path)
    repo.write("pyproject.toml", '[tool.loopgate.gates.secrets]\nexclude = ["**"]\n')
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.commit("weaken the secrets gate and add a token")
    done = run(repo.path, "gate", "secrets", "src/settings.py", **PR)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "src/settings.py:1:" in done.stdout and TOKEN not in done.stdout + done.stderr
    # outside CI, HEAD's committed table is the trusted one (a commit is the reviewed word locally)
    assert run(repo.path, "gate", "secrets", "src/settings.py").returncode == 0


def test_a_tree_gate_in_a_shallow_clone_without_the_ci_base_is_an_error_not_the_pull_requests_table(
        tmp_path: Path) -> None:
    repo = _origin(tmp_path)
    repo.write("pyproject.toml", '[tool.loopgate.gates.links]\nexclude = ["**"]\n')
    repo.write("README.md", "# demo\n\n[gone](missing.md)\n")
    repo.commit("a broken link, and the links gate off")
    repo.git("push", "-q", "origin", "feature")
    clone = _shallow_clone(tmp_path, "feature")  # actions/checkout's default: the pull request alone
    done = run(clone.path, "gate", "links", "--offline", **PR)
    assert done.returncode == 2, done.stdout + done.stderr  # was 0: HEAD's table, the change's own
    assert "fetch-depth: 0" in done.stderr and "Traceback" not in done.stderr
    # with the base fetched, main's table judges: the broken link is found
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    done = run(clone.path, "gate", "links", "--offline", **PR)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout + done.stderr


def test_an_orphan_branch_where_no_default_branch_is_known_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.git("branch", "-m", "trunk")  # neither main nor master, no origin, no init.defaultBranch
    repo.write("pyproject.toml", "[tool.loopgate.gates.links]\nexclude = []\n")
    repo.write("README.md", "# demo\n\n[gone](missing.md)\n")
    repo.commit("a broken link, checked")
    repo.git("checkout", "-q", "--orphan", "evil")
    repo.write("pyproject.toml", '[tool.loopgate.gates.links]\nexclude = ["**"]\n')
    repo.git("add", "-A")
    done = run(repo.path, "gate", "links", "--offline")
    assert done.returncode == 2, done.stdout + done.stderr  # was 0: the staged table, the change's own
    assert "no default branch" in done.stderr and "Traceback" not in done.stderr
    # the way out the message names
    done = run(repo.path, "gate", "links", "--offline", "--base", "trunk")
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stdout + done.stderr


def test_a_stray_git_directory_git_does_not_use_is_no_repository(tmp_path: Path) -> None:
    # an empty `.git` above a plain folder: git says "not a git repository", so there is no committed
    # table to trust and the files are read (the first fix made this exit 2)
    (tmp_path / "outer" / ".git").mkdir(parents=True)
    docs = tmp_path / "outer" / "docs"
    docs.mkdir()
    (docs / "README.md").write_text("# demo\n\n[gone](missing.md)\n", encoding="utf-8")
    done = run(docs, "gate", "links", "--offline")
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout + done.stderr
