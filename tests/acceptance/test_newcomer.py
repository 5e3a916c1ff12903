"""The newcomer: a built wheel installed by its distribution name into a fresh virtualenv, then
every command of the README's ```sh blocks run in the order the README gives them, in a fresh
repository that holds a copy of this project and a loop in `.loop/` (the shipped example).

A command is left out only for a stated reason (it needs a coding agent, the network, or stands
for the user's own files); the list is checked against the README, so a new command is run unless
someone says why not. Each command that runs must end 0 or 1 (findings are fine: some examples
show failures), never 2 or a traceback. The CI snippet's `run:` steps are run the same way.
The pre-commit half of the newcomer's day is tests/acceptance/test_readme_precommit.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")

NOT_RUN = {
    ".venv/bin/python -m pytest": "the test suite itself (this test is part of it)",
    "loopgate gate command --timeout 300 -- pytest -q": "runs a project's whole test suite",
    "loopgate gate command --no-network-errors -- pytest tests/dns": "stands for the user's own tests",
    "npx markdownlint-cli2": "needs the network (npx downloads the linter)",
    "loopgate gate links --per-host 32": "checks http(s) URLs on the network",
    "loopgate gate schema --schema schemas/config.schema.json config/": "stands for the user's schema and files",
    "loopgate gate schema --builtin run-report .loop/runs/": "needs the reports of a `loopgate run` in .loop",
    "loopgate gate secrets config/settings.py": "stands for the user's own file",
    "loopgate gate generated --shell 'make docs'": "stands for the user's own generator",
    "loopgate gate generated --keep -- python scripts/gen_cli_docs.py": "stands for the user's own generator",
    "--maker 'claude": "needs Claude Code",
    "--maker 'codex": "needs Codex",
    "loopgate review MT-11": "needs a draft of that item in a run report (tests/readiness runs it on one)",
    "pre-commit try-repo https://": "needs the network (test_readme_precommit runs the hooks from a clone)",
    "npm install -g @anthropic-ai/sandbox-runtime": "installs system software for the whole machine (apt-get, "
                                                    "npm -g); .ci/run installs the same for the tests",
}


def readme_commands() -> list[str]:
    return [line for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S)
            for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def skipped(command: str) -> str:
    return next((why for key, why in NOT_RUN.items() if key in command), "")


def env(bin_dir: Path, wheels: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GIT_", "VIRTUAL_ENV", "PIP_")) and k not in ("GITHUB_ACTIONS", "CI", "PYTHONPATH")}
    base.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PIP_FIND_LINKS=str(wheels),
                PIP_DISABLE_PIP_VERSION_CHECK="1", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
                GIT_AUTHOR_NAME="New Comer", GIT_AUTHOR_EMAIL="new@example.invalid",
                GIT_COMMITTER_NAME="New Comer", GIT_COMMITTER_EMAIL="new@example.invalid", NO_COLOR="1")
    return base


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, dist: Path) -> tuple[Path, Path]:
    """(the virtualenv's bin directory, the folder holding the wheel), installed by name from the
    run's one build (acceptance/conftest.py)."""
    tmp = tmp_path_factory.mktemp("newcomer-install")
    wheels = dist
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    bin_dir = tmp / "venv" / "bin"
    done = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "loopgate-cli"], env=env(bin_dir, wheels),
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return bin_dir, wheels


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh repository: this project's files (as a user's checkout has them) and a loop in .loop/."""
    repo = tmp_path / "project"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    shutil.copytree(ROOT / "examples" / "repo-maintenance", repo / ".loop")
    return repo


def run(command: str, repo: Path, bin_dir: Path, wheels: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=repo, env=env(bin_dir, wheels),
                          capture_output=True, text=True, check=False, timeout=600)


def test_every_skip_names_a_readme_command() -> None:
    commands = readme_commands()
    stale = [key for key in NOT_RUN if not any(key in c for c in commands)]
    assert not stale, f"NOT_RUN names commands the README no longer has: {stale}"


def test_the_readme_commands_run_in_order(project: Path, installed: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, wheels = installed
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "a newcomer's project"]):
        subprocess.run(["git", *args], cwd=project, env=env(bin_dir, wheels), check=True, capture_output=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ran: list[str] = []
    for line in readme_commands():
        if skipped(line):
            continue
        command = line.replace("/tmp/", f"{scratch}/")  # the README's throwaway paths, in this test's
        done = run(command, project, bin_dir, wheels)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert done.returncode in (0, 1), (command, done.returncode, done.stdout[-2000:], done.stderr[-2000:])
        ran.append(command)
    assert len(ran) >= 20, ran
    # what the README promises of some of them
    assert (project / "gates.xml").read_text("utf-8").startswith('<?xml version="1.0"')
    assert (project / ".github" / "workflows" / "loopgate.yml").exists()
    assert (scratch / "docs-links" / "LOOP_SPEC.md").exists()
    installed_version = run("loopgate --version", project, bin_dir, wheels).stdout
    assert installed_version.startswith("loopgate, version ")


def test_the_ci_snippet_runs_as_written(project: Path, installed: tuple[Path, Path]) -> None:
    bin_dir, wheels = installed
    snippet = next(b for b in re.findall(r"```yaml\n(.*?)```", README, flags=re.S) if "loops.yml" in b
                   and "pip install" in b)
    steps = yaml.safe_load(snippet)["jobs"]["verify"]["steps"]
    commands = [s["run"] for s in steps if "run" in s]
    assert commands[0].startswith("pip install loopgate-cli==")
    # the readiness audit done, as a team does before `--strict` can pass
    readiness = project / ".loop" / "loop-readiness.md"
    readiness.write_text(readiness.read_text("utf-8").replace("- [ ]", "- [x]"), encoding="utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "audited"]):
        subprocess.run(["git", *args], cwd=project, env=env(bin_dir, wheels), check=True, capture_output=True)
    for command in commands:
        done = run(command, project, bin_dir, wheels)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
