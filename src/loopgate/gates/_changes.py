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
import re
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from loopgate import codes
from loopgate.findings import Finding, Severity
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer

E = Severity.ERROR

GIT_UNAVAILABLE = codes.define(
    "LG431", "git-unavailable", E, "git could not be run.",
    "The gate needs git to find the changed files (`--base`, or the staged changes when no files are "
    "given), but the `git` executable was not found or did not answer in time. Nothing was checked, so "
    "the gate reports an environment error (exit 2), not a verdict.",
    "Install git and put it on PATH, or give the files to check as arguments or with `--files-from`.",
)
NOT_A_REPOSITORY = codes.define(
    "LG432", "not-a-repository", E, "The directory is not inside a git work tree.",
    "Without arguments or `--files-from`, the changed files come from git, and the gate ran outside a git "
    "work tree (or in a bare repository). Nothing was checked (exit 2).",
    "Run the gate inside the repository, or list the files with `--files-from FILE` or as arguments.",
)
BAD_BASE = codes.define(
    "LG433", "bad-base-ref", E, "`--base` does not name a commit in this repository.",
    "The gate diffs against the merge base of `--base` and HEAD, and git could not resolve the ref to a "
    "commit: a typo, a branch that was never fetched, or a shallow CI clone that lacks it. Nothing was "
    "checked (exit 2).",
    "Use an existing branch, tag or commit id; in CI fetch it first (e.g. `git fetch origin main` and "
    "`--base origin/main`, with enough depth to reach the merge base).",
)
GIT_FAILED = codes.define(
    "LG434", "git-failed", E, "A git command failed.",
    "git ran but reported an error the gate cannot work around (a corrupt repository, a repository owned "
    "by another user that git refuses as unsafe, a lock). The message carries git's own words. Nothing "
    "was checked (exit 2).",
    "Run the git command from the message by hand to see the problem, fix it, and run the gate again.",
)
BAD_FILE_LIST = codes.define(
    "LG435", "bad-file-list", E, "The `--files-from` list cannot be read.",
    "The file (or stdin) that lists the paths to check does not exist or cannot be read, so the gate "
    "does not know what changed (exit 2).",
    "Check the path; use `--files-from -` to read the list from stdin, e.g. "
    "`git diff --name-only -z main | loopgate gate scope --files-from -`.",
    input_error=True,
)
OUTSIDE_REPOSITORY = codes.define(
    "LG436", "path-outside-repository", E, "A changed path leads outside the repository.",
    "The path goes up through `..`, is an absolute path elsewhere, or is (or runs through) a symbolic "
    "link whose target lies outside the repository. A change there is outside anything the loop may "
    "touch, so it fails whatever the allow or forbid rules say.",
    "Keep changes inside the repository; replace a symlink that points outside with the file itself or "
    "remove it.",
)
CONFLICTING_SOURCES = codes.define(
    "LG437", "conflicting-sources", E, "More than one source of changed files was given.",
    "The changed files come from exactly one of `--base REF`, `--files-from FILE` or file arguments. "
    "Given together it is unclear which set the gate should judge. A pre-commit hook always passes file "
    "names, so `--base` cannot be combined with it unless `pass_filenames: false` is set.",
    "Keep one of `--base`, `--files-from` and the file arguments.",
    input_error=True,
)
BAD_PATTERN = codes.define(
    "LG438", "bad-pattern", E, "A path pattern is not a valid gitignore pattern.",
    "Patterns follow `.gitignore` syntax (`*`, `**`, `?`, `[a-z]`, a trailing `/` for directories, a "
    "leading `!` to negate). This one could not be compiled (e.g. a lone `!`, or a character range such "
    "as `[z-a]`), so the gate cannot apply the rules as written (exit 2).",
    "Fix the pattern; `git check-ignore --no-index -v PATH` with the pattern in a .gitignore shows how git "
    "reads it.",
    input_error=True,
)
BAD_PATTERN_FILE = codes.define(
    "LG439", "bad-pattern-file", E, "A pattern file cannot be read.",
    "A file given with `--allow-file` or `--forbid-file` does not exist, cannot be read, is not UTF-8 or "
    "is implausibly large (over 2 MiB), so its rules cannot be applied (exit 2).",
    "Check the path (relative to the directory the gate runs in); the file holds one pattern a line.",
    input_error=True,
)

GIT_TIMEOUT = 120.0


# Every code the changed-files machinery can report: a gate built on it lists these in its docs.
CHANGE_CODES = (BAD_BASE, BAD_FILE_LIST, BAD_PATTERN, BAD_PATTERN_FILE, CONFLICTING_SOURCES, GIT_FAILED,
                GIT_UNAVAILABLE, NOT_A_REPOSITORY, OUTSIDE_REPOSITORY)


