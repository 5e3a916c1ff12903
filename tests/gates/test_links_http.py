"""The links gate against a real HTTP server on 127.0.0.1: statuses, redirects, retries, timeouts, the cache.

Options keep it quick: a 0.5 s timeout and a 0.05 s backoff, so the whole file runs in seconds.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import urllib3

from loopgate.gates import _http, _linkexternal, links
from loopgate.gates.base import GateContext, GateResult, GateStatus

from .conftest import Cli


class Server:
    def __init__(self) -> None:
        self.hits: Counter[tuple[str, str]] = Counter()  # (method, path) -> requests
        self.lock = threading.Lock()
        self.agents: set[str] = set()  # the User-Agent headers seen
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def count(self, path: str) -> int:
        return sum(n for (_, p), n in self.hits.items() if p == path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer("HEAD")

            def do_GET(self) -> None:
                self.answer("GET")

            def answer(self, method: str) -> None:
                with server.lock:
                    server.hits[(method, self.path)] += 1
                    server.agents.add(self.headers.get("User-Agent", ""))
                    seen = server.count(self.path)
                status, headers = route(self.path, method, seen)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def route(path: str, method: str, seen: int) -> tuple[int, dict[str, str]]:
    """What each path answers; `seen` counts the requests to it so far (this one included)."""
    if path.startswith("/ok"):
        return 200, {}
    if path.startswith("/hop/"):
        left = int(path.rsplit("/", 1)[1])
        return 301, {"Location": f"/hop/{left - 1}" if left > 1 else "/ok-final"}
    if path == "/to-webhook":  # a redirect through a URL whose path is a credential (a Slack webhook)
        return 302, {"Location": "/services/T0R/B0R/R3dirS3cret"}
    if path.startswith("/services/"):
        return 302, {"Location": "/ok-final"}
    if path == "/moved-away":
        return 302, {"Location": "/missing"}
    if path == "/no-head":
        return (405, {}) if method == "HEAD" else (200, {})
    if path == "/rate-limited":
        return (429, {"Retry-After": "1"}) if seen == 1 else (200, {})
    if path == "/flaky":
        return (503, {}) if seen <= 2 else (200, {})
    if path == "/slow":
        time.sleep(1.0)
        return 200, {}
    if path == "/too-patient":
        return 429, {"Retry-After": "3600"}
    return 404, {}


@pytest.fixture
def server() -> Iterator[Server]:
    made = Server()
    thread = threading.Thread(target=made.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield made
    made.httpd.shutdown()
    made.httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


FAST = {"request_timeout": 0.5, "backoff": 0.05, "retries": 2, "max_retry_wait": 2.0}


def run_gate(root: Path, text: str, **options: object) -> GateResult:
    (root / "doc.md").write_text(text, encoding="utf-8")
    merged = {**FAST, "cache_file": str(root / "cache.json"), **options}
    return links.run(links.Options(paths=("doc.md",), **merged), GateContext(cwd=str(root)))  # type: ignore[arg-type]


def messages(result: GateResult) -> list[str]:
    return [f"{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]


def test_statuses_redirects_and_fallbacks(tmp_path: Path, server: Server) -> None:
    base = server.base
    text = (f"[ok]({base}/ok) [hops]({base}/hop/3) [gone]({base}/missing)\n"
            f"[moved]({base}/moved-away) [head refused]({base}/no-head) <{base}/ok#anchor>\n")
    result = run_gate(tmp_path, text)
    assert result.status is GateStatus.FAILED
    assert messages(result) == [
        f"1:{text.index(base + '/missing') + 1}: LG443 {base}/missing: 404 Not Found",
        f"2:9: LG443 {base}/moved-away: 404 Not Found after 1 redirect (via {base}/moved-away)",
    ]
    assert server.hits[("GET", "/no-head")] == 1  # HEAD said 405, GET decided
    assert server.hits[("HEAD", "/ok-final")] == 1  # the chain was followed to its end
    assert "6 external checked (5 unique URLs, 0 from cache); not checked: 1 anchors in external pages" \
        in result.summary


def test_the_user_agent_names_the_project_and_its_homepage(tmp_path: Path, server: Server) -> None:
    """A site owner who finds the gate in a log learns what it is and where it lives: the one homepage
    address, the same as the package's metadata."""
    import tomllib

    from loopgate import __version__
    from loopgate.project import HOMEPAGE

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Homepage"] == HOMEPAGE
    assert run_gate(tmp_path, f"[ok]({server.base}/ok)\n").status is GateStatus.PASSED
    assert server.agents == {f"loopgate/{__version__} (links gate; +{HOMEPAGE})"}


