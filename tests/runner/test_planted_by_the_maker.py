"""What a contained maker leaves where loopgate itself reads and writes afterwards, outside any
sandbox (issue 7, second review): the worktree's git admin directory and the maker's part of the
attempt directory are writable to it. A symlink or a FIFO planted there must neither make
loopgate write through it (a file of the user's overwritten) nor make it hang.

Real makers under the real bubblewrap sandbox, a real repository with a local bare origin."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from loopgate.runner.state import load_state

from .conftest import LoopRepo, git
from .test_containment import FIX, SECRET, bwrap_here, hostile

__all__ = ["bwrap_here"]  # a fixture, used by name
SYSTEM_PYTHON = "/usr/bin/python3"


def run(repo: LoopRepo, seconds: float = 120.0) -> subprocess.CompletedProcess[str] | None:
    """`loopgate run` as a user runs it: None when it is still going after `seconds` (a hang)."""
    proc = subprocess.Popen([sys.executable, "-m", "loopgate", "run", str(repo.loop), "-q"], cwd=repo.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err, err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def status(repo: LoopRepo) -> tuple[str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return state.items["DOC-1"].status, state.items["DOC-1"].reason


def test_a_symlink_planted_in_the_worktrees_git_dir_does_not_overwrite_a_users_file(
        loop_repo: LoopRepo, tmp_path: Path, origin: Path) -> None:
    # loopgate works out the judged tree through a scratch index next to the worktree's own; a
    # maker that makes that name a symlink had loopgate copy the index over whatever it points at
    precious = loop_repo.root / "notes-not-committed.txt"
    precious.write_text("a person's uncommitted work\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    hostile(loop_repo, 'admin="$(git rev-parse --absolute-git-dir)"\n'
                       f'ln -s {precious} "$admin/index.loopgate-judged" && echo planted >> "$seen"\n'
                       f'ln -s {outside} "$admin/index.loopgate-judged.lock" 2>/dev/null; true')
    outcome = run(loop_repo)
    assert outcome is not None
    assert precious.read_bytes() == b"a person's uncommitted work\n"
    assert outside.read_text() == "mine\n"
    # the planted names are the maker's own business: the attempt is judged as usual
    assert status(loop_repo)[0] == "drafted", status(loop_repo)
    assert git(origin, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_a_fifo_as_the_usage_file_does_not_hang_the_run(loop_repo: LoopRepo) -> None:
    hostile(loop_repo, 'mkfifo "$LOOPGATE_USAGE_FILE" && echo planted >> "$seen"')
    outcome = run(loop_repo, 60.0)
    if outcome is None:
        pytest.fail("loopgate hung reading a FIFO the maker left as its usage file")
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_usage_file_pointing_at_an_endless_device_does_not_hang_the_run(
        loop_repo: LoopRepo, target: str) -> None:
    hostile(loop_repo, f'ln -s {target} "$LOOPGATE_USAGE_FILE" && echo planted >> "$seen"')
    outcome = run(loop_repo, 60.0)
    assert outcome is not None, f"loopgate hung reading {target} through the maker's usage file"
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def _with_budget(repo: LoopRepo, line: str) -> None:
    spec = repo.loop / "LOOP_SPEC.md"
    anchor = "- max pull requests per run: 2"
    spec.write_text(spec.read_text().replace(anchor, f"{anchor}\n{line}"))
    repo.commit("budget")


def test_a_git_lock_left_by_an_agent_stopped_mid_command_is_not_an_environmental_failure(
        loop_repo: LoopRepo, origin: Path) -> None:
    # an agent stopped by `max runtime per iteration` while its `git status` held the index lock:
    # the work it did is judged (it was paid for), and the lock its killed git left is no reason
    # to stop the run as environmental, every run, with the item never judged
    hostile(loop_repo, 'touch "$(git rev-parse --absolute-git-dir)/index.lock"\n' + FIX + "\nsleep 600")
    _with_budget(loop_repo, "- max runtime per iteration: 2 seconds")
    done = run(loop_repo)
    assert done is not None
    assert done.returncode != 5, done.stdout + done.stderr
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_a_worktree_the_maker_locked_is_still_removed_and_recreated(loop_repo: LoopRepo, origin: Path) -> None:
    # `git worktree lock` from inside (its `locked` file): `worktree remove --force` refuses a locked
    # worktree, and every later run's `worktree add -B` for the item failed ("cannot force update the
    # branch checked out at ...") as an environmental failure
    hostile(loop_repo, 'echo "mine now" > "$(git rev-parse --absolute-git-dir)/locked"\nsleep 600')
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max runtime: 5 minutes", "- max runtime: 3 seconds")
                    .replace("- max iterations: 1", "- max iterations: 2"))
    loop_repo.commit("a small budget")
    first = run(loop_repo)
    assert first is not None and first.returncode == 4, first
    assert status(loop_repo)[0] == "stopped", status(loop_repo)
    # a person raises the budget and runs again: the item resumes in a fresh worktree
    raised = spec.read_text().replace("- max runtime: 3 seconds", "- max runtime: 5 minutes")
    assert "5 minutes" in raised  # the rerun must not keep the 3 s budget (it failed under load when it did)
    spec.write_text(raised)
    (loop_repo.root / "tools" / "hostile.sh").write_text(FIX + "\n")
    loop_repo.commit("a fixed maker")
    second = run(loop_repo)
    assert second is not None
    assert second.returncode != 5, second.stdout + second.stderr
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_a_submodules_git_config_in_the_repository_holds_no_token_for_the_maker(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # actions/checkout with `submodules: true` writes its token into every submodule's own config
    # (.git/modules/<name>/config) as well as the top one; only the top one was cleaned for the maker
    library = tmp_path / "library"
    subprocess.run(["git", "init", "-q", "-b", "main", str(library)], check=True)
    (library / "lib.md").write_text("# Lib\n")
    git(library, "add", "-A")
    git(library, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "lib")
    git(loop_repo.root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/lib")
    loop_repo.commit("a submodule")
    for config in (loop_repo.root / ".git" / "modules").rglob("config"):
        git(loop_repo.root, "config", "--file", str(config), "http.https://github.com/.extraheader",
            f"AUTHORIZATION: basic {SECRET}")
    hostile(loop_repo, 'for f in $(find "$(git rev-parse --git-common-dir)/modules" -name config); do '
                       'cat "$f" >> "$seen" 2>&1; done')
    done = run(loop_repo)
    assert done is not None
    found = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1, "the maker did not run"
    text = found[0].read_text()
    assert "[core]" in text  # it read the submodule's config, cleaned
    assert SECRET not in text, [line for line in text.splitlines() if SECRET in line]
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_a_contained_maker_cannot_reach_a_service_socket_under_run(loop_repo: LoopRepo, origin: Path) -> None:
    # /run holds the sockets of the machine's services (docker.sock: root on the host; a database's
    # peer-authenticated socket; the system bus). A read-only mount does not stop connect(): the
    # maker could ask any of them to act for it, outside the sandbox
    if not os.access("/run", os.W_OK):
        message = "this test plants a service socket in /run and needs to write there (run it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert os.path.exists(SYSTEM_PYTHON), f"this test needs {SYSTEM_PYTHON}"
    path = f"/run/loopgate-test-{os.getpid()}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(0.1)
    accepted: list[bytes] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn.recv(100))
            conn.close()

    stop = threading.Event()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        # the system's python: the test's own may live under a home the sandbox hides
        hostile(loop_repo, f"{SYSTEM_PYTHON} -c \"import socket; s = socket.socket(socket.AF_UNIX); "
                           f"s.connect('{path}'); s.sendall(b'from the maker')\" >> \"$seen\" 2>&1; "
                           "echo \"connect exit $?\" >> \"$seen\"; cat /etc/resolv.conf > /dev/null && "
                           "echo 'resolver readable' >> \"$seen\"")
        done = run(loop_repo)
    finally:
        stop.set()
        thread.join(5)
        server.close()
        os.unlink(path)
    assert done is not None
    seen = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(seen) == 1, "the maker did not run"
    text = seen[0].read_text()
    assert accepted == [], "the maker reached a service socket under /run"
    assert "connect exit 1\n" in text, text
    assert "resolver readable" in text  # name resolution still works for `network: full`
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


def test_a_symlink_out_of_the_worktree_is_escalated_before_any_gate_reads_through_it(
        loop_repo: LoopRepo, origin: Path, tmp_path: Path) -> None:
    # the gates run outside the sandbox: through a symlink the maker adds they read (and report, into
    # the next attempt's prompt) files it cannot read itself, and they judge content the commit does
    # not hold (it holds the link); here the user's own checkout has the fixed guide the gates pass
    read = tmp_path / "gate-read"
    _checklist_reading(loop_repo, read)
    # at exit: after the fix hostile() appends (sed -i would write a file in the link's place)
    hostile(loop_repo, f"trap 'rm docs/guide.md && ln -s {loop_repo.root}/docs/guide.md docs/guide.md' EXIT")
    (loop_repo.root / "docs" / "guide.md").write_text("# Guide\n\nRead [the index](index.md).\n")  # uncommitted
    done = run(loop_repo)
    assert done is not None
    state, reason = status(loop_repo)
    assert state == "escalated" and "docs/guide.md" in reason and "outside" in reason, reason
    assert not read.exists(), "a gate ran on the attempt"
    assert git(loop_repo.root, "for-each-ref", "--format=%(refname)", "refs/heads/loop/").strip() == "" or \
        "120000" not in git(loop_repo.root, "ls-tree", "-r", "loop/docs-repair/DOC-1")


def _checklist_reading(repo: LoopRepo, marker: Path) -> None:
    (repo.loop / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs Repair\n\n## Required Gates\n\n"
        f"### links\n- command: touch {marker} && {sys.executable} check_links.py\n\n### scope\n- gate: scope\n")
    repo.commit("checklist")


def test_a_binary_file_and_a_file_name_that_is_not_utf8_do_not_crash_loopgate(
        loop_repo: LoopRepo, origin: Path) -> None:
    # an agent that writes an image, or a file whose name is not UTF-8: git's output is not text
    hostile(loop_repo, "printf '\\377\\376\\000\\201binary' > docs/logo.png; "
                       "printf 'x' > \"docs/$(printf 'caf\\351').md\"")
    spec = loop_repo.loop / "LOOP_SPEC.md"  # a second attempt: its prompt carries the first one's findings
    spec.write_text(spec.read_text().replace("- max iterations: 1", "- max iterations: 2"))
    loop_repo.commit("two attempts")
    done = run(loop_repo)
    assert done is not None  # and no traceback (run() asserts it)
    state, reason = status(loop_repo)
    assert state in ("drafted", "escalated"), reason
    prompts = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-2/prompt.md"))
    assert state == "drafted" or len(prompts) == 1, reason  # the second attempt ran


def test_a_contained_maker_cannot_read_untracked_secrets_in_the_users_checkout(
        loop_repo: LoopRepo, origin: Path) -> None:
    # an untracked .env beside the code: the worktree never has it, but the user's checkout was
    # shown (read-only) inside the sandbox, and the maker could read it there
    (loop_repo.root / ".gitignore").write_text(".env\n")
    loop_repo.commit("ignore .env")
    (loop_repo.root / ".env").write_text(f"API_TOKEN={SECRET}\n")
    hostile(loop_repo, 'top="$LOOPGATE_WORKTREE/../../../.."; cat "$top/.env" >> "$seen" 2>&1; '
                       f'cat {loop_repo.root}/.env >> "$seen" 2>&1; '
                       'git log -1 --format=%s >> "$seen" 2>&1; echo done >> "$seen"')
    done = run(loop_repo)
    assert done is not None
    found = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(found) == 1, "the maker did not run"
    text = found[0].read_text()
    assert "done" in text and "fatal" not in text  # its git still works
    assert SECRET not in text
    assert status(loop_repo)[0] == "drafted", status(loop_repo)


@pytest.mark.parametrize("account", [
    '{"tool_calls": 1, "cost_usd": 1' + "0" * 400 + "}",  # no float holds it: float() overflows
    '{"usage": ' + "[" * 100_000 + "]" * 100_000 + "}",  # past the JSON reader's recursion limit
])
def test_a_usage_account_no_number_or_parser_can_hold_does_not_crash_the_run(
        loop_repo: LoopRepo, tmp_path: Path, account: str) -> None:
    source = tmp_path / "account.json"  # outside the repository: the maker copies it into place
    source.write_text(account)
    hostile(loop_repo, f'cp {source} "$LOOPGATE_USAGE_FILE" && echo planted >> "$seen"',
            sandbox=f"- read only: {tmp_path}\n")
    outcome = run(loop_repo)  # asserts no traceback
    assert outcome is not None and outcome.returncode in (0, 3), outcome.stdout + outcome.stderr
    seen = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt"))
    assert len(seen) == 1 and "planted" in seen[0].read_text(), "the maker did not plant the account"
    assert status(loop_repo)[0] == "drafted", status(loop_repo)