@dataclass(frozen=True)
class Problem:
    """Why a gate could not judge the change: a finding for the report, a reason for the status line."""

    finding: Finding
    reason: str


def error_result(gate: str, problems: Sequence[Problem], timer: Timer, summary: str = "") -> GateResult:
    return GateResult(gate, GateStatus.ERROR, [p.finding for p in problems], timer.elapsed(),
                      summary=summary or "nothing checked", reason="; ".join(p.reason for p in problems))


@dataclass(frozen=True)
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


@dataclass
class Changes:
    root: str  # absolute, symlink-free repository root (the working directory outside git)
    files: list[Changed]
    described: str  # follows "N files": "since main (merge base 1a2b3c4d)", "staged", "given as arguments"
    mode: str  # "base", "staged" or "given"


@dataclass(frozen=True)
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
        parent, _, name = rel_dir.rpartition("/")
        real_parent, outside, exists = self._dir(parent)
        candidate = f"{real_parent}/{name}" if real_parent else name
        if outside or not exists:
            answer = ("", outside, False) if outside else (candidate, "", False)
        else:
            mode = self._mode(candidate)
            answer = (candidate, "", mode is not None)
            if mode is not None and stat.S_ISLNK(mode):
                target = os.path.realpath(self._base + candidate)
                inside = self._inside(target)
                answer = (inside, "", True) if inside is not None else (
                    "", f"directory {rel_dir} is a symbolic link to {target}, outside the repository", False)
        self._dirs[rel_dir] = answer
        return answer

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


