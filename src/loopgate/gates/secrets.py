"""Fail when a change adds something that looks like a credential.

The scanning is Yelp's detect-secrets, with all of its plugins (AWS, Azure, GitHub, GitLab,
Slack, Stripe, OpenAI, private keys, JWTs, basic auth in URLs, high-entropy strings, password
assignments, ...) and its default false-positive filters, not regular expressions of our
own. A finding names the kind of secret and where it is, never the secret itself: reports
end up in CI logs, and a secret printed there has leaked a second time.

What is scanned:

- `--base REF`: only the lines added since the merge base of REF and HEAD (committed, staged
  and unstaged), and untracked files whole. Unchanged and deleted lines are not scanned.
- file arguments (as pre-commit passes them) or `--files-from FILE` (`-` is stdin): the
  files whole.
- neither: the lines added in the staged changes, read from the index (what `git commit`
  would record).

detect-secrets reports some secrets at another line than the one holding the value (a YAML
block scalar `token: |` is reported at the key's line), and each value once a file. So a secret
whose reported line was not added, but whose value sits on an added line, is reported at that
added line: a token added under an unchanged key, or an old secret pasted again, is found.

`--exclude PATTERN` (gitignore syntax, repeatable) skips files such as test fixtures. A line
that holds a known false positive is allowed with detect-secrets' own comment,
`# pragma: allowlist secret` at its end (or `// pragma: allowlist secret`, etc.), or a line
`# pragma: allowlist nextline secret` above it. A pragma that the change itself adds is not
obeyed (LG423): otherwise a change could allowlist its own secret. Lines added since `--base`
(or staged), untracked files, and for given files the lines that differ from HEAD count as
added. `--allow-new-pragmas` (`allow-new-pragmas = true` in the committed
`[tool.loopgate.gates.secrets]`) obeys them.

The gate's `[tool.loopgate.gates.secrets]` table is read from the change's base (HEAD for
staged changes and given files), not from the change: a change that adds `exclude = ["**"]`
is still scanned.

Examples:

    loopgate gate secrets --base origin/main
    loopgate gate secrets config/settings.py .env.example
    loopgate gate secrets --exclude 'tests/fixtures/**'

Not scanned, with a warning (LG424, the gate still passes): files over 2 MiB and files that
hold a NUL byte, the same limit and binary test as `loopgate verify` (detect-secrets takes about
9 s and 10 MiB of memory a MiB). Binary is decided by the bytes, never by `.gitattributes` (a
change could mark its own file `binary`); a file that is not UTF-8 is scanned with the bad bytes
replaced; a UTF-16 or UTF-32 file with a byte order mark is decoded and scanned. A symlink is never
followed, but its target string is scanned as the link's one line of content. Files detect-secrets skips
by name (`.lock`, `.css`, `.svg`, `.map`, images, archives, fonts, lock files such as
`package-lock.json`, paths holding `swagger`) are scanned when their bytes are text, for the named kinds
of credential only (GitHub, AWS, Slack, private keys, ...: not the entropy and keyword detectors, which
would flag every integrity hash); when they are binary they are skipped and counted. Submodules are not
scanned, and said so in the summary. A clean result is evidence, not proof: rotate any credential that
was ever committed.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

from loopgate import codes
from loopgate.artifacts.loader import MAX_BYTES
from loopgate.findings import Finding, Severity
from loopgate.gates._added import Target, Targets, added_since_head, blob_sizes, read_blobs, targets
from loopgate.gates._changes import (
    BAD_BASE,
    BAD_FILE_LIST,
    BAD_PATTERN,
    CONFLICTING_SOURCES,
    GIT_FAILED,
    GIT_UNAVAILABLE,
    NOT_A_REPOSITORY,
    Problem,
    Source,
    error_result,
    not_regular,
)
from loopgate.gates._patterns import RuleSet, rules_from_values
from loopgate.gates._secretscan import (
    GENERIC,
    Detect,
    decoded,
    detector,
    pinned_revision,
    placed,
    scratch_name,
    skipped_by_name,
    utf16,
)
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict
from loopgate.records import field, record, replace

NAME = "secrets"
# Codes this gate shares with the other path gates (changed files, patterns); listed in its docs.
SHARED_CODES = (
    BAD_BASE, BAD_FILE_LIST, BAD_PATTERN, CONFLICTING_SOURCES, GIT_FAILED, GIT_UNAVAILABLE, NOT_A_REPOSITORY,
)
E = Severity.ERROR

SECRET = codes.define(
    "LG421", "possible-secret", E, "A line looks like it holds a credential.",
    "detect-secrets found something shaped like a secret (the message names its kind: an AWS access key, "
    "a private key, a password assigned in code, a high-entropy string, ...). loopgate never prints the "
    "value. A credential in a diff is a leak as soon as it is pushed: it stays in the history, in forks "
    "and in CI logs.",
    "Remove the value and rotate the credential; read it from the environment or a secret manager. If it "
    "is not a secret (a test fixture, a public id), end the line with `# pragma: allowlist secret`.",
)
UNREADABLE = codes.define(
    "LG422", "unreadable-file", E, "A file to scan could not be read.",
    "A file given to the secrets gate does not exist, cannot be read (permissions), or is not a regular file "
    "(a directory, a FIFO, a socket or a device: reading a FIFO could wait for ever, so it is never opened). "
    "It was not scanned, and the gate does not pass a file it has not looked at: an input error (exit 2). "
    "Files found by git (`--base`, staged) that are not regular files are skipped and counted in the summary.",
    "Check the path; pass existing regular files only (pre-commit does this for you).",
    input_error=True,
)

NEW_PRAGMA = codes.define(
    "LG423", "allowlist-pragma-added", E, "A secret is allowlisted by a pragma that the change itself adds.",
    "detect-secrets found something shaped like a secret on this line, and the `pragma: allowlist secret` "
    "(or the `pragma: allowlist nextline secret` above it) that would hide it is part of the same change, or "
    "the line under an older `nextline` pragma changed. "
    "A change cannot vouch for itself: the pragma is reported, not obeyed. The value is never shown.",
    "If the value really is not a secret, have the pragma reviewed and committed (it is then obeyed), or run "
    "the gate with `--allow-new-pragmas` (`allow-new-pragmas = true` in [tool.loopgate.gates.secrets]). "
    "Otherwise remove the value and rotate the credential.",
)
NOT_SCANNED = codes.define(
    "LG424", "file-not-scanned", Severity.WARNING, "A file was too large or binary, and was not scanned.",
    "The file is over 2 MiB or holds a NUL byte: the same size limit and binary test as `loopgate verify`. "
    "detect-secrets needs about 9 s and 10 MiB of memory a MiB of text, so a large file would stall a "
    "commit hook; a NUL byte means it is not text. The gate still passes (a warning), and says so: nothing "
    "in this file was looked at.",
    "Keep large data and binaries out of the repository (or in Git LFS); if the file must be scanned, scan "
    "it with detect-secrets directly. `--exclude` silences the warning for files you have checked.",
)

@record(frozen=True)
class Options:
    files: tuple[str, ...] = field(default=(), metadata=opt(
        "Files to scan whole (as pre-commit passes them); relative to the working directory.", argument=True))
    base: str = field(default="", metadata=opt(
        "Scan only the lines added since the merge base of REF and HEAD, and untracked files.", metavar="REF"))
    files_from: str = field(default="", metadata=opt(
        "Read the files to scan from FILE ('-': stdin), one a line or NUL-separated; relative to the working "
        "directory.", metavar="FILE"))
    exclude: tuple[str, ...] = field(default=(), metadata=opt(
        "Do not scan files matching PATTERN (gitignore syntax, from the repository root); repeatable.",
        metavar="PATTERN"))
    allow_new_pragmas: bool = field(default=False, metadata=opt(
        "Obey a `pragma: allowlist secret` that the change itself adds (by default such a secret is reported, "
        "LG423)."))


HOOK: dict[str, Any] = {
    "id": "loopgate-secrets",
    "name": "loopgate secrets",
    "description": "No staged file holds something that looks like a credential (detect-secrets plugins; "
    "the secret itself is never printed).",
    "entry": "loopgate gate secrets",
    "language": "python",
    # text files and symlinks (a link's target string is scanned): pre-commit's default `types: [file]`
    # would leave the links out, so it is emptied and `types_or` decides
    "types": [],
    "types_or": ["text", "symlink"],
    # .pre-commit-config.yaml is scanned like any file: a frozen `rev:` (a 40-hex commit SHA) is let
    # through by the gate itself (_pinned_revision), a real secret in a hook's args is not.
}


@record
class _Tally:
    files: int = 0
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    excluded = RuleSet(rules_from_values(options.exclude, "--exclude"), BAD_PATTERN)
    if excluded.problems:
        return error_result(NAME, [Problem(p, p.message) for p in excluded.problems], timer)
    found = targets(Source(options.base, options.files_from, options.files), context)
    if isinstance(found, Problem):
        return error_result(NAME, [found], timer)
    tally = _Tally()
    tally.skipped["binary"] += found.binary
    findings = list(_scan(found, excluded, context, tally, options.allow_new_pragmas))
    summary = _summary(found, tally, findings)
    unread = [f for f in findings if f.code == UNREADABLE.code]
    if unread:
        # A path that is not there (or not a file) is the caller's mistake, as with every other gate: exit 2.
        return GateResult(NAME, GateStatus.ERROR, findings, timer.elapsed(), summary,
                          reason="; ".join(f.message for f in unread[:3]))
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


def _summary(found: Targets, tally: _Tally, findings: list[Finding]) -> str:
    what = "whole" if found.mode == "given" else "added lines; untracked files whole" if found.mode == "base" \
        else "added lines"
    text = (f"scanned {tally.lines} line{'s' if tally.lines != 1 else ''} in {tally.files} "
            f"file{'s' if tally.files != 1 else ''} {found.described} ({what}) with detect-secrets")
    secrets = sum(1 for f in findings if f.code == SECRET.code)
    if secrets:
        text += f"; {secrets} possible secret{'s' if secrets != 1 else ''}"
    if any(tally.skipped.values()):
        text += "; not scanned: " + ", ".join(f"{n} {why}" for why, n in sorted(tally.skipped.items()) if n)
    if found.mode != "given":
        text += "; unchanged and deleted lines not scanned"
    return text


def _scan(found: Targets, excluded: RuleSet, context: GateContext, tally: _Tally, obey: bool) -> list[Finding]:
    todo: list[tuple[Target, str]] = []
    findings: list[Finding] = []
    for target in found.files:
        full = target.full or os.path.join(found.root, target.path)
        symlink = target.skip == "symlink" or (not target.blob and not target.skip and os.path.islink(full))
        if target.skip and not symlink:
            tally.skipped[target.skip] += 1
        elif excluded.rules and excluded.match(target.path)[0]:
            tally.skipped["excluded"] += 1
        elif symlink:
            todo.append((replace(target, skip="symlink"), full))
        elif not target.blob and (odd := _not_regular(full)):
            if found.mode == "given":
                findings.append(UNREADABLE.at(target.shown, 1, 1, f"cannot read {target.shown}: {odd}"))
            else:
                tally.skipped["not regular files"] += 1
        else:
            todo.append((target, full))
    # Sizes first: a 100 MB blob is never read into memory, only reported.
    sizes = blob_sizes(found.root, [t.blob for t, _ in todo if t.blob], context.env)
    blobs = read_blobs(found.root, [b for b, size in sizes.items() if size <= MAX_BYTES], context.env)
    with tempfile.TemporaryDirectory(prefix="loopgate-secrets-") as scratch, detector() as detect:
        for number, (target, full) in enumerate(todo):
            named = skipped_by_name(target.path)
            raw = _link_text(target, full, blobs) if target.skip == "symlink" else _content(target, full, sizes, blobs)
            if isinstance(raw, Finding):
                if named and "NUL" in raw.message:  # a real image, archive, font: binary as its name says
                    tally.skipped["binary"] += 1
                    continue
                findings.append(raw)
                if raw.code == NOT_SCANNED.code:
                    tally.skipped["binary" if "NUL" in raw.message else "over 2 MiB"] += 1
                continue
            text_target, raw = decoded(target, raw)
            scan = _Scan(text_target, found, context, obey)
            name = os.path.join(scratch, "named", str(number), "file.txt") if named else \
                scratch_name(scratch, number, text_target)
            findings += _scan_file(scan, raw, name, tally, detect, named)
    return findings


def _link_text(target: Target, full: str, blobs: dict[str, bytes]) -> bytes | Finding:
    """A symlink is never followed, but its target string is content the change adds: a token can be a link's
    target. In the index that string is the blob; in the working tree, what readlink says."""
    if target.blob:
        return blobs.get(target.blob, b"")[:MAX_BYTES]
    try:
        return os.fsencode(os.readlink(full))
    except OSError as err:
        return UNREADABLE.at(target.shown, 1, 1, f"cannot read {target.shown}: {err.strerror or err}")


def _content(target: Target, full: str, sizes: dict[str, int], blobs: dict[str, bytes]) -> bytes | Finding:
    """The bytes to scan, or why they are not scanned (too large, binary, unreadable)."""
    if target.blob:
        size = sizes.get(target.blob, 0)
        raw = blobs.get(target.blob, b"")
    else:
        try:
            with open(full, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                raw = handle.read(MAX_BYTES + 1)
        except OSError as err:
            return UNREADABLE.at(target.shown, 1, 1, f"cannot read {target.shown}: {err.strerror or err}")
        size = max(size, len(raw))
    if size > MAX_BYTES:
        return NOT_SCANNED.at(target.shown, 1, 1, f"{target.shown} not scanned for secrets: {size:,} bytes is "
                                                  f"over the 2 MiB limit")
    if b"\0" in raw and utf16(raw) is None:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        return NOT_SCANNED.at(target.shown, line, 1, f"{target.shown} not scanned for secrets: it holds a NUL "
                                                     f"byte (binary)")
    return raw


def _not_regular(full: str) -> str:
    """Why `full` cannot be read as a file ("" when it is a regular file). Never opens it: a FIFO would block."""
    try:
        mode = os.stat(full).st_mode
    except OSError as err:
        return err.strerror or str(err)
    return "" if stat.S_ISREG(mode) else "it is " + not_regular(mode)


@record
class _Scan:
    """One file to scan, and what of it is new in the change (for the pragmas it adds)."""

    target: Target
    found: Targets
    context: GateContext
    obey: bool  # obey pragmas the change adds (--allow-new-pragmas)

    def new_lines(self, text: str) -> frozenset[int] | None:
        """The lines the change adds (None: all of them); only asked when the file holds a pragma."""
        if self.target.lines is not None:
            return self.target.lines
        if self.found.mode == "base":  # untracked, whole
            return None
        if self.target.full:  # given, outside the repository: nothing to compare with
            return frozenset()
        return added_since_head(self.found.root, self.target.path, self.context.env)


# detect-secrets' own pragma (filters/allowlist.py): `pragma: allowlist secret`, `pragma:whitelist secret`,
# `pragma: allowlist nextline secret`. Made unrecognisable on a new line, detect-secrets reports what it hid.
_PRAGMA = re.compile(r"(pragma: ?(?:allow|white))list(?=[ -](?:nextline[ -])?secret)")
_NEXTLINE = re.compile(r"pragma: ?allowlist[ -]nextline[ -]secret")


def _scan_file(scan: _Scan, raw: bytes, scratch: str, tally: _Tally, detect: Detect,
               named: bool = False) -> Iterator[Finding]:
    target = scan.target
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # one Latin-1 byte must not hide the whole file: scanned with the bad bytes replaced (lines stay put)
        text = raw.decode("utf-8", "replace")
        raw = text.encode("utf-8")
    lines = text.split("\n")
    tally.files += 1
    tally.lines += len(target.lines) if target.lines is not None else len(text.splitlines())
    disarmed: set[int] = set()  # lines whose secret a pragma would hide, but the change adds one or the other
    if not scan.obey and _PRAGMA.search(text):
        new = scan.new_lines(text)
        for number, line in enumerate(lines, 1):
            if not _PRAGMA.search(line):
                continue
            # A `nextline` pragma vouches for the line below as it was reviewed: a change to that line
            # (a new value under an old pragma) is not covered either.
            covers = number + 1 if _NEXTLINE.search(line) else number
            if new is None or number in new or covers in new:
                lines[number - 1] = _PRAGMA.sub(r"\1lisT", line)
                disarmed.add(covers)
        if disarmed:
            raw = "\n".join(lines).encode("utf-8")
            lines = text.split("\n")
    # Always a copy under the file's own name (detect-secrets picks plugins and filters by it).
    os.makedirs(os.path.dirname(scratch), exist_ok=True)
    with open(scratch, "wb") as handle:
        handle.write(raw)
    spots: dict[tuple[int, int], set[str]] = {}
    for kind, number, value in detect(scratch):
        if pinned_revision(target.path, kind, lines, number) or (named and kind in GENERIC):
            continue
        at = placed(number, value, lines, target.lines)
        if at is not None:
            spots.setdefault(at, set()).add(kind)
    for (number, column), kinds in sorted(spots.items()):
        specific = sorted(kinds - GENERIC) or sorted(kinds)  # a GitHub token is also high-entropy: name it
        if number in disarmed:
            yield NEW_PRAGMA.at(target.shown, number, column, f"possible secret: {', '.join(specific)} (value not "
                                f"shown), allowlisted by a pragma this change adds: not obeyed")
        else:
            yield SECRET.at(target.shown, number, column, f"possible secret: {', '.join(specific)} (value not shown)")
