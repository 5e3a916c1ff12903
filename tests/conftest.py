"""Test-wide settings.

Property tests explore new random examples on every developer run, which is where they find
bugs. In CI (`CI=true`) they replay a fixed sequence instead: a submission's verdict must not
depend on the luck of the draw, and a bug found locally is kept as a plain regression test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for every hook test, wherever it lives (gates/, acceptance/): each
    `try-repo` of this checkout then installs loopgate into it once, not once per test."""
    return tmp_path_factory.mktemp("pre-commit-home")
