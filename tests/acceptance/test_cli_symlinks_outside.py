"""A loop artifact, schema, data file or pattern file that is a symlink leading out of the
repository is reported and never read; a symlink inside the repository is read as before (issue 8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "repo-maintenance"
SECRET = "outside-the-repository-secret-line"


def _loopgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".loop").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for artifact in EXAMPLE.glob("*.md"):
        shutil.copy(artifact, root / ".loop" / artifact.name)
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# a\n")
    return root


def _outside(tmp_path: Path, name: str, text: str) -> Path:
    target = tmp_path / "elsewhere" / name
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)
    return target


def _clean(done: subprocess.CompletedProcess[str]) -> str:
    out = done.stdout + done.stderr
    assert "Traceback" not in out and SECRET not in out, out
    return out


@pytest.mark.parametrize("relative", [False, True])
def test_verify_reports_a_spec_linked_out_of_the_repository(repo: Path, tmp_path: Path, relative: bool) -> None:
    target = _outside(tmp_path, "LOOP_SPEC.md", (EXAMPLE / "LOOP_SPEC.md").read_text() + f"\n{SECRET}\n")
    spec = repo / ".loop" / "LOOP_SPEC.md"
    spec.unlink()
    spec.symlink_to(os.path.relpath(target, spec.parent) if relative else target)
    for args in (["verify", "."], ["verify", ".loop/LOOP_SPEC.md"]):
        done = _loopgate(*args, cwd=repo)
        assert done.returncode == 2
        assert "LG002 .loop/LOOP_SPEC.md: a symlink to " in _clean(done) and "outside the repository" in done.stdout


def test_verify_reports_a_link_to_etc_passwd(repo: Path) -> None:
    queue = repo / ".loop" / "escalation-policy.md"
    queue.unlink()
    queue.symlink_to("../" * 40 + "etc/passwd")
    done = _loopgate("verify", ".", cwd=repo)
    assert done.returncode == 2
    expected = "LG002 .loop/escalation-policy.md: a symlink to /etc/passwd, outside the repository; not read"
    assert expected in _clean(done)
    assert "root:" not in done.stdout


def test_a_symlink_inside_the_repository_is_read(repo: Path) -> None:
    spec = repo / ".loop" / "LOOP_SPEC.md"
    (repo / "specs").mkdir()
    spec.rename(repo / "specs" / "LOOP_SPEC.md")
    spec.symlink_to("../specs/LOOP_SPEC.md")
    done = _loopgate("verify", ".", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_loop_directory_linked_out_of_the_repository_is_not_read(repo: Path, tmp_path: Path) -> None:
    shutil.move(str(repo / ".loop"), str(tmp_path / "other-loop"))
    (repo / ".loop").symlink_to(tmp_path / "other-loop")
    done = _loopgate("verify", ".", cwd=repo)
    assert done.returncode == 2 and "outside the repository" in _clean(done)


def test_check_refuses_a_checklist_linked_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    target = _outside(tmp_path, "checklist.md", "# Quality Gate Checklist\n\n## Required Gates\n\n"
                                                "### c\n- command: true\n")
    checklist = repo / ".loop" / "quality-gate-checklist.md"
    checklist.unlink()
    checklist.symlink_to(target)
    done = _loopgate("check", cwd=repo)
    assert done.returncode == 2
    assert "quality-gate-checklist.md: a symlink to" in _clean(done) and "outside the repository" in done.stderr
    assert "passed" not in done.stdout


def test_scope_spec_linked_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    target = _outside(tmp_path, "LOOP_SPEC.md", (EXAMPLE / "LOOP_SPEC.md").read_text())
    (repo / "spec.md").symlink_to(target)
    done = _loopgate("gate", "scope", "--spec", "spec.md", "docs/a.md", cwd=repo)
    assert done.returncode == 2 and "outside the repository" in _clean(done)


def test_pattern_files_linked_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    (repo / "allow.txt").symlink_to(_outside(tmp_path, "allow.txt", "**\n"))
    done = _loopgate("gate", "scope", "--allow-file", "allow.txt", "src/evil.py", cwd=repo)
    assert done.returncode == 2 and "pattern file allow.txt is a symlink to" in _clean(done)


def test_schema_and_data_files_linked_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    (repo / "schema.json").symlink_to(_outside(tmp_path, "schema.json", '{"type": "object"}'))
    (repo / "real-schema.json").write_text('{"type": "object"}')
    (repo / "data.json").symlink_to(_outside(tmp_path, "data.json", f'{{"a": "{SECRET}"'))
    (repo / "ok.json").write_text("{}")
    done = _loopgate("gate", "schema", "--schema", "schema.json", "ok.json", cwd=repo)
    assert done.returncode == 2 and "schema.json: a symlink to" in _clean(done)
    done = _loopgate("gate", "schema", "--schema", "real-schema.json", "ok.json", "data.json", cwd=repo)
    assert done.returncode == 1
    assert "data.json:1:1: LG455 a symlink to" in _clean(done) and "outside the repository" in done.stdout
    (repo / "inside.json").symlink_to("ok.json")
    done = _loopgate("gate", "schema", "--schema", "real-schema.json", "inside.json", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_outside_git_a_loop_named_from_elsewhere_may_link_to_its_project(tmp_path: Path) -> None:
    """No `.git`: the project around a `.loop/` is its repository, wherever verify is started from."""
    project = tmp_path / "project"
    (project / ".loop").mkdir(parents=True)
    for artifact in EXAMPLE.glob("*.md"):
        shutil.copy(artifact, project / ".loop" / artifact.name)
    (project / ".loop" / "LOOP_SPEC.md").rename(project / "LOOP_SPEC.md")
    (project / ".loop" / "LOOP_SPEC.md").symlink_to("../LOOP_SPEC.md")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _loopgate("verify", str(project / ".loop"), cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
