"""The links gate's ignore file (`.loopgate-links-ignore`), read as the judging commit holds it.

A change that adds a broad line (`.*`) together with a broken link must not pass its own check,
so `loopgate gate links` (and `loopgate check` in CI) read the file from the commit whose
`[tool.loopgate.gates.links]` table applies (`--ignore-file-at`), not from the tree being judged.
The working tree's file is still compared: when it differs, the summary says it applies once
committed.
"""

from __future__ import annotations

import os

from loopgate import spawn
from loopgate.artifacts.loader import leaves_repository
from loopgate.codes import Code
from loopgate.findings import Finding
from loopgate.gitquery import GIT_TIMEOUT, git_env

MAX_BYTES = 2 * 1024 * 1024
Patterns = list[tuple[str, str]]  # (regex, where it was written: "FILE:LINE")


def read_ignore_file(name: str, cwd: str, at: str, default: str, bad: Code,
                     problems: list[Finding]) -> tuple[Patterns, str]:
    """(the patterns, a note for the summary: "" when none). `at`: the commit to read the file from
    ("" : the working tree). A missing `default` file is fine; a missing named one is a problem."""
    if not name:
        return [], ""
    working = _working(name, cwd, bad, problems)
    if working is None and name == default and not problems:
        return [], ""  # none on disk: ignoring nothing is never looser than the commit's (and costs no git)
    committed = None
    if at and not os.path.isabs(name) and not problems:
        committed = _committed(name, cwd, at, bad, problems)
    else:
        at = ""  # an absolute path named on the command line is not the change's
    if problems:
        return [], ""
    if working is None and committed is None:
        if name != default:
            problems.append(bad.at(name, 1, 1, f"ignore file {name} not found"))
        return [], ""
    if not at or committed == working:
        return _patterns(name, working), ""
    if committed is None:
        return [], f"{name} not applied: commit {at[:10]} (the change's base) has none; it applies once committed"
    note = (f"{name} read from commit {at[:10]} (the change's base); the working tree's version differs "
            "and applies once it is committed")
    return _patterns(name, committed), note


def _working(name: str, cwd: str, bad: Code, problems: list[Finding]) -> str | None:
    path = os.path.join(cwd, name)
    outside = leaves_repository(path)
    if outside:
        problems.append(bad.at(name, 1, 1, f"ignore file {name} is a symlink to {outside}, outside the "
                                           "repository; not read"))
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        problems.append(bad.at(name, 1, 1, f"cannot read ignore file {name}: {err.strerror or err}"))
        return None
    return _text(name, raw, bad, problems)


def _committed(name: str, cwd: str, at: str, bad: Code, problems: list[Finding]) -> str | None:
    """The file as commit `at` holds it (None: not there). `REV:./NAME` is relative to `cwd`."""
    env = git_env()
    spec = f"{at}:./{name.replace(os.sep, '/')}"
    try:
        kind = spawn.git(cwd, "cat-file", "-t", "--end-of-options", spec, env=env, timeout=GIT_TIMEOUT)
        if kind.returncode != 0 or kind.stdout.strip() != b"blob":
            commit = spawn.git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{at}^{{commit}}",
                               env=env, timeout=GIT_TIMEOUT)
            if commit.returncode != 0:
                problems.append(bad.at(name, 1, 1, f"--ignore-file-at {at}: not a commit (or not a git repository)"))
            return None
        blob = spawn.git(cwd, "cat-file", "blob", spec, env=env, timeout=GIT_TIMEOUT)
    except OSError as err:  # not found, not started, or no answer in time (TimeoutError)
        problems.append(bad.at(name, 1, 1, f"cannot read ignore file {name} at {at[:10]}: {err}"))
        return None
    if blob.returncode != 0:
        problems.append(bad.at(name, 1, 1, f"cannot read ignore file {name} at {at[:10]}: "
                                           f"{blob.stderr.decode('utf-8', 'replace').strip()}"))
        return None
    return _text(name, blob.stdout, bad, problems)


def _text(name: str, raw: bytes, bad: Code, problems: list[Finding]) -> str | None:
    if len(raw) > MAX_BYTES:
        problems.append(bad.at(name, 1, 1, f"ignore file {name} is over 2 MiB; is it the right file?"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        problems.append(bad.at(name, 1, 1, f"cannot read ignore file {name}: not UTF-8 ({err.reason})"))
        return None


def _patterns(name: str, text: str | None) -> Patterns:
    if text is None:
        return []
    return [(line.strip(), f"{name}:{number}") for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
