"""What a generator may change besides the files: refs, the index, and submodules.

The generated gate judges the working tree, but a generator can also commit its output (HEAD
and a branch move: the gate would pass and the commit stay), run `git add` (the user's staged
version of a file is lost), or write inside a submodule (which the parent's `git restore` does
not touch). This module takes a snapshot of those before the generator runs and puts them back
afterwards:

- refs: HEAD (symbolic or detached) and every ref `git for-each-ref` lists, restored with
  `git update-ref` / `git symbolic-ref`; a ref the generator created is deleted.
- the index: the index file's bytes, written back whole (atomically) when what it lists
  (`git ls-files -s`) changed. Unmerged entries and intent-to-add entries come back too.
- submodules: the gate refuses to run while one has uncommitted changes (their contents are
  not backed up); a clean one the generator changed is reset to its commit (`git reset --hard`,
  `git clean -ffd`, its own refs as they were), nested ones too, to a bounded depth.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from loopgate.records import field, record

GIT_TIMEOUT = 120.0
MAX_DEPTH = 8  # submodules inside submodules: a bound, not a recursion the repository chooses


class GitStateError(Exception):
    pass


Runner = Callable[..., bytes]


def runner(root: str, env: dict[str, str] | None, git_dir: str = "") -> Runner:
    """`git ARGS` in `root`, raising GitStateError with git's words on failure.

    With `git_dir`, every call is pinned to that repository (GIT_DIR and GIT_WORK_TREE): a submodule
    whose `.git` file the generator removed would otherwise resolve to the PARENT repository, and a
    restore meant for the submodule would move the parent's branch."""
    if git_dir:
        env = {**(env if env is not None else os.environ), "GIT_DIR": git_dir, "GIT_WORK_TREE": root}

    def git(*args: str, data: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(["git", *args], cwd=root, env=env, input=data, capture_output=True,
                                  timeout=GIT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise GitStateError(f"git could not run in {root}: {err}") from err
        if done.returncode != 0:
            name = next((a for a in args if not a.startswith("-")), "")
            raise GitStateError(f"git {name} failed in {root}: {done.stderr.decode('utf-8', 'replace').strip()}")
        return done.stdout
    return git


@record(frozen=True)
class Refs:
    head: str  # what HEAD points at: "refs/heads/main", or "" when detached
    head_commit: str  # "" before the first commit
    refs: dict[str, str]  # every ref and its object

    def moved(self, now: Refs) -> list[str]:
        """What changed, in words: `HEAD moved from 1a2b3c4d to 5e6f7a8b`, `refs/tags/v1 created`."""
        said = []
        if now.head != self.head:
            said.append(f"HEAD switched from {self.head or 'a detached commit'} to {now.head or 'a detached commit'}")
        if now.head_commit != self.head_commit:
            said.append(f"HEAD moved from {self.head_commit[:10] or 'no commit'} to {now.head_commit[:10]}")
        for ref in sorted(set(self.refs) | set(now.refs)):
            old, new = self.refs.get(ref), now.refs.get(ref)
            if old != new:
                said.append(f"{ref} created" if old is None else f"{ref} deleted" if new is None
                            else f"{ref} moved from {old[:10]} to {new[:10]}")
        return said


def refs(git: Runner) -> Refs:
    listing = git("for-each-ref", "--format=%(refname) %(objectname)")
    table = dict(line.split(" ", 1) for line in listing.decode("utf-8", "surrogateescape").splitlines() if " " in line)
    try:
        head = git("symbolic-ref", "-q", "HEAD").decode("utf-8", "surrogateescape").strip()
    except GitStateError:
        head = ""  # detached
    try:
        commit = git("rev-parse", "--verify", "-q", "HEAD").decode().strip()
    except GitStateError:
        commit = ""
    return Refs(head, commit, table)


def restore_refs(git: Runner, before: Refs, now: Refs) -> None:
    """Every ref, and HEAD, back where they were; no reflog is rewritten, the commits stay as objects."""
    for ref in sorted(set(now.refs) - set(before.refs)):
        git("update-ref", "-m", "loopgate generated: put back", "-d", ref, now.refs[ref])
    for ref, old in sorted(before.refs.items()):
        if now.refs.get(ref) != old:
            git("update-ref", "-m", "loopgate generated: put back", ref, old)
    if before.head:
        git("symbolic-ref", "HEAD", before.head)
    elif before.head_commit:
        git("update-ref", "--no-deref", "-m", "loopgate generated: put back", "HEAD", before.head_commit)


@record(frozen=True)
class Index:
    path: str  # the index file (a linked worktree has its own)
    data: bytes | None  # its bytes; None when there was none
    listing: bytes  # `git ls-files -s` and unmerged entries: what it holds


def index(git: Runner, root: str) -> Index:
    path = os.path.join(root, git("rev-parse", "--git-path", "index").decode("utf-8", "surrogateescape").strip())
    try:
        with open(path, "rb") as handle:
            data: bytes | None = handle.read()
    except FileNotFoundError:
        data = None
    return Index(path, data, _listing(git))


def _listing(git: Runner) -> bytes:
    """What the index holds, with its per-entry flags: `ls-files -v` shows the skip-worktree (S) and
    assume-unchanged (lowercase) bits a generator may set, which `ls-files -s` does not."""
    return git("ls-files", "-s", "-z") + b"\0\0" + git("ls-files", "-v", "-z")


def restore_index(git: Runner, before: Index) -> bool:
    """The index as it was, if what it lists changed; True when it was written back."""
    if _listing(git) == before.listing:
        return False
    if before.data is None:
        os.remove(before.path)
        return True
    temporary = before.path + ".loopgate.tmp"
    with open(temporary, "wb") as handle:
        handle.write(before.data)
    os.replace(temporary, before.path)  # atomic: git never sees half an index
    return True


@record
class Submodule:
    path: str  # relative to its parent's root
    root: str  # absolute
    refs: Refs
    git_dir: str  # absolute: the repository every restore call is pinned to
    gitfile: bytes | None  # the `.git` file's bytes (`gitdir: ...`); None when `.git` is a directory
    children: list[Submodule] = field(default_factory=list)

    def git(self, env: dict[str, str] | None) -> Runner:
        return runner(self.root, env, self.git_dir)


def _gitfile(root: str) -> bytes | None:
    path = os.path.join(root, ".git")
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return handle.read(64 * 1024)


def submodules(git: Runner, root: str, env: dict[str, str] | None, depth: int = 0) -> list[Submodule]:
    """The checked-out submodules under `root` (recursively, to MAX_DEPTH), each with its refs."""
    found = []
    for entry in git("ls-files", "-s", "-z").split(b"\0"):
        if not entry.startswith(b"160000 "):
            continue
        rel = os.fsdecode(entry.split(b"\t", 1)[1])
        full = os.path.join(root, rel)
        if not os.path.exists(os.path.join(full, ".git")):
            continue  # not initialised: nothing checked out to protect
        probe = runner(full, env)
        top = os.fsdecode(probe("rev-parse", "--show-toplevel").rstrip(b"\n"))
        if os.path.realpath(top) != os.path.realpath(full):
            raise GitStateError(f"submodule {rel}: git resolves it to {top}, not to itself")
        git_dir = os.fsdecode(probe("rev-parse", "--absolute-git-dir").rstrip(b"\n"))
        inner = runner(full, env, git_dir)
        children = submodules(inner, full, env, depth + 1) if depth + 1 < MAX_DEPTH else []
        found.append(Submodule(rel, full, refs(inner), git_dir, _gitfile(full), children))
    return found


def dirty(module: Submodule, env: dict[str, str] | None) -> str:
    """Why the submodule cannot be left to the generator ("" when it is clean): its uncommitted work."""
    out = module.git(env)("status", "--porcelain=v1", "--untracked-files=all", "--ignore-submodules=none")
    lines = out.decode("utf-8", "replace").splitlines()
    return f"{len(lines)} uncommitted change{'s' if len(lines) != 1 else ''} ({lines[0].strip()}, ...)" if lines else ""


def changed(module: Submodule, env: dict[str, str] | None) -> list[str]:
    """What the generator did in the (clean before) submodule, in words; [] when nothing."""
    git = module.git(env)
    said = []
    if module.gitfile is not None and _gitfile(module.root) != module.gitfile:
        said.append("its .git file was removed or changed")
    said += module.refs.moved(refs(git))
    out = git("status", "--porcelain=v1", "--untracked-files=all", "--ignore-submodules=none")
    entries = out.decode("utf-8", "replace").splitlines()
    if entries:
        said.append(f"{len(entries)} file{'s' if len(entries) != 1 else ''} changed ({entries[0][3:]}, ...)")
    return said


def reset(module: Submodule, env: dict[str, str] | None) -> None:
    """The submodule back to how it was: clean, at its commit, its refs where they were."""
    dotgit = os.path.join(module.root, ".git")
    if module.gitfile is not None and _gitfile(module.root) != module.gitfile:
        if os.path.lexists(dotgit) and (os.path.islink(dotgit) or not os.path.isfile(dotgit)):
            raise GitStateError(f"submodule {module.path}: its .git was replaced by a directory or link; "
                                "not touched")
        with open(dotgit, "wb") as handle:  # the link to its repository, as it was
            handle.write(module.gitfile)
    git = module.git(env)
    restore_refs(git, module.refs, refs(git))
    if module.refs.head_commit:
        git("reset", "-q", "--hard", module.refs.head_commit)
    git("clean", "-ffdq")  # not -x: ignored files are not the gate's to delete
    for child in module.children:
        if changed(child, env):
            reset(child, env)


# Files under .git a generator may change that outlive it: hooks path, fsmonitor, excludes, attributes.
SETTINGS = ("config", "info/exclude", "info/attributes", "info/sparse-checkout")


def stash_log(git: Runner, root: str, name: str = "logs/refs/stash") -> tuple[str, bytes | None]:
    """The reflog of refs/stash (every stash but the newest lives only there), or another file under
    .git (`name`, a `--git-path`): its path and bytes."""
    path = os.path.join(root, git("rev-parse", "--git-path", name).decode("utf-8", "surrogateescape").strip())
    try:
        with open(path, "rb") as handle:
            return path, handle.read()
    except FileNotFoundError:
        return path, None


def restore_stash_log(saved: tuple[str, bytes | None]) -> bool:
    """The stash reflog as it was (`git stash clear` or `drop` by the generator); True when written back."""
    path, data = saved
    try:
        with open(path, "rb") as handle:
            now: bytes | None = handle.read()
    except FileNotFoundError:
        now = None
    if now == data:
        return False
    if data is None:
        os.remove(path)
        return True
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".loopgate.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    return True