def test_retry_after_then_success_and_5xx_retried(tmp_path: Path, server: Server) -> None:
    result = run_gate(tmp_path, f"[a]({server.base}/rate-limited) [b]({server.base}/flaky)\n")
    assert result.status is GateStatus.PASSED, messages(result)
    assert server.count("/rate-limited") == 2
    assert server.count("/flaky") == 3


def test_retry_after_longer_than_allowed_fails_at_once(tmp_path: Path, server: Server) -> None:
    result = run_gate(tmp_path, f"[a]({server.base}/too-patient)\n")
    assert messages(result) == [f"1:5: LG443 {server.base}/too-patient: 429 Too Many Requests (asked to wait "
                                "3600 s, longer than the 2 s allowed)"]
    assert server.count("/too-patient") == 1


def test_slow_answer_past_the_timeout_fails(tmp_path: Path, server: Server) -> None:
    result = run_gate(tmp_path, f"[slow]({server.base}/slow)\n", retries=1)
    assert messages(result) == [f"1:8: LG443 {server.base}/slow: no answer within 0.5 s"]
    assert server.count("/slow") == 2  # a timeout is retried


def test_connection_refused_is_a_broken_link_not_the_environment(tmp_path: Path, server: Server) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/x"
    result = run_gate(tmp_path, f"[dead]({dead})\n")
    assert result.status is GateStatus.FAILED
    assert messages(result)[0].startswith(f"1:8: LG443 {dead}: connection refused (")


def test_the_cache_keeps_successes_only(tmp_path: Path, server: Server) -> None:
    text = f"[a]({server.base}/ok/1) [b]({server.base}/hop/1) [c]({server.base}/missing)\n"
    first = run_gate(tmp_path, text)
    assert first.status is GateStatus.FAILED
    cache = json.loads((tmp_path / "cache.json").read_text(encoding="utf-8"))
    assert sorted(cache["urls"]) == [f"{server.base}/hop/1", f"{server.base}/ok/1"]
    before = sum(server.hits.values())
    second = run_gate(tmp_path, text)
    assert messages(second) == messages(first)
    assert sum(server.hits.values()) - before == 1  # only the failure was asked again
    assert "3 external checked (3 unique URLs, 2 from cache)" in second.summary
    run_gate(tmp_path, text, cache_ttl=0)  # no cache: everything is asked
    assert sum(server.hits.values()) - before == 1 + 3 + 1  # /hop/1 is two requests


def test_accepted_statuses_and_offline(tmp_path: Path, server: Server) -> None:
    text = f"[a]({server.base}/missing) [b](doc.md)\n"
    assert run_gate(tmp_path, text, accept=("200-299", "404")).status is GateStatus.PASSED
    offline = run_gate(tmp_path, text, offline=True)
    assert offline.status is GateStatus.PASSED
    assert offline.summary == "2 links in 1 file: 1 local checked, 1 external not checked (--offline); none broken"
    assert server.count("/missing") == 1


def test_per_host_limit_and_dedup(tmp_path: Path, server: Server) -> None:
    urls = [f"{server.base}/ok/{i}" for i in range(30)]
    text = "\n".join(f"[x]({u}) [again]({u})" for u in urls) + "\n"
    result = run_gate(tmp_path, text, per_host=2, concurrency=8)
    assert result.status is GateStatus.PASSED
    assert sum(server.hits.values()) == 30
    assert "60 external checked (30 unique URLs" in result.summary


def test_cli_exit_codes_with_a_real_server(tmp_path: Path, server: Server, cli: Cli) -> None:
    (tmp_path / "good.md").write_text(f"[a]({server.base}/ok)\n", encoding="utf-8")
    (tmp_path / "bad.md").write_text(f"[a]({server.base}/missing)\n", encoding="utf-8")
    cache = ["--cache-file", str(tmp_path / "c.json")]
    assert cli("links", *cache, "good.md", cwd=tmp_path).returncode == 0
    done = cli("links", *cache, "--format", "json", ".", cwd=tmp_path)
    assert done.returncode == 1
    assert [p["code"] for p in json.loads(done.stdout)["problems"]] == ["LG443"]
    # The per-request limit is --request-timeout: `loopgate check` passes a checklist's `timeout:`
    # (minutes, for a whole gate run) as --timeout, which must not become each request's wait.
    (tmp_path / "slow.md").write_text(f"[s]({server.base}/slow)\n", encoding="utf-8")
    slow = cli("links", *cache, "--request-timeout", "0.5", "--retries", "0", "slow.md", cwd=tmp_path)
    assert slow.returncode == 1
    assert f"{server.base}/slow: no answer within 0.5 s" in slow.stdout
    old_name = cli("links", *cache, "--timeout", "300", "good.md", cwd=tmp_path)
    assert old_name.returncode == 2
    assert "--timeout" in old_name.stderr


