"""Docusaurus route-style links: a link without an extension is a URL, read from the page's route as
the browser (and Docusaurus' own broken-link check) reads it, not from the file that holds it.

Docusaurus is not installed here (it needs node and its packages), so these sites are written from
its documentation (docs routes, `trailingSlash`), and the breaks expected below are the ones
Docusaurus 3's build reported (`onBrokenLinks: 'warn'`, `npx docusaurus build`, run once by hand on
these same files): the route table holds `/docs/guides/` for a folder's index.md and
`/docs/guides/writing` for a doc, and every route ends in `/` with `trailingSlash: true`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_links_sites import check, write

SITE = {
    "docs/intro.md": "# Intro\n\n## Part\n\n[w](./guides/writing) [g](./guides) [s](./start/quick-start)\n",
    "docs/guides/index.md": "# Guides\n\n[w](./writing) [up](../intro) [w2](writing) [wmd](./writing.md)\n",
    "docs/guides/writing.md": "# Writing\n\n[d](./deploying) [i](../intro#part) [idx](./) [bad](./nothing)\n",
    "docs/guides/deploying.md": "# Deploying\n\n[w](writing#x)\n",
    "docs/01-start/01-quick-start.md": "# Quick\n",
    "docs/01-start/02-install.md": "# Install\n\n[q](./quick-start) [q2](./01-quick-start) [q3](./01-quick-start.md)\n",
    "docs/slugged.md": "---\nslug: /custom/place\n---\n# Slugged\n\n"
                       "[i](./intro) [i2](../intro) [g](./guides/writing)\n",
}

# What Docusaurus 3 reported broken on these files: (the page, the link as written).
DEFAULT_BROKEN = {("docs/slugged.md", "./intro"), ("docs/slugged.md", "./guides/writing"),
                  ("docs/guides/writing.md", "./nothing"), ("docs/01-start/02-install.md", "./01-quick-start"),
                  ("docs/guides/deploying.md", "writing#x")}
TRAILING_BROKEN = {("docs/slugged.md", "./intro"), ("docs/slugged.md", "../intro"),
                   ("docs/slugged.md", "./guides/writing"), ("docs/guides/deploying.md", "writing#x"),
                   ("docs/guides/writing.md", "./deploying"), ("docs/guides/writing.md", "../intro#part"),
                   ("docs/guides/writing.md", "./nothing"), ("docs/intro.md", "./guides/writing"),
                   ("docs/intro.md", "./guides"), ("docs/intro.md", "./start/quick-start"),
                   ("docs/01-start/02-install.md", "./quick-start"),
                   ("docs/01-start/02-install.md", "./01-quick-start")}


@pytest.mark.parametrize(("config", "broken"), [
    ("module.exports = {title: 'X'};\n", DEFAULT_BROKEN),
    ("module.exports = {title: 'X', trailingSlash: true};\n", TRAILING_BROKEN)])
def test_route_style_links_are_read_from_the_pages_route(tmp_path: Path, config: str, broken: set[tuple[str, str]],
                                                         ) -> None:
    root = write(tmp_path, {"docusaurus.config.js": config, **SITE})
    result = check(root)
    assert {(f.path, f.message.split(":")[0]) for f in result.findings} == broken
    assert all(f.code in ("LG441", "LG442") for f in result.findings)
    messages = {f.message for f in result.findings}
    if broken is DEFAULT_BROKEN:
        assert ("./01-quick-start: Docusaurus reads this link from the page's URL /docs/start/install, so it leads to "
                "/docs/start/01-quick-start, where no doc is; docs/01-start/01-quick-start.md is at "
                "/docs/start/quick-start") in messages


def test_a_route_outside_the_docs_or_a_versioned_site_is_not_guessed(tmp_path: Path) -> None:
    """A relative route that leaves /docs/ (a blog post, a page) is unchecked; with versions.json the docs
    folder is the `next` version, whose routes are not modelled: its route links are read as files."""
    root = write(tmp_path, {"docusaurus.config.js": "module.exports = {};\n",
                            "docs/intro.md": "# Intro\n\n[blog](../blog/hello) [other](./other)\n",
                            "docs/other.md": "# Other\n"})
    assert [(f.code, f.message.split(":")[0]) for f in check(root).findings] == [("LG482", "../blog/hello")]
    (root / "docs/intro.md").write_text("# Intro\n\n[gone](./gone) [other](./other)\n")
    assert [(f.code, f.message.split(":")[0]) for f in check(root).findings] == [("LG441", "./gone")]
    (root / "versions.json").write_text('["1.0"]\n')
    assert [(f.code, f.message.split(":")[0]) for f in check(root).findings] == [("LG482", "./gone")]


H1_SITE = {
    "docusaurus.config.js": "module.exports = {};\n",
    "docs/a.md": "# Title {#custom}\n\n## Title\n\n[t](#title) [c](#custom) [b](./b#b-title) [b2](b.md#second) "
                 "[b3](b.md#b-title) [m](./m#kept) [m2](m.mdx#m-title)\n",
    "docs/b.md": "B title\n=======\n\nSecond\n------\n",
    "docs/m.mdx": "# M title\n\n<h1 id=\"kept\">Kept</h1>\n",
    "README.md": "# R\n\n[x](docs/b.md#b-title) [y](#r)\n",
}


def test_a_top_level_heading_has_no_id_on_the_site(tmp_path: Path) -> None:
    """The classic theme renders a markdown `#` heading (`===` too) as an h1 without its id (theme/Heading:
    "H1 headings do not need an id because they don't appear in the TOC"; Docusaurus' own onBrokenAnchors
    reports links to it): a link read on the site to its slug or `{#id}` is broken, and says why. An
    `<h1 id>` written as HTML keeps its id, a `##` heading of the same text has the plain slug (the h1's
    `{#id}` takes no slug), and README.md, read as GitHub shows it, still has the heading's anchor."""
    root = write(tmp_path, H1_SITE)
    result = check(root)
    assert [(f.path, f.line, f.column, f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("docs/a.md", 5, 17, "LG442", "#custom"), ("docs/a.md", 5, 30, "LG442", "./b#b-title"),
        ("docs/a.md", 5, 66, "LG442", "b.md#b-title"), ("docs/a.md", 5, 99, "LG442", "m.mdx#m-title")]
    finding = result.findings[1]
    assert finding.message == ("./b#b-title: anchor #b-title not found in docs/b.md: Docusaurus renders a `#` "
                               "heading without an id (its theme leaves h1 out of the table of contents)")
    assert finding.hint and finding.severity.value == "error"
    # A swizzled Heading may give h1 an id: not guessed, the heading's anchors stand.
    (root / "src/theme/Heading").mkdir(parents=True)
    (root / "src/theme/Heading/index.js").write_text("export default function Heading() {}\n")
    assert check(root).findings == []
