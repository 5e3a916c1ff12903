"""The maker's sandbox for one attempt: its HOME, its command line, and whether it ran at all.

- HOME is a fresh, empty folder in the attempt's directory: nothing the maker leaves in it (a
  shell startup file, an agent's settings or hooks, a planted tool on a PATH it sets there)
  reaches the next attempt, which starts from the same nothing.
- The command line is loopgate's bwrap sandbox (runner/sandbox.py), inside srt for
  `network: allowlist` (runner/srtbox.py); None runs the maker uncontained.
- A sandbox that fails to start (bwrap or srt refusing, a namespace the kernel will not give)
  never ran the maker. That is the environment's failure, not the item's: the run stops
  (exit 5) and the item resumes, instead of counting an attempt the maker never made.
"""

from __future__ import annotations

import os

from loopgate.runner.loaded import LoadedLoop
from loopgate.runner.maker import MakerRun
from loopgate.runner.sandbox import Mounts, bwrap_argv, maker_writable
from loopgate.runner.srtbox import SETTINGS_FILE, srt_argv, srt_settings, write_settings


def maker_home(attempt_dir: str) -> str:
    """The maker's HOME for this attempt: `<attempt dir>/home`, made empty here."""
    home = os.path.join(attempt_dir, "home")
    os.makedirs(home, exist_ok=True)
    return home


# In the attempt's directory, outside the maker's part of it: the sandbox's word that it started
STARTED = "sandbox-started"


def started_file(mounts: Mounts) -> str:
    return os.path.join(os.path.dirname(mounts.runtime), STARTED)


def maker_argv(loop: LoadedLoop, mounts: Mounts, attempt_dir: str) -> list[str] | None:
    """The maker's command line inside the sandbox; None runs it as `/bin/sh -c` uncontained.
    srt's settings go to the attempt's directory, which the maker cannot write.

    The proof that the sandbox started: a shell just outside bwrap opens STARTED as fd 3, and
    bwrap's first act inside writes to it and closes it before the maker runs (sandbox.py
    bwrap_argv). The maker holds no handle on it and sees the file read-only: a file in its own
    folder, as before, it deleted to pass its own failure off as the sandbox's (no tamper check
    ran, and the loop stopped as environmental). Under srt the shell runs inside srt (Node does
    not pass fd 3 on), which may write that one file."""
    containment = loop.containment
    if not containment.contained:
        return None
    started = started_file(mounts)
    os.close(os.open(started, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
    inner = ["/bin/sh", "-c", 'exec "$@" 3>>"$0"', started,
             *bwrap_argv(loop.maker, mounts, containment.network, os.path.expanduser("~"))]
    if containment.tool != "srt":
        return inner
    writable = [os.path.realpath(p) for p in [*maker_writable(mounts), started]]
    settings = write_settings(os.path.join(attempt_dir, SETTINGS_FILE),
                              srt_settings(loop.sandbox.allowed_hosts, writable))
    return srt_argv(inner, settings)


def sandbox_failed(loop: LoadedLoop, mounts: Mounts, made: MakerRun) -> str:
    """Why the sandbox never ran the maker, or "" when it did (or there is none): the sandbox
    wrote nothing to STARTED (see maker_argv)."""
    if not loop.containment.contained or made.stopped or made.exit_code == 0:
        return ""
    try:
        if os.path.getsize(started_file(mounts)) > 0:
            return ""
    except OSError:
        pass
    said = " ".join("\n".join(made.output_tail.splitlines()[-5:]).split()) or "no output"
    return f"the sandbox ({loop.containment.tool}) could not start the maker (exit {made.exit_code}): {said}"