def read_list(files_from: str, cwd: str) -> list[str]:
    """Paths from a file or stdin: NUL-separated if the data holds a NUL, else one a line."""
    try:
        if files_from == "-":
            if sys.stdin is None:
                raise _problem(BAD_FILE_LIST, "--files-from -: there is no standard input", "-")
            data = sys.stdin.buffer.read()
        else:
            with open(os.path.join(cwd, files_from), "rb") as handle:
                data = handle.read()
    except OSError as err:
        raise _problem(BAD_FILE_LIST, f"cannot read --files-from {files_from}: {err.strerror or err}",
                       files_from) from err
    entries = data.split(b"\0") if b"\0" in data else [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [os.fsdecode(entry) for entry in entries if entry]


@dataclass
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
    diff = ["diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--no-color", "--ignore-submodules=none"]
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


# -- added lines, for the gates that look inside files -------------------------------------------

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {ord(k): v for k, v in zip("abtnvfr\"\\", b"\a\b\t\n\v\f\r\"\\", strict=True)}


@dataclass(frozen=True)
class Target:
    """A file whose content a gate should look at."""

    path: str  # relative to the repository root
    shown: str
    lines: frozenset[int] | None  # the added lines; None: the whole file
    blob: str = ""  # staged mode: the index blob holding the content (else read the working tree)
    skip: str = ""  # why it is not looked at: "symlink", "submodule"
    full: str = ""  # where to read it, when not under the root (a given path outside the repository)


@dataclass
class Targets:
    root: str
    files: list[Target]
    described: str
    mode: str  # "base", "staged" or "given"
    binary: int = 0  # files git called binary (no added lines to look at)


def unquote(name: bytes) -> bytes:
    """Undo git's C-style quoting of a path in diff headers (`"a/\\303\\274.txt"`)."""
    name = name.removesuffix(b"\t")  # git adds a tab after a name holding a space (a raw tab is quoted)
    if not (name.startswith(b'"') and name.endswith(b'"') and len(name) >= 2):
        return name
    out = bytearray()
    body, i = name[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == 0x5C and i + 1 < len(body):  # backslash
            following = body[i + 1]
            if 0x30 <= following <= 0x37:
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(following, following))
            i += 2
            continue
        out.append(char)
        i += 1
    return bytes(out)


def added_lines(patch: bytes) -> tuple[dict[str, set[int]], int]:
    """Added line numbers per destination path from `git diff -U0 --src-prefix=a/ --dst-prefix=b/`,
    and how many files git reported as binary."""
    added: dict[str, set[int]] = {}
    current: set[int] | None = None
    header = False
    binary = 0
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git "):
            header, current = True, None
        elif header and line.startswith(b"+++ "):
            name = unquote(line[4:])
            current = None if name == b"/dev/null" else added.setdefault(os.fsdecode(name[2:]), set())
        elif header and line.startswith(b"Binary files "):
            binary += 1
        elif line.startswith(b"@@ "):
            header = False
            match = _HUNK.match(line)
            if match and current is not None:
                start, count = int(match.group(1)), int(match.group(2) or b"1")
                current.update(range(start, start + count))
    return added, binary


def _raw_entries(data: bytes) -> Iterator[tuple[str, str, str, str]]:
    """(status letter, destination mode, destination blob, destination path) from `git diff --raw -z`."""
    tokens = data.split(b"\0")
    i = 0
    while i < len(tokens):
        head = tokens[i].decode("ascii", "replace")
        if not head.startswith(":"):
            i += 1
            continue
        fields = head[1:].split()
        letter = fields[4][:1] if len(fields) > 4 else "M"
        width = 2 if letter in ("R", "C") else 1
        if i + width < len(tokens):
            yield letter, fields[1], fields[3], os.fsdecode(tokens[i + width])
        i += 1 + width


def targets(source: Source, context: GateContext) -> Targets | Problem:
    """What to scan: given files whole, or the lines added since `--base` (or staged)."""
    if source.files or source.files_from:
        changes = collect(source, context)
        if isinstance(changes, Problem):
            return changes
        files = []
        for changed in changes.files:
            symlink = "symlink" if "symbolic link" in changed.outside else ""
            full = os.path.join(context.cwd, changed.path) if changed.outside else ""
            files.append(Target(changed.path, changed.shown, None, skip=symlink, full=full))
        return Targets(changes.root, files, changes.described, "given")
    try:
        return _diff_targets(source.base, context)
    except _Failed as failed:
        return failed.problem


def _diff_targets(base: str, context: GateContext) -> Targets:
    root = repository_root(context.cwd, context.env)
    git = Git(root, context.env)
    resolver = Resolver(root, context.cwd)
    if base:
        commit, described = resolve_base(git, base)
        revision = [commit]
    else:
        revision, described = ["--cached"], "staged"
    common = ["--no-ext-diff", "--no-color", "-M", "--ignore-submodules=none", *revision, "--"]
    raw = git.out("diff", "--raw", "-z", "--no-abbrev", *common)
    patch = git.out("diff", "-U0", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", *common)
    added, binary = added_lines(patch)
    files: list[Target] = []
    for letter, mode, blob, path in _raw_entries(raw):
        if letter == "D":
            continue
        skip = {"120000": "symlink", "160000": "submodule"}.get(mode, "")
        lines = frozenset(added.get(path, ()))
        if lines or skip:
            files.append(Target(path, resolver.shown(path), lines, "" if base else blob, skip))
    if base:
        others = git.out("ls-files", "--others", "--exclude-standard", "-z")
        for name in (os.fsdecode(p) for p in others.split(b"\0") if p):
            skip = "symlink" if os.path.islink(os.path.join(root, name)) else ""
            files.append(Target(name, resolver.shown(name), None, skip=skip))
    return Targets(root, files, described, "base" if base else "staged", binary)


def blob_sizes(root: str, blobs: list[str], env: dict[str, str] | None) -> dict[str, int]:
    """The size of each blob, in one `git cat-file --batch-check` (nothing read into memory)."""
    if not blobs:
        return {}
    try:
        _, out = Git(root, env).run("cat-file", "--batch-check", stdin="".join(f"{b}\n" for b in blobs).encode())
    except _Failed:
        return {}
    sizes = {}
    for line in out.decode("ascii", "replace").splitlines():
        head = line.split()
        if len(head) == 3 and head[2].isdigit():
            sizes[head[0]] = int(head[2])
    return sizes


def added_since_head(root: str, path: str, env: dict[str, str] | None) -> frozenset[int] | None:
    """The lines of the working-tree file `path` that HEAD does not have (None: all of them, the file is
    not in HEAD or there is no HEAD); for given files, whose change is what differs from the last commit."""
    git = Git(root, env)
    try:
        code, _ = git.run("cat-file", "-e", f"HEAD:{path}", ok=(0, 1, 128))
        if code != 0:
            return None
        patch = git.out("diff", "-U0", "--no-ext-diff", "--no-color", "--no-textconv", "--src-prefix=a/",
                        "--dst-prefix=b/", "HEAD", "--", f":(literal){path}")
    except _Failed:
        return None  # cannot tell: every line counts as new, so no pragma is taken on trust
    added, _ = added_lines(patch)
    return frozenset(added.get(path, ()))


def read_blobs(root: str, blobs: list[str], env: dict[str, str] | None) -> dict[str, bytes]:
    """The content of index blobs, in one `git cat-file --batch`."""
    if not blobs:
        return {}
    try:
        _, out = Git(root, env).run("cat-file", "--batch", stdin="".join(f"{b}\n" for b in blobs).encode())
    except _Failed:
        return {}
    found: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        head = out[at:end].split()
        at = end + 1
        if len(head) == 3:
            size = int(head[2])
            found[head[0].decode()] = out[at:at + size]
            at += size + 1
    return found
