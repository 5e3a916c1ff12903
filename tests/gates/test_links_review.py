"""What a hostile review of the links gate found (symlinks out of the repository, symlink loops),
through the real CLI on real files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .conftest import Cli, make_repo
from .test_links_http import Server, server  # noqa: F401  (the fixture)

FORMATS = ("text", "json", "github", "sarif", "junit", "markdown")


def test_a_symlink_out_tells_nothing_about_the_files_there(tmp_path: Path, cli: Cli) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.write("a.md", "[a](docs/etc/passwd) [b](docs/etc/doesnotexist) [c](docs/nx/foo) [d](docs/up/x.md)\n"
                       "[e](loop1) [f](docs/in/b.md) [g](docs/in/nope.md)\n")
    repo.write("docs/b.md", "# B\n")
    os.symlink("/etc", repo.path / "docs" / "etc")
    os.symlink("/nonexistent", repo.path / "docs" / "nx")
    os.symlink("../..", repo.path / "docs" / "up")  # relative, and out by `..`
    os.symlink(".", repo.path / "docs" / "in")  # a symlink that stays inside is followed
    os.symlink("loop2", repo.path / "loop1")
    os.symlink("loop1", repo.path / "loop2")
    done = cli("links", "--offline", "a.md", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("a.md:")]
    codes = [line.split(" ")[1] for line in lines]
    assert codes == ["LG448", "LG448", "LG448", "LG448", "LG441", "LG441"], done.stdout
    for line in lines[:4]:
        assert "is a symlink (or under one) to a place outside the repository" in line
    assert "did you mean" not in done.stdout  # no listing of a directory outside
    assert "loop1: loop1 is a symlink loop; it leads to no file" in lines[4]
    assert "docs/in/nope.md: file not found" in lines[5]


def test_camel_case_and_semicolon_credentials_never_reach_output_or_cache(
        tmp_path: Path, server: Server, cli: Cli) -> None:  # noqa: F811
    urls = [f"{server.base}/ok?AccessToken=S1", f"{server.base}/ok?x=1;token=S2", f"{server.base}/ok;jsessionid=S3",
            f"{server.base}/ok?sessionToken=S4&accesstoken=S5", f"{server.base}/missing?api_key=S6",
            f"{server.base}/ok?page=2"]
    (tmp_path / "doc.md").write_text(" ".join(f"[{i}]({url})" for i, url in enumerate(urls)) + "\n",
                                     encoding="utf-8")
    cache = tmp_path / "links.json"
    for fmt in FORMATS:
        done = cli("links", "--format", fmt, "--cache-file", str(cache), "--request-timeout", "2", "--retries", "0",
                   "doc.md", cwd=tmp_path)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        for secret in ("S1", "S2", "S3", "S4", "S5", "S6"):
            assert secret not in done.stdout + done.stderr, (fmt, secret, done.stdout)
        if fmt == "text":  # the `: ` after a redacted URL is kept
            assert "/missing?api_key=***: " in done.stdout, done.stdout
    stored = cache.read_text(encoding="utf-8")
    assert list(json.loads(stored)["urls"]) == [urls[-1]]  # the other good URLs carried credentials
    for secret in ("S1", "S2", "S3", "S4", "S5"):
        assert secret not in stored


def test_control_characters_in_a_target_never_reach_the_terminal(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "doc.md").write_text("[b](<q\x1b]0;PWN\x07.md>) [c](x\x1b[2Jy.md)\n", encoding="utf-8")
    for fmt in FORMATS:
        done = cli("links", "--offline", "--format", fmt, "doc.md", cwd=tmp_path)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout, (fmt, done.stdout)
        assert "PWN" in done.stdout, (fmt, done.stdout)  # the finding is there, escaped
    done = cli("links", "--offline", "doc.md", cwd=tmp_path)
    assert "q\\x1b]0;PWN\\x07.md: file not found" in done.stdout, done.stdout


def test_a_cache_entry_dated_in_the_future_is_not_trusted(tmp_path: Path, server: Server, cli: Cli) -> None:  # noqa: F811
    url = f"{server.base}/missing"  # answers 404 now; the cache says 200, dated a year ahead
    (tmp_path / "doc.md").write_text(f"[a]({url})\n", encoding="utf-8")
    cache = tmp_path / "links.json"
    entry = {"status": 200, "time": time.time() + 365 * 86400, "redirects": []}
    cache.write_text(json.dumps({"version": 1, "urls": {url: entry}}), encoding="utf-8")
    done = cli("links", "--cache-file", str(cache), "--request-timeout", "2", "--retries", "0", "doc.md", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "404" in done.stdout and server.count("/missing") >= 1
