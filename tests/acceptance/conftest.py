"""What the acceptance tests share: the built distribution, made once per run."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` of this checkout: the sdist, and the wheel built *from the sdist* (so the sdist
    is complete enough to build). One build per run, shared by the xdist workers (their temp roots sit
    side by side; the lock makes one of them build): test_packaging inspects it, test_newcomer installs
    the wheel by name. A build costs ~20 s of an isolated environment."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / "dist"
    with open(root / "dist.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.is_dir():
            building = root / f"dist.{os.getpid()}"
            done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(building), str(ROOT)],
                                  capture_output=True, text=True, check=False, timeout=300)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            building.rename(out)
    return out
