"""`network: allowlist` (issue 7, section 1) end to end: the real srt (Anthropic's sandbox-runtime,
which .ci/run installs into .ci/tools) around loopgate's real bwrap sandbox, hostile maker scripts
in a real repository with a local bare `origin`, and real HTTP servers on 127.0.0.1: one the spec
allows, one it does not. Without srt or bwrap these tests skip on a laptop and FAIL in CI.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import RunError, Stop

from .conftest import LoopRepo, PlanFactory, git, pid_alive, require_bwrap
from .conftest import run_one as run
from .conftest import seen_by_maker as seen

ROOT = Path(__file__).resolve().parents[2]
FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"
SECRET = "s3cr3t-value-0123456789"


def real_srt() -> str | None:
    for candidate in (os.environ.get("LOOPGATE_TEST_SRT", ""),
                      str(ROOT / ".ci" / "tools" / "node_modules" / ".bin" / "srt"), shutil.which("srt") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(autouse=True)
def srt_on_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """srt on PATH (its own folder), with bwrap, socat and ripgrep, which srt needs on Linux."""
    require_bwrap("the srt tests")
    path = real_srt()
    missing = [name for name in ("socat", "rg") if shutil.which(name) is None]
    if path is None or missing:
        message = ("the real srt is missing: bash .ci/run installs @anthropic-ai/sandbox-runtime into .ci/tools"
                   if path is None else f"srt needs {' and '.join(missing)} (apt-get install socat ripgrep)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("PATH", f"{os.path.dirname(path)}{os.pathsep}{os.environ['PATH']}")
    return path


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"hello from port {self.server.server_address[1]}".encode())

    def log_message(self, *args: object) -> None:
        return


def _serve() -> Iterator[int]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allowed_port() -> Iterator[int]:
    yield from _serve()


@pytest.fixture
def other_port() -> Iterator[int]:
    yield from _serve()


def allowlisted(repo: LoopRepo, script: str, hosts: str, iterations: int = 1) -> None:
    """Commit `script` (then the good fix) as the maker, under `network: allowlist`. The test's
    Python lives under /root (hidden like every home): `read only` shows it to the maker."""
    (repo.root / "tools").mkdir(exist_ok=True)
    (repo.root / "tools" / "hostile.sh").write_text(
        'seen="$LOOPGATE_ATTEMPT_DIR/seen.txt"\n' + script + "\n" + FIX + "\n")
    repo.set_spec("sh tools/hostile.sh", iterations=iterations)
    spec = repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text() + f"- network: allowlist\n- allowed hosts: {hosts}\n"
                    f"- read only: {sys.base_prefix}, {os.path.dirname(sys.executable)}\n")
    repo.commit("allowlisted maker")




def state_of(repo: LoopRepo) -> str:
    block = repo.state()[repo.state().index("### DOC-1"):]
    return next(line[len("- status: "):] for line in block.splitlines() if line.startswith("- status: "))


FETCH = ('{python} -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read())" '
         'http://127.0.0.1:{port}/ >> "$seen" 2>&1; echo "fetch {port} exit $?" >> "$seen"')
HOSTILE = "\n".join([
    'env >> "$seen"',
    'git push -q origin HEAD:refs/heads/pushed-by-maker >> "$seen" 2>&1; echo "push exit $?" >> "$seen"',
    'for f in {home}/.ssh/id_rsa {home}/.git-credentials "$HOME/.ssh/id_rsa"; do '
    'cat "$f" >> "$seen" 2>&1 || echo "unreadable $f" >> "$seen"; done',
    'top="$LOOPGATE_WORKTREE/../../../.."',
    'for f in "$top/docs/index.md" "$top/.loop/LOOP_SPEC.md" "$top/.git/config"; do '
    '(echo planted >> "$f") 2>/dev/null && echo "wrote $f" >> "$seen"; done',
    'mkdir -p {home} && echo planted > {home}/planted  # in /tmp: the sandbox\'s own, not yours',
    FETCH.replace("{port}", "{allowed}"),
    FETCH.replace("{port}", "{other}"),
])


def test_allowlist_runs_the_maker_and_its_gates_in_bwrap_inside_srt(
        loop_repo: LoopRepo, factory: PlanFactory, origin: Path, tmp_path: Path, allowed_port: int,
        other_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY----- {SECRET}\n")
    (home / ".git-credentials").write_text(f"https://user:{SECRET}@github.com\n")
    monkeypatch.setenv("HOME", str(home))
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.setenv(name, SECRET)
    before = git(origin, "for-each-ref")
    checkout = (loop_repo.root / "docs" / "index.md").read_bytes()
    allowlisted(loop_repo, HOSTILE.format(home=home, python=sys.executable, allowed=allowed_port, other=other_port),
                f"127.0.0.1:{allowed_port}")
    outcome = run(loop_repo, factory)
    text = seen(loop_repo)
    # the network: the allowed port through srt's proxy, the other one refused by it
    assert f"hello from port {allowed_port}" in text and f"fetch {allowed_port} exit 0" in text
    assert f"hello from port {other_port}" not in text and f"fetch {other_port} exit 1" in text
    assert "NO_PROXY=" not in text and "no_proxy=" not in text  # loopback goes through the proxy too
    assert "HTTPS_PROXY=" in text  # srt's proxy is what the maker has
    # the filesystem and the environment: loopgate's bwrap inside srt
    assert SECRET not in text and text.count("unreadable") == 3
    assert "wrote" not in text and not (home / "planted").exists()
    assert (loop_repo.root / "docs" / "index.md").read_bytes() == checkout
    assert "push exit 0" not in text and git(origin, "for-each-ref") == before
    # the gates ran (contained the same way) and passed the good fix
    assert state_of(loop_repo) == "drafted", loop_repo.state()
    report = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    assert report["contained"] is True
    assert report["containment"]["tool"] == "srt" and report["containment"]["network"] == "allowlist"
    assert report["containment"]["gates_contained"] is True


GATE_FETCH = """\
import sys, urllib.request
for port in sys.argv[1:]:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
        print(f"gate reached {port}")
    except OSError as err:
        print(f"gate refused {port}: {err}")
