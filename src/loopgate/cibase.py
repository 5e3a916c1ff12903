"""The base a change-judging gate uses in CI when none was given.

Without `--base` (or a `base` in the committed configuration) the path and secrets gates judge
the staged changes, which is right in a pre-commit hook and wrong in CI: a CI checkout has
nothing staged, so every gate would pass having judged nothing. In CI the change is the pull
request (or the push), and the CI says where it starts:

- GitHub Actions pull requests: `GITHUB_BASE_REF` (the target branch; `origin/NAME` once fetched);
- GitLab merge requests: `CI_MERGE_REQUEST_DIFF_BASE_SHA`, else `CI_MERGE_REQUEST_TARGET_BRANCH_NAME`;
- a GitHub push: the event's `before` commit; a GitLab push: `CI_COMMIT_BEFORE_SHA`;
- otherwise, in any CI, the merge base with the repository's default branch when HEAD is ahead of it.

When none of these says anything and the clone holds no default branch (a shallow checkout of a
new branch, a CI that fetched only the commit), a gate that judges a change stops (exit 2) and
says how to give it a base: judging the empty staged changes would pass a change it never saw.
On the default branch's own tip there is no change to judge, and the gate judges nothing.

A base the CI names but the clone does not hold (a shallow checkout) is still returned: the gate
then stops with "not a commit in this repository" (exit 2) and says to fetch more history, rather
than passing a change it never saw.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from loopgate.config import ConfigError
from loopgate.gitquery import ask_git, commit_of, default_branch
from loopgate.smallfile import read_small

_TRUE = ("1", "true", "yes")


class CIBaseError(ConfigError):
    """The CI's own variables (or their absence) leave no usable base: a usage error (exit 2) that
    the checklist's `args:` did not cause, so `check` reports it as LG807, not as bad args."""

_ZERO_SHA = "0" * 40
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names, nothing git would evaluate


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in a CI job (the variable every major CI sets, or its own)."""
    return any(env.get(name, "").strip().lower() in _TRUE for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD"))


def _resolves(start: str, ref: str) -> bool:
    return bool(commit_of(start, ref))


def _branch(start: str, variable: str, name: str) -> str:
    """The remote-tracking branch a CI names by its short name, as fetched, else the local branch.

    Only a name git accepts as a branch name is looked up: `HEAD`, `main~1`, `feature^0` or
    `@{-1}` would be evaluated by git as a revision and could name the change itself (judging
    nothing). Such a value is a usage error, never a base."""
    valid = ask_git(start, "check-ref-format", f"refs/heads/{name}")
    if name == "HEAD" or name.startswith("-") or valid is None or valid.returncode != 0:
        raise CIBaseError(f"{variable} {name!r} is not a branch name, so it cannot say where the change starts; "
                          "give --base to choose")
    for ref in (f"refs/remotes/origin/{name}", f"refs/heads/{name}"):
        if _resolves(start, ref):
            return ref
    return f"origin/{name}"  # not fetched: the gate says so (exit 2)


def _push_before(env: Mapping[str, str], start: str) -> str:
    gitlab = env.get("CI_COMMIT_BEFORE_SHA", "")
    if env.get("GITLAB_CI") and gitlab:
        return _before(gitlab, start)
    if env.get("GITHUB_EVENT_NAME") != "push" or not env.get("GITHUB_EVENT_PATH"):
        return ""
    import json  # noqa: PLC0415 - a push event in CI only; a text-format gate starts without json

    try:  # a FIFO (or a device) named as the event file must not hang the gate
        event = json.loads(read_small(env["GITHUB_EVENT_PATH"], 8 * 1024 * 1024))
    except (OSError, ValueError, RecursionError):  # TooLarge is a ValueError
        return ""
    before = event.get("before") if isinstance(event, dict) else None
    return _before(before, start)


def _before(before: object, start: str) -> str:
    """The commit a push started from, "" for a new branch (all zeros) or a value that is no commit id."""
    if not isinstance(before, str) or not _SHA.fullmatch(before) or before == _ZERO_SHA:
        return ""
    if _resolves(start, before) or _shallow(start):
        # a shallow checkout (actions/checkout's default depth 1) lacks `before`: returned all the same, so
        # the gate stops asking for more history (exit 2) instead of judging the (empty) staged changes
        return before
    return ""  # a full clone without it: history a force push dropped; the default branch decides


def _shallow(start: str) -> bool:
    done = ask_git(start, "rev-parse", "--is-shallow-repository")
    return done is not None and done.returncode == 0 and done.stdout.strip() == b"true"


def _staged_anything(start: str) -> bool:
    done = ask_git(start, "diff", "--cached", "--quiet", "--ignore-submodules=none")
    return done is not None and done.returncode == 1


def ci_base(start: str = ".", env: Mapping[str, str] | None = None, *, require: bool = False) -> tuple[str, str]:
    """(base, where it came from) for a change-judging gate given no base; ("", "") outside CI,
    when something is staged (a hook in CI judges what it was asked to), or when nothing says.
    ConfigError (exit 2) when the CI's variable is not a branch name or commit id, and, with
    `require` (a gate that judges a change), when nothing says and no default branch is in the clone."""
    env = os.environ if env is None else env
    if not in_ci(env):
        return "", ""
    head = commit_of(start, "HEAD")
    if not head or _staged_anything(start):
        return "", ""
    if env.get("GITHUB_BASE_REF"):
        return (_branch(start, "GITHUB_BASE_REF", env["GITHUB_BASE_REF"]),
                "GITHUB_BASE_REF (the pull request's target branch)")
    if env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        sha = env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
        if not _SHA.fullmatch(sha):  # `HEAD` or `main~1` would be evaluated, and could be the change itself
            raise CIBaseError(f"CI_MERGE_REQUEST_DIFF_BASE_SHA {sha!r} is not a commit id; give --base to choose")
        return sha, "CI_MERGE_REQUEST_DIFF_BASE_SHA (the merge request's base)"
    if env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"):
        return (_branch(start, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", env["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"]),
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME (the merge request's target branch)")
    before = _push_before(env, start)
    if before:
        return before, "the push event's `before` commit"
    trunk = default_branch(start)
    if trunk:
        merge = ask_git(start, "merge-base", trunk, "HEAD")
        if merge is not None and merge.returncode == 0 and merge.stdout.decode().strip() != head:
            return trunk.removeprefix("refs/heads/"), "the merge base with the default branch"
        if merge is not None and merge.returncode == 1 and not merge.stdout.strip():
            # no merge base in this clone (a shallow checkout of both branches): the default branch itself,
            # judging more than the change rather than the (empty) staged changes
            return (trunk.removeprefix("refs/heads/"),
                    "the default branch (no merge base in this clone; fetch more history to judge the change alone)")
    if require and not trunk:
        raise CIBaseError("in CI with nothing staged, nothing says where the change starts (no pull request or "
                          "push variables, and this clone holds no default branch), so the gate would judge "
                          "nothing; give --base REF (or `base` in [tool.loopgate.gates.NAME]), or fetch the "
                          "default branch (actions/checkout: `fetch-depth: 0`)")
    return "", ""


def ci_note(base: str, source: str) -> str:
    return (f"in CI with no --base: judging the change since {base} (from {source}), not the staged changes "
            "(a CI checkout has none); give --base to choose")
