"""What loopgate reads of an attempt before its own git does: the worktree walked from names and
sizes (files past what a change may hold, repositories made inside it), and the diff read within a
cap. A maker chooses what its attempt leaves; loopgate's own reading of it must stay bounded, and
must never run anything of the maker's outside the sandbox."""

from __future__ import annotations

from typing import Any

from loopgate.runner import git as gitops
from loopgate.runner.outcome import NestedRepository


def too_large_to_judge(entry: dict[str, Any], why: str, over: str, signature: str = "too-large") -> dict[str, Any]:
    """The attempt failed, with feedback the maker can act on: it made more than loopgate reads."""
    entry.update(verdict="failed", signature=signature, feedback="; ".join(filter(None, [why, over])))
    return entry


def scanned(worktrees: gitops.Worktrees, item_id: str, contained: bool) -> gitops.WorktreeScan:
    """The worktree walked once before loopgate's git reads it. Contained, a repository inside it
    escalates: `git add` asks it whether it is dirty (`git status` there, under its own config), and
    a clean filter in the config of one the maker made ran outside the sandbox with your rights."""
    scan = worktrees.scan(item_id)
    if scan.nested and contained:
        raise NestedRepository.naming(scan.nested)
    return scan


def too_large(worktrees: gitops.Worktrees, item_id: str, contained: bool, entry: dict[str, Any], over: str) -> bool:
    """Fail the attempt, with feedback the maker can act on, when it left files past the size any
    change may hold: found from their sizes before git hashes a byte of them."""
    big = scanned(worktrees, item_id, contained).oversized
    if not big:
        return False
    mib = gitops.MAX_FILE_BYTES // (1024 * 1024)
    shown = ", ".join(f"{name} ({size / (1024 * 1024):.0f} MiB)" for name, size in big[:5])
    more = f" and {len(big) - 5} more" if len(big) > 5 else ""
    entry["changed_files"] = [name for name, _ in big]
    too_large_to_judge(entry, f"files larger than {mib} MiB, more than a change may hold (GitHub refuses them): "
                              f"{shown}{more}; remove them, or ignore them in .gitignore if they are build output",
                       over, "too-large:" + ",".join(name for name, _ in big))
    return True


def diff_or_fail(worktrees: gitops.Worktrees, item_id: str, base: str, entry: dict[str, Any], over: str) -> str | None:
    """The change as a diff, or None with the attempt failed when it is too large to read."""
    try:
        return worktrees.diff(item_id, base)
    except gitops.GitOutputTooLarge:
        too_large_to_judge(entry, f"the change is larger than {gitops.MAX_DIFF_BYTES // (1024 * 1024)} MiB as a "
                                  "diff: too large to judge; make a smaller change", over)
        return None
