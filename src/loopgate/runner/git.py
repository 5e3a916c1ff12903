"""The worktrees the loop keeps for its items, and the few other git questions it asks; each a real
`git` subprocess (runner/gitcmd.py) with a clear error."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time

from loopgate.records import record
from loopgate.runner.gitcmd import (  # the commands' API, with the worktrees'
    DIFF,
    SAFE,
    GitError,
    GitOutputTooLarge,
    GitTimeout,
    exit_code,
    git,
)

__all__ = ["DIFF", "SAFE", "GitError", "GitOutputTooLarge", "GitTimeout", "Worktrees", "git"]

WORKTREE_ROOT_VAR = "LOOPGATE_WORKTREE_ROOT"


# git hashes every byte of a changed file to judge it; a file this large is no change a repository
# takes (GitHub refuses files over 100 MiB), and a maker's 6 GiB of holes took git minutes
MAX_FILE_BYTES = 100 * 1024 * 1024
# the diff the loop reads (tamper checks read it whole): past this, the change is too large to judge
MAX_DIFF_BYTES = 256 * 1024 * 1024
# how far past the run's deadline one git command may go before it is stopped: work in flight (a
# commit of a judged tree) finishes rather than failing at the first tick past the budget
GRACE_SECONDS = 5.0


# What a gate's own git in a worktree runs with (Worktrees.pinned_env), as GIT_CONFIG_* settings.
PINNED_CONFIG = (("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"), ("submodule.recurse", "false"))
def repo_root(path: str) -> str:
    return git(["rev-parse", "--show-toplevel"], path).strip()


def common_dir(root: str) -> str:
    found = git(["rev-parse", "--git-common-dir"], root).strip()
    return found if os.path.isabs(found) else os.path.normpath(os.path.join(root, found))


def slug(name: str) -> str:
    """A loop's name as one path and ref component: `Docs Repair` -> `docs-repair`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "loop"


def loop_key(root: str, loop_dir: str, name: str) -> str:
    """The loop's part of its branch and worktree names: its name as a slug, and, for any loop but
    the repository's own `.loop`, a short hash of where it lives. Two loops of one name (a/.loop
    and b/.loop, copies of one loop in a monorepo) never share, reset or remove each other's
    branches and worktrees; the usual single `.loop` keeps `loop/<name>/<id>`."""
    rel = os.path.relpath(os.path.realpath(loop_dir), os.path.realpath(root))
    key = slug(name)
    # A linked checkout of the repository (`git worktree add`) has the same `.loop`, but its own
    # LOOP_STATE.md: sharing `loop/<name>/<id>` with the main checkout would let one checkout's run
    # reset the branch the other's state names for review (a drafted item's work, lost). So a linked
    # checkout's loop is told apart by the checkout's name under <common>/worktrees/ (stable while
    # the checkout lives, as `git worktree move` keeps it); the main checkout keeps the plain key.
    found = git(["rev-parse", "--absolute-git-dir"], root).strip()
    linked = "" if os.path.realpath(found) == os.path.realpath(common_dir(root)) else os.path.basename(found)
    if rel == ".loop" and not linked:
        return key
    where = f"{linked}:{rel}" if linked else rel
    return f"{key[:53]}-{hashlib.sha256(where.encode()).hexdigest()[:6]}"


def head(root: str) -> str:
    return git(["rev-parse", "HEAD"], root).strip()


def worktree_base(root: str) -> str:
    """Where the items' worktrees live: inside the git directory (your checkout never shows them),
    or, when $LOOPGATE_WORKTREE_ROOT is set, in a folder of this repository's own under it. That is
    for agents that refuse to edit anything under a `.git` directory (Claude Code calls such files
    sensitive and refuses, whatever its permission mode)."""
    common = common_dir(root)
    chosen = os.environ.get(WORKTREE_ROOT_VAR, "").strip()
    if not chosen:
        return os.path.join(common, "loopgate-worktrees")
    key = hashlib.sha256(os.path.realpath(common).encode()).hexdigest()[:12]
    return os.path.join(os.path.abspath(os.path.expanduser(chosen)), key)


@record
class WorktreeScan:
    oversized: list[tuple[str, int]]  # (name, size) of files past the size a change may hold
    nested: list[str]  # the `.git` of every repository inside the worktree but its own


