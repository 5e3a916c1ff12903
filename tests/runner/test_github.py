"""GitHub as a work source and a place for pull requests, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from loopgate.runner.loop import Loop, RunSettings, Stop

from .conftest import LoopRepo, PlanFactory, git

TOKEN = "ghp_" + "T" * 36


class FakeGitHub:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = []
        self.rate_limited_once = False
        self.paused = False
        self.issues = [
            {"number": 7, "title": "Fix the broken link in the guide",
             "body": "The guide links to missing.md.\n\nExpected paths: `docs/guide.md`",
             "labels": [{"name": "maintenance"}], "html_url": "http://example.invalid/7"},
            {"number": 8, "title": "Rotate production secrets", "body": "", "labels": [{"name": "maintenance"}],
             "html_url": "http://example.invalid/8"},
            {"number": 9, "title": "a pull request, not an issue", "labels": [{"name": "maintenance"}],
             "pull_request": {}},
        ]


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            fake.requests.append(("GET", self.path, None, dict(self.headers)))
            if query.get("labels") == ["loop-paused"]:
                self._send(200, [{"number": 1}] if fake.paused else [])
                return
            if not fake.rate_limited_once:
                fake.rate_limited_once = True
                self._send(403, {"message": "API rate limit exceeded"},
                           {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)})
                return
            page = int(query.get("page", ["1"])[0])
            base = f"http://127.0.0.1:{self.server.server_address[1]}{url.path}"
            if page == 1:
                self._send(200, fake.issues[:2], {"Link": f'<{base}?page=2&labels=maintenance>; rel="next"',
                                                  "X-RateLimit-Remaining": "4999"})
            else:
                self._send(200, fake.issues[2:], {"X-RateLimit-Remaining": "4998"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(("POST", self.path, payload, dict(self.headers)))
            self._send(201, {"html_url": "http://example.invalid/pull/1", "number": 1})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _use_github(repo: LoopRepo, api: str, mode: str, tmp_path: Path) -> None:
    repo.set_spec("good", mode=mode)
    spec = (repo.loop / "LOOP_SPEC.md").read_text().replace(
        "- queue: work-queue.md",
        f"- github repo: octo/docs\n- github api: {api}\n- github label: maintenance\n- pause label: loop-paused")
    (repo.loop / "LOOP_SPEC.md").write_text(spec)
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo.root, "remote", "add", "origin", str(remote))
    repo.commit("use github")


def test_shadow_mode_reads_issues_and_never_writes(loop_repo: LoopRepo, factory: PlanFactory,
                                                   github: tuple[FakeGitHub, str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake, api = github
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    _use_github(loop_repo, api, "shadow", tmp_path)
    outcome = Loop(RunSettings(str(loop_repo.loop)), factory).run()
    assert outcome.stop is Stop.ESCALATIONS
    by_id = {r.item.id: r.status for r in outcome.records}
    assert by_id == {"GH-7": "drafted", "GH-8": "escalated"}  # the pull request (#9) is not a work item
    assert fake.rate_limited_once
    assert all(method == "GET" for method, *_ in fake.requests)  # shadow never calls a write API
    report = json.loads(Path(outcome.report_path).read_text())
    assert report["approvals"] == [{"action": "comment", "target": "#8", "mode": "shadow", "approved": False}]
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for *_, h in fake.requests)
    assert git(loop_repo.root, "ls-remote", "origin").strip() == ""  # nothing pushed
    for written in [loop_repo.loop / "LOOP_STATE.md", Path(outcome.report_path), Path(outcome.summary_path)]:
        assert TOKEN not in written.read_text()


def test_draft_pr_mode_pushes_and_opens_a_draft_through_the_approval_point(
        loop_repo: LoopRepo, factory: PlanFactory, github: tuple[FakeGitHub, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake, api = github
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    _use_github(loop_repo, api, "draft-pr", tmp_path)
    outcome = Loop(RunSettings(str(loop_repo.loop)), factory).run()
    record = next(r for r in outcome.records if r.item.id == "GH-7")
    assert record.status == "pr-opened" and record.pr_url == "http://example.invalid/pull/1"
    posts = [(path, body) for method, path, body, _ in fake.requests if method == "POST"]
    assert posts[1] == ("/repos/octo/docs/pulls", {"head": "loop/docs-repair/GH-7", "base": "main",
                                                   "title": "Fix the broken link in the guide",
                                                   "body": "Drafted by loopgate for GH-7.", "draft": True})
    # the always-escalate item (#8) was escalated first, with a comment on its issue
    assert posts[0][0] == "/repos/octo/docs/issues/8/comments"
    assert "production secrets" in posts[0][1]["body"]
    assert "loop/docs-repair/GH-7" in git(loop_repo.root, "ls-remote", "origin")
    report = json.loads(Path(outcome.report_path).read_text())
    assert [(a["action"], a["approved"]) for a in report["approvals"]] == [
        ("comment", True), ("push", True), ("draft-pr", True)]
    assert report["pull_requests_opened"] == 1


def test_pause_label_is_a_kill_switch(loop_repo: LoopRepo, factory: PlanFactory, github: tuple[FakeGitHub, str],
                                      tmp_path: Path) -> None:
    fake, api = github
    fake.paused = True
    _use_github(loop_repo, api, "shadow", tmp_path)
    outcome = Loop(RunSettings(str(loop_repo.loop)), factory).run()
    assert outcome.stop is Stop.PAUSED and "loop-paused" in outcome.detail
    assert outcome.records == []


@pytest.mark.parametrize("token_env", ["GITHUB_TOKEN", "GH_PAT"])
def test_the_maker_never_sees_the_loops_token_whatever_its_variable(
        loop_repo: LoopRepo, factory: PlanFactory, github: tuple[FakeGitHub, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, token_env: str) -> None:
    _, api = github
    monkeypatch.setenv(token_env, TOKEN)
    _use_github(loop_repo, api, "shadow", tmp_path)
    spec = loop_repo.loop / "LOOP_SPEC.md"
    text = spec.read_text().replace("- pause label: loop-paused",
                                    f"- pause label: loop-paused\n- token env: {token_env}")
    text = text.replace("- contain: yes", "- contain: no")  # it writes beside the worktree; the env is the same
    spec.write_text(text.replace(MAKER_LINE, "- maker command: env > ../maker-env.txt && " + GOOD_FIX))
    loop_repo.commit("token env")
    Loop(RunSettings(str(loop_repo.loop)), factory).run()
    seen = (loop_repo.root / ".git" / "loopgate-worktrees" / "docs-repair" / "maker-env.txt").read_text()
    assert "LOOPGATE_ITEM_ID=GH-7" in seen  # the maker did run and dump its environment
    assert TOKEN not in seen


MAKER_LINE = "- maker command: sed -i 's/missing.md/index.md/' docs/guide.md && echo 'fixed the link'"
GOOD_FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"
