"""The MkDocs profile against the real `mkdocs build` and lychee on the HTML it writes: the fixture
(tests/fixtures/sites/mkdocs/, 23 pages: directory URLs, `{ #id }` and `{#id .class}` ids, snippets,
MkDocs' own heading ids, `.md` links and URL links) has planted breaks (a missing page, a stale anchor,
a wrong remap), and they are exactly the links broken in the built site. MkDocs itself validates only
`.md` links (test_links_sites.py holds its warnings to the gate's); lychee checks every link.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .test_links_site_mdbook import lychee_breaks
from .test_links_sites import _mkdocs, check, found, site

REMAP = r"https://docs\.example\.com/(.*) /$1"
PLANTED = [
    "docs/guide/install.md:7:33: LG441 ../gone.md: file not found: docs/gone.md",
    "docs/guide/install.md:8:40: LG442 ../config.md#old-options: anchor #old-options not found in docs/config.md; "
    "did you mean #options?",
    "docs/reference/gh-deploy.md:14:34: LG441 https://docs.example.com/reference/deploy/ (checked as "
    "/reference/deploy/): file not found: docs/reference/deploy.md; did you mean docs/reference/gh-deploy.md?",
]


def test_the_fixture_site_built_by_mkdocs_is_broken_exactly_where_the_gate_says(tmp_path: Path) -> None:
    root = site(tmp_path, "mkdocs")
    result = check(root, remap=(REMAP,))
    assert found(result) == PLANTED
    assert result.summary.startswith("site: MkDocs (from mkdocs.yml); 101 links in 24 files: 101 local checked; ")
    mkdocs = _mkdocs()
    if mkdocs is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs is not installed (pip install -e '.[test]')")
        pytest.skip("mkdocs is not installed")
    built = subprocess.run([mkdocs, "build", "-d", str(tmp_path / "out")], cwd=root, capture_output=True, text=True,
                           timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    # MkDocs writes `../gone.md` as it is (no page to point at): lychee names the file
    assert lychee_breaks(tmp_path / "out", REMAP) == {
        ("guide/install/index.html", "gone.md"), ("guide/install/index.html", "old-options"),
        ("reference/gh-deploy/index.html", "deploy")}
