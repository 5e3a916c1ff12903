"""The few git operations the loop needs, each a real `git` subprocess with a clear error."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile

WORKTREE_ROOT_VAR = "LOOPGATE_WORKTREE_ROOT"


class GitError(Exception):
    """git failed or is missing; the message names the command and git's own words."""


# The maker can write the repository's config (worktrees share it). Whatever it sets, the loop's
# own git commands run no hooks (a post-commit hook could change the candidate after the gates),
# no fsmonitor program, and print plain, uncoloured, untranslated output.
SAFE = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "color.ui=false",
        "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "core.quotePath=true"]
# A diff the loop reads: no colour, no external diff or textconv programs, and binary-looking
# files (or ones a .gitattributes marks `-diff`) shown as text, so nothing hides from tamper checks.
DIFF = ["--no-color", "--no-ext-diff", "--no-textconv", "--text"]


def git(args: list[str], cwd: str, *, check: bool = True, env: dict[str, str] | None = None,
        errors: str = "replace") -> str:
    """git's output as text. Not all of it is UTF-8 (a diff of a binary file an agent wrote, a file
    name that is not, with -z): undecodable bytes are replaced, or, with errors="surrogateescape",
    kept for a name that must reach the file system as it is (never written into text files)."""
    try:
        done = subprocess.run(["git", *SAFE, *args], cwd=cwd, capture_output=True, check=False,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except FileNotFoundError as err:
        raise GitError("git is not installed (or not on PATH)") from err
    out = done.stdout.decode("utf-8", errors)
    if check and done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace")
        raise GitError(f"git {' '.join(args)}: {said.strip() or out.strip()}")
    return out


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


class Worktrees:
    """One worktree and branch (`loop/<loop>/<item-id>`) per item, kept inside the git directory
    so the user's checkout never shows them and never changes (see worktree_base). The loop's key
    (loop_key) is part of both: two loops in one repository never share (or reset) each other's
    branches, even when they have the same name."""

    def __init__(self, root: str, loop: str = "") -> None:
        self.root = root
        self.loop = loop
        self.base_dir = os.path.join(worktree_base(root), *([loop] if loop else []))
        self.fresh: set[str] = set()  # created at base and not touched since: no reset needed

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
        self.fresh.add(item_id)
        return path

    def admin_dir(self, item_id: str) -> str:
        """The worktree's own git directory (<common>/worktrees/<name>): its HEAD, index and logs."""
        return git(["rev-parse", "--absolute-git-dir"], self.path(item_id)).strip()

    def reset(self, item_id: str, base: str) -> None:
        """Back to `base` between attempts, untracked files included."""
        if item_id in self.fresh:
            self.fresh.discard(item_id)
            return
        path = self.path(item_id)
        git(["reset", "--hard", "-q", base], path)
        git(["clean", "-fdxq"], path)

    def remove(self, item_id: str, *, delete_branch: bool = False) -> None:
        path = self.path(item_id)
        self.fresh.discard(item_id)
        # --force twice: a worktree the maker locked (its admin directory's `locked` file, which it can
        # write) is removed all the same; once, git refuses, and every later run failed to recreate it
        failed = os.path.exists(path) and _exit_code(["worktree", "remove", "--force", "--force", path],
                                                     self.root) != 0
        if failed or os.path.exists(path):  # a half-registered or hand-deleted worktree: let git forget it
            git(["worktree", "prune"], self.root, check=False)
        if delete_branch:
            git(["branch", "-D", self.branch(item_id)], self.root, check=False)

    def commit_tree(self, item_id: str, base: str, tree: str, message: str) -> str | None:
        """Commit exactly `tree` (the one the gates judged) on `base` and point the item's branch at
        it; None when it holds no change. The worktree is not read again: whatever changed it after
        the gates ran (a gate that rewrites files, a maker's process that escaped) stays out."""
        path = self.path(item_id)
        self.fresh.discard(item_id)
        if tree == git(["rev-parse", f"{base}^{{tree}}"], path).strip():
            return None
        identity = {"GIT_AUTHOR_NAME": "loopgate", "GIT_AUTHOR_EMAIL": "loopgate@localhost",
                    "GIT_COMMITTER_NAME": "loopgate", "GIT_COMMITTER_EMAIL": "loopgate@localhost"}
        commit = git(["commit-tree", tree, "-p", base, "-m", message], path, env=identity).strip()
        # compare-and-swap from `base`: the branch is where head_moved() last saw it, or this fails
        git(["update-ref", f"refs/heads/{self.branch(item_id)}", commit, base], path)
        git(["read-tree", commit], path)  # the index says what the branch holds
        return commit

    def tree_changes(self, item_id: str, judged: str, now: str) -> tuple[list[str], list[str]]:
        """(changed or deleted, added) paths between the judged tree and the tree now."""
        out = git(["diff-tree", "-r", "--no-renames", "--name-status", "-z", judged, now], self.path(item_id))
        words = [w for w in out.split("\0") if w]
        pairs = list(zip(words[::2], words[1::2], strict=False))
        return sorted(n for s, n in pairs if s != "A"), sorted(n for s, n in pairs if s == "A")

    def head_moved(self, item_id: str, base: str) -> str:
        """Why the worktree's HEAD is no longer its branch at `base` ("" when it is).

        The loop commits the candidate itself; a maker that commits, switches branches or checks
        out another branch (even `main`, with --ignore-other-worktrees) would choose what the
        loop commits, and where."""
        path = self.path(item_id)
        branch = git(["symbolic-ref", "-q", "HEAD"], path, check=False).strip()
        if branch != f"refs/heads/{self.branch(item_id)}":
            return f"HEAD is {branch or 'detached'}, not refs/heads/{self.branch(item_id)}"
        if head(path) != base:
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
        path = self.path(item_id)
        git(["read-tree", base], path)
        git(["clean", "-fdXq"], path)

    def tree(self, item_id: str) -> str:
        """The tree the gates judge: the worktree as a commit would hold it, written through a
        copy of its index (the worktree's own index, and every ref, stay as they are)."""
        path = self.path(item_id)
        index = os.path.join(git(["rev-parse", "--absolute-git-dir"], path).strip(), "index")
        # the copy lives in a directory of loopgate's own: the worktree's admin directory is the
        # maker's to write, and a symlink it left under the copy's name had loopgate write the
        # index over whatever it pointed at (a file of yours), outside any sandbox
        with tempfile.TemporaryDirectory(prefix="loopgate-judged-") as private:
            scratch = os.path.join(private, "index")
            with contextlib.suppress(OSError):  # a copy: only what changed is hashed again
                _copy_regular(index, scratch)
            env = {"GIT_INDEX_FILE": scratch}
            git(["add", "-A"], path, env=env)
            return git(["write-tree"], path, env=env).strip()

    def diff(self, item_id: str, base: str) -> str:
        path = self.path(item_id)
        git(["add", "-A", "--intent-to-add"], path, check=False)
        return git(["diff", *DIFF, base], path, check=False)

    def changed_files(self, item_id: str, base: str, errors: str = "replace") -> list[str]:
        """Changed, added and deleted files; call after diff(), whose intent-to-add makes new files show.
        errors="surrogateescape" gives names the file system finds as they are (see git())."""
        path = self.path(item_id)
        out = git(["diff", "--name-only", "-z", "--no-ext-diff", base], path, check=False, errors=errors)
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


def _exit_code(args: list[str], cwd: str) -> int:
    try:
        return subprocess.run(["git", *SAFE, *args], cwd=cwd, capture_output=True, check=False,
                              stdin=subprocess.DEVNULL).returncode
    except FileNotFoundError as err:
        raise GitError("git is not installed (or not on PATH)") from err
