"""The gates read the worktree's bytes; the commit holds what `git add` makes of them, and a
`.gitattributes` the maker writes decides that (the hostile review's bug 1): a token written as
UTF-16 under `working-tree-encoding` passed the secrets gate as binary and was committed as plain
UTF-8 text. A commit that would store other bytes than the gates read escalates the item; line ends
normalised by the repository's own `text=auto` are the same text and pass.

Real makers under the real bubblewrap sandbox, a real repository, the real secrets gate."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from loopgate.runner.gitobjects import _lfs_pointer_to

from .conftest import LoopRepo, git
from .test_containment import hostile
from .test_planted_by_the_maker import run, status

TOKEN = "ghp_" + "Xq3Zr8Lm2Vb7Np4Tc9Kd1Wf6Hy5Js0Ga2Ue8"


def _with_secrets_gate(repo: LoopRepo) -> None:
    checklist = repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text() + "\n### secrets\n- gate: secrets\n")
    queue = repo.loop / "work-queue.md"
    queue.write_text(queue.read_text().replace("- expected paths: docs/guide.md", "- expected paths: docs/**"))
    repo.commit("the secrets gate, and the whole docs folder for DOC-1")


def test_a_secret_the_makers_gitattributes_would_convert_into_the_commit_escalates(
        loop_repo: LoopRepo, origin: Path) -> None:
    _with_secrets_gate(loop_repo)
    hostile(loop_repo, "printf 'notes.md working-tree-encoding=UTF-16LE\\n' > docs/.gitattributes\n"
                       f"printf 'token = \"{TOKEN}\"\\n' | iconv -f UTF-8 -t UTF-16LE > docs/notes.md")
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated", (state, reason)
    assert "other bytes than the gates read: docs/notes.md" in reason, reason
    for ref in git(loop_repo.root, "for-each-ref", "--format=%(refname)", "refs/heads/loop").split():
        held = subprocess.run(["git", "cat-file", "-p", f"{ref}:docs/notes.md"], cwd=loop_repo.root,
                              capture_output=True, check=False)
        assert TOKEN.encode() not in held.stdout  # no branch of the loop's holds the token
    assert git(origin, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_the_same_secret_written_plainly_fails_the_secrets_gate(loop_repo: LoopRepo, origin: Path) -> None:
    # the control: without the conversion the secrets gate sees the token, and the attempt fails on it
    _with_secrets_gate(loop_repo)
    hostile(loop_repo, f"printf 'token = \"{TOKEN}\"\\n' > docs/notes.md")
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated" and "secrets" in reason, (state, reason)


def test_line_ends_the_repository_normalises_are_no_difference(loop_repo: LoopRepo, origin: Path) -> None:
    # a person's `* text=auto` (the base holds it): a maker on CRLF line ends stores LF, the same text
    (loop_repo.root / ".gitattributes").write_text("* text=auto\n")
    loop_repo.commit("normalise line ends")
    hostile(loop_repo, "printf '# Guide\\r\\n\\r\\nRead [the index](missing.md).\\r\\n' > docs/guide.md")
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "drafted", (state, reason)
    committed = git(loop_repo.root, "cat-file", "-p", "loop/docs-repair/DOC-1:docs/guide.md")
    assert "\r" not in committed and "index.md" in committed


SWAPPING_GATE = """import pathlib, time
notes = pathlib.Path("docs/notes.md")
held = notes.read_bytes()
notes.write_bytes(b"nothing to see\\n")
time.sleep(3)
notes.write_bytes(held)
print("links ok")
"""


def test_a_command_gate_cannot_hide_a_file_from_the_other_gates_while_they_run(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # the gate script is the maker's to rewrite: side by side with the secrets gate it showed a clean
    # file while that gate read it, then put the secret back before anything compared (re-review bug 3);
    # the command gates now run first, the tree is compared, and then the gates loopgate runs itself
    _with_secrets_gate(loop_repo)
    script = tmp_path / "swapping.py"
    script.write_text(SWAPPING_GATE)
    hostile(loop_repo, f"printf 'token = \"{TOKEN}\"\\n' > docs/notes.md; cp {script} check_links.py",
            sandbox=f"- read only: {tmp_path}\n")
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated" and "secrets" in reason, (state, reason)
    for ref in git(loop_repo.root, "for-each-ref", "--format=%(refname)", "refs/heads/loop").split():
        held = subprocess.run(["git", "cat-file", "-p", f"{ref}:docs/notes.md"], cwd=loop_repo.root,
                              capture_output=True, check=False)
        assert TOKEN.encode() not in held.stdout


def test_a_blob_that_only_starts_like_an_lfs_pointer_is_no_pointer(loop_repo: LoopRepo, origin: Path) -> None:
    # a stored blob beginning with the LFS pointer's first line passed as a pointer, whatever followed
    _with_secrets_gate(loop_repo)
    hostile(loop_repo, "printf 'notes.md working-tree-encoding=UTF-16LE\\n' > docs/.gitattributes\n"
                       "printf 'version https://git-lfs.github.com/spec/v1\\n"
                       f"token = \"{TOKEN}\"\\n' | iconv -f UTF-8 -t UTF-16LE > docs/notes.md")
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated" and "other bytes than the gates read: docs/notes.md" in reason, (state, reason)


def test_a_real_lfs_pointer_stands_for_the_content_it_names(tmp_path: Path) -> None:
    content = b"a large model file\n" * 100
    pointer = (f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(content).hexdigest()}\n"
               f"size {len(content)}\n").encode()
    assert _lfs_pointer_to(pointer, content)
    assert not _lfs_pointer_to(pointer, content + b"x")  # another content, the same pointer
    assert not _lfs_pointer_to(pointer.replace(b"size ", b"size 1"), content)
