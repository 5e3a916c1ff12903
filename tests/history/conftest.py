"""The history tests share the readiness tests' ready loop (`loop_repo`: the shipped example in a real git
repository) and their seeded run histories (`readiness/history.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from readiness.conftest import loop_repo

__all__ = ["loop_repo", "loopgate"]


def loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, run from `cwd` (what a person's shell does)."""
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"}, timeout=120)
