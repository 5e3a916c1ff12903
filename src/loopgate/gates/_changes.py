"""Which files a change touches, for the gates that judge paths (scope, forbidden) or lines (secrets).

Three sources, one at a time:

- `--base REF`: everything since the merge base of REF and HEAD: committed, staged and
  unstaged changes and untracked files (not ignored ones). Both sides of a rename count, and
  so do deletions.
- `--files-from FILE` (`-` is stdin), one path a line or NUL-separated (`git diff -z` output),
  or paths given as arguments (as pre-commit passes them): relative to the working directory.
- Nothing: the staged changes (index against HEAD), as `git commit` would record them.

Every path is made relative to the repository root. A path that leaves the repository (`..`,
an absolute path elsewhere, a symlink, or a symlinked directory, pointing outside) is marked
with the reason, so a gate can fail it whatever its rules say.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence

from loopgate import codes
from loopgate.findings import Finding
from loopgate.gates._changecodes import (
    BAD_BASE,
    BAD_FILE_LIST,
    BAD_PATTERN,
    BAD_PATTERN_FILE,
    CONFLICTING_SOURCES,
    GIT_FAILED,
    GIT_UNAVAILABLE,
    NOT_A_REPOSITORY,
    OUTSIDE_REPOSITORY,
)
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer
from loopgate.records import field, record

# The codes live in _changecodes; the gates import them from here, with the machinery that reports them.
__all__ = [
    "BAD_BASE", "BAD_FILE_LIST", "BAD_PATTERN", "BAD_PATTERN_FILE", "CHANGE_CODES", "CONFLICTING_SOURCES",
    "GIT_FAILED", "GIT_UNAVAILABLE", "NOT_A_REPOSITORY", "OUTSIDE_REPOSITORY", "Changed", "Changes", "Git",
    "Problem", "Resolver", "Source", "collect", "committed_reader", "error_result", "name_status", "not_regular",
    "read_list", "repository_root", "resolve_base",
]

GIT_TIMEOUT = 120.0


# Every code the changed-files machinery can report: a gate built on it lists these in its docs.
CHANGE_CODES = (BAD_BASE, BAD_FILE_LIST, BAD_PATTERN, BAD_PATTERN_FILE, CONFLICTING_SOURCES, GIT_FAILED,
                GIT_UNAVAILABLE, NOT_A_REPOSITORY, OUTSIDE_REPOSITORY)


@record(frozen=True)
class Problem:
    """Why a gate could not judge the change: a finding for the report, a reason for the status line."""

    finding: Finding
    reason: str


def error_result(gate: str, problems: Sequence[Problem], timer: Timer, summary: str = "") -> GateResult:
    return GateResult(gate, GateStatus.ERROR, [p.finding for p in problems], timer.elapsed(),
                      summary=summary or "nothing checked", reason="; ".join(p.reason for p in problems))


@record(frozen=True)
class Changed:
    path: str  # relative to the repository root, '/'-separated; as given when it leads outside
    shown: str  # how findings name it: relative to the gate's working directory
    status: str  # added, modified, deleted, untracked, given, ...
    outside: str = ""  # why the path leads outside the repository; "" when it does not
    via: str = ""  # the path as given, when a symlinked directory inside the repository redirected it

    def label(self) -> str:
        extra = [] if self.status in ("given", "modified") else [self.status]
        if self.via:
            extra.append(f"really {self.path}")
        return f"{self.shown} ({', '.join(extra)})" if extra else self.shown


@record
class Changes:
    root: str  # absolute, symlink-free repository root (the working directory outside git)
    files: list[Changed]
    described: str  # follows "N files": "since main (merge base 1a2b3c4d)", "staged", "given as arguments"
    mode: str  # "base", "staged" or "given"


@record(frozen=True)
class Source:
    base: str = ""
    files_from: str = ""
    files: tuple[str, ...] = ()


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def _problem(code: codes.Code, message: str, path: str = ".") -> _Failed:
    return _Failed(Problem(code.at(path, 1, 1, message), message))


class Git:
    """Runs git in one directory; every failure becomes a `_Failed` carrying a finding."""

    def __init__(self, cwd: str, env: dict[str, str] | None) -> None:
        self.cwd = cwd
        self.env = {**os.environ, **(env or {}), "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}

    def run(self, *args: str, ok: tuple[int, ...] = (0,), stdin: bytes | None = None) -> tuple[int, bytes]:
        command = ["git", *args]
        try:
            done = subprocess.run(command, cwd=self.cwd, env=self.env, input=stdin, capture_output=True,
                                  timeout=GIT_TIMEOUT, check=False)
        except FileNotFoundError as err:
            raise _problem(GIT_UNAVAILABLE, "git not found: cannot list the changed files") from err
        except subprocess.TimeoutExpired as err:
            raise _problem(GIT_UNAVAILABLE, f"`{' '.join(command[:4])}` timed out after {GIT_TIMEOUT:.0f}s") from err
        except OSError as err:
            raise _problem(GIT_UNAVAILABLE, f"cannot run git: {err.strerror or err}") from err
        if done.returncode not in ok:
            error = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = error[-1] if error else f"exit code {done.returncode}"
            if "not a git repository" in detail or "must be run in a work tree" in detail:
                raise _problem(NOT_A_REPOSITORY, f"{os.path.abspath(self.cwd)} is not in a git work tree")
            raise _problem(GIT_FAILED, f"`{' '.join(command[:4])}` failed: {detail}")
        return done.returncode, done.stdout

    def out(self, *args: str) -> bytes:
        return self.run(*args)[1]


def repository_root(cwd: str, env: dict[str, str] | None) -> str:
    """The work tree's top level; raises `_Failed` outside git."""
    top = Git(cwd, env).out("rev-parse", "--show-toplevel")
    return os.path.realpath(os.fsdecode(top.rstrip(b"\n")))


