"""The git objects of an attempt: which the contained maker made (a push of one to a remote on this
machine is its push), and whether the commit stores each changed file as the gates read it.

Both read what the maker could plant or shape outside any sandbox: its object directory, and the
worktree's .gitattributes, whose conversions (working-tree-encoding, eol) decide what `git add` makes
of a file's bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat

from loopgate.runner.git import MAX_DIFF_BYTES, MAX_FILE_BYTES, GitError, Worktrees, git
from loopgate.smallfile import NotRegular, TooLarge, read_small

# a pack index lists 28 bytes and more an object: past this, no attempt's own objects
MAX_PACK_INDEX_BYTES = 16 * 1024 * 1024  # about 600,000 objects: more than any attempt writes
MAX_PACK_INDEXES = 64  # and never more packs than this are read (a maker's git packs rarely, if ever)
def objects_in(objects_dir: str, wanted: set[str]) -> set[str]:
    """Which of `wanted` are stored in one object directory itself (loose or packed), never its
    alternates: for a maker's own (runner/sandbox.py git_env), which it made in this attempt. Only the
    wanted ids are kept: a pack index the maker forged to list billions of objects took gigabytes."""
    found = {w for w in wanted if len(w) == 40 and re.fullmatch(r"[0-9a-f]{40}", w)
             and os.path.lexists(os.path.join(objects_dir, w[:2], w[2:]))}
    pack = os.path.join(objects_dir, "pack")
    if os.path.islink(pack) or found == wanted:  # the maker's to plant: a symlink is not followed anywhere
        return found
    with contextlib.suppress(OSError):
        for name in sorted(n for n in os.listdir(pack) if n.endswith(".idx"))[:MAX_PACK_INDEXES]:
            found.update(_pack_index(os.path.join(pack, name)) & wanted)
    return found


def _pack_index(path: str) -> set[str]:
    """The object ids a pack index lists. The maker writes this directory: the index is read as a
    small file it does not trust (non-blocking, never through a symlink, a regular file, capped: a FIFO
    there hung the run for good), and git reads it from memory within a minute."""
    try:
        data = read_small(path, MAX_PACK_INDEX_BYTES, follow=False)
        out = git(["show-index"], os.path.dirname(path), check=False, timeout=60, stdin=data)
    except (OSError, TooLarge, GitError):
        return set()
    return {line.split()[1] for line in out.splitlines() if len(line.split()) > 1}


LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"


def stored_differently(worktrees: Worktrees, item_id: str, base: str, tree: str) -> list[str]:
    """The changed files whose bytes in `tree` (what the commit will hold) are not the bytes in the
    worktree (what the gates read). A `.gitattributes` the maker wrote decides what `git add` stores:
    a secret written as UTF-16 under `working-tree-encoding` passed the secrets gate as binary and was
    committed as plain text. Line ends normalised to LF (`text`, `eol`) store the same text, and a
    Git LFS pointer stands for the content the gates read: neither is a difference."""
    raw = worktrees.run(item_id, ["diff-tree", "-r", "-z", "--no-renames", "--raw", base, tree],
                        errors="surrogateescape")
    fields = raw.split("\0")
    changed = []  # (name, blob id) of each added or modified file
    for meta, name in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.split()
        if len(parts) >= 5 and parts[4] != "D" and parts[1] != "160000":  # not deleted, not a submodule's commit
            changed.append((name, parts[3]))
    # one git for every blob (one a file took minutes for 100 000 files); as large as the diff may be
    ids = "".join(f"{blob}\n" for _, blob in changed).encode()
    out = worktrees.run(item_id, ["cat-file", "--batch"], errors="surrogateescape", stdin=ids,
                        max_bytes=MAX_DIFF_BYTES + 64 * len(changed)).encode("utf-8", "surrogateescape")
    found, at = [], 0
    for name, _ in changed:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        if len(header) < 3:  # "<id> missing": nothing to compare, so it is not as the gates read it
            found.append(os.fsencode(name).decode("utf-8", "replace"))
            at = header_end + 1
            continue
        size = int(header[2])
        stored = out[header_end + 1:header_end + 1 + size]
        at = header_end + 1 + size + 1
        if not _same(os.path.join(worktrees.path(item_id), name), stored):
            found.append(os.fsencode(name).decode("utf-8", "replace"))
    return found


def _same(path: str, stored: bytes) -> bool:
    try:
        mode = os.lstat(path).st_mode
        read = os.fsencode(os.readlink(path)) if stat.S_ISLNK(mode) else read_small(path, MAX_FILE_BYTES, follow=False)
    except (OSError, NotRegular, TooLarge):
        return False
    return stored in (read, read.replace(b"\r\n", b"\n")) or _lfs_pointer_to(stored, read)


def _lfs_pointer_to(stored: bytes, read: bytes) -> bool:
    """Whether `stored` is a Git LFS pointer to exactly `read`: its oid the bytes' SHA-256 and its size
    their length. A blob that merely began with the pointer's first line passed as one, and a secret
    converted by a working-tree-encoding after that line was committed unseen."""
    if not stored.startswith(LFS_POINTER) or len(stored) > 1024:
        return False
    fields = dict(line.split(b" ", 1) for line in stored.splitlines()[1:] if b" " in line)
    return (fields.get(b"oid") == b"sha256:" + hashlib.sha256(read).hexdigest().encode()
            and fields.get(b"size") == str(len(read)).encode())
