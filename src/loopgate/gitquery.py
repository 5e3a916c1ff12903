"""Asking git about the repository: HEAD, the top, a commit's id, the default branch.

What `loopgate.config` (which commit's table judges a change), `cibase` and the readiness audit
ask. Each question is one short git process (`loopgate.spawn`, no `subprocess`), with C messages
and no optional locks; `look_ahead` starts the first question of a gate run before the gate is
imported, so git answers on the other core meanwhile.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from loopgate.spawn import Ran, Started

GIT_TIMEOUT = 60.0


def ask_git(cwd: str, *args: str) -> Ran | None:
    from loopgate import spawn  # noqa: PLC0415 - see the imports at the top

    ahead = _AHEAD.pop((os.path.abspath(cwd), args), None) if _AHEAD else None
    try:
        if ahead is not None:
            return ahead.result()
        return spawn.git(cwd, *args, env=git_env(), timeout=GIT_TIMEOUT)
    except OSError:  # not found, not started, or no answer in time (TimeoutError)
        return None


def git_env() -> dict[str, str]:
    """The environment loopgate runs git in: C messages (they are matched), no optional locks."""
    return {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}


# git processes started before their answer is needed, by (folder, arguments): see look_ahead
_AHEAD: dict[tuple[str, tuple[str, ...]], Started] = {}
_HEAD_AND_TOP = ("rev-parse", "--show-toplevel", "--verify", "--quiet", "HEAD^{commit}")


def look_ahead(start: str = ".") -> None:
    """Start `head_and_toplevel(start)`'s git now. `loopgate gate` and `verify` need its answer after
    importing the gate (10 ms or more): meanwhile git runs on another core instead of after them."""
    from loopgate import spawn  # noqa: PLC0415

    try:
        key = (os.path.abspath(start), _HEAD_AND_TOP)
        if key not in _AHEAD:
            started = spawn.start_git(start, *_HEAD_AND_TOP, env=git_env(), timeout=GIT_TIMEOUT)
            if started is not None:
                _AHEAD[key] = started
    except OSError:  # no working directory, no git: the ordinary call says so in its own time
        pass


def drop_look_ahead() -> None:
    """End and reap any look-ahead git not asked for (`--help`, a usage error): none outlives loopgate."""
    while _AHEAD:
        _AHEAD.popitem()[1].abandon()


def head_and_toplevel(start: str) -> tuple[str, bytes]:
    """(HEAD's commit, the repository's top) in one git process: what `config_revision(start, "")`
    and `load_config(start, HEAD, toplevel)` would find with two. ("", top) in a repository before
    its first commit; ("", b"") outside a repository or where git has no work tree (then
    `config_revision` decides)."""
    done = ask_git(start, *_HEAD_AND_TOP)
    if done is None or done.returncode not in (0, 1):
        return "", b""
    if done.returncode == 1:  # the top was printed, then HEAD named no commit: an unborn branch
        return ("", done.stdout.removesuffix(b"\n")) if done.stdout.endswith(b"\n") else ("", b"")
    top, newline, commit = done.stdout.rstrip(b"\n").rpartition(b"\n")  # a top may hold a newline
    if not newline or not commit:
        return "", b""
    return commit.decode(), top


def commit_of(start: str, ref: str) -> str:
    """The commit `ref` names ("" if none)."""
    found = ask_git(start, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return found.stdout.decode().strip() if found is not None and found.returncode == 0 else ""


def default_branch(start: str) -> str:
    """The repository's default branch as a commit-ish ("" if none): origin's HEAD, else
    `init.defaultBranch`, else `main` or `master`, whichever exists (local, else origin's)."""
    candidates = []
    remote = ask_git(start, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    if remote is not None and remote.returncode == 0:
        candidates.append(remote.stdout.decode().strip())
    configured = ask_git(start, "config", "--get", "init.defaultBranch")
    if configured is not None and configured.returncode == 0 and configured.stdout.strip():
        candidates.append("refs/heads/" + configured.stdout.decode().strip())
    # a CI checkout has no origin/HEAD and no local main, only the fetched remote-tracking branch
    candidates += ["refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master"]
    return next((ref for ref in candidates if commit_of(start, ref)), "")