def _connection_error(reason: BaseException) -> requests.exceptions.ConnectionError:
    wrapped = urllib3.exceptions.MaxRetryError(None, "/", reason)  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(wrapped)


def test_failure_kinds_and_what_counts_as_the_network_being_down() -> None:
    dns = _connection_error(urllib3.exceptions.NameResolutionError(
        "docs.example", None, socket.gaierror(-2, "Name or service not known")))  # type: ignore[arg-type]
    unreachable = _connection_error(urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection"))  # type: ignore[arg-type]
    unreachable.__context__ = OSError(101, "Network is unreachable")
    assert _http.classify(dns) == _http.DNS
    assert _http.classify(unreachable) == _http.UNREACHABLE
    assert _http.classify(requests.exceptions.ReadTimeout()) == _http.TIMEOUT
    down = [_http.Outcome("a", False, kind=_http.DNS), _http.Outcome("b", False, kind=_http.UNREACHABLE)]
    assert links.network_down(down)
    assert links.network_down([*down, _http.Outcome("f", True, 200, cached=True)])  # the cache is not the network
    assert not links.network_down([*down, _http.Outcome("c", False, kind=_http.REFUSED)])
    assert not links.network_down([*down, _http.Outcome("d", False, 404)])
    assert not links.network_down([*down, _http.Outcome("e", True, 200)])
    assert not links.network_down([])


def test_status_lists() -> None:
    assert _linkexternal.parse_statuses(["200-204", "403,429"]) == frozenset({200, 201, 202, 203, 204, 403, 429})
    with pytest.raises(ValueError, match="not an HTTP status"):
        _linkexternal.parse_statuses(["99"])


def test_urls_that_cannot_be_sent_are_broken_not_a_crash(tmp_path: Path) -> None:
    result = run_gate(tmp_path, "[a](http://[not-an-ip/x) [b](http://127.0.0.1:99999/)\n")
    assert result.status is GateStatus.FAILED
    assert [m.split(" (")[0] for m in messages(result)] == [
        "1:5: LG443 http://[not-an-ip/x: not a valid URL", "1:30: LG443 http://127.0.0.1:99999/: not a valid URL"]


def test_every_name_unresolvable_is_an_environment_error(tmp_path: Path, server: Server,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An offline machine: no name resolves. Real requests and urllib3; only the resolver is replaced,
    since a real failing lookup would send DNS traffic off this machine."""
    real = socket.getaddrinfo

    def resolve(host: object, *args: object, **kwargs: object) -> object:
        if host != "127.0.0.1":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    text = "[a](https://docs.example/a) [b](https://other.example/b) [c](missing.md)\n"
    result = run_gate(tmp_path, text)
    assert result.status is GateStatus.ERROR
    assert result.reason.startswith("network unavailable: all 2 external URLs asked failed (the host name does "
                                    "not resolve)")
    assert [f.code for f in result.findings] == ["LG447", "LG441"]  # local findings are still reported
    # One URL that answers (here the 127.0.0.1 server) shows the network works: the others are broken links.
    mixed = run_gate(tmp_path, text + f"[d]({server.base}/ok)\n")
    assert mixed.status is GateStatus.FAILED
    assert [f.code for f in mixed.findings] == ["LG443", "LG443", "LG441"]


def test_documented_concurrency_defaults_are_the_real_ones() -> None:
    """The docstring (the gate's user documentation) states both limits; they must be the Options' defaults."""
    options = links.Options()
    doc = " ".join((links.__doc__ or "").split())
    assert f"`--concurrency` requests in flight (default {options.concurrency})" in doc
    assert f"`--per-host` to any one host (default {options.per_host})" in doc
    assert f"`--request-timeout` seconds (default {options.request_timeout:g})" in doc
    assert (options.concurrency, options.per_host) == (_http.Settings.concurrency, _http.Settings.per_host)
