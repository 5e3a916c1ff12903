"""`network: allowlist`: loopgate's bubblewrap sandbox nested inside Anthropic's sandbox-runtime.

srt (npm `@anthropic-ai/sandbox-runtime`) gives the network: on Linux it runs the command in a
network namespace of its own whose only way out is srt's proxy, which lets through the hosts
the spec allows and nothing else. loopgate's own bwrap sandbox (runner/sandbox.py) runs inside
it and gives everything else, as under `network: full` or `none`: the hidden home, /run and
checkout, the private /tmp, the read-only repository, the PID namespace. So srt's settings name
only the hosts and the places the maker may write (the inner bwrap cannot make writable what
srt mounted read-only), and let the inner bwrap create its namespaces
(`allowNestedUserNamespaces`: without it srt's seccomp filter refuses them).

srt runs `-c COMMAND` through a shell (`srt --settings FILE COMMAND` would quote the whole
command line as one word), so the inner bwrap command line is handed over shell-quoted.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from typing import Any

SRT_PACKAGE = "@anthropic-ai/sandbox-runtime"
SETTINGS_FILE = "srt-settings.json"


def srt_settings(allowed_hosts: tuple[str, ...], writable: list[str]) -> dict[str, Any]:
    """srt's settings for one sandboxed command: the allowed hosts, and the places it may write
    (already real paths; the inner bwrap decides which of them the command sees writable)."""
    return {
        "network": {"allowedDomains": list(allowed_hosts), "deniedDomains": []},
        "filesystem": {"denyRead": [], "allowRead": [], "allowWrite": list(dict.fromkeys(writable)),
                       "denyWrite": []},
        # loopgate's bwrap runs inside: it needs user namespaces, and holds the filesystem rules itself
        "allowNestedUserNamespaces": True,
    }


def write_settings(path: str, settings: dict[str, Any]) -> str:
    """Write srt's settings file (never through a symlink: it is written outside any sandbox)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with open(fd, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=2)
    return path


def srt_argv(inner: list[str], settings_path: str, srt: str = "") -> list[str]:
    """`srt --settings FILE -c '<inner, shell-quoted>'`, inside a PID namespace that dies with loopgate.

    srt is a Node process whose sandbox runs under a shell it starts: killed with -9, Node leaves
    that shell and the whole sandbox running (bwrap's die-with-parent watches the shell, not
    Node). An outer bwrap that only makes a PID namespace (the filesystem and network shared)
    and dies with its parent takes everything srt started with it, as the bwrap sandbox alone does.

    srt starts in the settings file's folder, not in the worktree: srt write-protects shell and tool
    settings in the folder it starts in (its "mandatory denies") by mounting /dev/null over
    `.bashrc`, `.gitconfig`, `.mcp.json`, `.vscode`, ... there, and in the worktree those device
    files would be the maker's to trip over (`git add -A` refuses them). The inner bwrap sets the
    command's own folder (`--chdir`)."""
    folder = os.path.dirname(os.path.abspath(settings_path))
    outer = [shutil.which("bwrap") or "bwrap", "--dev-bind", "/", "/", "--unshare-pid", "--die-with-parent",
             "--chdir", folder, "--"]
    return [*outer, srt or shutil.which("srt") or "srt", "--settings", settings_path, "-c", shlex.join(inner)]


def srt_missing() -> str:
    return (f"sandbox `network: allowlist` needs Anthropic's sandbox-runtime (`srt`, npm package {SRT_PACKAGE}), "
            "which is not installed here: install it (npm install -g "
            f"{SRT_PACKAGE}; on Linux it also needs bubblewrap, socat and ripgrep), or choose `network: full` or "
            "`network: none`")


@functools.cache
def srt_works(srt: str, bwrap: str) -> str:
    """"" when srt can run a bwrap sandbox inside its own here, else what srt or bwrap said (socat or
    ripgrep missing, a kernel without user namespaces)."""
    with tempfile.TemporaryDirectory(prefix="loopgate-srt-") as folder:
        settings = write_settings(os.path.join(folder, SETTINGS_FILE), srt_settings((), []))
        inner = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--ro-bind", "/proc", "/proc", "--unshare-user",
                 "--unshare-pid", "--die-with-parent", "--", "true"]
        try:
            done = subprocess.run(srt_argv(inner, settings, srt), capture_output=True, text=True,
                                  timeout=60, check=False, stdin=subprocess.DEVNULL, cwd=folder)
        except (OSError, subprocess.TimeoutExpired) as err:
            return str(err)
    if done.returncode == 0:
        return ""
    said = " ".join((done.stderr or done.stdout).split())
    return said[:300] or f"exit {done.returncode}"
