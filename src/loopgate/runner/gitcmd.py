"""Running git: one command, both its outputs read as they come, within a time and an output cap,
with settings no repository config can change (hooks, fsmonitor, colour, external diff programs)."""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time


class GitError(Exception):
    """git failed or is missing; the message names the command and git's own words."""


class GitTimeout(GitError):
    """loopgate's own git ran past the time it was given (the run's runtime budget): git hashing
    what a maker wrote is part of the run, and a budget that did not bound it bounded nothing."""


class GitOutputTooLarge(GitError):
    """git's output passed the cap its caller gave: what is read is held in memory."""


# The maker can write the repository's config (worktrees share it). Whatever it sets, the loop's
# own git commands run no hooks (a post-commit hook could change the candidate after the gates),
# no fsmonitor program, and print plain, uncoloured, untranslated output.
# Nor does it look into a repository the maker nested in its worktree: checking whether one is
# dirty runs `git status` there, under that repository's config (its clean filter), outside any
# sandbox. `dirty` still shows the nested repository's commit as a change, and nothing recurses.
SAFE = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "color.ui=false",
        "-c", "diff.ignoreSubmodules=dirty", "-c", "submodule.recurse=false", "-c", "diff.submodule=short",
        "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "core.quotePath=true"]
# A diff the loop reads: no colour, no external diff or textconv programs, and binary-looking
# files (or ones a .gitattributes marks `-diff`) shown as text, so nothing hides from tamper checks.
DIFF = ["--no-color", "--no-ext-diff", "--no-textconv", "--text"]


def git(args: list[str], cwd: str, *, check: bool = True, env: dict[str, str] | None = None,
        errors: str = "replace", timeout: float | None = None, max_bytes: int | None = None,
        stdin: bytes = b"") -> str:
    """git's output as text. Not all of it is UTF-8 (a diff of a binary file an agent wrote, a file
    name that is not, with -z): undecodable bytes are replaced, or, with errors="surrogateescape",
    kept for a name that must reach the file system as it is (never written into text files).
    Past `timeout` seconds git is killed (GitTimeout); past `max_bytes` of output, too
    (GitOutputTooLarge): neither is ever ignored by check=False. `stdin` is given from a file (a pipe
    written while both outputs are read would need a third stream in the select loop)."""
    with tempfile.TemporaryFile() as given:
        given.write(stdin)
        given.seek(0)
        try:
            proc = subprocess.Popen(["git", *SAFE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env={**os.environ, **(env or {})}, stdin=given if stdin else subprocess.DEVNULL)
        except FileNotFoundError as err:
            raise GitError("git is not installed (or not on PATH)") from err
        stdout, stderr, stopped = _collect(proc, timeout, max_bytes)
    if stopped == "timeout":
        raise GitTimeout(f"git {' '.join(args)} was stopped after {timeout:.0f} s: the run's time ran out")
    if stopped == "size":
        raise GitOutputTooLarge(f"git {' '.join(args)} printed more than {max_bytes} bytes")
    out = stdout.decode("utf-8", errors)
    if check and proc.returncode != 0:
        said = stderr.decode("utf-8", "replace")
        raise GitError(f"git {' '.join(args)}: {said.strip() or out.strip()}")
    return out


def _collect(proc: subprocess.Popen[bytes], timeout: float | None, max_bytes: int | None) -> tuple[bytes, bytes, str]:
    """Both of git's outputs, read as they come (a full pipe would stall it), until it exits; or, killed,
    what it printed and why ("timeout" or "size")."""
    deadline = None if timeout is None else time.monotonic() + timeout
    chunks: dict[int, list[bytes]] = {}
    size, why = 0, ""
    with selectors.DefaultSelector() as sel:
        for pipe in (proc.stdout, proc.stderr):
            assert pipe is not None  # both are PIPE
            os.set_blocking(pipe.fileno(), False)
            sel.register(pipe, selectors.EVENT_READ)
            chunks[pipe.fileno()] = []
        while sel.get_map() and not why:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                why = "timeout"
                break
            for key, _ in sel.select(left):
                data = os.read(key.fd, 1 << 20)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                chunks[key.fd].append(data)
                if key.fileobj is proc.stdout:
                    size += len(data)
                    if max_bytes is not None and size > max_bytes:
                        why = "size"
    if why:
        proc.kill()
    proc.wait()
    assert proc.stdout is not None and proc.stderr is not None
    out, err = (b"".join(chunks[p.fileno()]) for p in (proc.stdout, proc.stderr))
    proc.stdout.close()
    proc.stderr.close()
    return out, err, why


def exit_code(args: list[str], cwd: str) -> int:
    try:
        return subprocess.run(["git", *SAFE, *args], cwd=cwd, capture_output=True, check=False,
                              stdin=subprocess.DEVNULL).returncode
    except FileNotFoundError as err:
        raise GitError("git is not installed (or not on PATH)") from err
