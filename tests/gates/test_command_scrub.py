"""What a gate command prints never carries a credential into the terminal, the CI log or a report.

Real subprocesses that print the value of a token-like environment variable and strings the
secrets gate would flag; the real CLI in every format, with --report files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.gates import command, generated
from loopgate.gates.base import GateContext

from .conftest import Repo, git_env

ENV_SECRET = "s3cr3t-Value-0f-the-token-97"  # pragma: allowlist secret
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # pragma: allowlist secret
AWS = "AKIA" + "IOSFODNN7EXAMPLF"  # pragma: allowlist secret
NOISY = f"echo tok=$DEPLOY_API_TOKEN; echo key={GITHUB}; echo aws={AWS}; echo where=$PWD; exit 1"


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit", "markdown"])
def test_a_failing_command_never_prints_a_secret(repo: Repo, tmp_path: Path, fmt: str) -> None:
    env = {**git_env(), "DEPLOY_API_TOKEN": ENV_SECRET}
    env.pop("GITHUB_ACTIONS", None)
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "command", "--format", fmt,
                           "--report", f"json={report}", "--shell", NOISY], cwd=repo.path, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    everything = done.stdout + done.stderr + report.read_text()
    for secret in (ENV_SECRET, GITHUB, AWS):
        assert secret not in everything
    assert "tok=***" in report.read_text() and "key=***" in report.read_text()
    assert str(repo.path) in report.read_text()  # $PWD is a path, not a credential: kept


def test_the_generated_gate_masks_its_generators_output(repo: Repo) -> None:
    env = {**git_env(), "NPM_AUTH_TOKEN": ENV_SECRET}
    options = generated.Options(shell=f"echo $NPM_AUTH_TOKEN {GITHUB}; echo x >> README.md")
    result = generated.run(options, GateContext(cwd=str(repo.path), env=env))
    shown = result.summary + result.output_tail + "".join(f.message + f.hint for f in result.findings)
    assert result.output_tail and ENV_SECRET not in shown and GITHUB not in shown
    assert "***" in result.output_tail


def test_ordinary_output_is_left_alone(repo: Repo) -> None:
    options = command.Options(shell="echo 'tests: 12 passed, 0 failed'; exit 3")
    result = command.run(options, GateContext(cwd=str(repo.path), env={**git_env(), "API_TOKEN": ENV_SECRET}))
    assert result.output_tail == "tests: 12 passed, 0 failed"
    assert "***" not in result.summary
