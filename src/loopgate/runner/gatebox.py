"""The gates' sandbox in `loopgate run`: a gate's command is the maker's work as much as its own.

The checklist's command gates (`python scripts/check_links.py`) and the generated gate's
generator run code from the item's worktree, which the maker may have rewritten. Run as they are
they would be the contained maker's way out: the user's whole environment (tokens), the real
HOME (~/.git-credentials, ~/.bashrc), /proc/<loopgate>/environ, a push with the user's
credentials, and their output flows into the next prompt. So when the maker is contained by
bwrap, every process a gate starts is too (runner/sandbox.py gate_bwrap_argv): the maker's
environment allowlist, an empty HOME in a private /tmp, its own PID namespace, the user's
checkout emptied, the git admin files and the repository read-only, the maker's network, and a
cleaned copy of the repository's git config (no CI token in `http.extraheader`). Only the
worktree is writable: gates write caches there, and the runner commits only the tree the gates
judged (Attempt._unchanged_since). Under `network: allowlist` that sandbox runs inside srt, as the
maker's does (runner/srtbox.py): a gate reaches the allowed hosts and nothing else.

`loopgate check` and `loopgate gate`, run by a person on their own tree, run commands as they are.
"""

from __future__ import annotations

import os
import shutil

from loopgate.gates._process import GATE_TOKEN_VAR
from loopgate.gates.base import Launcher
from loopgate.runner.gitconfig import write_maker_config
from loopgate.runner.loaded import LoadedLoop, common_dir
from loopgate.runner.sandbox import GATE_HOME, Mounts, gate_bwrap_argv, maker_env
from loopgate.runner.srtbox import SETTINGS_FILE, srt_argv, srt_settings, write_settings


def gates_contained(loop: LoadedLoop) -> tuple[bool, str]:
    """Whether this run's gate commands run in a sandbox, and why not when they do not."""
    containment = loop.containment
    if not containment.contained:
        return False, containment.why
    return True, ""


def gates_containment(loop: LoadedLoop) -> dict[str, object]:
    """The run report's word on the gates (its `containment` section)."""
    contained, why = gates_contained(loop)
    return {"gates_contained": contained, "gates_why": why}


def gate_launcher(loop: LoadedLoop, worktree: str, admin: str) -> Launcher | None:
    """The launcher for the gates of one item's worktree; None when the run is not contained."""
    if not gates_contained(loop)[0]:
        return None
    common = common_dir(loop)
    folder = os.path.join(loop.runtime_dir, "gate-config")
    shutil.rmtree(folder, ignore_errors=True)  # written fresh for every gate run: the config may have changed
    os.makedirs(folder)
    over, git_config = write_maker_config(folder, loop.root, common)
    mounts = Mounts(worktree, admin, "", "", loop.root, common, loop.sandbox.read_only, over=over)
    network, named, user_home = loop.containment.network, loop.sandbox.environment, os.path.expanduser("~")
    # the loop's own API token never, as for the maker
    withheld = ("GITHUB_TOKEN", loop.token_env) if loop.github is not None else ()

    settings = ""
    if loop.containment.tool == "srt":  # only the worktree is writable, to srt as to the bwrap inside it
        settings = write_settings(os.path.join(folder, SETTINGS_FILE),
                                  srt_settings(loop.sandbox.allowed_hosts, [os.path.realpath(worktree)]))

    def launch(argv: list[str], env: dict[str, str], cwd: str) -> tuple[list[str], dict[str, str]]:
        kept = {GATE_TOKEN_VAR: env[GATE_TOKEN_VAR]} if GATE_TOKEN_VAR in env else {}
        inner = gate_bwrap_argv(argv, cwd, mounts, network, user_home)
        return (srt_argv(inner, settings) if settings else inner,
                maker_env(env, named, GATE_HOME, {**git_config, **kept}, withheld))

    return launch
