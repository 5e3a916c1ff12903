"""The required gates of quality-gate-checklist.md as the change's base holds them.

`loopgate check` reads the checklist from the tree it judges, so one change could drop a required
gate, move it to Advisory Gates, or give it `--no-defaults`, and pass its own check. The base's
required entries are therefore compared with the tree's: every one the change removes, demotes or
edits still runs, as the base wrote it, and decides (a reviewed change to the checklist on the
default branch is the way to change what is required).
"""

from __future__ import annotations

import os
from typing import Any

from loopgate.artifacts.artifact import check_artifact
from loopgate.artifacts.kinds import CHECKLIST
from loopgate.artifacts.loader import MAX_BYTES, loaded_from_bytes
from loopgate.config import config_revision
from loopgate.gitquery import ask_git
from loopgate.records import record

# what makes an entry judge differently; `description:` does not
_JUDGING = ("gate", "command", "args", "paths", "timeout")


@record(frozen=True)
class BaseEntry:
    name: str
    entry: dict[str, Any]
    revision: str
    why: str  # "removed", "moved to Advisory Gates", "changed"
    path: str = ""  # the base's checklist, relative to the repository


def _repo_paths(root: str, path: str) -> list[str]:
    """`path` relative to the repository: as named (`.loop/...`), then with its symlinks resolved. The
    base holds the named path even when the change made `.loop` a symlink to a checklist of its own."""
    top = ask_git(root, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0:
        return []
    real_top = os.path.realpath(os.fsdecode(top.stdout.rstrip(b"\n")))
    found = []
    for where in (os.path.normpath(os.path.join(os.path.realpath("."), path)), os.path.realpath(path)):
        rel = os.path.relpath(where, real_top)
        if not rel.startswith("..") and rel.replace(os.sep, "/") not in found:
            found.append(rel.replace(os.sep, "/"))
    return found


def _required_at(root: str, rel: str, revision: str) -> dict[str, Any] | None:
    size = ask_git(root, "cat-file", "-s", f"{revision}:{rel}")
    if size is None or size.returncode != 0 or int(size.stdout.strip() or b"0") > MAX_BYTES:
        return None  # not there at the base (a new loop), or not a checklist loopgate reads
    blob = ask_git(root, "cat-file", "blob", f"{revision}:{rel}")
    if blob is None or blob.returncode != 0:
        return None
    loaded = loaded_from_bytes(rel, blob.stdout)
    if loaded.text is None:
        return None
    artifact = check_artifact(rel, CHECKLIST, loaded.text)
    required = artifact.data.get("required_gates")
    return required if isinstance(required, dict) else None


def _judging(entry: Any) -> dict[str, Any]:
    return {k: entry.get(k) for k in _JUDGING} if isinstance(entry, dict) else {}


def _at_base(root: str, revision: str, candidates: list[str]) -> str | None:
    """The checklist the base would have found: the first of `candidates` (the paths `loopgate check`
    looks at, in its order) that the base commit holds. A change that adds `./quality-gate-checklist.md`
    must not hide the base's `.loop/quality-gate-checklist.md` behind it."""
    for candidate in candidates:
        for rel in _repo_paths(root, candidate):
            # a regular file only: a symlink's blob is its target's name, not the checklist
            there = ask_git(root, "--literal-pathspecs", "ls-tree", "-z", "--full-tree", revision, "--", rel)
            if there is not None and there.returncode == 0 and there.stdout.startswith(b"100"):
                return rel
    return None


def weakened_entries(checklist: str, root: str, base: str, working: dict[str, Any],
                     candidates: list[str] | None = None) -> list[BaseEntry]:
    """The base's required entries the working checklist (`working`: its parsed data) removes, demotes or
    changes. `base` is the change's base as the gates take it ("" for HEAD: the staged change).
    `candidates`: the checklist paths looked for, in order, when none was named (default: `checklist`)."""
    revision = config_revision(root, base) if _repo_paths(root, checklist) else ""
    rel = _at_base(root, revision, candidates or [checklist]) if revision else None
    if rel is None:
        return []
    committed = _required_at(root, rel, revision)
    if not committed:
        return []
    now_required = working.get("required_gates") or {}
    now_advisory = working.get("advisory_gates") or {}
    found = []
    for name, entry in committed.items():
        if name not in now_required:
            why = "moved to Advisory Gates" if name in now_advisory else "removed"
        elif _judging(now_required[name]) != _judging(entry):
            why = "changed"
        else:
            continue
        found.append(BaseEntry(name, entry if isinstance(entry, dict) else {}, revision, why, rel))
    return found
