"""The lines a change adds, for the gates that look inside files (secrets).

`targets(source, context)` gives the files to scan: given files whole, or, with `--base REF`
or for the staged changes, each changed file with the numbers of its added lines (from
`git diff -U0`), read from the index when staged. Symlinks and submodules are marked, never
followed. Blob sizes are asked before content is read, so a huge file is never loaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from loopgate.gates._changes import Git, Problem, Resolver, Source, _Failed, collect, repository_root, resolve_base
from loopgate.gates.base import GateContext
from loopgate.records import record

MAX_BYTES = 2 * 1024 * 1024  # the size limit of `loopgate verify` (artifacts.loader.MAX_BYTES)

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {ord(k): v for k, v in zip("abtnvfr\"\\", b"\a\b\t\n\v\f\r\"\\", strict=True)}


@record(frozen=True)
class Target:
    """A file whose content a gate should look at."""

    path: str  # relative to the repository root
    shown: str
    lines: frozenset[int] | None  # the added lines; None: the whole file
    blob: str = ""  # staged mode: the index blob holding the content (else read the working tree)
    skip: str = ""  # why it is not looked at: "symlink", "submodule"
    full: str = ""  # where to read it, when not under the root (a given path outside the repository)


@record
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
            digits = body[i + 1:i + 4]
            if len(digits) == 3 and all(0x30 <= d <= 0x37 for d in digits) and int(digits, 8) <= 0xFF:
                out.append(int(digits, 8))
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
    # `dirty`, not `none`: see gates/_changes.py (a submodule's work tree is never committed, and looking
    # into it runs git there under that repository's own config)
    common = ["--no-ext-diff", "--no-color", "-M", "--ignore-submodules=dirty", *revision, "--"]
    raw = git.out("diff", "--raw", "-z", "--no-abbrev", *common)
    # Files over the size limit are diffed as binary: a 100 MB file's patch is never held in memory.
    patch = git.out("-c", f"core.bigFileThreshold={MAX_BYTES}", "diff", "-U0", "--no-textconv", "--src-prefix=a/",
                    "--dst-prefix=b/", *common)
    added, binary = added_lines(patch)
    files: list[Target] = []
    quiet: list[tuple[str, str]] = []  # (path, blob) changed without added text lines: binary, or too large
    renamed: set[str] = set()
    for letter, mode, blob, path in _raw_entries(raw):
        if letter == "D":
            continue
        skip = {"120000": "symlink", "160000": "submodule"}.get(mode, "")
        lines = frozenset(added.get(path, ()))
        if lines or skip:
            files.append(Target(path, resolver.shown(path), lines, "" if base else blob, skip))
        elif path not in added:
            quiet.append((path, blob))
            if letter in "RC":
                renamed.add(path)
    big = _too_large(root, quiet, base, context.env)
    for path, blob in big:  # the scanner reports these as not scanned (LG424), by their size
        files.append(Target(path, resolver.shown(path), frozenset(), "" if base else blob))
    binary = max(0, binary - len(big))
    again = [(path, blob) for path, blob in quiet if (path, blob) not in big and path not in renamed]
    for path, blob, lines in _as_text(git, common, again):
        files.append(Target(path, resolver.shown(path), lines, "" if base else blob))
        binary = max(0, binary - 1)
    if base:
        others = git.out("ls-files", "--others", "--exclude-standard", "-z")
        for name in (os.fsdecode(p) for p in others.split(b"\0") if p):
            skip = "symlink" if os.path.islink(os.path.join(root, name)) else ""
            files.append(Target(name, resolver.shown(name), None, skip=skip))
    return Targets(root, files, described, "base" if base else "staged", binary)


def _as_text(git: Git, common: list[str], quiet: list[tuple[str, str]]) -> list[tuple[str, str, frozenset[int]]]:
    """(path, blob, added lines) of the files git diffed as binary without a look at their bytes.

    git calls a file binary by its attributes too, and the change can set them itself (`a.py binary`,
    `*.py -diff` in .gitattributes): these (all under the size limit) are diffed again as text and
    judged by their bytes (a NUL byte: LG424 from the scanner). Pure renames add nothing and are
    left out by the caller."""
    if not quiet:
        return []
    text, _ = added_lines(git.out("--literal-pathspecs", "diff", "-U0", "--text", "--no-textconv", "--src-prefix=a/",
                                  "--dst-prefix=b/", *common, *(path for path, _ in quiet)))
    return [(path, blob, frozenset(text[path])) for path, blob in quiet if text.get(path)]


def _too_large(root: str, quiet: list[tuple[str, str]], base: str, env: dict[str, str] | None) -> list[tuple[str, str]]:
    """The entries over MAX_BYTES: by blob size when staged, by the working file's size with --base."""
    if not base:
        sizes = blob_sizes(root, [blob for _, blob in quiet], env)
        return [(path, blob) for path, blob in quiet if sizes.get(blob, 0) > MAX_BYTES]
    found = []
    for path, blob in quiet:
        try:
            size = os.lstat(os.path.join(root, path)).st_size
        except OSError:
            continue
        if size > MAX_BYTES:
            found.append((path, blob))
    return found


def staged_content(root: str, rel: str, env: dict[str, str] | None, limit: int = 2 * 1024 * 1024) -> bytes | None:
    """The index's version of `rel` (None: not in the index); at most `limit` + 1 bytes are kept."""
    git = Git(root, env)
    try:
        code, size = git.run("cat-file", "-s", f":{rel}", ok=(0, 1, 128))
        if code != 0:
            return None
        if int(size.strip() or b"0") > limit:
            return b" " * (limit + 1)  # too large: the caller refuses it by its length, never loading it
        return git.out("cat-file", "blob", f":{rel}")
    except (_Failed, ValueError):
        return None


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
