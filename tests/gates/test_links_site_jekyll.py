"""The Jekyll profile against the real `jekyll` (Debian's): a page with a `permalink:` is published at
that URL, and the browser reads its relative links from there, not from the source file's folder;
`{% post_url %}` names a post. Each site is built by Jekyll in the test: the links broken in its HTML
are exactly the planted ones, and so are the gate's findings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_links_site_mdbook import lychee_breaks
from .test_links_sites import _broken_in_built_html, check, found, site, write

PERMALINKS = {
    "_config.yml": "title: x\n",
    "assets/logo.png": "png\n",
    "index.md": "---\ntitle: Home\n---\n# Home\n\n[guide](/manual/guide/) [post]({% post_url 2024-01-15-hello %}) "
                "[its part]({% post_url 2024-01-15-hello %}#details)\n\n"
                "Planted: [stale]({% post_url 2024-01-15-hello %}#nope) [moved](/docs/guide.html)\n",
    "docs/guide.md": "---\ntitle: Guide\npermalink: /manual/guide/\n---\n# Guide\n\n"
                     "From /manual/guide/: [faq](../faq/#questions) [logo](../../assets/logo.png) [home](../../)\n\n"
                     "Planted, right only from docs/: [other](other.html)\n",
    "docs/faq.md": "---\ntitle: FAQ\npermalink: /manual/faq/\n---\n# FAQ\n\n## Questions\n\n[guide](../guide/)\n",
    "docs/other.md": "---\ntitle: Other\n---\n# Other\n\n[guide](../manual/guide/) [faq](faq.html)\n",
    "_posts/2024-01-15-hello.md": "---\ntitle: Hello\n---\n# Hello\n\n## Details\n\n[faq](../../../manual/faq/)\n",
}

PLANTED = [
    "docs/guide.md:9:41: LG441 other.html: this page is published at /manual/guide/, so the link "
    "leads to /manual/guide/other.html, where nothing is; it works only from the source file's folder",
    "docs/other.md:6:33: LG441 faq.html: no page has this URL on the built site: docs/faq.md is published at "
    "/manual/faq/",
    "index.md:8:18: LG442 {% post_url 2024-01-15-hello %}#nope (checked as /_posts/2024-01-15-hello.md#nope): "
    "anchor #nope not found in _posts/2024-01-15-hello.md",
    "index.md:8:64: LG441 /docs/guide.html: no page has this URL on the built site: docs/guide.md is published at "
    "/manual/guide/",
]


def jekyll_build(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        if os.environ.get("CI") == "true":
            pytest.fail("jekyll is not installed (apt-get install jekyll)")
        pytest.skip("jekyll is not installed")
    return subprocess.run([jekyll, "build", "-s", str(root), "-d", str(out)], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)


def test_relative_links_are_read_from_the_permalink(tmp_path: Path) -> None:
    root = write(tmp_path / "site", PERMALINKS)
    assert found(check(root)) == PLANTED
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    assert _broken_in_built_html(tmp_path / "out") == {
        ("/manual/guide/", "other.html"), ("/docs/", "faq.html"),
        ("/", "/2024/01/15/hello.html#nope"), ("/", "/docs/guide.html")}


def test_a_missing_post_stops_the_build_and_is_the_gates_finding(tmp_path: Path) -> None:
    root = write(tmp_path / "site", {**PERMALINKS, "index.md": "---\n---\n# Home\n\n"
                                     "[gone]({% post_url 2024-01-16-gone %}) [sub]({% post_url 2023-05-01-sub %})\n",
                                     "_posts/notes/2023-05-01-sub.markdown": "---\n---\n# Sub\n"})
    assert found(check(root, "index.md")) == [
        "index.md:5:8: LG441 {% post_url 2024-01-16-gone %} (checked as /_posts/2024-01-16-gone.md): file not found: "
        "_posts/2024-01-16-gone.md"]
    stopped = jekyll_build(root, tmp_path / "out")
    assert stopped.returncode != 0
    assert "2024-01-16-gone" in stopped.stdout + stopped.stderr


@pytest.mark.parametrize(("config", "page", "good"), [
    ("_config.yml", "index.md", "about/"), ("docusaurus.config.js", "docs/intro.md", "docs/about")])
def test_a_wrong_remap_is_a_break_not_an_unchecked_route(tmp_path: Path, config: str, page: str, good: str) -> None:
    """A link the user remapped names a file they say is there: when it is not, the remap (or the link)
    is wrong, as lychee reports it; a route written as it is stays unchecked when unknown."""
    root = write(tmp_path, {config: "title: x\n" if config.endswith(".yml") else "module.exports = {};\n",
                            "about.md": "---\npermalink: /about/\n---\n# About\n", "docs/about.md": "# About\n",
                            page: f"# Home\n\n[ok](https://docs.example.com/{good}) "
                                  "[wrong](https://docs.example.com/nope/) [unknown](/plugin-page/)\n"})
    result = check(root, page, remap=(r"https://docs\.example\.com/(.*) /$1",))
    assert [(f.code, f.message.split(" (checked as")[0].split(":")[0]) for f in result.findings] == [
        ("LG441", "https"), ("LG482", "/plugin-page/")]
    assert "https://docs.example.com/nope/ (checked as /nope/): file not found" in result.findings[0].message


FIXTURE_REMAP = r"https://jekyll\.example\.org/(.*) /$1"
FIXTURE_PLANTED = [
    "docs/deployment.md:18:38: LG441 https://jekyll.example.org/manual/publishing/ (checked as /manual/publishing/): "
    "file not found: manual/publishing.md",
    "docs/deployment.md:20:81: LG441 plugins/: this page is published at /manual/deployment/, so the "
    "link leads to /manual/deployment/plugins/, where nothing is; it works only from the source file's folder",
    "docs/troubleshooting.md:15:78: LG441 /docs/permalinks/: no page has this URL on the built site: "
    "docs/permalinks.md is published at /manual/permalinks/",
    "index.md:9:12: LG482 /feed.xml: not checked: a site route that is no file: known only once the site is built",
    "index.md:11:33: LG441 {% link docs/gone.md %} (checked as /docs/gone.md): file not found: docs/gone.md",
    "index.md:12:41: LG442 /about/#team-members: anchor #team-members not found in about.md",
]


def test_the_fixture_site_built_by_jekyll_is_broken_exactly_where_the_gate_says(tmp_path: Path) -> None:
    """The fixture (tests/fixtures/sites/jekyll/, 26 pages: `permalink: pretty`, permalinked pages, posts with
    categories, `{% link %}`, `{% post_url %}`, relative_url): the real Jekyll builds it (without the planted
    `{% link %}` to a missing page, which stops the build: test_links_sites.py), and lychee on its HTML finds
    exactly the gate's other planted breaks (a stale anchor, a wrong remap, a permalinked page's file-named
    URL, a relative link right only from the source folder); /feed.xml, unchecked, is there."""
    root = site(tmp_path, "jekyll")
    result = check(root, remap=(FIXTURE_REMAP,))
    assert found(result) == FIXTURE_PLANTED
    index = root / "index.md"
    index.write_text("".join(line for line in index.read_text().splitlines(keepends=True) if "gone.md" not in line))
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "out" / "feed.xml").is_file()
    assert lychee_breaks(tmp_path / "out", FIXTURE_REMAP) == {
        ("docs/troubleshooting/index.html", "permalinks"), ("index.html", "team-members"),
        ("manual/deployment/index.html", "plugins"), ("manual/deployment/index.html", "publishing")}