def resolve_base(git: Git, base: str) -> tuple[str, str]:
    """(commit to diff against, its description). The merge base with HEAD when there is one."""
    code, out = git.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}", ok=(0, 1, 128))
    if code != 0:
        raise _problem(BAD_BASE, f"--base '{base}' is not a commit in this repository")
    commit = out.decode().strip()
    code, out = git.run("merge-base", commit, "HEAD", ok=(0, 1, 128))
    if code == 0:
        merge_base = out.decode().strip()
        if merge_base != commit:
            return merge_base, f"since {base} (merge base {merge_base[:10]})"
    return commit, f"since {base} ({commit[:10]})"


def name_status(data: bytes) -> Iterator[tuple[str, str]]:
    """(status word, path) from `git diff --name-status -z`; a rename or copy gives both sides."""
    tokens = data.split(b"\0")
    i = 0
    words = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed", "U": "unmerged"}
    while i < len(tokens):
        status = tokens[i].decode("ascii", "replace")
        if not status:
            i += 1
            continue
        if status[0] in "RC" and i + 2 < len(tokens):
            if status[0] == "R":
                yield "renamed away", os.fsdecode(tokens[i + 1])
            yield "renamed here" if status[0] == "R" else "copied here", os.fsdecode(tokens[i + 2])
            i += 3
        else:
            yield words.get(status[0], "changed"), os.fsdecode(tokens[i + 1]) if i + 1 < len(tokens) else ""
            i += 2


