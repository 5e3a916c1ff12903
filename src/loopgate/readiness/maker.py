"""The `maker-resolves` criterion: will the maker command find what it runs, where it runs?

`loopgate run` starts the maker with `/bin/sh -c COMMAND` in the item's worktree: a checkout of
the repository, so a relative path in the command means a path from the repository's root,
wherever `loopgate readiness` was started from. Two things must be there: the program
(`claude`, `./maker.sh`), and, when the program is an interpreter given a script
(`sh maker.sh`, `bash scripts/x.sh`, `python3 tool.py`), the script: the interpreter itself
resolving says nothing about a script that is not there. Known wrappers before the interpreter
(`env A=1`, `timeout 600`, `nice -n 5`, `nohup`, `stdbuf -oL`, `ionice -c 3`, `time`) are looked
through; `python -m NAME` needs NAME.py or a NAME/ package in the repository root, or a module that
interpreter can import.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import Any

from loopgate.history.text import code
from loopgate.readiness.criteria import ALL, Criterion, judged, unmet
from loopgate.records import record
from loopgate.runner.commandline import command_words, find_program, maker_command, program

G = "repository"
TITLE = "the maker command resolves"
FIX = "Install the agent CLI, or fix `maker command` under `## Roles` in LOOP_SPEC.md."


@record(frozen=True)
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
    words = unwrap(command_words(command) or [])
    inner = words[0] if words else name
    if inner != name and find_program(shlex.join(words), root) is None:
        return unmet("maker-resolves", G, TITLE, f"{code(name)} is found, but the program it runs, {code(inner)}, "
                     "is not (on PATH, or from the repository root)", FIX, ALL)
    module = _missing_module(words, root)
    if module:
        return unmet("maker-resolves", G, TITLE,
                     f"{code(inner)} -m {code(module)}: no module or package {code(module)} in the repository "
                     f"root ({root}), and {code(inner)} cannot import it",
                     "Fix the module name in `maker command` under `## Roles` in LOOP_SPEC.md, commit the module "
                     "at the repository root, or install it for that interpreter.", ALL)
    missing = _missing_script(words, root)
    if missing:
        return unmet("maker-resolves", G, TITLE,
                     f"{code(inner)} is found, but the script it runs, {code(missing)}, is not in the repository "
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


# Programs that run the command after their own options (`timeout 600 python3 x.py`): the script
# to look for is the one the command they wrap runs. Per wrapper: its short options that take the
# next word, its long ones (`--opt VALUE` form; `--opt=VALUE` is one word), and how many plain words
# it takes before the command (timeout's duration).
_WRAPPERS: dict[str, tuple[str, frozenset[str], int]] = {
    "env": ("uCS", frozenset({"--unset", "--chdir", "--split-string"}), 0),
    "timeout": ("sk", frozenset({"--signal", "--kill-after"}), 1),
    "nice": ("n", frozenset({"--adjustment"}), 0),
    "nohup": ("", frozenset(), 0),
    "stdbuf": ("ioe", frozenset({"--input", "--output", "--error"}), 0),
    "ionice": ("cnp", frozenset({"--class", "--classdata"}), 0),
    "time": ("fo", frozenset({"--format", "--output"}), 0),
}


def unwrap(words: list[str]) -> list[str]:
    """The command a chain of known wrappers runs (`env A=1 timeout -s KILL 600 nice -n 5 python3 x.py`
    -> `python3 x.py`); the words as given when the first is no wrapper. `VAR=x` words (env's, or the
    shell's before a wrapper) are skipped; a wrapper given nothing to run leaves nothing."""
    words = list(words)
    while words:
        while words and "=" in words[0] and not words[0].startswith(("/", ".", "-")):
            words = words[1:]
        if not words or os.path.basename(words[0]) not in _WRAPPERS:
            return words
        letters, longs, plain = _WRAPPERS[os.path.basename(words[0])]
        rest = words[1:]
        while rest:
            word = rest[0]
            if word == "--":
                rest = rest[1:]
                break
            if word.startswith("--"):
                rest = rest[2:] if word in longs else rest[1:]
            elif len(word) > 1 and word[0] == "-" and not word[1:].isdigit():
                # `-n 5` takes the next word; `-n5`, `-oL` carry it; `-i` (env) takes none
                rest = rest[2:] if word[-1] in letters and len(word) == 2 else rest[1:]
            elif word[0] == "-":  # `nice -10`: a number is the adjustment itself
                rest = rest[1:]
            else:
                break
        words = rest[plain:]
    return words


def _module_option(args: list[str]) -> str:
    """The NAME of the interpreter's own `-m NAME` (`-m NAME`, `-mNAME`, `-Bm NAME`); only options
    before the script count: `python3 maker.py -m fast` passes `-m` to the script. "" for none."""
    for index, word in enumerate(args):
        if word == "--" or not word.startswith("-") or word == "-":
            return ""  # the script (or stdin): what follows is its own
        if word.startswith("--"):
            if word == "--check-hash-based-pycs":
                return _module_option(args[index + 2:])
            continue
        for at, letter in enumerate(word[1:], 1):
            rest = word[at + 1:]
            if letter == "m":
                return rest or (args[index + 1] if index + 1 < len(args) else "")
            if letter == "c":
                return ""  # code on the command line
            if letter in "WX":  # an option with a value, attached or next
                return _module_option(args[index + (1 if rest else 2):])
    return ""


def _missing_module(words: list[str], root: str) -> str:
    """The module `python -m NAME` runs, when neither the repository root (where the maker starts,
    first on its path) holds it as NAME.py or a NAME/ package, nor the interpreter can import it
    (asked with importlib's find_spec). "" when it is there, or the command runs no module."""
    if not words or _family(words[0]) != "python":
        return ""
    module = _module_option(words[1:])
    top = module.split(".")[0]
    if not top or _EXPANDS.intersection(module):
        return ""
    if os.path.isfile(os.path.join(root, top + ".py")) or os.path.isdir(os.path.join(root, top)):
        return ""
    interpreter = shutil.which(words[0]) if os.sep not in words[0] else os.path.join(root, words[0])
    if not interpreter:
        return ""  # the interpreter not resolving is said first
    try:
        found = subprocess.run([interpreter, "-I", "-c", "import importlib.util, sys\n"
                                "sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)", top],
                               cwd=root, capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""  # cannot be told here: the run says it
    return "" if found.returncode == 0 else module


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
