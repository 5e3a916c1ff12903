"""A maker denied the network (`## Sandbox` `network: none`) cannot reach it through the built-in
links gate: that gate runs in loopgate's own process, outside the sandbox, and fetched whatever
URL the maker wrote into a markdown file (a way to carry data out). Under `none` (and
`allowlist`) it checks local links only, as `--offline`."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
from click.testing import CliRunner

from loopgate.cli.run import run

from .conftest import LoopRepo, require_bwrap
from .test_srt import real_srt


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request it gets."""
    seen: ClassVar[list[str]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _loop(repo: LoopRepo, url: str, network: str) -> None:
    # a script: the spec is markdown, where a link in the maker command would be read as a link
    (repo.root / "tools").mkdir()
    (repo.root / "tools" / "maker.sh").write_text(
        "sed -i s/missing.md/index.md/ docs/guide.md\n"
        f"echo 'See [status]({url}/EXFIL-'$(id -un)').' >> docs/guide.md\n")
    repo.set_spec("sh tools/maker.sh", iterations=1, contain=network != "full-uncontained")
    spec = repo.loop / "LOOP_SPEC.md"
    if network != "full-uncontained":
        hosts = "- allowed hosts: example.com\n" if network == "allowlist" else ""
        spec.write_text(spec.read_text() + f"- network: {network}\n{hosts}")
    checklist = repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text().replace("### scope\n", "### mdlinks\n- gate: links\n\n### scope\n"))
    repo.commit("a links gate")


@pytest.mark.parametrize("network", ["none", "allowlist"])
def test_the_links_gate_fetches_nothing_for_a_maker_without_the_network(
        loop_repo: LoopRepo, recorder: tuple[str, list[str]], network: str, monkeypatch: pytest.MonkeyPatch) -> None:
    require_bwrap(f"network: {network}")
    if network == "allowlist":
        srt = real_srt()
        if srt is None:
            if os.environ.get("CI") == "true":
                pytest.fail("the real srt is missing: bash .ci/run installs it into .ci/tools")
            pytest.skip("no srt here for network: allowlist")
        monkeypatch.setenv("PATH", f"{os.path.dirname(srt)}{os.pathsep}{os.environ['PATH']}")
    url, seen = recorder
    _loop(loop_repo, url, network)
    monkeypatch.chdir(loop_repo.root)
    result = CliRunner().invoke(run, [str(loop_repo.loop)])
    assert "DOC-1" in result.output and "drafted" in result.output, result.output
    assert seen == []  # no request arrived


def test_a_maker_with_the_network_still_gets_its_links_checked(
        loop_repo: LoopRepo, recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: with `network: full` the gate checks external links, so the server hears it."""
    url, seen = recorder
    _loop(loop_repo, url, "full-uncontained")
    monkeypatch.chdir(loop_repo.root)
    result = CliRunner().invoke(run, [str(loop_repo.loop)])
    assert "DOC-1" in result.output, result.output
    assert any("EXFIL" in path for path in seen)