class Worktrees:
    """One worktree and branch (`loop/<loop>/<item-id>`) per item, kept inside the git directory
    so the user's checkout never shows them and never changes (see worktree_base). The loop's key
    (loop_key) is part of both: two loops in one repository never share (or reset) each other's
    branches, even when they have the same name."""

    def __init__(self, root: str, loop: str = "") -> None:
        self.root = root
        self.loop = loop
        self.common = common_dir(root)
        self.base_dir = os.path.join(worktree_base(root), *([loop] if loop else []))
        self.fresh: set[str] = set()  # created at base and not touched since: no reset needed
        self._admins: dict[str, str] = {}  # item id -> its admin directory, found before any maker ran
        # when the run's runtime budget ends (time.monotonic()); the loop sets it once the run starts
        self.deadline: float | None = None

    def _timeout(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0) + GRACE_SECONDS

    def run(self, item_id: str, args: list[str], *, check: bool = True, env: dict[str, str] | None = None,
             errors: str = "replace", max_bytes: int | None = None, stdin: bytes = b"") -> str:
        """git in the item's worktree with its repository named, never discovered. The worktree's `.git`
        link is the maker's to rewrite (and a gate's: gates write the worktree): followed, it had
        loopgate's own `git add -A` read a git directory the maker built, whose config ran a clean
        filter outside any sandbox with the user's whole environment."""
        path = self.path(item_id)
        named = {"GIT_DIR": self.admin_dir(item_id), "GIT_WORK_TREE": path, "GIT_COMMON_DIR": self.common}
        return git(args, path, check=check, env={**named, **(env or {})}, errors=errors, timeout=self._timeout(),
                   max_bytes=max_bytes, stdin=stdin)

    def pinned_env(self, item_id: str) -> dict[str, str]:
        """The environment for git run by loopgate's own gates in the item's worktree: the repository
        named, never discovered through the `.git` link (a contained command gate writes the worktree
        and could repoint it while the other gates run, outside any sandbox, to a git directory whose
        config runs a program), and no hooks or fsmonitor program whatever a config says."""
        env = {"GIT_DIR": self.admin_dir(item_id), "GIT_WORK_TREE": self.path(item_id), "GIT_COMMON_DIR": self.common}
        try:  # settings the environment already gives git are kept; ours come after, and win
            count = max(int(os.environ.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
        except ValueError:
            count = 0
        for index, (key, value) in enumerate(PINNED_CONFIG, start=count):
            env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(count + len(PINNED_CONFIG))
        return env

    def path(self, item_id: str) -> str:
        return os.path.join(self.base_dir, item_id)

    def branch(self, item_id: str) -> str:
        return f"loop/{self.loop}/{item_id}" if self.loop else f"loop/{item_id}"

    def create(self, item_id: str, base: str) -> str:
        """A fresh worktree at `base`; an old one for the same item (a kept failure) is replaced.

        `-B` points the branch at `base` whatever it held, so no separate branch deletion is needed.
        """
        path = self.path(item_id)
        self.remove(item_id)
        os.makedirs(self.base_dir, exist_ok=True)
        git(["worktree", "add", "--force", "-B", self.branch(item_id), path, base], self.root)
        self.admin_dir(item_id)  # found now, before any maker could touch the worktree, and kept for the run
        self.fresh.add(item_id)
        return path

    def admin_dir(self, item_id: str) -> str:
        """The worktree's own git directory (<common>/worktrees/<name>): its HEAD, index and logs.
        Found from the repository's side (the admin directory whose `gitdir` names this worktree),
        never from the worktree's `.git` link, which the maker can repoint."""
        if item_id in self._admins:
            return self._admins[item_id]
        wanted = os.path.realpath(os.path.join(self.path(item_id), ".git"))
        base = os.path.join(self.common, "worktrees")
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            admin = os.path.join(base, name)
            try:
                with open(os.path.join(admin, "gitdir"), encoding="utf-8") as handle:
                    named = handle.read().strip()
            except (OSError, UnicodeDecodeError):
                continue
            if os.path.realpath(os.path.join(admin, named)) == wanted:
                self._admins[item_id] = admin
                return admin
        raise GitError(f"no git worktree is registered at {self.path(item_id)} (in {base})")

    def restore_link(self, item_id: str) -> bool:
        """Point the worktree's `.git` back at its admin directory; True when it pointed elsewhere
        (or was no file). Used before git itself reads the link (worktree remove validates it)."""
        link = os.path.join(self.path(item_id), ".git")
        wanted = f"gitdir: {self.admin_dir(item_id)}\n".encode()
        try:
            with open(link, "rb") as handle:
                if not os.path.islink(link) and handle.read() == wanted:
                    return False
        except OSError:
            pass
        if os.path.isdir(link) and not os.path.islink(link):
            shutil.rmtree(link)
        elif os.path.lexists(link):
            os.unlink(link)
        with open(link, "xb") as handle:
            handle.write(wanted)
        return True

    def reset(self, item_id: str, base: str) -> None:
        """Back to `base` between attempts, untracked files included."""
        if item_id in self.fresh:
            self.fresh.discard(item_id)
            return
        self.run(item_id, ["reset", "--hard", "-q", base])
        self.run(item_id, ["clean", "-fdxq"])

    def remove(self, item_id: str, *, delete_branch: bool = False) -> None:
        path = self.path(item_id)
        self.fresh.discard(item_id)
        # a `.git` the maker repointed fails git's own check (it must point back at the admin directory):
        # the worktree stayed, its branch checked out there, and every later run failed to recreate it
        with contextlib.suppress(GitError, OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                self.restore_link(item_id)
        # --force twice: a worktree the maker locked (its admin directory's `locked` file, which it can
        # write) is removed all the same; once, git refuses, and every later run failed to recreate it
        failed = os.path.exists(path) and exit_code(["worktree", "remove", "--force", "--force", path],
                                                     self.root) != 0
        if failed and os.path.lexists(path):  # whatever git could not remove: the folder goes, then its entry
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        if failed or os.path.exists(path):  # a half-registered or hand-deleted worktree: let git forget it
            git(["worktree", "prune"], self.root, check=False)
        self._admins.pop(item_id, None)
        if delete_branch:
            git(["branch", "-D", self.branch(item_id)], self.root, check=False)

    def commit_tree(self, item_id: str, base: str, tree: str, message: str) -> str | None:
        """Commit exactly `tree` (the one the gates judged) on `base` and point the item's branch at
        it; None when it holds no change. The worktree is not read again: whatever changed it after
        the gates ran (a gate that rewrites files, a maker's process that escaped) stays out."""
        self.fresh.discard(item_id)
        if tree == self.run(item_id, ["rev-parse", f"{base}^{{tree}}"]).strip():
            return None
        identity = {"GIT_AUTHOR_NAME": "loopgate", "GIT_AUTHOR_EMAIL": "loopgate@localhost",
                    "GIT_COMMITTER_NAME": "loopgate", "GIT_COMMITTER_EMAIL": "loopgate@localhost"}
        commit = self.run(item_id, ["commit-tree", tree, "-p", base, "-m", message], env=identity).strip()
        # compare-and-swap from `base`: the branch is where head_moved() last saw it, or this fails
        self.run(item_id, ["update-ref", f"refs/heads/{self.branch(item_id)}", commit, base])
        self.run(item_id, ["read-tree", commit])  # the index says what the branch holds
        return commit

    def tree_changes(self, item_id: str, judged: str, now: str) -> tuple[list[str], list[str]]:
        """(changed or deleted, added) paths between the judged tree and the tree now."""
        out = self.run(item_id, ["diff-tree", "-r", "--no-renames", "--name-status", "-z", judged, now])
        words = [w for w in out.split("\0") if w]
        pairs = list(zip(words[::2], words[1::2], strict=False))
        return sorted(n for s, n in pairs if s != "A"), sorted(n for s, n in pairs if s == "A")

    def head_moved(self, item_id: str, base: str) -> str:
        """Why the worktree's HEAD is no longer its branch at `base` ("" when it is).

        The loop commits the candidate itself; a maker that commits, switches branches or checks
        out another branch (even `main`, with --ignore-other-worktrees) would choose what the
        loop commits, and where."""
        branch = self.run(item_id, ["symbolic-ref", "-q", "HEAD"], check=False).strip()
        if branch != f"refs/heads/{self.branch(item_id)}":
            return f"HEAD is {branch or 'detached'}, not refs/heads/{self.branch(item_id)}"
        if self.run(item_id, ["rev-parse", "HEAD"]).strip() != base:
            return "the maker committed (the branch moved from the run's base)"
        return ""

    def clear_after_maker(self, item_id: str) -> None:
        """Once every process of the maker's is gone: what its git left in the worktree's admin
        directory that would make the loop's own git commands fail. A lock file (an agent stopped by
        a budget while its `git status` held the index) or an index that is no regular file would
        stop the run as an environmental failure, run after run, and the item's work never judged.
        No git of the maker's is running any more, so a lock is stale; the index is rebuilt from
        `base` before the gates (candidate)."""
        admin = self.admin_dir(item_id)
        for name in ("index.lock", "HEAD.lock", "index"):
            full = os.path.join(admin, name)
            try:
                mode = os.lstat(full).st_mode
            except OSError:
                continue
            if name == "index" and stat.S_ISREG(mode):
                continue
            if stat.S_ISDIR(mode):
                shutil.rmtree(full)
            else:
                os.unlink(full)

    def candidate(self, item_id: str, base: str) -> None:
        """Make the worktree exactly what the commit will hold, before the gates judge it.

        The index goes back to `base` (no staged content, no skip-worktree or assume-unchanged
        flags that would keep a change on disk out of the commit), and files git ignores are
        removed: a fresh worktree has none, so the maker made them, and the gates must not read
        files the commit will not hold."""
        self.run(item_id, ["read-tree", base])
        self.run(item_id, ["clean", "-fdXq"])

    def tree(self, item_id: str) -> str:
        """The tree the gates judge: the worktree as a commit would hold it, written through a
        copy of its index (the worktree's own index, and every ref, stay as they are)."""
        index = os.path.join(self.admin_dir(item_id), "index")
        # the copy lives in a directory of loopgate's own: the worktree's admin directory is the
        # maker's to write, and a symlink it left under the copy's name had loopgate write the
        # index over whatever it pointed at (a file of yours), outside any sandbox
        with tempfile.TemporaryDirectory(prefix="loopgate-judged-") as private:
            scratch = os.path.join(private, "index")
            with contextlib.suppress(OSError):  # a copy: only what changed is hashed again
                _copy_regular(index, scratch)
            env = {"GIT_INDEX_FILE": scratch}
            self.run(item_id, ["add", "-A"], env=env)
            return self.run(item_id, ["write-tree"], env=env).strip()

    def diff(self, item_id: str, base: str) -> str:
        """The change against `base`, as text; GitOutputTooLarge past MAX_DIFF_BYTES."""
        self.run(item_id, ["add", "-A", "--intent-to-add"], check=False)
        return self.run(item_id, ["diff", *DIFF, base], check=False, max_bytes=MAX_DIFF_BYTES)

    def scan(self, item_id: str, limit: int = MAX_FILE_BYTES) -> WorktreeScan:
        """One walk of the worktree, from names and sizes alone, before git reads a byte of it: call
        after candidate(), which removed the ignored files. Symlinks are not followed, and a `.git`
        below the top (a repository the maker made, or a submodule it checked out) is noted and not
        looked into: git never adds what is under it."""
        found = WorktreeScan([], [])
        top = self.path(item_id)
        pending = [top]
        while pending:
            folder = pending.pop()
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    shown = os.path.relpath(entry.path, top).encode("utf-8", "surrogateescape")
                    name = shown.decode("utf-8", "replace")
                    if entry.name == ".git":
                        if folder != top:
                            found.nested.append(name)
                        continue
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size > limit:
                            found.oversized.append((name, entry.stat(follow_symlinks=False).st_size))
        found.oversized.sort()
        found.nested.sort()
        return found

    def changed_files(self, item_id: str, base: str, errors: str = "replace") -> list[str]:
        """Changed, added and deleted files; call after diff(), whose intent-to-add makes new files show.
        errors="surrogateescape" gives names the file system finds as they are (see git())."""
        out = self.run(item_id, ["diff", "--name-only", "-z", "--no-ext-diff", base], check=False, errors=errors)
        return sorted({n for n in out.split("\0") if n})


def _copy_regular(source: str, target: str) -> None:
    """Copy `source` only when it is a regular file, never through a symlink (OSError otherwise)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{source} is not a regular file")
        data = handle.read()
    with open(target, "xb") as out:
        out.write(data)
