"""The real pre-commit runs the `loopgate-verify` hook from this repository's manifest.

`pre-commit try-repo` installs this checkout (uncommitted changes included) into its own
virtualenv, as a user's pre-commit would, and runs the hook in a scratch repository on the
staged artifact files. The helper and its cache are the ones every hook test shares
(tests/gates/conftest.py, tests/conftest.py); a hook missing from the manifest fails here, it
is never skipped (a docs test keeps the manifest generated, so a skip could only hide it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from gates.conftest import ROOT, Repo, make_repo, try_repo

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
EXAMPLE = ROOT / "examples" / "repo-maintenance"


def scratch_repo(path: Path) -> Repo:
    repo = make_repo(path)
    repo.write("README.md", "# project\n")
    shutil.copytree(EXAMPLE, path / ".loop")
    return repo


def verify_hook() -> dict[str, object]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    found = [h for h in hooks if h.get("id") == "loopgate-verify"]
    assert len(found) == 1, f"loopgate-verify is not (once) in {MANIFEST}"
    hook: dict[str, object] = found[0]
    return hook


def test_the_manifest_declares_the_verify_hook() -> None:
    hook = verify_hook()
    assert hook["entry"] == "loopgate verify"
    assert hook["language"] == "python"
    pattern = str(hook["files"])
    for name in ("LOOP_SPEC.md", "loops/a/LOOP_STATE.md", ".loop/quality-gate-checklist.md",
                 "x/Escalation-Policy.md", "loop-readiness.md"):
        assert re.search(pattern, name), name
    for name in ("README.md", "docs/LOOP_SPEC.md.bak", "my-LOOP_SPEC.md"):
        assert not re.search(pattern, name), name


def test_the_hook_passes_a_clean_loop(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = scratch_repo(tmp_path / "scratch")
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-verify", pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loopgate verify" in done.stdout and "Passed" in done.stdout
    # pre-commit may split the file names over several processes: count what they checked together
    checked = re.findall(r"loopgate: ok: (\d+) files? checked, no findings", done.stdout)
    assert sum(map(int, checked)) == 5, done.stdout


def test_the_hook_fails_with_the_code_and_the_place(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = scratch_repo(tmp_path / "scratch")
    spec = repo.path / ".loop" / "LOOP_SPEC.md"
    text = spec.read_text("utf-8")
    line = text[:text.index("- max runtime: 30 minutes")].count("\n") + 1
    spec.write_text(text.replace("- max runtime: 30 minutes", "- max runtime: 30"), encoding="utf-8")
    repo.git("add", "-A")
    done = try_repo(repo, "loopgate-verify", pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert f".loop/LOOP_SPEC.md:{line}:16: LG203 max runtime: '30' has no unit" in done.stdout
    assert "README.md:" not in done.stdout
