"""What `git status` does not show the generated gate, kept safe while the generator runs: files git
ignores (a local `.env`, a virtualenv, build output) and every file of an untracked nested git
repository (a clone inside the tree, with its own work and history).

Copying them all could mean gigabytes (a virtualenv, node_modules), so each is hard-linked into
the backup folder instead: cheap, and the link keeps the file's content when the generator deletes
it or replaces it with a new file (write and rename, as most tools write). Afterwards each one that
is gone, or (without `--keep`) replaced, is linked back. A file rewritten in place (the same
inode, opened for writing) cannot be put back this way; where a hard link is impossible (another
file system, permissions) a file up to 2 MiB is copied and a larger one is left unprotected.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat

from loopgate.gates._gentree import Repo, _no_link_above, makedirs
from loopgate.records import field, record

COPY_LIMIT = 2 * 1024 * 1024
MAX_FILES = 200_000  # beyond this many the rest is left unprotected (said in the summary)


@record
class Kept:
    folder: str  # where the links are: BACKUP/kept/
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (device, inode) when kept
    links: dict[str, str] = field(default_factory=dict)  # symlinks: path -> target
    nested: list[str] = field(default_factory=list)  # the untracked nested repositories
    unprotected: int = 0


def unseen_paths(repo: Repo, nested: list[str]) -> list[str]:
    """Ignored files (one by one, git lists them), then the files of each nested repository (walked)."""
    out = repo.git("ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    paths = [os.fsdecode(p) for p in out.split(b"\0") if p]
    for top in nested:
        stack = [top]
        while stack:  # no recursion: a nested tree can be deeper than Python's stack
            here = stack.pop()
            try:
                entries = list(os.scandir(os.path.join(repo.root, here)))
            except OSError:
                continue
            for entry in entries:
                rel = f"{here}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                else:
                    paths.append(rel)
    return paths


def keep(repo: Repo, folder: str, nested: list[str]) -> Kept:
    """Hard-link every file git does not show into `folder` (created only when there is one)."""
    kept = Kept(folder, nested=nested)
    for path in unseen_paths(repo, nested):
        if len(kept.files) + len(kept.links) >= MAX_FILES:
            kept.unprotected += 1
            continue
        full = os.path.join(repo.root, path)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            kept.links[path] = os.readlink(full)
        elif stat.S_ISREG(info.st_mode):
            if _link_or_copy(full, os.path.join(folder, path), info.st_size):
                kept.files[path] = (info.st_dev, info.st_ino)
            else:
                kept.unprotected += 1
    return kept


def _link_or_copy(source: str, target: str, size: int) -> bool:
    makedirs(os.path.dirname(target))
    try:
        os.link(source, target, follow_symlinks=False)
        return True
    except OSError:
        pass
    if size > COPY_LIMIT:
        return False
    try:
        shutil.copy2(source, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def put_back(repo: Repo, kept: Kept, keep_new: bool) -> tuple[list[str], list[str]]:
    """Link back what the generator deleted (and, unless `keep_new`, replaced): (paths put back, paths of
    nested repositories among them). OSError when a file cannot be put back."""
    restored: list[str] = []
    for path, identity in kept.files.items():
        full = os.path.join(repo.root, path)
        _no_link_above(repo.root, path)  # git listed no path below a link: the generator put it there
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            info = None
        if info is not None and (keep_new or (info.st_dev, info.st_ino) == identity):
            continue
        if info is not None or os.path.islink(full):
            _clear(full)
        makedirs(os.path.dirname(full))
        source = os.path.join(kept.folder, path)
        try:
            os.link(source, full, follow_symlinks=False)
        except OSError:
            shutil.copy2(source, full, follow_symlinks=False)
        restored.append(path)
    for path, target in kept.links.items():
        full = os.path.join(repo.root, path)
        _no_link_above(repo.root, path)
        if os.path.islink(full) and (keep_new or os.readlink(full) == target):
            continue
        if os.path.lexists(full) and keep_new:
            continue
        if os.path.lexists(full):
            _clear(full)
        makedirs(os.path.dirname(full))
        os.symlink(target, full)
        restored.append(path)
    touched = sorted({top for top in kept.nested for path in restored if path.startswith(top + "/")})
    return restored, touched


def _clear(full: str) -> None:
    """Remove what the generator put where a kept file was (a file, a link, or a directory of its own)."""
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)
