"""The `maker-resolves` criterion: will the maker command find what it runs, where it runs?

`loopgate run` starts the maker with `/bin/sh -c COMMAND` in the item's worktree: a checkout of
the repository, so a relative path in the command means a path from the repository's root,
wherever `loopgate readiness` was started from. Two things must be there: the program
(`claude`, `./maker.sh`), and, when the program is an interpreter given a script
(`sh maker.sh`, `bash scripts/x.sh`, `python3 tool.py`), the script: the interpreter itself
resolving says nothing about a script that is not there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from loopgate.history.text import code
from loopgate.readiness.criteria import ALL, Criterion, judged, unmet
from loopgate.runner.commandline import command_words, find_program, maker_command, program

G = "repository"
TITLE = "the maker command resolves"
FIX = "Install the agent CLI, or fix `maker command` under `## Roles` in LOOP_SPEC.md."


@dataclass(frozen=True)
class _Family:
    """How one kind of interpreter reads its arguments: enough to find the script it runs."""

    value_letters: str  # a short option ending in one of these takes the next word (`-o pipefail`)
    inline_letters: str  # a short option with one of these runs code given inline: no script (`-c`)
    long_values: frozenset[str] = frozenset()  # long options that take the next word
    long_inline: frozenset[str] = frozenset()  # long options that run inline code


_FAMILIES = {
    "shell": _Family("oO", "cs", frozenset({"--rcfile", "--init-file"})),
    "python": _Family("WX", "cm", frozenset({"--check-hash-based-pycs"})),
    "node": _Family("r", "ep", frozenset({"--require", "--import", "--loader", "--experimental-loader",
                                          "--conditions", "--input-type"}), frozenset({"--eval", "--print"})),
    "ruby": _Family("Ir", "e"),
    "perl": _Family("I", "eE"),
}
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)?)?")
# a script word the shell would still expand: where it points is only known when the maker runs
_EXPANDS = frozenset("$`~*?[{")


def maker_criterion(spec: dict[str, Any], given: str | None, root: str) -> Criterion:
    """`root`: where the maker's relative paths start (the repository's root: the item's
    worktree is a checkout of it)."""
    command = maker_command(spec, given)  # as `loopgate run` reads it
    if not command.split():
        return unmet("maker-resolves", G, TITLE, "no maker command",
                     "Add `- maker command: claude -p ...` under `## Roles` in LOOP_SPEC.md (README: the maker "
                     "examples), or pass --maker.", ALL)
    name = program(command)
    if find_program(command, root) is None:
        where = ("not an executable file" if os.path.isabs(name) else
                 f"not found from the repository root ({root}), or not executable" if os.sep in name else
                 "not on PATH")
        return unmet("maker-resolves", G, TITLE, f"{code(name)} is {where}", FIX, ALL)
    words = command_words(command) or []
    missing = _missing_script(words, root)
    if missing:
        return unmet("maker-resolves", G, TITLE,
                     f"{code(name)} is found, but the script it runs, {code(missing)}, is not in the repository "
                     f"root ({root}), where the maker starts",
                     "Fix the script's path in `maker command` under `## Roles` in LOOP_SPEC.md (relative to the "
                     "repository root), or commit the script there.", ALL)
    paths = ([name] if os.sep in name else []) + [_script(words) or ""]  # a bare program name is on PATH
    loose = next((word for word in paths if word and _uncommitted(word, root)), "")
    if loose:
        return unmet("maker-resolves", G, TITLE,
                     f"{code(loose)} is in the working tree but not committed: the maker runs in each item's "
                     "worktree, a checkout of HEAD (or --base), where it is not",
                     f"Commit it (`git add {loose} && git commit`).", ALL)
    return judged(True, "maker-resolves", G, TITLE, f"{code(name)} found", "", ALL)


def _uncommitted(word: str, root: str) -> bool:
    """A relative path in the repository that HEAD does not hold. False when that cannot be told
    (no git, no commit yet: `git-repository` says so) or the word is no such path."""
    if os.path.isabs(word) or _EXPANDS.intersection(word) or not os.path.lexists(os.path.join(root, word)):
        return False
    rel = os.path.normpath(word).replace(os.sep, "/")
    if rel.startswith("../") or rel == "..":
        return False
    try:
        head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        held = _git(root, "cat-file", "-e", f"HEAD:{rel}") if head.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return False
    return held is not None and held.returncode != 0


def _git(root: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", root, "--literal-pathspecs", *args], capture_output=True, text=True,
                          timeout=30, check=False, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})


def _family(name: str) -> str:
    base = os.path.basename(name)
    if base in ("sh", "bash", "dash", "zsh", "ksh"):
        return "shell"
    if _PYTHON.fullmatch(base):
        return "python"
    if base in ("node", "nodejs"):
        return "node"
    return base if base in ("ruby", "perl") else ""


def _script(words: list[str]) -> str | None:
    """The script a known interpreter is given (`bash -eu x.sh` -> `x.sh`); None when the program
    is not one, or it runs no script file (`sh -c '...'`, `python3 -m pkg`, code on stdin)."""
    family = _FAMILIES.get(_family(words[0])) if words else None
    if family is None:
        return None
    rest = iter(words[1:])
    for word in rest:
        if word == "--":
            return next(rest, None)
        if word == "-" or word in family.long_inline:
            return None
        if word.startswith("--"):
            if word in family.long_values:
                next(rest, None)
            continue
        if len(word) > 1 and word[0] in "-+":
            letters = word[1:]
            if word[0] == "-" and any(letter in family.inline_letters for letter in letters):
                return None
            if letters[-1] in family.value_letters:
                next(rest, None)
            continue
        return word
    return None


def _missing_script(words: list[str], root: str) -> str:
    """The script a known interpreter would run, when it is not there ("" when it is, or cannot
    be known before the maker runs)."""
    script = _script(words)
    if not script or _EXPANDS.intersection(script):
        return ""
    if os.path.isfile(script if os.path.isabs(script) else os.path.join(root, script)):
        return ""
    # bash (and zsh) look a script name with no slash up on PATH when the directory has none
    if _family(words[0]) == "shell" and os.sep not in script and shutil.which(script, mode=os.F_OK):
        return ""
    return script
