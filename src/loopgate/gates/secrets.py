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

`--exclude PATTERN` (gitignore syntax, repeatable) skips files such as test fixtures. A line
that holds a known false positive is allowed with detect-secrets' own comment,
`# pragma: allowlist secret` at its end (or `// pragma: allowlist secret`, etc.), or a line
`# pragma: allowlist nextline secret` above it.

Examples:

    loopgate gate secrets --base origin/main
    loopgate gate secrets config/settings.py .env.example
    loopgate gate secrets --exclude 'tests/fixtures/**'

Not scanned, and said so in the summary: binary and non-UTF-8 files, symlinks, submodules,
and files detect-secrets skips by extension (images, archives, fonts, `.lock`, `.css`, ...).
A clean result is evidence, not proof: rotate any credential that was ever committed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from loopgate import codes
from loopgate.findings import Finding, Severity
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
    Target,
    Targets,
    error_result,
    not_regular,
    read_blobs,
    targets,
)
from loopgate.gates._patterns import RuleSet, rules_from_values
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict

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

_LOCK = threading.Lock()  # detect-secrets keeps its settings in one global


@dataclass(frozen=True)
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


HOOK: dict[str, Any] = {
    "id": "loopgate-secrets",
    "name": "loopgate secrets",
    "description": "No staged file holds something that looks like a credential (detect-secrets plugins; "
    "the secret itself is never printed).",
    "entry": "loopgate gate secrets",
    "language": "python",
    "types": ["text"],
    # A frozen `rev:` there is a 40-hex commit SHA, which the entropy plugins take for a token.
    "exclude": r"(^|/)\.pre-commit-config\.yaml$",
}


@dataclass
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
    findings = list(_scan(found, excluded, context, tally))
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


def _scan(found: Targets, excluded: RuleSet, context: GateContext, tally: _Tally) -> list[Finding]:
    from detect_secrets.filters.heuristic import is_non_text_file  # noqa: PLC0415

    todo: list[tuple[Target, str]] = []
    findings: list[Finding] = []
    for target in found.files:
        full = target.full or os.path.join(found.root, target.path)
        if target.skip or (not target.blob and os.path.islink(full)):
            tally.skipped[target.skip or "symlink"] += 1
        elif excluded.rules and excluded.match(target.path)[0]:
            tally.skipped["excluded"] += 1
        elif not target.blob and (odd := _not_regular(full)):
            if found.mode == "given":
                findings.append(UNREADABLE.at(target.shown, 1, 1, f"cannot read {target.shown}: {odd}"))
            else:
                tally.skipped["not regular files"] += 1
        elif is_non_text_file(target.path):
            tally.skipped["skipped by extension"] += 1
        else:
            todo.append((target, full))
    blobs = read_blobs(found.root, [t.blob for t, _ in todo if t.blob], context.env)
    with tempfile.TemporaryDirectory(prefix="loopgate-secrets-") as scratch, _detector() as detect:
        for target, full in todo:
            path = full
            if target.blob:  # staged content: scan the index's version, under the same name
                path = os.path.join(scratch, target.path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(blobs.get(target.blob, b""))
            findings += _scan_file(target, path, tally, detect)
    return findings


def _not_regular(full: str) -> str:
    """Why `full` cannot be read as a file ("" when it is a regular file). Never opens it: a FIFO would block."""
    try:
        mode = os.stat(full).st_mode
    except OSError as err:
        return err.strerror or str(err)
    return "" if stat.S_ISREG(mode) else "it is " + not_regular(mode)


def _scan_file(target: Target, path: str, tally: _Tally, detect: Detect) -> Iterator[Finding]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        yield UNREADABLE.at(target.shown, 1, 1, f"cannot read {target.shown}: {err.strerror or err}")
        return
    if b"\0" in raw[:8192]:
        tally.skipped["binary"] += 1
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        tally.skipped["not UTF-8"] += 1
        return
    lines = text.split("\n")
    tally.files += 1
    tally.lines += len(target.lines) if target.lines is not None else len(text.splitlines())
    spots: dict[tuple[int, int], set[str]] = {}
    for kind, number, value in detect(path):
        if target.lines is None or number in target.lines:
            source = lines[number - 1] if 0 < number <= len(lines) else ""
            spots.setdefault((number, source.find(value) + 1 if value else 1), set()).add(kind)
    for (number, column), kinds in sorted(spots.items()):
        specific = sorted(kinds - _GENERIC) or sorted(kinds)  # a GitHub token is also high-entropy: name it
        yield SECRET.at(target.shown, number, column, f"possible secret: {', '.join(specific)} (value not shown)")


_GENERIC = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
Detect = Callable[[str], list[tuple[str, int, str]]]


@contextlib.contextmanager
def _detector() -> Iterator[Detect]:
    """detect-secrets with all plugins and default filters: (secret type, line, value) per secret in a file."""
    import logging  # noqa: PLC0415

    from detect_secrets.core.scan import scan_file  # noqa: PLC0415
    from detect_secrets.settings import default_settings  # noqa: PLC0415

    logging.captureWarnings(False)  # detect-secrets turns this on when imported; leave warnings alone

    def detect(path: str) -> list[tuple[str, int, str]]:
        return [(s.type, s.line_number, s.secret_value or "") for s in scan_file(path)]

    with _LOCK, default_settings():
        yield detect
