"""Which markdown files the links gate reads, and parsing them (on several cores for a large tree)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Collection, Iterable, Iterator

from loopgate import codes, spawn
from loopgate.findings import Finding
from loopgate.gates import _mdlinks
from loopgate.gates._linkcodes import PATH_NOT_FOUND
from loopgate.gates.base import GateContext
from loopgate.treewalk import walk

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from loopgate.gates._patterns import RuleSet

MARKDOWN = (".md", ".markdown")
_SKIP_DIRS = frozenset({"node_modules", "__pycache__"})
_POOL_MIN_BYTES = 2 * 1024 * 1024  # below this, starting worker processes costs more than it saves


def collect(paths: Iterable[str], context: GateContext, excluded: RuleSet | None,
            extra: tuple[str, ...] = ()) -> tuple[list[str], int, list[Finding]]:
    """Absolute paths of the markdown files to check, each once, in a stable order; and how many
    files that are not regular files (FIFOs, devices, sockets) the directories held. `extra`: more
    suffixes that are markdown pages here (a Docusaurus site's `.mdx`)."""
    found: dict[str, None] = {}
    not_regular = 0
    problems: list[Finding] = []
    base = os.path.abspath(context.cwd)
    for named in paths:
        given = printable(named)
        full = os.path.normpath(os.path.join(base, named))
        mode = _mode(full)
        if stat.S_ISDIR(mode):
            files, skipped = _markdown_under(full, context.env, extra)
            found.update(dict.fromkeys(files))
            not_regular += skipped
        elif stat.S_ISREG(mode):
            found[full] = None
        elif mode:  # reading a FIFO waits for a writer forever; a device may never end
            problems.append(codes.UNREADABLE.at(given, 1, 1, f"{given}: not a regular file (a FIFO, device or "
                                                "socket); the links gate never opens one"))
        else:
            problems.append(PATH_NOT_FOUND.at(given, 1, 1, f"{given}: no such file or directory"))
    if excluded is not None and excluded.rules:
        found = {f: None for f in found
                 if not excluded.included(os.path.relpath(f, base).replace(os.sep, "/"))}
    return list(found), not_regular, problems


def printable(name: str) -> str:
    """A file name as text every output format can carry: bytes that are not UTF-8 (which the OS hands
    Python as lone surrogates, and JSON, SARIF and JUnit cannot hold) shown as `\\xff` escapes."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def _mode(full: str) -> int:
    """`st_mode` of what `full` names (symlinks followed); 0 when nothing is there."""
    try:
        return os.stat(full).st_mode
    except (OSError, ValueError):
        return 0


class Skipped(Collection[str]):
    """Folder names a walk (treewalk.walk) does not enter: the named ones and every dot folder (`.git`, `.venv`)."""

    def __init__(self, names: Collection[str] = ()) -> None:
        self.names = frozenset(names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self.names or name.startswith("."))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _markdown_under(directory: str, env: dict[str, str] | None = None,
                    extra: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """The markdown files under `directory`, and how many other things named *.md were skipped."""
    names = _git_listed(directory, env, extra)
    if names is None:
        names = []
        # Iteratively (treewalk): os.walk recursed once per level, RecursionError on a tree ~1,000 deep.
        for top, files in walk(directory, Skipped(_SKIP_DIRS)):
            names += [os.path.join(top, n) for n in files if n.lower().endswith(MARKDOWN + extra)]
    regular, skipped = [], 0
    for full in names:
        mode = _mode(full)
        if stat.S_ISREG(mode) or not mode:  # gone or a broken link: reported as unreadable when read
            regular.append(full)
        elif not stat.S_ISDIR(mode):
            skipped += 1
    return regular, skipped


def _git_listed(directory: str, env: dict[str, str] | None, extra: tuple[str, ...] = ()) -> list[str] | None:
    """Markdown files git tracks or would track under `directory` (ignored ones left out); None outside git.

    git lists no FIFO or device it does not track; a tracked file replaced by one is listed and
    then skipped (and counted) by the caller.
    """
    try:
        done = spawn.git(directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate",
                         "--", "*.md", "*.markdown", "*.MD", "*.Md", "*.MARKDOWN", *(f"*{suffix}" for suffix in extra),
                         env=env, timeout=60)
    except OSError:  # not found, not started, or no answer in time (TimeoutError)
        return None
    if done.returncode != 0:
        return None
    names = sorted({n for n in os.fsdecode(done.stdout).split("\0") if n})
    return [os.path.normpath(os.path.join(directory, n)) for n in names
            if os.path.lexists(os.path.join(directory, n))]  # deleted but still in the index: gone


def root(cwd: str) -> str:
    """Where `/path` links start: the repository root, or the working directory outside git."""
    here = os.path.abspath(cwd)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def parse_all(files: list[str], jobs: int) -> dict[str, _mdlinks.Parsed]:
    """Parse every file; on a large tree, worker processes take a share each while this one parses its own."""
    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(files) < 2 * workers or _total_size(files) < _POOL_MIN_BYTES:
        return {f: _mdlinks.parse_file(f) for f in files}
    from loopgate.gates._linkpool import parse_shared  # noqa: PLC0415 - threads and subprocess: big trees only

    return parse_shared(files, workers)


def _total_size(files: list[str]) -> int:
    total = 0
    for full in files:
        with contextlib.suppress(OSError):
            total += os.path.getsize(full)
        if total >= _POOL_MIN_BYTES:
            break
    return total

