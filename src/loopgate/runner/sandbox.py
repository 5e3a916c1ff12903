"""Containment: the maker runs inside an OS sandbox, not on the loop's word.

On Linux the maker runs under bubblewrap (`bwrap`, the primitive Claude Code's and Codex's
sandboxes build on): the whole filesystem read-only except the item's worktree, the git admin
files that worktree needs and the maker's part of a fresh attempt directory; a private /tmp; the user's home
(and /home, /root, /var/tmp, /run but the resolver's directory, and the user's checkout but its
git directory) replaced by empty directories, so ~/.ssh, ~/.git-credentials,
~/.config/gh, cloud credential files and the SSH agent socket are out of reach; its own PID
namespace that dies with the attempt; no capabilities when loopgate runs as root; and the
network either shared (`full`, an agent CLI must reach its model API) or absent (`none`).
`network: allowlist` runs the same bwrap sandbox inside Anthropic's sandbox-runtime (`srt`),
whose proxy lets through only the allowed hosts (runner/srtbox.py).

The gates' commands in `loopgate run` get the same sandbox with only the worktree writable
(gate_bwrap_argv; runner/gatebox.py says why).

Wherever no sandbox can run, `probe` says why: the run reports `"contained": false` with that
reason, and `pr` mode refuses to start unless the spec opts out.

The maker's environment is an allowlist in every case (`maker_env`): PATH, LANG, LC_*, TERM,
TZ, the LOOPGATE_* variables of the attempt, a replaced HOME, and the variables the spec names.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from loopgate.records import record
from loopgate.runner.commandline import command_words
from loopgate.runner.srtbox import srt_missing, srt_works

NETWORKS = ("full", "none", "allowlist")
ALWAYS = ("PATH", "LANG", "TERM", "TZ")
# Places a maker must not read even though the rest of the filesystem is visible.
HIDDEN = ("/home", "/root", "/run/user", "/var/tmp")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SandboxError(Exception):
    """The spec asks for containment this machine cannot give (a usage error: the run refuses)."""


@record(frozen=True)
class SandboxConfig:
    """The spec's `## Sandbox` section (every line optional)."""

    contain: bool = True  # `- contain: no` runs the maker uncontained (for measuring and debugging)
    network: str = "full"
    allowed_hosts: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()  # variables passed to the maker by name
    read_only: tuple[str, ...] = ()  # extra paths made visible (read-only) inside hidden places
    allow_uncontained: bool = False  # `pr` mode may run without a sandbox

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> SandboxConfig:
        section = spec.get("sandbox") or {}
        if not isinstance(section, dict):
            return cls()

        def words(key: str) -> tuple[str, ...]:
            value = section.get(key) or []
            return tuple(str(v).strip("` ") for v in (value if isinstance(value, list) else [value]) if str(v).strip())

        return cls(section.get("contain", True) is not False, str(section.get("network") or "full"),
                   words("allowed_hosts"), words("environment"), words("read_only"),
                   section.get("allow_uncontained", False) is True)


@record(frozen=True)
class Containment:
    """Whether this run's makers are contained, by what, and if not, why not."""

    contained: bool
    tool: str = ""  # "bwrap" | "srt" | ""
    why: str = ""  # the reason when not contained
    network: str = "full"

    def as_dict(self) -> dict[str, Any]:
        return {"contained": self.contained, "tool": self.tool, "why": self.why, "network": self.network}


@functools.cache
def _bwrap_works(bwrap: str, unshare_net: bool) -> str:
    """"" when bwrap can create its namespaces here, else its own words (a container without
    user namespaces, a kernel that forbids them)."""
    argv = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--die-with-parent",
            *(["--unshare-net"] if unshare_net else []), "--", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def probe(config: SandboxConfig) -> Containment:
    """What containment this machine gives for `config`; SandboxError when the spec asks for what
    cannot be had at all (`allowlist` without srt)."""
    if config.network not in NETWORKS:
        raise SandboxError(f"sandbox network '{config.network}' is not one of {', '.join(NETWORKS)}")
    bad = [name for name in config.environment if not _NAME.fullmatch(name)]
    if bad:
        raise SandboxError(f"sandbox environment: '{bad[0]}' is not a variable name")
    if config.network == "allowlist":
        return _probe_allowlist(config)
    if not config.contain:
        return Containment(False, why="the spec's ## Sandbox says `contain: no`", network=config.network)
    if not sys.platform.startswith("linux"):
        return Containment(False, why=f"no sandbox on {sys.platform}: bubblewrap is Linux-only",
                           network=config.network)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Containment(False, why="bubblewrap (`bwrap`) is not installed (Debian/Ubuntu: apt-get install "
                                      "bubblewrap)", network=config.network)
    failed = _bwrap_works(bwrap, config.network == "none")
    if failed:
        return Containment(False, why=f"bwrap cannot create its namespaces here: {failed}", network=config.network)
    return Containment(True, "bwrap", network=config.network)


