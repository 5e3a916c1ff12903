"""Test-wide settings.

Property tests explore new random examples on every developer run, which is where they find
bugs. In CI (`CI=true`) they replay a fixed sequence instead: a submission's verdict must not
depend on the luck of the draw, and a bug found locally is kept as a plain regression test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# The formats' own published schemas (SARIF, GitHub workflow and action metadata) live in a
# `shared/schemas/` folder beside the project, or beside a folder holding it (a worktree).


def _shared_schemas() -> Path | None:
    for parent in Path(__file__).resolve().parents[1:]:
        if (parent / "shared" / "schemas").is_dir():
            return parent / "shared" / "schemas"
    return None


@pytest.fixture
def published_schema() -> Any:
    """`published_schema("sarif-schema-2.1.0.json")` -> the parsed schema; missing fails under CI."""
    def load(name: str) -> dict[str, Any]:
        folder = _shared_schemas()
        if folder is None or not (folder / name).exists():
            if os.environ.get("CI"):
                pytest.fail(f"shared/schemas/{name} is missing (it must be beside the project in CI)")
            pytest.skip(f"shared/schemas/{name} is not beside the project")
        loaded: dict[str, Any] = json.loads((folder / name).read_text("utf-8"))
        return loaded
    return load


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for every hook test, wherever it lives (gates/, acceptance/), shared by
    the xdist workers (their temp roots sit side by side): loopgate is installed into it once per
    run, not once per test (pre-commit locks its store for installs)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    home = root / "pre-commit-home"
    home.mkdir(exist_ok=True)
    return home
