"""The base a change-judging gate uses in CI when none was given.

Without `--base` (or a `base` in the committed configuration) the path and secrets gates judge
the staged changes, which is right in a pre-commit hook and wrong in CI: a CI checkout has
nothing staged, so every gate would pass having judged nothing. In CI the change is the pull
request (or the push), and the CI says where it starts:

- GitHub Actions pull requests: `GITHUB_BASE_REF` (the target branch; `origin/NAME` once fetched);
- GitLab merge requests: `CI_MERGE_REQUEST_DIFF_BASE_SHA`, else `CI_MERGE_REQUEST_TARGET_BRANCH_NAME`;
- a GitHub push: the event's `before` commit;
- otherwise, in any CI, the merge base with the repository's default branch when HEAD is ahead of it.

A base the CI names but the clone does not hold (a shallow checkout) is still returned: the gate
then stops with "not a commit in this repository" (exit 2) and says to fetch more history, rather
than passing a change it never saw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from loopgate.config import _git, default_branch

_TRUE = ("1", "true", "yes")
_ZERO_SHA = "0" * 40


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in a CI job (the variable every major CI sets, or its own)."""
    return any(env.get(name, "").strip().lower() in _TRUE for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD"))


def _resolves(start: str, ref: str) -> bool:
    done = _git(start, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return done is not None and done.returncode == 0


def _branch(start: str, name: str) -> str:
    """The remote-tracking branch a CI names by its short name, as fetched; else the name itself."""
    for ref in (f"refs/remotes/origin/{name}", f"refs/heads/{name}", name):
        if _resolves(start, ref):
            return ref
    return f"origin/{name}"  # not fetched: the gate says so (exit 2)


def _push_before(env: Mapping[str, str], start: str) -> str:
    if env.get("GITHUB_EVENT_NAME") != "push" or not env.get("GITHUB_EVENT_PATH"):
        return ""
    try:
        with open(env["GITHUB_EVENT_PATH"], "rb") as handle:
            event = json.loads(handle.read(8 * 1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return ""
    before = event.get("before") if isinstance(event, dict) else None
    if isinstance(before, str) and len(before) == 40 and before != _ZERO_SHA and _resolves(start, before):
        return before
    return ""


def _staged_anything(start: str) -> bool:
    done = _git(start, "diff", "--cached", "--quiet", "--ignore-submodules=none")
    return done is not None and done.returncode == 1


def ci_base(start: str = ".", env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(base, where it came from) for a change-judging gate given no base; ("", "") outside CI,
    when something is staged (a hook in CI judges what it was asked to), or when nothing says."""
    env = os.environ if env is None else env
    if not in_ci(env):
        return "", ""
    head = _git(start, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head is None or head.returncode != 0 or _staged_anything(start):
        return "", ""
    if env.get("GITHUB_BASE_REF"):
        return _branch(start, env["GITHUB_BASE_REF"]), "GITHUB_BASE_REF (the pull request's target branch)"
    if env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        return env["CI_MERGE_REQUEST_DIFF_BASE_SHA"], "CI_MERGE_REQUEST_DIFF_BASE_SHA (the merge request's base)"
    if env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"):
        return (_branch(start, env["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"]),
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME (the merge request's target branch)")
    before = _push_before(env, start)
    if before:
        return before, "the push event's `before` commit"
    trunk = default_branch(start)
    if trunk:
        merge = _git(start, "merge-base", trunk, "HEAD")
        if merge is not None and merge.returncode == 0 and merge.stdout.decode().strip() != \
                head.stdout.decode().strip():
            return trunk.removeprefix("refs/heads/"), "the merge base with the default branch"
    return "", ""


def ci_note(base: str, source: str) -> str:
    return (f"in CI with no --base: judging the change since {base} (from {source}), not the staged changes "
            "(a CI checkout has none); give --base to choose")