class Resolver:
    """Makes paths repository-relative and finds those that lead outside.

    One `lstat` per path and per directory (cached); nothing under a directory that does not
    exist is looked at, so a long list of deleted or hypothetical paths stays cheap.
    """

    def __init__(self, root: str, cwd: str) -> None:
        self.root = root
        self._base = root.rstrip("/") + "/"
        self.cwd = os.path.realpath(cwd)
        prefix = os.path.relpath(self.cwd, root)
        self.prefix = "" if prefix == "." else (None if _up(prefix) else prefix + "/")
        # directory -> (its real path relative to the root, why it leads outside or "", exists)
        self._dirs: dict[str, tuple[str, str, bool]] = {"": ("", "", True)}

    def _inside(self, real: str) -> str | None:
        rel = os.path.relpath(real, self.root)
        return None if _up(rel) else ("" if rel == "." else rel)

    def _mode(self, rel: str) -> int | None:
        try:
            return os.lstat(self._base + rel).st_mode
        except (OSError, ValueError):
            return None

    def _dir(self, rel_dir: str) -> tuple[str, str, bool]:
        known = self._dirs.get(rel_dir)
        if known is not None:
            return known
        # Iterative, from the deepest directory already known down to this one: a path thousands of
        # directories deep must not exhaust the interpreter's stack.
        pending = [rel_dir]
        parent = rel_dir.rpartition("/")[0]
        while parent not in self._dirs:
            pending.append(parent)
            parent = parent.rpartition("/")[0]
        for directory in reversed(pending):
            self._dirs[directory] = self._step(directory)
        return self._dirs[rel_dir]

    def _step(self, rel_dir: str) -> tuple[str, str, bool]:
        """`rel_dir`'s answer, its parent's being known."""
        parent, _, name = rel_dir.rpartition("/")
        real_parent, outside, exists = self._dirs[parent]
        candidate = f"{real_parent}/{name}" if real_parent else name
        if outside or not exists:
            return ("", outside, False) if outside else (candidate, "", False)
        mode = self._mode(candidate)
        if mode is not None and stat.S_ISLNK(mode):
            target = os.path.realpath(self._base + candidate)
            inside = self._inside(target)
            return (inside, "", True) if inside is not None else (
                "", f"directory {rel_dir} is a symbolic link to {target}, outside the repository", False)
        return candidate, "", mode is not None

    def real(self, rel: str) -> tuple[str, str]:
        """(path with symlinked directories resolved, why it leads outside or "")."""
        parent, _, name = rel.rpartition("/")
        real_parent, outside, exists = self._dir(parent)
        if outside:
            return rel, outside
        path = f"{real_parent}/{name}" if real_parent else name
        if exists:
            mode = self._mode(path)
            if mode is not None and stat.S_ISLNK(mode):
                target = os.path.realpath(self._base + path)
                if self._inside(target) is None:
                    return path, f"is a symbolic link to {target}, outside the repository"
        return path, ""

    def shown(self, rel: str) -> str:
        if self.prefix == "":
            return rel
        if self.prefix is not None and rel.startswith(self.prefix):
            return rel[len(self.prefix):]
        return os.path.relpath(os.path.join(self.root, rel), self.cwd)

    def from_git(self, status: str, rel: str) -> Changed:
        path, outside = self.real(rel)
        return Changed(path, self.shown(rel), status, outside)

    def given(self, raw: str) -> Changed:
        if self.prefix == "" and _is_plain(raw):
            rel, shown = raw, raw
        else:
            absolute = os.path.normpath(raw if os.path.isabs(raw) else os.path.join(self.cwd, raw))
            if os.path.isabs(raw):
                absolute = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
            rel = os.path.relpath(absolute, self.root)
            shown = raw if os.path.isabs(raw) else os.path.relpath(absolute, self.cwd)
            if _up(rel):
                why = "is an absolute path outside the repository" if os.path.isabs(raw) else \
                    "leads outside the repository through '..'"
                return Changed(raw, raw, "given", why)
        path, outside = self.real(rel)
        return Changed(path, shown, "given", outside, via=raw if path != rel else "")


def _up(rel: str) -> bool:
    return rel == ".." or rel.startswith("../") or os.path.isabs(rel)


def _is_plain(raw: str) -> bool:
    """Already a normal relative path: nothing to resolve (the common case, kept fast)."""
    return bool(raw) and raw[0] != "/" and not raw.startswith("./") and "/." not in raw and "//" not in raw \
        and raw not in (".", "..") and not raw.startswith("../") and not raw.endswith("/")


