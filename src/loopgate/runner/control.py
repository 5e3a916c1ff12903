"""The tamper check on what the maker may not change: the loop's own rules and the repository.

Before an attempt the loop takes a digest of every control file (the loop's artifacts, the
gates' configuration, the work queue, the repository's config, hooks and info), of the
repository's refs and of the user's checkout; after it, any difference escalates the item.
The suppressions a maker adds to its own diff are a separate rule (runner/tamper.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
from typing import Any

from loopgate.artifacts.kinds import KINDS
from loopgate.check import PlannedGate
from loopgate.gates._http import default_cache_file
from loopgate.runner import git as gitops
from loopgate.runner.queue import queue_path

REFS, CHECKOUT, REMOTE = "[refs]", "[your checkout]", "[remote "


def hash_files(paths: list[str]) -> dict[str, str]:
    """A digest for each path: a file's content, a directory's names and contents, or 'absent'."""
    out = {}
    for path in paths:
        digest = hashlib.sha256()
        try:
            if os.path.isdir(path):
                for folder, dirs, names in os.walk(path):
                    dirs.sort()
                    for name in sorted(names):
                        full = os.path.join(folder, name)
                        digest.update(os.path.relpath(full, path).encode() + b"\0")
                        with contextlib.suppress(OSError), open(full, "rb") as handle:
                            digest.update(handle.read())
            else:
                with open(path, "rb") as handle:
                    digest.update(handle.read())
            out[path] = digest.hexdigest()
        except OSError:
            out[path] = "absent"
    return out


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
    queue = queue_path(loop_dir, spec.get("inputs") or {})
    return files + ([queue] if queue else [])


def gate_files(plan: list[PlannedGate], root: str) -> list[str]:
    """Files the planned gates take rules or verdicts from: `*_file` options (pattern files, the
    links ignore file) and the links cache, whose default lives outside the repository."""
    files = []
    for planned in plan:
        options = planned.options
        if options is None or not dataclasses.is_dataclass(options):
            continue
        for f in dataclasses.fields(options):
            value = getattr(options, f.name)
            if not f.name.endswith("_file") or not isinstance(value, str) or value == "-":
                continue
            if not value and f.name == "cache_file":
                value = default_cache_file()
            if value:
                files.append(value if os.path.isabs(value) else os.path.join(root, value))
    return files


class ControlWatch:
    """Snapshots of the control files and the repository, and what changed between two of them."""

    def __init__(self, root: str, control: list[str]) -> None:
        self.root = root
        self.control = control

    def snapshot(self, worktree: str, extra: list[str] | None = None) -> dict[str, str]:
        """Hashes of every control file (the main checkout's and the worktree's copies), the refs
        and the user's checkout.

        The main LOOP_STATE.md is the one control file the loop itself writes, so it is
        compared with what the loop last wrote rather than with the start of the run.
        `extra` are files the gates read their rules from (ignore files, pattern files, the
        links cache): a maker that rewrites them rewrites the checker.
        """
        copies = []
        extra = extra or []
        for original in [*self.control, *extra]:
            rel = os.path.relpath(original, self.root)
            if not rel.startswith(".."):
                copies.append(os.path.join(worktree, rel))
        digests = hash_files(list(dict.fromkeys([*self.control, *extra, *copies])))
        digests.update(self.repository())
        return digests

    def repository(self) -> dict[str, str]:
        """The repository's refs and the user's checkout (its changed and untracked files, with
        their contents): a maker works in its worktree only."""
        refs = gitops.git(["for-each-ref", "--format=%(refname) %(objectname)"], self.root)
        status = gitops.git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], self.root)
        listed = sorted({entry[3:] for entry in status.split("\0") if len(entry) > 3})
        contents = hash_files([os.path.join(self.root, p) for p in listed])
        found = {REFS: hashlib.sha256(refs.encode()).hexdigest(),
                 CHECKOUT: hashlib.sha256((status + repr(sorted(contents.items()))).encode()).hexdigest()}
        for name, path in self.local_remotes().items():
            found[f"{REMOTE}{name}] {path}"] = _refs_digest(path)
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

    def changed(self, before: dict[str, str]) -> list[str]:
        """The keys of `before` whose digest is different now."""
        after = hash_files([p for p in before if not p.startswith("[")])
        after.update(self.repository())
        return sorted(p for p in before if after.get(p, "absent") != before[p])

    def edited(self, before: dict[str, str], worktree: str) -> list[str]:
        """What differs from `before`, each named as a reader finds it."""
        return sorted(self.shown(p, worktree) for p in self.changed(before))

    def shown(self, path: str, worktree: str) -> str:
        if path.startswith(REMOTE):
            name, _, where = path[len(REMOTE):].partition("] ")
            return f"the branches or tags of remote '{name}' ({where})"
        if path == REFS:
            return "the repository's branches or tags"
        if path == CHECKOUT:
            return "files in your checkout (outside the item's worktree)"
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


def _refs_digest(path: str) -> str:
    """The refs of a repository on disk (bare or not), without running git: the loose refs and
    packed-refs file, and HEAD."""
    git_dir = os.path.join(path, ".git") if os.path.isdir(os.path.join(path, ".git")) else path
    parts = hash_files([os.path.join(git_dir, n) for n in ("refs", "packed-refs", "HEAD")])
    return hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()