sys.exit(1)
"""


def test_a_gate_command_reaches_only_the_allowed_hosts(loop_repo: LoopRepo, factory: PlanFactory,
                                                       allowed_port: int, other_port: int) -> None:
    """A gate's command is the maker's work too: it runs in the same bwrap inside srt."""
    (loop_repo.root / "gate_fetch.py").write_text(GATE_FETCH)
    checklist = loop_repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text().replace(
        "check_links.py", f"gate_fetch.py {allowed_port} {other_port}"))
    allowlisted(loop_repo, ":", f"127.0.0.1:{allowed_port}")
    outcome = run(loop_repo, factory)
    attempt = outcome.records[0].attempts[0]
    links = next(g for g in attempt["gates"] if g["gate"] == "links")
    said = json.dumps(links)
    assert f"gate reached {allowed_port}" in said and f"gate refused {other_port}" in said


ESCAPE = "\n".join([
    # its git works in there (srt, started in the worktree, put /dev/null over .bashrc and co. there)
    f'{FIX} && git add -A >> "$seen" 2>&1 && git status --short >> "$seen" && echo "git ok" >> "$seen"',
    "sleep 1037 &",
    'setsid sh -c \'sleep 1; echo escaped > "$LOOPGATE_ATTEMPT_DIR/escaped.txt"\' </dev/null >/dev/null 2>&1 &',
    'echo started >> "$seen"',
])


def _sleepers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if handle.read().split(b"\0")[:2] == [b"sleep", b"1037"] and pid_alive(int(entry)):
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def test_nothing_the_maker_starts_outlives_the_attempt_under_srt(loop_repo: LoopRepo, factory: PlanFactory,
                                                                 allowed_port: int) -> None:
    allowlisted(loop_repo, ESCAPE, f"127.0.0.1:{allowed_port}")
    outcome = run(loop_repo, factory)
    assert "started" in seen(loop_repo)
    assert "M  docs/guide.md" in seen(loop_repo) and "git ok" in seen(loop_repo)
    assert outcome.stop is Stop.DONE, outcome.detail
    assert _sleepers() == []
    time.sleep(1.5)
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/escaped.txt"))


# every process the maker can see in /proc, and the filesystem each one sees: nested in srt, the
# maker's /proc is srt's, where bwrap's own outer process sees srt's view of the machine (/tmp and
# your home included); its own user namespace keeps the maker out of it
THROUGH_PROC = ('for p in /proc/[0-9]*; do cat "$p/root{key}" >> "$seen" 2>/dev/null && echo "read via $p" >> "$seen"; '
                'done; ls /proc | grep -c "^[0-9]" >> "$seen"')


def test_the_maker_cannot_read_hidden_files_through_other_processes_root(
        loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path, allowed_port: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "home" / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(f"-----BEGIN OPENSSH PRIVATE KEY----- {SECRET}\n")
    monkeypatch.setenv("HOME", str(key.parent.parent))
    allowlisted(loop_repo, THROUGH_PROC.format(key=key), f"127.0.0.1:{allowed_port}")
    run(loop_repo, factory)
    text = seen(loop_repo)
    assert SECRET not in text and "read via" not in text
    assert state_of(loop_repo) == "drafted"


FAILING_SRT = """#!/bin/sh
echo "Error: Sandbox dependencies are not available: socat not found" >&2
exit 1
"""


def test_an_srt_that_cannot_run_the_sandbox_refuses_the_run_in_its_own_words(
        loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path, allowed_port: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fakebin" / "srt"
    fake.parent.mkdir()
    fake.write_text(FAILING_SRT)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    allowlisted(loop_repo, 'echo ran >> "$seen"', f"127.0.0.1:{allowed_port}")
    with pytest.raises(RunError, match=r"srt cannot run loopgate's bwrap sandbox here: Error: Sandbox dependencies "
                                       r"are not available: socat not found"):
        run(loop_repo, factory)
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*/maker/seen.txt"))


def test_a_maker_stopped_at_its_deadline_leaves_nothing_running_under_srt(
        loop_repo: LoopRepo, factory: PlanFactory, allowed_port: int) -> None:
    """Killed by loopgate, not exiting on its own: srt's own sandbox leaves loopgate's process group
    (bwrap --new-session), so what ends it is bwrap's die-with-parent and the attempt's token."""
    allowlisted(loop_repo, "trap '' TERM\nsleep 1037 &\necho started >> \"$seen\"\nsleep 1037",
                f"127.0.0.1:{allowed_port}")
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max pull requests per run: 2",
                                             "- max pull requests per run: 2\n- max runtime per iteration: 4 seconds"))
    loop_repo.commit("a short attempt")
    outcome = run(loop_repo, factory)
    assert "started" in seen(loop_repo)
    assert outcome.records[0].attempts[0]["maker"]["stopped"] == "iteration-timeout"
    assert _sleepers() == []


KILLED_MID_ATTEMPT = """
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
Loop(RunSettings({loop!r}, grace=0.5), plan_factory({loop!r})).run()
"""


def test_the_maker_dies_with_a_runner_killed_with_9_under_srt(loop_repo: LoopRepo, allowed_port: int) -> None:
    """srt (a Node process) is the runner's child: it must die with the runner as bwrap alone does,
    and take its sandbox with it, not wait for the next run to find the orphan."""
    from loopgate.runner.maker import tokened_pids

    allowlisted(loop_repo, 'echo up >> "$seen"\nsetsid sleep 1037 &\nsleep 1037', f"127.0.0.1:{allowed_port}")
    runner = subprocess.Popen([sys.executable, "-c", KILLED_MID_ATTEMPT.format(loop=str(loop_repo.loop))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/seen.txt")):
        assert time.monotonic() < deadline, "the maker never started"
        time.sleep(0.05)
    token = next((loop_repo.root / ".git" / "loopgate").glob("*/maker.pid")).read_text().split()[1]
    assert tokened_pids(token) and _sleepers()
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 5
    while (tokened_pids(token) or _sleepers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tokened_pids(token) == [] and _sleepers() == []
