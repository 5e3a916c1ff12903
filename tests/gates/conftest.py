"""Real git repositories in temporary directories, and the gate CLI as a real subprocess."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loopgate.gates.base import GateContext, GateResult


def git_env() -> dict[str, str]:
    """The environment without anything that could point git at another repository or config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


@dataclass
class Repo:
    path: Path

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, env=git_env(), capture_output=True, text=True,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def write(self, rel: str, text: str = "x\n") -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def gate(self, module: Any, cwd: Path | None = None, **options: Any) -> GateResult:
        """Run a gate in-process, the way `loopgate check` does."""
        context = GateContext(cwd=str(cwd or self.path), env=git_env())
        return module.run(module.Options(**options), context)  # type: ignore[no-any-return]


def make_repo(path: Path) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.name", "Loop Tester")
    repo.git("config", "user.email", "loop@example.invalid")
    repo.git("config", "commit.gpgsign", "false")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository with one commit: README.md, docs/guide.md, src/app.py."""
    made = make_repo(tmp_path / "repo")
    made.write("README.md", "# demo\n")
    made.write("docs/guide.md", "guide\n")
    made.write("src/app.py", "print('hi')\n")
    made.commit("initial")
    return made


def _cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m loopgate gate ...` as a real process."""
    env = git_env()
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, check=False, timeout=60)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


Cli = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def cli() -> Cli:
    return _cli


ROOT = Path(__file__).resolve().parents[2]


def hook_source(home: Path) -> tuple[Path, str]:
    """This checkout (uncommitted and untracked files included, as `try-repo` takes them) committed
    once into `home`, so every hook test installs loopgate from the same revision into the same
    pre-commit store. `pre-commit try-repo` makes a fresh store per call (its own temp dir, whatever
    PRE_COMMIT_HOME says): one ~15 s virtualenv per hook test. xdist workers share `home`; the
    lock makes one of them build the copy."""
    source = home / "loopgate-source"
    with open(home / "source.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (source / ".git").is_dir():
            building = home / f"loopgate-source.{os.getpid()}"
            listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                    cwd=ROOT, env=git_env(), capture_output=True, check=True).stdout
            for rel in sorted(set(listed.decode().split("\0")) - {""}):
                origin = ROOT / rel
                if origin.is_file() or origin.is_symlink():  # a tracked file deleted in the checkout is left out
                    (building / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, building / rel, follow_symlinks=False)
            repo = make_repo(building)
            repo.commit("the checkout under test")
            building.rename(source)
    return source, Repo(source).git("rev-parse", "HEAD").strip()


def try_repo(repo: Repo, hook_id: str, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The real `pre-commit run` of one hook of this checkout (its .pre-commit-hooks.yaml, which a
    docs test keeps generated), as `pre-commit try-repo` would run it, in the scratch `repo`, from
    a config outside it (the repository's own files stay the test's)."""
    source, rev = hook_source(home)
    config = home / f"config-{hook_id}.yaml"
    if not config.exists():
        # json is yaml; written whole then renamed, so a parallel worker never reads half of it
        partial = config.with_suffix(f".{os.getpid()}")
        partial.write_text(json.dumps({"repos": [{"repo": str(source), "rev": rev, "hooks": [{"id": hook_id}]}]}),
                           encoding="utf-8")
        partial.replace(config)
    env = {**git_env(), "PRE_COMMIT_HOME": str(home / "store"), "PRE_COMMIT_COLOR": "never"}
    command = [sys.executable, "-m", "pre_commit", "run", "--config", str(config), hook_id, "--verbose"]
    if files:
        command += ["--files", *files]
    return subprocess.run(command, cwd=repo.path, env=env, capture_output=True, text=True, check=False,
                          timeout=300)


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[[str], Repo]:
    """Another, empty repository (no commits) under tmp_path."""
    return lambda name: make_repo(tmp_path / name)
