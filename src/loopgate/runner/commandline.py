"""A maker or gate command line as loopgate reads it: its words, its program, where that program is.

`loopgate run` (the sandbox's mounts, the "command not found" stop) and `loopgate readiness`
(does the maker resolve, can each checklist command run) read a command the same way, here:
shell words, leading `VAR=value` assignments skipped, the first word left is the program.
"""

from __future__ import annotations

import os
import shlex
import shutil
from typing import Any

# Shell built-ins a checklist command may start with: no file on PATH, and yet they run.
BUILTINS = frozenset({"cd", "test", "[", "true", "false", "exit", "echo", "export", "set", ":", "."})
# What is stripped around a maker command written in the spec: code-span backticks and whitespace
# (a no-break space pasted from a web page too).
_AROUND = "` \t\n\r\f\v\u00a0"


def command_words(command: str) -> list[str] | None:
    """The command's shell words from the program on (`A=1 B=2 claude -p` -> `claude -p`);
    None when it is not valid shell words (an unclosed quote)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith(("/", ".")):
        words = words[1:]  # `VAR=value cmd`: the program is the first word after the assignments
    return words


def program(command: str) -> str:
    """The program a command runs, for messages (`A=1 claude -p x` -> `claude`)."""
    words = command_words(command)
    if words:
        return words[0]
    return (command.split() or [command])[0]


def find_program(command: str, cwd: str) -> str | None:
    """Where the command's program is: on PATH, or a path relative to `cwd`; a shell built-in is
    found as itself. None when it is not there (or the command is not valid shell words)."""
    words = command_words(command)
    if not words:
        return None
    name = words[0]
    if os.sep in name:
        path = name if os.path.isabs(name) else os.path.join(cwd, name)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(name) or (name if name in BUILTINS else None)


def maker_command(spec: dict[str, Any], given: str | None = None) -> str:
    """The maker command: `--maker` when given, else `maker command` under the spec's ## Roles."""
    roles = spec.get("roles")
    written = roles.get("maker_command", "") if isinstance(roles, dict) else ""
    return str(given or written or "").strip(_AROUND)
