"""The links gate against hostile and careless input: paths out of the repository, credentials in URLs,
corrupt and contended caches, non-UTF-8 file names (issue 8). Real trees, a real HTTP server on
127.0.0.1, the real CLI and real parallel processes."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from loopgate.gates import _linkcache, _redact, links
from loopgate.gates.base import GateContext, GateResult, GateStatus

from .conftest import Cli, make_repo
from .test_links_http import FAST, Server, server  # noqa: F401  (the fixture)

FORMATS = ("text", "json", "github", "sarif", "junit")


def check(root: Path, *paths: str, **options: object) -> GateResult:
    options.setdefault("offline", True)
    options.setdefault("cache_ttl", 0)
    return links.run(links.Options(paths=paths, **options), GateContext(cwd=str(root)))  # type: ignore[arg-type]


def found(result: GateResult) -> list[str]:
    return [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]


def parses(fmt: str, out: str) -> None:
    """The output is valid in its format (JSON, SARIF and JUnit must parse)."""
    if fmt in ("json", "sarif"):
        json.loads(out)
    elif fmt == "junit":
        ET.fromstring(out)


# -- paths out of the repository ------------------------------------------------------------------


def test_links_out_of_the_repository_are_findings(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\n[x](nowhere.md)\n", encoding="utf-8")
    (outside / "names").mkdir()
    (outside / "names" / "passwords.txt").write_text("x\n", encoding="utf-8")
    repo = make_repo(tmp_path / "repo")
    depth = "../" * (len(repo.path.parts) + 2)
    repo.write("docs/a.md", f"[passwd]({depth}etc/passwd) [up](../../outside/secret.md) [root](/../outside/secret.md)\n"
                            "[via link](evil.md#secret) [in dir](shared/names/passwords.txt) "
                            "[guess](shared/names/passwords.tx) [fine](b.md)\n")
    repo.write("docs/b.md", "# B\n")
    os.symlink(outside / "secret.md", repo.path / "docs" / "evil.md")
    os.symlink(outside, repo.path / "docs" / "shared")
    result = check(repo.path, "docs")
    assert result.status is GateStatus.FAILED
    messages = found(result)
    assert [m.split(" ")[1] for m in messages] == ["LG448", "LG448", "LG448", "LG448", "LG448", "LG448", "LG449"]
    assert messages[0].endswith(f"{depth}etc/passwd: points outside the repository; only files in it can be linked")
    assert "docs/evil.md is a symlink (or under one) to a place outside the repository" in messages[3]
    # A missing file under the symlinked directory is outside too: whether it exists there is not told.
    assert "shared/names/passwords.tx: docs/shared/names/passwords.tx is a symlink (or under one)" in messages[5]
    # The symlinked markdown file itself is not read (its own broken link is not reported).
    assert messages[6] == ("docs/evil.md:1:1: LG449 docs/evil.md: a symlink to a file outside the repository; "
                           "not followed, its links were not checked")
    assert "1 file named *.md not read: a symlink out of the repository" in result.summary
    assert not any("nowhere.md" in m for m in messages)


def test_a_file_named_outside_the_working_repository_uses_its_own(tmp_path: Path) -> None:
    """`loopgate gate links ../other/docs`: that repository is the boundary for its files, not ours."""
    ours, other = make_repo(tmp_path / "ours"), make_repo(tmp_path / "other")
    other.write("docs/a.md", "[b](../b.md) [root](/b.md) [out](../../ours/x.md)\n")
    other.write("b.md", "x\n")
    ours.write("x.md", "x\n")
    result = check(ours.path, "../other/docs")
    assert found(result) == ["../other/docs/a.md:1:34: LG448 ../../ours/x.md: points outside the repository; "
                             "only files in it can be linked"]


def test_non_utf8_file_names_keep_every_format_valid(tmp_path: Path, cli: Cli) -> None:
    if sys.platform == "darwin":  # pragma: no cover - APFS refuses names that are not UTF-8
        pytest.skip("the file system refuses non-UTF-8 names")
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"bad\xff.md"), "wb") as handle:
        handle.write(b"[x](gone.md) [y](caf\xc3\xa9\xff.md)\n")
    with open(os.path.join(root, b"raw\xfe.md"), "wb") as handle:
        handle.write(b"[x](\xff)\n")  # content not UTF-8 either: LG445 at a name that is not UTF-8
    for fmt in FORMATS:
        done = cli("links", "--offline", "--format", fmt, ".", cwd=tmp_path)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        parses(fmt, done.stdout)
        assert "bad\\xff.md" in done.stdout.replace("\\\\", "\\"), (fmt, done.stdout)
        assert "raw\\xfe.md" in done.stdout.replace("\\\\", "\\"), (fmt, done.stdout)


# -- credentials in URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("http://admin:hunter2@host/x", "http://***@host/x"),
    ("https://ghp_abc@github.com/o/r", "https://***@github.com/o/r"),
    ("//user:pw@host/", "//***@host/"),
    ("https://h/p?token=abc&page=2", "https://h/p?token=***&page=2"),
    ("https://h/p?Access_Token=a&api_key=b&X-Amz-Signature=c&X-Amz-Credential=d&sig=e&code=f",
     "https://h/p?Access_Token=***&api_key=***&X-Amz-Signature=***&X-Amz-Credential=***&sig=***&code=***"),
    ("https://h/p?client_secret=s&password=p&monkey=1&keyword=2&q=token", "https://h/p?client_secret=***&password=***"
     "&monkey=1&keyword=2&q=token"),
    ("https://h/cb#access_token=t&state=1", "https://h/cb#access_token=***&state=1"),
    ("https://h/p?api%5Fkey=z", "https://h/p?api%5Fkey=***"),
    ("https://example.com/a@b", "https://example.com/a@b"),  # an `@` in the path is no userinfo
    ("https://h/p?token=", "https://h/p?token="),
    # camelCase and run-together names, and `;` parameters (a review found these printed and stored)
    ("https://h/p?AccessToken=a&authToken=b&accesstoken=c&sessionToken=d&author=e&signal=f",
     "https://h/p?AccessToken=***&authToken=***&accesstoken=***&sessionToken=***&author=e&signal=f"),
    ("https://h/p;jsessionid=a?x=1;token=b", "https://h/p;jsessionid=***?x=1;token=***"),
    # credentials carried in the path, known by the path's shape on any host
    ("https://hooks.slack.com/services/T0001/B0002/XXXXs3cret", "https://hooks.slack.com/services/T0001/B0002/***"),
    ("https://hooks.slack.com/workflows/T01/A02/12345/S3cret", "https://hooks.slack.com/workflows/T01/A02/12345/***"),
    ("https://hooks.slack.com/triggers/T01/12345/S3cret", "https://hooks.slack.com/triggers/T01/12345/***"),
    ("https://api.telegram.org/bot123456:AAH-abc_def/sendMessage?chat_id=1",
     "https://api.telegram.org/bot***/sendMessage?chat_id=1"),
    ("https://api.telegram.org/file/bot123:ABC/doc.pdf", "https://api.telegram.org/file/bot***/doc.pdf"),
    ("https://discord.com/api/webhooks/1234/abcDEF-_.x?wait=true", "https://discord.com/api/webhooks/1234/***?wait=true"),
    ("https://discordapp.com/api/v10/webhooks/1/t0k", "https://discordapp.com/api/v10/webhooks/1/***"),
    ("https://o.webhook.office.com/webhookb2/g@t/IncomingWebhook/abc0123/guid-1",
     "https://o.webhook.office.com/webhookb2/g@t/IncomingWebhook/***"),
    # look-alikes that carry nothing stay as written
    ("https://example.com/services/api/docs", "https://example.com/services/api/docs"),
    ("https://t.me/botfather", "https://t.me/botfather"),
    ("https://example.com/bot/readme", "https://example.com/bot/readme"),
    ("https://discord.com/api/webhooks/", "https://discord.com/api/webhooks/"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert _redact.redact_url(url) == shown
    assert _redact.has_secret(url) == (url != shown)
    if "://" in url:  # a message quotes a protocol-relative URL only as a link's target, redacted as one
        assert _redact.redact_text(f"see ({url}) and more") == f"see ({shown}) and more"


def test_credentials_never_reach_output_or_cache(tmp_path: Path, server: Server, cli: Cli) -> None:  # noqa: F811
    port = server.base.rsplit(":", 1)[1]
    bad = f"http://admin:hunter2@127.0.0.1:{port}/missing?token=tok3n&page=2"
    good = f"http://127.0.0.1:{port}/ok?api_key=k3y"
    auth_ok = f"http://bob:s3cret@127.0.0.1:{port}/ok"
    refused = "http://joe:pa55@127.0.0.1:9/x?X-Amz-Signature=s1gn"
    plain = f"http://127.0.0.1:{port}/ok?page=2"
    (tmp_path / "doc.md").write_text(f"[a]({bad}) [b]({good}) [c]({auth_ok}) [d]({refused}) [e]({plain})\n",
                                     encoding="utf-8")
    cache = tmp_path / "cache.json"
    for fmt in FORMATS:
        done = cli("links", "--format", fmt, "--cache-file", str(cache), "--request-timeout", "2", "--retries", "0",
                   "doc.md", cwd=tmp_path)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        parses(fmt, done.stdout)
        shown = html.unescape(done.stdout)  # JUnit writes `&` as `&amp;`
        for secret in ("hunter2", "tok3n", "k3y", "s3cret", "pa55", "s1gn", "admin", "bob:", "joe"):
            assert secret not in shown + done.stderr, (fmt, secret, done.stdout)
        assert "***@127.0.0.1" in shown and "token=***&page=2" in shown
    stored = cache.read_text(encoding="utf-8")
    assert list(json.loads(stored)["urls"]) == [plain]  # the other good URLs carried credentials
    for secret in ("hunter2", "tok3n", "k3y", "s3cret", "pa55"):
        assert secret not in stored


def test_credentials_in_the_path_never_reach_output_or_cache(tmp_path: Path, server: Server, cli: Cli) -> None:  # noqa: F811
    """Slack, Telegram, Discord and Teams put the secret in the path: masked in every format, never cached."""
    port = server.base.rsplit(":", 1)[1]
    secrets = {"SlackS3cret": f"{server.base}/ok/services/T0A/B0B/SlackS3cret",
               "TgT0ken": f"{server.base}/ok/bot123456:TgT0ken/getMe",
               "D1scordTok": f"{server.base}/missing/api/webhooks/42/D1scordTok",
               "TeamsS3cret": f"{server.base}/missing/IncomingWebhook/TeamsS3cret/guid",
               "RefusedTok": "http://127.0.0.1:9/services/T1/B2/RefusedTok",
               "R3dirS3cret": f"{server.base}/to-webhook"}  # redirected to a Slack webhook path
    plain = f"{server.base}/ok/services/api"
    (tmp_path / "doc.md").write_text(" ".join(f"[{i}]({url})" for i, url in enumerate([*secrets.values(), plain]))
                                     + "\n", encoding="utf-8")
    cache = tmp_path / "links.json"
    for fmt in (*FORMATS, "markdown"):
        done = cli("links", "--format", fmt, "--cache-file", str(cache), "--request-timeout", "2", "--retries", "0",
                   "doc.md", cwd=tmp_path)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        parses(fmt, done.stdout)
        for secret in secrets:
            assert secret not in done.stdout + done.stderr, (fmt, secret, done.stdout)
        shown = html.unescape(done.stdout)
        assert f"127.0.0.1:{port}/missing/api/webhooks/42/***" in shown.replace("\\", ""), (fmt, done.stdout)
    stored = cache.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in stored
    # the good URLs with a secret in the path are not kept; the redirect's chain is kept redacted
    assert set(json.loads(stored)["urls"]) == {plain, f"{server.base}/to-webhook"}
    assert f"{server.base}/services/T0R/B0R/***" in json.loads(stored)["urls"][f"{server.base}/to-webhook"]["redirects"]


def test_an_old_cache_with_credentials_is_cleaned(tmp_path: Path) -> None:
    cache = tmp_path / "links.json"
    entry = {"status": 200, "time": 1e12, "redirects": ["https://h/r?token=t0k"]}
    cache.write_text(json.dumps({"version": 1, "urls": {"https://u:p4ss@h/": entry, "https://h/ok": entry}}),
                     encoding="utf-8")
    read = _linkcache.Cache(str(cache), 1e15)
    assert list(read.entries) == ["https://h/ok"]
    assert read.entries["https://h/ok"]["redirects"] == ["https://h/r?token=***"]
    read.put("https://h/new", 200, (), 1e12)
    read.save(1e12)
    assert "p4ss" not in cache.read_text(encoding="utf-8") and "t0k" not in cache.read_text(encoding="utf-8")


# -- the cache, corrupt and contended ---------------------------------------------------------------

CORRUPT = {
    "truncated": b'{"version": 1, "urls": {"http://a/": {"status": 200, "ti',
    "a list": b"[1, 2, 3]",
    "a string": b'"urls"',
    "urls a list": b'{"urls": [1]}',
    "wrong shapes": b'{"urls": {"a": 1, "b": {"status": "200", "time": 1}, "c": {"status": 200, "time": "x"}, '
                    b'"d": {"status": 200, "time": 1e999}, "e": {"status": true, "time": 1}, '
                    b'"f": {"status": 200, "time": 1, "redirects": [1]}, "g": {"status": 99999, "time": 1}}}',
    "binary": bytes(range(256)) * 4,
    "not UTF-8": b'{"urls": {"\xff": {}}}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "NUL": b"\0" * 100,
}


@pytest.mark.parametrize("name", list(CORRUPT))
def test_a_corrupt_cache_is_discarded_and_rebuilt(tmp_path: Path, server: Server, name: str) -> None:  # noqa: F811
    cache = tmp_path / "cache.json"
    cache.write_bytes(CORRUPT[name])
    (tmp_path / "doc.md").write_text(f"[a]({server.base}/ok)\n", encoding="utf-8")
    options = links.Options(paths=("doc.md",), cache_file=str(cache), **FAST)  # type: ignore[arg-type]
    result = links.run(options, GateContext(cwd=str(tmp_path)))
    assert result.status is GateStatus.PASSED, result.findings
    if name != "wrong shapes":  # there, each bad entry is dropped, and the file is still a cache
        assert f"cache {cache} discarded (" in result.summary
    rebuilt = json.loads(cache.read_text(encoding="utf-8"))
    assert list(rebuilt["urls"]) == [f"{server.base}/ok"]
    again = links.run(options, GateContext(cwd=str(tmp_path)))
    assert "1 from cache" in again.summary and "discarded" not in again.summary


def test_a_directory_where_the_cache_should_be(tmp_path: Path, server: Server) -> None:  # noqa: F811
    (tmp_path / "cache.json").mkdir()
    (tmp_path / "doc.md").write_text(f"[a]({server.base}/ok)\n", encoding="utf-8")
    options = links.Options(paths=("doc.md",), cache_file=str(tmp_path / "cache.json"), **FAST)  # type: ignore[arg-type]
    result = links.run(options, GateContext(cwd=str(tmp_path)))
    assert result.status is GateStatus.PASSED
    assert "(a directory)" in result.summary and "not written" in result.summary
    assert [f.code for f in result.findings] == ["LG484"]  # a warning, not a traceback
    assert (tmp_path / "cache.json").is_dir()  # a directory is never removed


def _hostile(path: Path, kind: str, outside: Path) -> None:
    if kind == "symlink":
        os.symlink(outside, path)
    elif kind == "dangling symlink":
        os.symlink(outside.parent / "not-there.json", path)
    elif kind == "huge":  # sparse: 65 MB long, nothing written
        with open(path, "wb") as handle:
            handle.truncate(_linkcache.MAX_BYTES + 1024 * 1024)
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "no header":
        path.write_text(json.dumps({"urls": {"http://a/": {"status": 200, "time": 1.0}}}), encoding="utf-8")
    elif kind == "another version":
        path.write_text(json.dumps({"version": 2, "urls": {}}), encoding="utf-8")
    else:
        path.write_bytes(b"\x00not json")


@pytest.mark.parametrize(("kind", "why"), [
    ("symlink", "a symlink; not followed"), ("dangling symlink", "a symlink; not followed"),
    ("huge", "larger than 64 MB"), ("FIFO", "not a regular file"), ("no header", "no cache header"),
    ("another version", "cache version 2, not 1"), ("not JSON", "not a JSON cache"),
])
def test_a_hostile_cache_is_ignored_with_a_warning_and_replaced(
        tmp_path: Path, server: Server, cli: Cli, kind: str, why: str) -> None:  # noqa: F811
    """Never followed, never read past 64 MB, never a traceback: LG484, and a new file renamed over it."""
    outside = tmp_path / "victim.json"
    outside.write_text('{"version": 1, "urls": {}}', encoding="utf-8")
    before = outside.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    cache = work / "links.json"
    _hostile(cache, kind, outside)
    (work / "doc.md").write_text(f"[a]({server.base}/ok)\n", encoding="utf-8")
    done = cli("links", "--format", "json", "--cache-file", "links.json", "--request-timeout", "2", "doc.md", cwd=work)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    findings = json.loads(done.stdout)["gates"][0]["findings"]
    assert [(f["code"], f["severity"], f["path"]) for f in findings] == [("LG484", "warning", "links.json")]
    assert why in findings[0]["message"] and "replaced" in findings[0]["message"]
    assert outside.read_bytes() == before  # what a symlink pointed to is untouched
    assert not cache.is_symlink() and cache.is_file()  # replaced by a regular file of our own
    assert list(json.loads(cache.read_text(encoding="utf-8"))) == ["version", "urls"]  # the header first
    assert list(json.loads(cache.read_text(encoding="utf-8"))["urls"]) == [f"{server.base}/ok"]
    assert sorted(os.listdir(work)) == ["doc.md", "links.json"]  # no temporary or lock file left behind
    again = cli("links", "--format", "json", "--cache-file", "links.json", "doc.md", cwd=work)
    assert again.returncode == 0 and json.loads(again.stdout)["gates"][0]["findings"] == [], again.stdout


WRITER = """
import sys, time
from loopgate.gates._linkcache import Cache
path, me, count, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
cache = Cache(path, 1e9)  # read before the others save: each run knows nothing of the others
for n in range(count):
    cache.put(f"https://example.com/{me}/{n}", 200, (), time.time())
while time.time() < start:  # all save at once
    time.sleep(0.001)
cache.save(time.time())
print(cache.problem)
"""


def test_parallel_runs_lose_no_cache_entries(tmp_path: Path) -> None:
    """Eight real processes save at the same moment: every entry of every one is in the file."""
    import time

    path, writers, count = tmp_path / "links.json", 8, 50
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(me), str(count), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for me in range(writers)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert all(out.strip() == "" for out, _ in outputs), outputs
    urls = json.loads(path.read_text(encoding="utf-8"))["urls"]
    assert len(urls) == writers * count
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".links-")]  # no temporary file left