def not_regular(mode: int) -> str:
    """What a path that is not a regular file is, for the message: gates never open FIFOs or devices."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a regular file; not opened, as reading it could wait for ever"
    return "not a regular file (a socket or a device); not opened"


# A files list may be far bigger than a pattern file (a monorepo's whole tree, NUL-separated), but a
# stream without end (`< /dev/zero`) must not be read until the process is killed for its memory.
MAX_LIST_BYTES = 64 * 1024 * 1024


def read_list(files_from: str, cwd: str) -> list[str]:
    """Paths from a file or stdin: NUL-separated if the data holds a NUL, else one a line."""
    try:
        if files_from == "-":
            if sys.stdin is None:
                raise _problem(BAD_FILE_LIST, "--files-from -: there is no standard input", "-")
            data = sys.stdin.buffer.read(MAX_LIST_BYTES + 1)
        else:
            with open(os.path.join(cwd, files_from), "rb") as handle:
                data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as err:
        raise _problem(BAD_FILE_LIST, f"cannot read --files-from {files_from}: {err.strerror or err}",
                       files_from) from err
    if len(data) > MAX_LIST_BYTES:
        raise _problem(BAD_FILE_LIST, f"--files-from {files_from}: the list is larger than "
                       f"{MAX_LIST_BYTES // (1024 * 1024)} MiB; not a list of files", files_from)
    entries = data.split(b"\0") if b"\0" in data else [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [os.fsdecode(entry) for entry in entries if entry]


@record
class _Collector:
    resolver: Resolver
    seen: set[str] = field(default_factory=set)
    files: list[Changed] = field(default_factory=list)

    def add(self, changed: Changed) -> None:
        key = changed.path if not changed.outside else "\0" + changed.path
        if key not in self.seen:
            self.seen.add(key)
            self.files.append(changed)


def collect(source: Source, context: GateContext) -> Changes | Problem:
    """The changed files from the one source given; a Problem when they cannot be known."""
    given = [name for name, value in (("--base", source.base), ("--files-from", source.files_from),
                                      ("file arguments", source.files)) if value]
    if len(given) > 1:
        message = f"{' and '.join(given)} given together; use one source of changed files"
        return Problem(CONFLICTING_SOURCES.at(".", 1, 1, message), message)
    try:
        if source.files or source.files_from:
            return _from_list(source, context)
        return _from_git(source.base, context)
    except _Failed as failed:
        return failed.problem


def _from_list(source: Source, context: GateContext) -> Changes:
    names = list(source.files) if source.files else read_list(source.files_from, context.cwd)
    try:
        root = repository_root(context.cwd, context.env)
    except _Failed:  # a list needs no git: outside a repository the working directory is the root
        root = os.path.realpath(context.cwd)
    collector = _Collector(Resolver(root, context.cwd))
    for name in names:
        collector.add(collector.resolver.given(name))
    described = "given as arguments" if source.files else \
        "listed on stdin" if source.files_from == "-" else f"listed in {source.files_from}"
    return Changes(root, collector.files, described, "given")


def _from_git(base: str, context: GateContext) -> Changes:
    root = repository_root(context.cwd, context.env)
    git = Git(root, context.env)
    # a submodule's changed commit is a change; its work tree is no part of any commit, and looking into
    # it (`none`) runs `git status` there under that repository's config: a clean filter a maker put in
    # a repository it made at a submodule's path ran outside the sandbox in `loopgate run`
    diff = ["diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--no-color", "--ignore-submodules=dirty"]
    collector = _Collector(Resolver(root, context.cwd))
    if base:
        commit, described = resolve_base(git, base)
        entries = list(name_status(git.out(*diff, commit, "--")))
        others = git.out("ls-files", "--others", "--exclude-standard", "-z")
        entries += [("untracked", os.fsdecode(p)) for p in others.split(b"\0") if p]
        mode = "base"
    else:
        described, mode = "staged", "staged"
        entries = list(name_status(git.out(*diff, "--cached", "--")))
    for status, rel in entries:
        if rel:
            collector.add(collector.resolver.from_git(status, rel))
    return Changes(root, collector.files, described, mode)


# -- files as the change's base holds them ------------------------------------------------------

def committed_reader(base: str, context: GateContext) -> Callable[[str], bytes | None] | None:
    """Reads a file as the change's base holds it: the merge base with `base`, or HEAD (staged changes,
    given files). None outside git or before the first commit. The function takes an absolute path and
    gives None for a path outside the repository or not in that commit (never reads more than 2 MiB + 1)."""
    try:
        root = repository_root(context.cwd, context.env)
        git = Git(root, context.env)
        code, _ = git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1, 128))
        if code != 0:
            return None
        commit = resolve_base(git, base)[0] if base else "HEAD"
    except _Failed:
        return None  # the gate reports a bad --base or a broken repository itself

    def read(path: str) -> bytes | None:
        # the path as named first, then with its symlinks resolved: a change that makes `.loop` (or the
        # spec) a symlink to a file of its own must not turn "the base's file" into "not at the base"
        named = os.path.relpath(os.path.normpath(os.path.abspath(path)), root)
        for rel in dict.fromkeys((named, os.path.relpath(os.path.realpath(path), root))):
            if _up(rel):
                continue
            try:
                # a symlink's blob is its target's name, not the file: only a regular file is the base's file
                code, entry = git.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--", rel,
                                      ok=(0, 1, 128))
                if code != 0 or not entry.startswith(b"100"):
                    continue
                code, size = git.run("cat-file", "-s", f"{commit}:{rel}", ok=(0, 1, 128))
                if code != 0:
                    continue
                if int(size.strip() or b"0") > 2 * 1024 * 1024:
                    return b"\0" * (2 * 1024 * 1024 + 1)  # over the limit: reported as too large, never loaded
                return git.out("cat-file", "blob", f"{commit}:{rel}")
            except (_Failed, ValueError):
                return None
        return None
    return read
