"""In CI a change-judging gate given no base judges the pull request (or push), not the empty staging area.

Real repositories with a local bare repository as origin, the real CLI, the CI's own variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import Repo, git_env, make_repo

CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH",
           "CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_COMMIT_BEFORE_SHA")
CHECKLIST = """# Quality Gate Checklist: CI

## Required Gates

### forbidden files
- gate: forbidden
- description: no secrets or deployment files
"""


def run(cwd: Path, *args: str, **ci: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in git_env().items() if k not in CI_VARS}
    env.update(ci)
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=120)


def ci_checkout(tmp_path: Path, files: dict[str, str]) -> Repo:
    """A repository whose main commits `files`, pushed to a bare origin and fetched back (origin/main,
    as a CI checkout has it), on a new branch `feature`."""
    repo = make_repo(tmp_path / "repo")
    for name, text in files.items():
        repo.write(name, text)
    repo.commit("initial")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True, env=git_env())
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "origin")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def pull_request(tmp_path: Path) -> Repo:
    """A clone whose feature branch commits a `.env`, with origin/main fetched, as a CI checkout has it."""
    repo = ci_checkout(tmp_path, {"README.md": "# demo\n", ".loop/quality-gate-checklist.md": CHECKLIST})
    repo.write(".env", "API_KEY=1\n")
    repo.commit("add an env file")
    return repo


def test_a_pull_request_is_judged_from_github_base_ref(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    outside = run(repo.path, "gate", "forbidden")
    assert outside.returncode == 0, outside.stdout  # no CI: the staged changes, of which there are none
    done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", GITHUB_BASE_REF="main", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ".env" in done.stdout and "GITHUB_BASE_REF" in done.stderr


def test_check_judges_the_pull_request_too(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    done = run(repo.path, "check", "--format", "text", GITHUB_ACTIONS="true", GITHUB_BASE_REF="main", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG411" in done.stdout and "since refs/remotes/origin/main" in done.stdout


def test_any_ci_uses_the_merge_base_with_the_default_branch(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    done = run(repo.path, "gate", "forbidden", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "default branch" in done.stderr


def test_a_base_the_clone_does_not_hold_is_an_error_not_a_pass(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", GITHUB_BASE_REF="release", CI="true")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "origin/release" in done.stdout + done.stderr


def test_a_push_is_judged_from_the_events_before_commit(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    before = repo.git("rev-parse", "main").strip()
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")  # the push: main moved from `before` to the .env commit
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": before, "after": repo.git("rev-parse", "HEAD").strip()}))
    done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME="push",
               GITHUB_EVENT_PATH=str(event))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "before" in done.stderr


def test_gitlab_merge_request_target_branch(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    done = run(repo.path, "gate", "forbidden", GITLAB_CI="true", CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    assert done.returncode == 1, done.stdout + done.stderr


def test_staged_changes_in_ci_are_still_what_is_judged(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    repo.write("notes.txt", "hello\n")
    repo.git("add", "notes.txt")
    done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", GITHUB_BASE_REF="main", CI="true")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "staged" in done.stdout


def test_an_explicit_base_or_files_win_over_the_ci(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main", "CI": "true"}
    assert run(repo.path, "gate", "forbidden", "--base", "HEAD", **ci).returncode == 0
    assert run(repo.path, "gate", "forbidden", "README.md", **ci).returncode == 0


def test_a_ci_variable_that_is_a_revision_expression_is_a_usage_error_not_the_change_itself(tmp_path: Path) -> None:
    # `HEAD`, `feature^0` or `@{-1}` are evaluated by git: the base would be the change itself and judge nothing
    repo = pull_request(tmp_path)
    for ref in ("HEAD", "feature^0", "main~0", "@{-1}", "--output=x", "-n"):
        done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", GITHUB_BASE_REF=ref, CI="true")
        assert done.returncode == 2, (ref, done.stdout + done.stderr)
        assert "is not a branch name" in done.stderr and "Traceback" not in done.stderr
        checked = run(repo.path, "check", "--format", "text", GITHUB_ACTIONS="true", GITHUB_BASE_REF=ref, CI="true")
        assert checked.returncode == 2, (ref, checked.stdout + checked.stderr)
        assert "is not a branch name" in checked.stdout and "Traceback" not in checked.stderr
        assert "LG807" in checked.stdout and "LG802" not in checked.stdout  # the CI's problem, not the args'
    assert not (repo.path / "x").exists()
    done = run(repo.path, "gate", "forbidden", GITLAB_CI="true", CI_MERGE_REQUEST_DIFF_BASE_SHA="HEAD")
    assert done.returncode == 2 and "is not a commit id" in done.stderr, done.stdout + done.stderr


def test_a_push_events_before_that_is_not_a_commit_id_or_a_fifo_falls_back_to_the_default_branch(
        tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "HEAD~" + "0" * 35}))  # 40 characters, and git reads it as HEAD
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait forever
    for path in (event, fifo):
        done = run(repo.path, "gate", "forbidden", GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME="push",
                   GITHUB_EVENT_PATH=str(path))
        assert done.returncode == 1, done.stdout + done.stderr  # judged since main: the .env is found
        assert "default branch" in done.stderr


def _shallow_clone(tmp_path: Path, branch: str, *also: str) -> Repo:
    """What actions/checkout gives by default: `branch` at depth 1 (and `also` at depth 1), no origin/HEAD."""
    clone = Repo(tmp_path / f"shallow-{branch}")
    subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", branch, (tmp_path / "origin.git").as_uri(),
                    str(clone.path)], check=True, env=git_env())
    for other in also:
        clone.git("fetch", "-q", "--depth", "1", "origin", f"{other}:refs/remotes/origin/{other}")
    return clone


def test_a_push_to_a_shallow_clone_without_the_before_commit_is_an_error_not_a_pass(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    before = repo.git("rev-parse", "main").strip()
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    repo.git("push", "-q", "origin", "main")
    clone = _shallow_clone(tmp_path, "main")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": before}))
    for args in (("gate", "forbidden"), ("check", "--format", "text")):
        done = run(clone.path, *args, GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME="push",
                   GITHUB_EVENT_PATH=str(event))
        assert done.returncode == 2, done.stdout + done.stderr  # was a pass of the empty staged changes
        assert f"--base '{before}' is not a commit in this repository" in done.stdout + done.stderr


def test_any_ci_in_a_shallow_clone_judges_against_origins_default_branch(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    repo.git("push", "-q", "origin", "feature")
    clone = _shallow_clone(tmp_path, "feature", "main")  # no merge base, no local main, no origin/HEAD
    done = run(clone.path, "gate", "forbidden", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr  # was a pass of the empty staged changes
    assert ".env" in done.stdout and "no merge base in this clone" in done.stderr


def test_a_new_branch_pushed_to_a_shallow_clone_without_the_default_branch_is_an_error_not_a_pass(
        tmp_path: Path) -> None:
    # a new branch's push event has `before` all zeros, and actions/checkout fetched only the branch: nothing
    # says where the change starts, and judging the (empty) staged changes would pass the .env unseen
    repo = pull_request(tmp_path)
    repo.git("push", "-q", "origin", "feature")
    clone = _shallow_clone(tmp_path, "feature")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "0" * 40}))
    for args in (("gate", "forbidden"), ("gate", "secrets"), ("check", "--format", "text")):
        done = run(clone.path, *args, GITHUB_ACTIONS="true", CI="true", GITHUB_EVENT_NAME="push",
                   GITHUB_EVENT_PATH=str(event))
        assert done.returncode == 2, (args, done.stdout + done.stderr)
        assert "nothing says where the change starts" in done.stdout + done.stderr
        assert "fetch-depth: 0" in done.stdout + done.stderr and "Traceback" not in done.stderr
        assert args[0] == "gate" or "LG807" in done.stdout
    # the way out the message names
    done = run(clone.path, "gate", "forbidden", "--base", "HEAD~0", CI="true")
    assert done.returncode == 0, done.stdout + done.stderr
    # a tree gate (links) does not judge a change: it still runs
    done = run(clone.path, "gate", "links", "--offline", CI="true")
    assert done.returncode == 0, done.stdout + done.stderr
    # outside CI the hook judges the staged changes, as ever
    assert run(clone.path, "gate", "forbidden").returncode == 0


def test_the_default_branchs_own_tip_in_ci_judges_nothing_and_passes(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    repo.git("checkout", "-q", "main")
    done = run(repo.path, "gate", "forbidden", CI="true")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_gitlab_push_is_judged_from_ci_commit_before_sha(tmp_path: Path) -> None:
    repo = pull_request(tmp_path)
    before = repo.git("rev-parse", "main").strip()
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    done = run(repo.path, "gate", "forbidden", GITLAB_CI="true", CI="true", CI_COMMIT_BEFORE_SHA=before)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ".env" in done.stdout and "before" in done.stderr
    # a new branch (all zeros) falls back to the default branch, which here is HEAD: nothing to judge
    done = run(repo.path, "gate", "forbidden", GITLAB_CI="true", CI="true", CI_COMMIT_BEFORE_SHA="0" * 40)
    assert done.returncode == 0, done.stdout + done.stderr
