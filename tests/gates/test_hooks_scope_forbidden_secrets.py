"""The real pre-commit runs the scope, forbidden and secrets hooks from this repository's manifest.

`pre-commit try-repo` installs this checkout (uncommitted changes included) into its own
virtualenv, exactly as a user's pre-commit would, and runs one hook in a scratch repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loopgate.gates import forbidden, scope, secrets

from .conftest import make_repo, try_repo

AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "x7Rk2Lq9Tz4Wv8Ny3Pb6Hd1Fs5Jm0Cg" + "aQ2eU"


@pytest.mark.parametrize("module", [scope, forbidden, secrets])
def test_hook_declarations(module: Any) -> None:
    hook = module.HOOK
    assert hook["id"] == f"loopgate-{module.NAME}"
    assert hook["entry"] == f"loopgate gate {module.NAME}"
    assert hook["language"] == "python"
    assert {"id", "name", "description", "entry", "language"} <= set(hook)


def test_scope_hook_judges_the_staged_change(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(tmp_path / "scratch")
    repo.write("pyproject.toml", '[tool.loopgate.gates.scope]\nallow = ["docs/**"]\n')
    repo.write("src/old.py")
    repo.commit("initial")
    repo.write("docs/ok.md")
    repo.git("rm", "-q", "src/old.py")
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-scope", pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "src/old.py:1:1: LG401 src/old.py (deleted) is outside the allowed paths" in done.stdout
    assert "docs/ok.md:" not in done.stdout


def test_forbidden_hook_blocks_a_staged_env_file(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(tmp_path / "scratch")
    repo.write("README.md")
    repo.commit("initial")
    repo.write(".env", "DEBUG=1\n")
    repo.write("src/app.py")
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-forbidden", pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    # the hook reads the staged change from git (pass_filenames: false), which names its status
    assert ".env:1:1: LG411 .env (added) is forbidden by '.env*' (default: secrets and key files)" in done.stdout
    assert "src/app.py:" not in done.stdout


def test_secrets_hook_names_the_kind_never_the_value(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = make_repo(tmp_path / "scratch")
    repo.write("README.md")
    repo.commit("initial")
    repo.write("config/settings.py", f'KEY = "{AWS}"\n')
    repo.write("config/clean.py", "DEBUG = True\n")
    (repo.path / "config/creds").symlink_to(GITHUB)  # pre-commit passes symlinks too: the target string is scanned
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-secrets", pre_commit_home, "config/settings.py", "config/clean.py",
                    "config/creds")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "config/creds:1:1: LG421 possible secret: GitHub Token (value not shown)" in done.stdout
    assert "config/settings.py:1:8: LG421 possible secret: AWS Access Key (value not shown)" in done.stdout
    assert AWS not in done.stdout + done.stderr
