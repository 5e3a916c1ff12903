"""The generated gate's view of the work tree: what each path holds, what the generator changed, and
putting it back. Paths are seen as git sees them: nothing lies below a symlink, so a generator that
swaps a directory for a link (pointing outside the repository or not) has deleted that directory's
files, and putting them back removes the link first instead of writing through it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess

from loopgate.records import field, record

GIT_TIMEOUT = 120.0


@record(frozen=True)
class State:
    kind: str  # "file", "link", "dir" (a nested repository: compared by presence) or "absent"
    data: bytes = b""
    executable: bool = False


@record
class Change:
    path: str  # relative to the repository root
    before: State | None  # None: clean before, so as committed (HEAD)
    after: State
    line: int = 1


class TreeGitError(Exception):
    pass


@record
class Repo:
    root: str
    env: dict[str, str] | None
    dirty: dict[str, State] = field(default_factory=dict)

    def git(self, *args: str, data: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(["git", *args], cwd=self.root, env=self.env, input=data, capture_output=True,
                                  timeout=GIT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise TreeGitError(f"git could not run: {err}") from err
        if done.returncode != 0:
            name = next((a for a in args if not a.startswith("-")), "")
            raise TreeGitError(f"git {name} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
        return done.stdout

    def status(self) -> set[str]:
        out = self.git("status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all")
        return {entry[3:].rstrip("/") for entry in out.decode("utf-8", "surrogateescape").split("\0") if entry}

    def state(self, path: str) -> State:
        full = os.path.join(self.root, path)
        if _link_above(self.root, path):
            return State("absent")  # as git sees it: nothing is below a symlink, whatever it points at
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            return State("absent")
        if stat.S_ISLNK(info.st_mode):
            return State("link", os.fsencode(os.readlink(full)))
        if stat.S_ISDIR(info.st_mode):
            return State("dir")
        with open(full, "rb") as handle:
            return State("file", handle.read(), bool(info.st_mode & stat.S_IXUSR))


def changes(repo: Repo, before: set[str], submodule_paths: set[str]) -> list[Change]:
    """What the generator did: paths dirty now or before whose state is not what it was (submodules:
    see `_Saved.put_back`, as `git restore` in the parent does not reach inside them)."""
    found: list[Change] = []
    for path in sorted((before | repo.status()) - submodule_paths):
        now = repo.state(path)
        if path in repo.dirty:
            if repo.dirty[path] != now:
                found.append(Change(path, repo.dirty[path], now))
        else:
            found.append(Change(path, None, now))
    committed = _committed(repo, [c.path for c in found if c.before is None])
    for change in found:
        if change.before is None:
            change.before = committed.get(change.path, State("absent"))
        change.line = _first_difference(change.before.data, change.after.data)
    return found


def _committed(repo: Repo, paths: list[str]) -> dict[str, State]:
    """The HEAD content of paths that were clean before (so the same in HEAD, the index and the tree)."""
    if not paths:
        return {}
    listing = repo.git("ls-tree", "-z", "HEAD", "--", *paths) if _has_head(repo) else b""
    modes = {}
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            modes[path] = meta.split()[0]
    states = {}
    for path, mode in modes.items():
        if mode == "040000":
            continue  # a directory in HEAD that the generator replaced (by a symlink, say): its files count
        data = repo.git("cat-file", "blob", f"HEAD:{path}") if mode != "160000" else b""
        kind = {"120000": "link", "160000": "dir"}.get(mode, "file")
        states[path] = State(kind, data, mode == "100755")
    return states


def _has_head(repo: Repo) -> bool:
    try:
        repo.git("rev-parse", "--verify", "-q", "HEAD")
    except TreeGitError:
        return False
    return True


def _first_difference(old: bytes, new: bytes) -> int:
    for number, (a, b) in enumerate(zip(old.split(b"\n"), new.split(b"\n"), strict=False), 1):
        if a != b:
            return number
    shorter = min(old.count(b"\n"), new.count(b"\n")) + 1
    return shorter if old != new else 1


def restore(repo: Repo, changes: list[Change]) -> None:
    """Put every changed path back to its state before the generator ran."""
    clean = [c for c in changes if c.path not in repo.dirty]
    # What the generator created goes first: a symlink it put where a directory was must be gone
    # before anything is written under that name (git refuses to, and open() would follow it).
    for change in changes:
        if change.path not in repo.dirty and not (change.before and change.before.kind != "absent"):
            _put_back(repo.root, change.path, State("absent"))
    committed = [c.path for c in clean if c.before and c.before.kind != "absent"]
    if committed:
        # Clean before: HEAD, index and tree agreed, so restoring both from HEAD undoes a `git add` too.
        repo.git("--literal-pathspecs", "restore", "--source=HEAD", "--staged", "--worktree",
                 "--pathspec-from-file=-", "--pathspec-file-nul", data=_nul(committed))
    # New files the generator staged are out of the index already: the whole index was put back first.
    for change in changes:
        if change.path in repo.dirty:
            _put_back(repo.root, change.path, change.before or State("absent"))


def _nul(paths: list[str]) -> bytes:
    return b"\0".join(os.fsencode(p) for p in paths)


def _put_back(root: str, path: str, state: State) -> None:
    full = os.path.join(root, path)
    _no_link_above(root, path)
    if os.path.islink(full) or (os.path.lexists(full) and not os.path.isdir(full)):
        os.remove(full)
    if state.kind == "absent":
        _prune(root, os.path.dirname(full))
    elif state.kind == "link":
        makedirs(os.path.dirname(full))
        os.symlink(os.fsdecode(state.data), full)
    elif state.kind == "file":
        makedirs(os.path.dirname(full))
        with open(full, "wb") as handle:
            handle.write(state.data)
        mode = os.stat(full).st_mode
        os.chmod(full, mode | 0o111 if state.executable else mode & ~0o111)


def _link_above(root: str, path: str) -> str:
    """The first of `path`'s directories that is a symlink ("" if none)."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        ancestor = os.path.join(root, *parts[:depth])
        if os.path.islink(ancestor):
            return ancestor
    return ""


def _no_link_above(root: str, path: str) -> None:
    """Remove a symlink the generator put where one of `path`'s directories was, so that putting `path`
    back cannot write outside the repository through it. (git lists no path below a symlink, so
    every such link was a real directory before the generator ran.)"""
    link = _link_above(root, path)
    if link:
        os.remove(link)


def remove_tree(path: str) -> None:
    """`shutil.rmtree(path, ignore_errors=True)` for any depth: rmtree recurses once per level (a tree
    thousands of directories deep raises RecursionError), `rm -rf` does not."""
    try:
        subprocess.run(["rm", "-rf", "--", path], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        with contextlib.suppress(RecursionError):
            shutil.rmtree(path, ignore_errors=True)


def makedirs(directory: str) -> None:
    """`os.makedirs(directory, exist_ok=True)` without its recursion (one level a call: a tree thousands of
    directories deep would raise RecursionError); fails with OSError like it."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for path in reversed(missing):
        os.mkdir(path)


def _prune(root: str, directory: str) -> None:
    """Remove directories the generator's new files left empty, up to the repository root."""
    while directory != root and directory.startswith(root + os.sep):
        try:
            os.rmdir(directory)
        except OSError:
            return  # not empty (or not ours to remove)
        directory = os.path.dirname(directory)