def _probe_allowlist(config: SandboxConfig) -> Containment:
    """`network: allowlist` is loopgate's bwrap sandbox inside srt (runner/srtbox.py): both must run
    here, or the run refuses (the spec asked for a network it cannot have, and running with the
    full network instead would be the opposite of what it asked)."""
    srt = shutil.which("srt")
    if srt is None:
        raise SandboxError(srt_missing())
    if not config.allowed_hosts:
        raise SandboxError("sandbox `network: allowlist` needs `- allowed hosts: ...` (e.g. api.anthropic.com)")
    if not sys.platform.startswith("linux"):
        raise SandboxError(f"sandbox `network: allowlist` runs loopgate's bubblewrap sandbox inside srt, and "
                           f"bubblewrap is Linux-only (this is {sys.platform}): choose `network: full` or `none`")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError("sandbox `network: allowlist` runs loopgate's bubblewrap sandbox inside srt, and "
                           "bubblewrap (`bwrap`) is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    failed = srt_works(srt, bwrap)
    if failed:
        raise SandboxError(f"sandbox `network: allowlist`: srt cannot run loopgate's bwrap sandbox here: {failed}")
    return Containment(True, "srt", network="allowlist")


def maker_env(source: Mapping[str, str], named: tuple[str, ...], home: str, attempt: Mapping[str, str],
              withheld: tuple[str, ...] = ()) -> dict[str, str]:
    """The maker's environment: an allowlist, never the user's environment minus a denylist.

    `named` are the variables the spec passes on (the model API key); `withheld` are never
    passed, even when named (the loop's own GitHub token). The user's LOOPGATE_* variables are
    dropped: the maker sees only the attempt's."""
    env = {k: v for k, v in source.items()
           if (k in ALWAYS or k.startswith("LC_") or k in named) and k not in withheld
           and not k.startswith("LOOPGATE_")}
    env["HOME"] = home
    env.update(attempt)
    return env


@record(frozen=True)
class Mounts:
    """What one attempt's sandbox makes writable and what it shows read-only."""

    worktree: str  # the item's worktree: where the maker works
    admin: str  # the worktree's git admin directory (<common>/worktrees/<name>): index, HEAD
    runtime: str  # the maker's part of the attempt's directory: its usage file, the git objects it writes
    home: str  # the maker's HOME
    root: str  # the repository (read-only)
    common: str  # the common git directory (read-only)
    read_only: tuple[str, ...] = ()
    # (file, where): files mounted read-only over others, last (the cleaned copy of the repository's
    # git config over the real one, see runner/gitconfig.py)
    over: tuple[tuple[str, str], ...] = ()


RUN_SOCKETS = ("/run",)


def _hidden_places(user_home: str, extra: tuple[str, ...] = ()) -> list[str]:
    places = [p for p in (user_home, *HIDDEN, *extra) if p and os.path.isdir(p) and os.path.realpath(p) != "/"]
    real = list(dict.fromkeys(os.path.realpath(p) for p in places))
    # a place inside another hidden one is hidden with it (and a tmpfs over it would be made again)
    return [p for p in real if not any(o != p and _under(p, [o]) for o in real)]


def _checkout(mounts: Mounts, writable: list[str]) -> str:
    """The user's checkout, to be emptied in the sandbox; "" when it cannot be (it is `/`, or holds
    a place the maker needs that is not in its git directory)."""
    root, common = os.path.realpath(mounts.root), os.path.realpath(mounts.common)
    needed = [os.path.realpath(p) for p in (*writable, mounts.admin)]
    if root == "/" or not os.path.isdir(root):
        return ""
    if any(_under(p, [root]) and not _under(p, [common]) for p in needed):
        return ""
    return root


def _still_hidden(checkout: str, shown: list[str], common: str) -> str:
    """`checkout`, or "" when a path shown whole holds it (a PATH entry's folder in /tmp)."""
    return "" if any(_under(checkout, [p]) for p in shown if p != common) else checkout


def _resolver() -> list[str]:
    """The directory /etc/resolv.conf resolves into when that lies under /run (else nothing)."""
    real = os.path.realpath("/etc/resolv.conf")
    return [os.path.dirname(real)] if _under(real, list(RUN_SOCKETS)) and os.path.exists(real) else []


def _under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def named_paths(command: str, hidden: list[str]) -> list[str]:
    """What the maker command itself names and would not find inside the sandbox: files it gives
    by absolute path under a hidden place or /tmp (`python3 /tmp/agent.py`), and the installation
    its program runs from when that lies in a hidden place (a venv's python linking into
    ~/.pyenv, an agent CLI under ~/.local or ~/.nvm). Shown read-only; nothing else of the home."""
    words = command_words(command) or []
    private = [*hidden, "/tmp"]
    out: list[str] = []
    for index, word in enumerate(words):
        path = shutil.which(word) if index == 0 and os.sep not in word else word
        if not path or not os.path.isabs(path) or not os.path.exists(path):
            continue
        real = os.path.realpath(path)
        if index == 0 and _under(path, private) and os.path.basename(os.path.dirname(path)) == "bin":
            out.append(os.path.dirname(os.path.dirname(path)))  # a venv or prefix in /tmp: bin/, lib/, its config
        if index == 0 and _under(real, private):
            prefix = os.path.dirname(os.path.dirname(real))  # <prefix>/bin/program: its lib/ comes too
            if prefix not in private and all(not _under(h, [prefix]) for h in private):
                out.append(prefix)
                continue
        if _under(real, private) or _under(path, private):
            out += [os.path.realpath(os.path.dirname(path)) if os.path.isdir(path) else real]
    return out


def maker_writable(mounts: Mounts) -> list[str]:
    """What the maker may write: its worktree, its git admin directory, its part of the attempt's
    directory and its HOME."""
    return [mounts.worktree, mounts.admin, mounts.runtime, mounts.home]


def bwrap_argv(command: str, mounts: Mounts, network: str, user_home: str) -> list[str]:
    """The bwrap command line for one attempt. Its first act inside is to write `started` to fd 3
    and close it before the maker runs: a sandbox that fails to start (bwrap's own error) writes
    nothing, and the attempt is the environment's failure, not the item's. The maker never holds
    the fd, so it can neither erase that word nor fake it (runner/makerbox.py opens fd 3)."""
    return [*_bwrap(command, mounts, network, user_home, maker_writable(mounts), mounts.worktree),
            "/bin/sh", "-c", 'printf started >&3 && exec 3>&- && exec /bin/sh -c "$0" || exit 125', command]


GATE_HOME = "/tmp/home"  # a gate's HOME: in its private /tmp, gone with it


def gate_bwrap_argv(argv: list[str], cwd: str, mounts: Mounts, network: str, user_home: str) -> list[str]:
    """The bwrap command line for a gate's command in `loopgate run` (the checklist's command may be
    one the maker rewrote): the maker's sandbox, but only the worktree writable (a gate writes its
    caches there); the git admin files read-only, and HOME an empty folder in the private /tmp.
    `exec` through /bin/sh, so a program that is not there exits 127 (not found) as it does
    outside, not with bwrap's own status."""
    shown = argv[2] if argv[:2] == ["/bin/sh", "-c"] and len(argv) > 2 else shlex.join(argv)
    return [*_bwrap(shown, mounts, network, user_home, [mounts.worktree], cwd, ["--dir", GATE_HOME]),
            "/bin/sh", "-c", 'exec "$@"', "loopgate-gate", *argv]


def _bwrap(command: str, mounts: Mounts, network: str, user_home: str, writable: list[str], cwd: str,
           extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """bwrap and its options up to and including `--`. Order matters: later mounts cover earlier
    ones, so the hidden places are emptied first and what is needed is bound back over them.
    `command` is only read for the paths it names (named_paths)."""
    bwrap = shutil.which("bwrap") or "bwrap"
    nested = network == "allowlist"  # inside srt (runner/srtbox.py)
    # nested, a fresh /proc cannot be mounted (the kernel refuses one while srt's has parts covered), so
    # srt's is shown: it holds only srt's own processes
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", *(["--ro-bind", "/proc", "/proc"] if nested
                                                             else ["--proc", "/proc"]), "--tmpfs", "/tmp"]
    # /run too: it holds the machine's service sockets (docker.sock is root on the host, a database's
    # peer-authenticated socket, the system bus), and a read-only mount does not stop connect()
    hidden = _hidden_places(user_home, RUN_SOCKETS)
    for place in hidden:
        argv += ["--tmpfs", place]
    # your checkout too: the maker works in its own worktree, and the checkout's untracked files
    # (a .env, credentials a tool wrote) are no business of its; the git directory comes back below
    checkout = _checkout(mounts, writable)
    if checkout:
        hidden = [*hidden, checkout]
    # read-only views back into what was hidden: the repository, named paths, PATH entries
    # (an agent CLI installed in ~/.local/bin), the git admin directory, and the resolver
    # configuration /etc/resolv.conf points into /run on systemd-resolved and resolvconf systems
    shown = [mounts.common, *(os.path.expanduser(p) for p in mounts.read_only), *_resolver()]
    # PATH entries in a hidden place or in /tmp (a checkout or venv there): the maker finds its tools
    entries = [os.path.realpath(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    shown += [p for p in entries if _under(p, hidden)]
    # an entry in /tmp (a checkout there) comes with its parent: a venv's bin/ needs the venv, and
    # node_modules/.bin holds only symlinks into node_modules
    shown += [os.path.dirname(p) for p in entries if _under(p, ["/tmp"]) and os.path.dirname(p) != "/tmp"]
    shown += named_paths(command, hidden)
    shown_real = list(dict.fromkeys(os.path.realpath(p) for p in shown))
    common = os.path.realpath(mounts.common)
    checkout = _still_hidden(checkout, shown_real, common)
    if checkout:
        argv += ["--tmpfs", checkout]
    for path in shown_real:
        if os.path.exists(path) and (_under(path, [*hidden, "/tmp"]) or path == common):
            argv += ["--ro-bind", path, path]
    for path in writable:
        real = os.path.realpath(path)
        argv += ["--bind", real, real]
    argv += list(extra)
    if checkout:  # the empty checkout stays empty: nothing the maker writes there lands anywhere
        argv += ["--remount-ro", checkout]
    for source, target in mounts.over:
        if os.path.exists(target):
            argv += ["--ro-bind", os.path.realpath(source), os.path.realpath(target)]
    return [*argv, *_namespaces(network), "--chdir", os.path.realpath(cwd), "--"]


def _namespaces(network: str) -> list[str]:
    """The namespaces and capabilities: a PID namespace of its own, the network's, and none of root's."""
    argv = ["--unshare-pid", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-uts"]
    if network == "none":
        argv.append("--unshare-net")
    if network == "allowlist":  # nested in srt, which holds the network namespace and its proxy
        # a user namespace of its own: with srt's /proc shown, bwrap's outer process would otherwise be
        # open to the maker as /proc/<pid>/root, the filesystem as srt shows it (your home included)
        argv.append("--unshare-user")
        # srt exempts loopback and private ranges from its proxy (NO_PROXY); in srt's network namespace
        # they reach nothing directly, so an allowed `127.0.0.1:8080` or intranet host could not be
        # reached. Through the proxy, the allowlist decides. srt's TMPDIR (/tmp/claude) is not in this /tmp.
        argv += ["--unsetenv", "NO_PROXY", "--unsetenv", "no_proxy", "--unsetenv", "TMPDIR"]
    if os.geteuid() == 0:  # root keeps every capability in bwrap by default: it could remount what is read-only
        argv += ["--cap-drop", "ALL"]
    return argv


def git_env(runtime: str, common: str) -> dict[str, str]:
    """Git inside the sandbox writes new objects to the attempt's own directory and reads the
    repository's as alternates: the shared object store stays read-only (a maker could otherwise
    rewrite an existing object the user's history points at)."""
    objects = os.path.join(runtime, "objects")
    os.makedirs(objects, exist_ok=True)
    return {"GIT_OBJECT_DIRECTORY": objects, "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.path.join(common, "objects")}
