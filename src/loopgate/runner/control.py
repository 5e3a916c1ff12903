"""The tamper check on what the maker may not change: the loop's own rules and the repository.

Before an attempt the loop takes a digest of every control file (the loop's artifacts, the
gates' configuration, the work queue, the repository's config, hooks and info), of the
repository's refs and of the user's checkout; after it, any difference escalates the item.
The suppressions a maker adds to its own diff are a separate rule (runner/tamper.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from typing import Any

from loopgate import records
from loopgate.artifacts.kinds import KINDS
from loopgate.check import PlannedGate
from loopgate.gates._http import default_cache_file
from loopgate.history.reviews import reviews_path
from loopgate.history.runs import runs_dir
from loopgate.records import field, record
from loopgate.runner import git as gitops
from loopgate.runner.atomic import write_atomic
from loopgate.runner.capture import Captured, capture, digest, hash_files, put_back
from loopgate.runner.gitobjects import objects_in
from loopgate.runner.queue import queue_path

REFS, REMOTE = "[refs]", "[remote "
def control_files(loop_dir: str, root: str, spec: dict[str, Any]) -> list[str]:
    """What the maker may not change: the loop's artifacts, the gates' configuration, the
    work queue, and the repository's own config, hooks and ignore/attribute rules (which
    every worktree shares, and which decide what git shows the gates and what a commit runs)."""
    files = [os.path.join(loop_dir, k.filename) for k in KINDS]
    common = gitops.common_dir(root)
    # .pre-commit-config.yaml: pre-commit takes its hooks from the tree it judges
    files += [os.path.join(root, "pyproject.toml"), os.path.join(root, ".pre-commit-config.yaml"),
              os.path.join(common, "config"),
              os.path.join(common, "info"), os.path.join(common, "hooks")]
    # the promotion evidence: run reports only loopgate writes (after the attempts), and the verdicts
    # only a person records (`loopgate review` waits for no run: it refuses while one holds the lock)
    files += [runs_dir(loop_dir), reviews_path(loop_dir)]
    queue = queue_path(loop_dir, spec.get("inputs") or {})
    return files + ([queue] if queue else [])


def gate_files(plan: list[PlannedGate], root: str) -> list[str]:
    """Files the planned gates take rules or verdicts from: `*_file` options (pattern files, the
    links ignore file) and the links cache, whose default lives outside the repository."""
    files = []
    for planned in plan:
        options = planned.options
        if options is None or not records.is_record(options):
            continue
        for f in records.fields(options):
            value = getattr(options, f.name)
            if not f.name.endswith("_file") or not isinstance(value, str) or value == "-":
                continue
            if not value and f.name == "cache_file":
                value = default_cache_file()
            if value:
                files.append(value if os.path.isabs(value) else os.path.join(root, value))
    return files


@record
class Snapshot:
    """Digests of what the maker may not change, and the contents to restore outside its worktree."""

    digests: dict[str, str] = field(default_factory=dict)
    saved: dict[str, Captured] = field(default_factory=dict)
    worktree: str = ""  # the maker's: a symlink there is taken for what it is, never followed

    def follow(self, path: str) -> bool:
        return not (self.worktree and path.startswith(self.worktree + os.sep))


class ControlWatch:
    """Snapshots of the control files and the repository, what changed between two of them,
    and putting back what a maker changed outside its worktree.

    Contained, the maker cannot write the user's checkout, the shared git files or the refs
    (runner/sandbox.py mounts them read-only): a change there is the user's, so only the
    worktree's copies and the worktree's own git files are judged (and local remotes, unless
    the sandbox shows them read-only; under srt the maker is in loopgate's bwrap too). Uncontained,
    nothing tells the two apart: every control file, the git admin files and the refs are judged
    (your other files in your checkout never are), and control files are restored."""

    def __init__(self, root: str, control: list[str], contained: bool = False, remotes: bool = True) -> None:
        self.root = root
        self.control = control
        self.contained = contained
        # whether the maker could write a remote on this machine: not under bwrap, which shows the whole
        # filesystem read-only (and /tmp private), so a change there is a person's push, never the maker's
        self.remotes = remotes
        # the contained maker's own object directory this attempt (runner/sandbox.py git_env), when set
        self.maker_objects = ""

    def snapshot(self, worktree: str, extra: list[str] | None = None, admin: str = "") -> Snapshot:
        """Hashes of every control file (the main checkout's and the worktree's copies), the
        worktree's git link and admin files, and the refs.

        The main LOOP_STATE.md is the one control file the loop itself writes, so it is
        compared with what the loop last wrote rather than with the start of the run.
        `extra` are files the gates read their rules from (ignore files, pattern files, the
        links cache): a maker that rewrites them rewrites the checker.
        """
        originals, copies = [*self.control, *(extra or [])], []
        for original in originals:
            rel = os.path.relpath(original, self.root)
            if not rel.startswith(".."):
                copies.append(os.path.join(worktree, rel))
        # the worktree's `.git` link and its admin files decide which repository the loop's own git
        # commands in the worktree act on: a maker that repoints them would commit elsewhere
        own = self.git_files(worktree, admin)
        outside = [] if self.contained else originals
        snap = Snapshot(worktree=worktree)
        for path in dict.fromkeys([*outside, *copies, *own]):
            saved = capture(path, snap.follow(path))
            snap.digests[path] = digest(saved)
            # the `.git` link too, though in the worktree: left repointed, a kept worktree runs the maker's
            # git config (its core.fsmonitor) for the person who runs `git status` there
            if not path.startswith(worktree + os.sep) or path == own[0]:
                snap.saved[path] = saved
        snap.digests.update(self.repository())
        return snap

    @staticmethod
    def git_files(worktree: str, admin: str = "") -> list[str]:
        """The worktree's `.git` link, then its admin files that say where its repository is."""
        own = [os.path.join(worktree, ".git")]
        if admin:
            own += [os.path.join(admin, n) for n in ("commondir", "gitdir", "config.worktree")]
        return own

    def repository(self) -> dict[str, str]:
        """The refs of local remotes and, uncontained, the repository's own refs."""
        found = {}
        if not self.contained:
            refs = gitops.git(["for-each-ref", "--format=%(refname) %(objectname)"], self.root)
            found[REFS] = hashlib.sha256(refs.encode()).hexdigest()
        for name, path in (self.local_remotes() if self.remotes else {}).items():
            found[f"{REMOTE}{name}] {path}"] = _refsdigest(path)
        return found

    def local_remotes(self) -> dict[str, str]:
        """Remotes whose URL is a path on this machine (or file://): a push there lands at once,
        so their refs are compared before and after each attempt."""
        out = gitops.git(["config", "--get-regexp", r"^remote\..*\.(url|pushurl)$"], self.root, check=False)
        remotes: dict[str, str] = {}
        for line in out.splitlines():
            key, _, url = line.partition(" ")
            name = key[len("remote."):].rsplit(".", 1)[0]
            path = local_path(url, self.root)
            if path is not None:
                remotes[name if name not in remotes else f"{name} (push)"] = path
        return remotes

    def changed(self, before: Snapshot) -> list[str]:
        """The keys of `before` whose digest is different now."""
        after = {p: digest(capture(p, before.follow(p))) for p in before.digests if not p.startswith("[")}
        after.update(self.repository())
        found = [p for p in before.digests if after.get(p, "absent") != before.digests[p]]
        return sorted([*found, *self.maker_pushed()])

    def maker_pushed(self) -> list[str]:
        """Local remotes (when not compared whole) holding a ref to an object the contained maker made
        this attempt: only its push put it there. A remote on this machine is read-only to it, but
        served over the network (`git daemon` on localhost) its push lands; a person's own push of
        their commits mid-attempt is no such object, and is not blamed."""
        if self.remotes or not self.maker_objects:
            return []
        remotes = self.local_remotes()
        tips = {name: set(gitops.git(["for-each-ref", "--format=%(objectname)"], path, check=False).split())
                for name, path in remotes.items()}
        made = objects_in(self.maker_objects, set().union(*tips.values()))
        return [f"{REMOTE}{name}] {path}" for name, path in remotes.items() if made & tips[name]]

    def keep(self, before: Snapshot, changed: list[str], into: str) -> list[str]:
        """Copy what the changed files outside the worktree hold now into `into` (their paths under
        the repository kept), before restore() puts them back; the paths kept. Uncontained, nothing
        tells the maker's edit from a person's made during the attempt: restoring must not be what
        loses a person's work. Symlinks are kept as symlinks, never followed."""
        kept = []
        for path in changed:
            if path not in before.saved or not os.path.lexists(path):
                continue
            rel = os.path.relpath(path, self.root) if path.startswith(self.root + os.sep) else path.lstrip(os.sep)
            target = os.path.join(into, rel)
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.copytree(path, target, symlinks=True)
                else:
                    shutil.copy2(path, target, follow_symlinks=False)
            except (OSError, shutil.Error):
                continue
            kept.append(path)
        return kept

    def restore(self, before: Snapshot, changed: list[str]) -> tuple[list[str], list[str]]:
        """Put back the changed files outside the worktree: (restored, could not restore)."""
        restored, failed = [], []
        for path in changed:
            if path not in before.saved:
                continue
            try:
                put_back(path, before.saved[path])
                restored.append(path)
            except OSError:
                failed.append(path)
        return restored, failed

    def edited(self, before: Snapshot, worktree: str) -> list[str]:
        """What differs from `before`, each named as a reader finds it."""
        return sorted(self.shown(p, worktree) for p in self.changed(before))

    def shown(self, path: str, worktree: str) -> str:
        if path.startswith(REMOTE):
            name, _, where = path[len(REMOTE):].partition("] ")
            return f"the branches or tags of remote '{name}' ({where})"
        if path == REFS:
            return "the repository's branches or tags"
        if path.startswith(worktree + os.sep):
            return f"{os.path.relpath(path, worktree)} (in the item's worktree)"
        if path.startswith(self.root + os.sep):
            return os.path.relpath(path, self.root)
        return path


def local_path(url: str, root: str) -> str | None:
    """The directory a remote URL names when it is on this machine, else None."""
    if url.startswith("file://"):
        url = url[len("file://"):]
    elif "://" in url or re.match(r"^[^/]+:", url):  # https://, ssh://, or scp-like host:path
        return None
    path = os.path.join(root, os.path.expanduser(url))
    return os.path.realpath(path) if os.path.isdir(path) else None


def _refsdigest(path: str) -> str:
    """The refs of a repository on disk (bare or not), without running git: the loose refs and
    packed-refs file, and HEAD."""
    git_dir = os.path.join(path, ".git") if os.path.isdir(os.path.join(path, ".git")) else path
    parts = hash_files([os.path.join(git_dir, n) for n in ("refs", "packed-refs", "HEAD")])
    return hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()


TAMPERED = "tampered.txt"


def write_tampered(runtime_dir: str, what: str) -> None:
    """Record what a maker changed and the loop could not put back; the next run refuses to
    start while this file exists (a person checks, then deletes it)."""
    os.makedirs(runtime_dir, exist_ok=True)
    with open(os.path.join(runtime_dir, TAMPERED), "a", encoding="utf-8") as handle:
        handle.write(what + "\n")


def read_tampered(runtime_dir: str) -> str:
    path = os.path.join(runtime_dir, TAMPERED)
    try:
        with open(path, encoding="utf-8") as handle:
            return f"a maker changed {handle.read().strip()} and loopgate could not restore it: check it, then " \
                   f"delete {path}"
    except OSError:
        return ""


UNCHECKED = "attempt-unchecked.json"


def mark_unchecked(runtime_dir: str, before: Snapshot) -> None:
    """Before the maker runs: the digests of what the tamper check will compare it with. A run
    killed with -9 never runs that check; the next run does it (unchecked_changes)."""
    write_atomic(os.path.join(runtime_dir, UNCHECKED), json.dumps({p: before.digests[p] for p in before.saved}))


def mark_checked(runtime_dir: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(runtime_dir, UNCHECKED))


def unchecked_changes(runtime_dir: str, root: str) -> list[str]:
    """What an attempt whose check never ran (its run was killed with -9) left changed, named
    from the repository; [] when every attempt was checked."""
    try:
        with open(os.path.join(runtime_dir, UNCHECKED), encoding="utf-8") as handle:
            digests = json.load(handle)
    except (OSError, ValueError):
        return []
    if not isinstance(digests, dict):
        return []
    changed = [str(p) for p, d in digests.items() if digest(capture(str(p))) != d and not _committed(str(p), root)]
    return sorted(os.path.relpath(p, root) if p.startswith(root + os.sep) else p for p in changed)


def _committed(path: str, root: str) -> bool:
    """Whether the file is now exactly what HEAD holds: a person edited and committed it after the
    killed run (a spec changed to fix what stopped it). An uncommitted change, a hook, the git
    config are never that, and refuse the run."""
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return False
    rel = os.path.relpath(path, root)
    held = gitops.git(["cat-file", "-p", f"HEAD:{rel}"], root, check=False)
    try:
        with open(path, encoding="utf-8") as handle:
            return bool(held) and handle.read() == held
    except (OSError, UnicodeDecodeError):
        return False
