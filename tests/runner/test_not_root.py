"""The containment tests run as root (CI does): bwrap then runs privileged, and loopgate adds
`--cap-drop ALL`. Most users are not root, and bwrap then builds the sandbox in an unprivileged user
namespace, a different path through the kernel. This runs the same hostile maker with loopgate
itself as an unprivileged user (`nobody`, through util-linux's `setpriv`), on a copy of the
repository that user owns: the sandbox must come up and hold the same way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LoopRepo, git, require_bwrap
from .test_containment import SECRET, hostile, status

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
HOSTILE = "\n".join([
    'git push -q origin HEAD:refs/heads/pushed-by-maker >> "$seen" 2>&1; echo "push exit $?" >> "$seen"',
    'echo "- nothing" >> "$LOOPGATE_WORKTREE/../../../../.loop/escalation-policy.md" 2>> "$seen"; '
    'echo "policy exit $?" >> "$seen"',
    'env >> "$seen"',
])


def _as_nobody() -> list[str]:
    """The command prefix that runs as `nobody` with no capability, or a reason it cannot be had."""
    if os.geteuid() != 0:
        return []  # not root already: the test runs as the user it is
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI"):
            pytest.fail("this test needs setpriv (Debian: util-linux) to run loopgate as an unprivileged user")
        pytest.skip("setpriv is not installed")
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all"]
    reach = subprocess.run([*prefix, sys.executable, "-c", "import loopgate"], capture_output=True, check=False)
    if reach.returncode != 0:
        # a checkout under a home of mode 0700: an unprivileged user cannot start this Python at all
        pytest.skip(f"{sys.executable} and loopgate are not readable by an unprivileged user here")
    return prefix


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    # pytest's own temp root is private to root (0700): the copy lives where `nobody` can reach it
    path = Path(tempfile.mkdtemp(prefix="loopgate-not-root-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_contained_maker_holds_with_loopgate_run_by_an_unprivileged_user(
        loop_repo: LoopRepo, shared_tmp: Path) -> None:
    require_bwrap("the containment tests")
    prefix = _as_nobody()
    # the gates run contained too, and /root is hidden from them: the test's own Python may live
    # there (pyenv), so the links gate runs on the system's
    assert os.path.exists(SYSTEM_PYTHON), f"this test needs {SYSTEM_PYTHON}"
    checklist = loop_repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text().replace(sys.executable, SYSTEM_PYTHON))
    loop_repo.commit("the system's python for the gate")
    hostile(loop_repo, HOSTILE)
    root, origin, home = shared_tmp / "repo", shared_tmp / "origin.git", shared_tmp / "home"
    shutil.copytree(loop_repo.root, root, symlinks=True)
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    home.mkdir()
    if prefix:
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(shared_tmp)], check=True)
    policy = (root / ".loop" / "escalation-policy.md").read_bytes()
    env = {**os.environ, "HOME": str(home), "GITHUB_TOKEN": SECRET}
    done = subprocess.run([*prefix, sys.executable, "-m", "loopgate", "run", str(root / ".loop"), "--max-items", "1"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert "contained by bwrap" in done.stdout + done.stderr, done.stdout + done.stderr
    seen = list((root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(seen) == 1, done.stdout + done.stderr
    text = seen[0].read_text()
    assert "LOOPGATE_ITEM_ID=DOC-1" in text
    if prefix:  # it really ran unprivileged: what it wrote is nobody's
        assert seen[0].stat().st_uid == NOBODY and next((root / ".loop" / "runs").iterdir()).stat().st_uid == NOBODY
    assert "push exit 0" not in text and "push exit" in text
    assert "policy exit 0" not in text and "policy exit" in text
    assert SECRET not in text
    # `nobody` owns the repositories now: root's git reads them only when told they are safe
    assert git(origin, "-c", "safe.directory=*", "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    assert (root / ".loop" / "escalation-policy.md").read_bytes() == policy
    repo = LoopRepo(root, root / ".loop")
    assert status(repo)[0] == "drafted", (status(repo), done.stdout, done.stderr)
