"""Text from the judged change reaches the terminal shown, never obeyed: a hostile file name or a command's
output cannot recolour the terminal, retitle the window, overwrite a line (CR) or reorder what is read.

Real repositories, the real CLI: a staged file whose name holds ESC, OSC and BEL bytes, a bidi override
and a CR; a checklist command that prints escape sequences.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = ".env\x1b]0;owned\x07\x1b[2J\u202eevil\rX"
CONTROLS = ("\x1b", "\x07", "\u202e", "\r", "\x9b")


def _git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)


def _loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, errors="surrogateescape", check=False, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "t")
    _git(root, "config", "user.email", "t@example.invalid")
    (root / "README.md").write_text("demo\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "initial")
    return root


@pytest.mark.parametrize("fmt", ["text", "github", "markdown"])
def test_a_hostile_file_name_is_escaped_visibly(repo: Path, fmt: str) -> None:
    (repo / HOSTILE).write_text("x\n")
    _git(repo, "add", "-A")
    done = _loopgate(repo, "gate", "forbidden", "--format", fmt, "--color")
    assert done.returncode == 1, done.stdout + done.stderr
    shown = done.stdout.replace("\x1b[0m", "").replace("\x1b[1m", "")
    for colour in ("31", "32", "33", "35", "36"):
        shown = shown.replace(f"\x1b[{colour}m", "")  # loopgate's own colours are all that is left
    assert not any(c in shown + done.stderr for c in CONTROLS), repr(shown)
    assert "x1b" in shown and "owned" in shown and "u202e" in shown  # shown, as escapes


def test_a_commands_output_and_the_checklist_entry_names_are_escaped(repo: Path) -> None:
    (repo / ".loop").mkdir()
    (repo / ".loop" / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: demo\n\n## Required Gates\n\n### noisy\n"
        "- command: printf '\\033]8;;http://evil.example\\033\\\\link\\033]8;;\\033\\\\ \\233 \\r done\\n'; exit 1\n"
        "- description: prints escapes\n")
    done = _loopgate(repo, "check", "--format", "text")
    assert done.returncode == 1, done.stdout + done.stderr
    assert not any(c in done.stdout + done.stderr for c in CONTROLS), repr(done.stdout)
    assert "\\x1b]8;;http://evil.example" in done.stdout


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_a_closed_stdout_or_stderr_is_no_traceback(repo: Path, closed: str) -> None:
    """`loopgate gate forbidden >&-` (a service manager, a careless wrapper) leaves sys.stdout None."""
    (repo / "key.pem").write_text("x\n")
    _git(repo, "add", "-A")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    done = subprocess.run(["sh", "-c", f'exec "$0" -m loopgate gate forbidden {closed}', sys.executable], cwd=repo,
                          env=env, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
