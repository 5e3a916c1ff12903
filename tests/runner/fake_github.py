"""A GitHub REST API on 127.0.0.1 for the loop's tests: issues, the pause label, pull requests and
comments, each answering normally unless a test scripts it to fail: any status with GitHub's error
body and headers (401, 403 with rate-limit headers, 422, 500), or no answer in time."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a time-out)


def bad_credentials() -> Reply:
    return Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})


def rate_limited(reset_in: float = 3600) -> Reply:
    reset = int(time.time() + reset_in)
    return Reply(403, {"message": "API rate limit exceeded for user ID 1.",
                       "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
                 {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
                  "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"})


def forbidden() -> Reply:
    return Reply(403, {"message": "Resource not accessible by personal access token",
                       "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})


def already_exists(head: str) -> Reply:
    return Reply(422, {"message": "Validation Failed", "errors": [
        {"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for octo:{head}."}],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})


def server_error() -> Reply:
    return Reply(500, {"message": "Server Error"})


class FakeGitHub:
    """Requests are recorded; `script` maps (METHOD, path) to replies used in order (the last one
    repeats); anything unscripted gets the normal answer."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[tuple[str, str, Any]] = []
        self.script: dict[tuple[str, str], list[Reply]] = {}
        self.paused = False
        self.pulls = 0
        self.issues: list[dict[str, Any]] = []
        self.wake = threading.Event()  # ends the delays of answers still pending at teardown
        self.lock = threading.Lock()

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.script[(method, path)] = list(replies)

    def posts(self, path: str) -> list[Any]:
        return [body for method, p, body in self.requests if method == "POST" and p == path]

    def _scripted(self, method: str, path: str) -> Reply | None:
        with self.lock:
            replies = self.script.get((method, path))
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def answer(self, method: str, raw_path: str, body: Any) -> Reply:
        url = urlparse(raw_path)
        with self.lock:
            self.requests.append((method, url.path, body))
        scripted = self._scripted(method, url.path)
        if scripted is not None:
            return scripted
        query = parse_qs(url.query)
        if method == "GET" and url.path.endswith("/issues"):
            if query.get("labels") == ["loop-paused"]:
                return Reply(200, [{"number": 1}] if self.paused else [])
            return Reply(200, self.issues)
        if method == "POST" and url.path.endswith("/pulls"):
            with self.lock:
                self.pulls += 1
                number = self.pulls
            return Reply(201, {"number": number, "html_url": f"http://example.invalid/pull/{number}"})
        if method == "POST" and url.path.endswith("/comments"):
            return Reply(201, {"id": 1})
        return Reply(404, {"message": "Not Found"})


def serve() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            reply = fake.answer(method, self.path, body)
            if reply.delay and fake.wake.wait(reply.delay):
                return  # the test is over: no one waits for this answer
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.wake.set()
        server.shutdown()
        server.server_close()


QUEUE_MORE = """
### DOC-5
- title: Fix the guide's link again
- labels: maintenance
- expected paths: docs/guide.md
"""


def use_github(root: Path, loop: Path, api: str, mode: str, inputs: str = "", queue_more: bool = False,
               prs: int = 2, origin: Path | None = None) -> Path:
    """The loop fixture's repository with GitHub as the place for pull requests (work still comes
    from the queue unless `inputs` adds a `github label`), a bare repository as `origin`, the
    rollout mode set, and the result committed. Returns the origin's path."""
    spec = loop / "LOOP_SPEC.md"
    text = spec.read_text().replace("- mode: shadow", f"- mode: {mode}")
    text = text.replace("- max pull requests per run: 2", f"- max pull requests per run: {prs}")
    text = text.replace("- queue: work-queue.md", f"- queue: work-queue.md\n- github repo: octo/docs\n"
                                                  f"- github api: {api}" + (f"\n{inputs}" if inputs else ""))
    spec.write_text(text)
    if queue_more:
        with (loop / "work-queue.md").open("a") as handle:
            handle.write(QUEUE_MORE)
    origin = origin or root.parent / "origin.git"
    if not origin.exists():
        subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True, capture_output=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=root, check=False, capture_output=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", "use github"], cwd=root, check=False, capture_output=True)
    return origin
