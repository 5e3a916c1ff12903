"""The Jekyll profile's URL model against the real `jekyll` (Debian's, 4.3): `baseurl`, collections
(`output: true`, their `permalink:` templates), the site's permalink styles other than `pretty`
(`date`, `none`, `ordinal`, `weekdate`, templates of one's own) and `defaults:` permalinks.

The fixture (tests/fixtures/sites/jekyll-baseurl/) is built by Jekyll into `out/handbook/` (the
site is served under its baseurl, as `jekyll serve` and GitHub Pages serve it), and lychee on that
HTML finds exactly the gate's planted breaks; the permalink styles are checked file by file: every
page, post and document the gate places is where Jekyll writes it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loopgate.gates._sites.config import load_yaml
from loopgate.gates._sites.jekyll_site import JekyllSite
from loopgate.gates._sites.jekyll_urls import slugify

from .test_links_site_jekyll import jekyll_build
from .test_links_site_mdbook import lychee_breaks
from .test_links_sites import check, found, site, write

REMAP = r"https://example\.org/(.*) /$1"
PLANTED = [
    "_team/ann.md:10:46: LG441 bob.html: this page is published at /handbook/people/ann/, so the link leads to "
    "/handbook/people/ann/bob.html, where nothing is; it works only from the source file's folder",
    "index.md:19:36: LG482 {{ site.baseurl }}/2024/03/01/launch.html: not checked: a site route that is no file: "
    "known only once the site is built",
    "index.md:22:23: LG441 /docs/start.html: the site is served under /handbook (baseurl in _config.yml), so this "
    "link leads to /docs/start.html, outside the site: write {{ site.baseurl }}/docs/start.html or "
    "/handbook/docs/start.html",
    "index.md:22:56: LG441 _archive/2019.md: _archive/2019.md is in the collection 'archive', which _config.yml does "
    "not publish (no `output: true`): the built site has no page for it",
    "index.md:22:83: LG442 {{ '/recipes/soup.html' | relative_url }}#garnish (checked as "
    "/handbook/recipes/soup.html#garnish): anchor #garnish not found in _recipes/soup.md",
    "index.md:23:13: LG441 {{ site.baseurl }}/guides/install.html: no page has this URL on the built site: "
    "guides/install.md is published at /handbook/guide/install/",
    "index.md:23:68: LG441 https://example.org/handbook/recipes/pie.html (checked as /handbook/recipes/pie.html): "
    "file not found: recipes/pie.md; did you mean _recipes?",
]


def test_the_baseurl_fixture_built_by_jekyll_is_broken_exactly_where_the_gate_says(tmp_path: Path) -> None:
    """Built into out/handbook (the baseurl), lychee on the HTML, with `--fallback-extensions html` as
    `jekyll serve` answers `/x` for `x.html`: its breaks are the gate's, plus the post linked by a
    date-style URL the gate lists as unchecked (LG482: a plugin may write a page there; here none
    does), and less the link to another project on the host (beside the site: lychee sees no host)."""
    root = site(tmp_path, "jekyll-baseurl")
    result = check(root, remap=(REMAP,))
    assert found(result) == PLANTED
    assert "not checked: 1 outside the Jekyll site's baseurl (not part of the site)" in result.summary
    built = jekyll_build(root, tmp_path / "out" / "handbook")
    assert built.returncode == 0, built.stdout + built.stderr
    out = tmp_path / "out"
    assert lychee_breaks(out, REMAP, "--fallback-extensions", "html", "--exclude", "other-project") == {
        ("handbook/people/ann/index.html", "bob.html"), ("handbook/index.html", "launch.html"),
        ("handbook/index.html", "start.html"), ("handbook/index.html", "2019.md"),
        ("handbook/index.html", "garnish"), ("handbook/index.html", "install.html"),
        ("handbook/index.html", "pie.html")}
    # the collection without output is not written; the one with a permalink template is where the gate puts it
    assert not list(out.rglob("2019*")) and (out / "handbook/people/ann/index.html").is_file()


def _destination(url: str) -> str:
    """The file Jekyll writes for a page at `url` (Document#destination)."""
    url = url.lstrip("/")
    return url + "index.html" if url.endswith("/") or not url else url if url.endswith(".html") else url + ".html"


STYLE_SITE = {
    "index.md": "---\n---\n# Home\n",
    "about.md": "---\ntitle: About\n---\n# About\n",
    "docs/guide.md": "---\n---\n# Guide\n",
    "docs/index.md": "---\n---\n# Docs\n",
    "docs/moved.md": "---\npermalink: /elsewhere/:basename:output_ext\n---\n# Moved\n",
    "_posts/2024-03-05-First Post.md": "---\ncategories: [News, Big News]\n---\n# First\n",
    "_posts/2023-12-31-last.markdown": "---\nslug: Year End\n---\n# Last\n",
    "_posts/2024-02-29-leap.md": "---\ndate: 2024-03-01\n---\n# Leap\n",
    "blog/_posts/2024-01-02-hello.md": "---\ncategory: Travel\n---\n# Hello\n",
    "blog/_posts/2024-01-03-own.md": "---\npermalink: /:categories/:year/:slug/\n---\n# Own\n",
    "_recipes/soup.md": "---\n---\n# Soup\n",
    "_recipes/sides/Green Salad.md": "---\n---\n# Salad\n",
    "_recipes/2022-05-06-dated.md": "---\n---\n# Dated\n",
    "_team/Ann Lee.md": "---\n---\n# Ann\n",
    "guides/install.md": "---\n---\n# Install\n",
}


@pytest.mark.parametrize("style", [
    "date", "pretty", "none", "ordinal", "weekdate", "/:categories/:year/:title/",
    "/blog/:month-:day/:title:output_ext", "/:year/:i_month/:slug", "/:short_year/:y_day/:name/"])
def test_every_page_is_where_jekyll_writes_it(tmp_path: Path, style: str) -> None:
    """Each permalink style, with posts (categories from folders and front matter, slugs, dates from front
    matter), pages, index pages, a page's own `:basename` permalink, collections with the default and
    their own templates, and a `defaults:` permalink: the files Jekyll writes are exactly the gate's URLs."""
    config = (f"title: x\npermalink: \"{style}\"\ncollections:\n  recipes:\n    output: true\n"
              "  team:\n    output: true\n    permalink: /people/:title/\n"
              "defaults:\n  - scope: {path: guides}\n    values: {permalink: /g/:basename/}\n")
    root = write(tmp_path / "site", {"_config.yml": config, **STYLE_SITE})
    routes = JekyllSite(load_yaml(config)).routes(str(root))
    assert not routes.unknown
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    written = {str(p.relative_to(tmp_path / "out")).replace(os.sep, "/") for p in (tmp_path / "out").rglob("*.html")}
    assert {_destination(url) for url in routes.urls.values()} == written


def test_a_document_dated_at_build_time_has_no_url_here(tmp_path: Path) -> None:
    """A collection whose template needs a date its documents do not have: Jekyll uses the build's time.
    Links to such a page by URL, and its own relative links, are unchecked, never broken."""
    root = write(tmp_path, {"_config.yml": "collections:\n  events:\n    output: true\n    permalink: /:year/:title/\n",
                            "_events/party.md": "---\n---\n# Party\n\n[other](../other/) [gone](gone.md)\n",
                            "index.md": "---\n---\n# Home\n\n[party](/2026/party/) [near](2026/party/)\n"})
    assert [(f.path, f.code, f.message.split(":")[0]) for f in check(root).findings] == [
        ("_events/party.md", "LG482", "../other/"), ("_events/party.md", "LG441", "gone.md"),
        ("index.md", "LG482", "/2026/party/"), ("index.md", "LG482", "2026/party/")]


def test_baseurl_forms_and_what_is_not_assumed(tmp_path: Path) -> None:
    """Every way of writing the baseurl reaches the page; `{{ site.baseurl }}{% link %}` is checked as the
    page it names and not reported: Jekyll 3 (GitHub Pages' version) needs the prefix, and only Jekyll 4,
    whose `link` adds it itself, doubles it (Jekyll 4.3's tags/link.rb returns `relative_url(item)`)."""
    root = write(tmp_path, {"_config.yml": "baseurl: /p/\n",
                            "index.md": "---\n---\n# Home\n\n[a]({{site.baseurl}}/a.html) [b]({{- site.baseurl -}}/a)"
                                        " [c]({{ 'a.html' | absolute_url }}) [d]({{ site.baseurl }}{% link a.md %}#x)"
                                        " [e](/p) [f](/p/) [g](/elsewhere/) [h](/a.md)"
                                        " [i]({{ site.baseurl }}/gone.html)\n",
                            "a.md": "---\n---\n# A\n\n## X\n"})
    result = check(root)
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("LG482", "{{ site.baseurl }}/gone.html")]
    assert "1 outside the Jekyll site's baseurl" in result.summary
    # a link the user remaps names the page as they wrote it: not read as outside the baseurl
    (root / "b.md").write_text("---\n---\n# B\n\n[a](https://x.org/a.html#x) [gone](https://x.org/gone.html)\n")
    remapped = check(root, "b.md", remap=(r"https://x\.org/(.*) /$1",))
    assert [(f.code, f.message.split(" (")[0]) for f in remapped.findings] == [("LG441", "https://x.org/gone.html")]


@pytest.mark.parametrize(("text", "mode", "cased", "wanted"), [
    # From Jekyll's own documentation of Utils.slugify (utils.rb) and its tests (test_utils.rb)
    ("The _config.yml file", "default", False, "the-config-yml-file"),
    ("The _config.yml file", "pretty", False, "the-_config.yml-file"),
    ("The _config.yml file", "pretty", True, "The-_config.yml-file"),
    ("Working with drafts", "default", False, "working-with-drafts"),
    ("Jekyll's Wiki (& more)", "pretty", False, "jekyll's-wiki-(&-more)"),
    ("  Leading and trailing  ", "default", False, "leading-and-trailing"),
    ("Ünïcödé çafé", "default", False, "ünïcödé-çafé"),
])
def test_jekyll_slugify(text: str, mode: str, cased: bool, wanted: str) -> None:
    assert slugify(text, mode, cased) == wanted


def test_exclude_leaves_files_out_of_the_site(tmp_path: Path) -> None:
    """`exclude:` (Jekyll's EntryFilter: a glob, or a prefix of the path: `notes` leaves out notes-old/ too;
    `include:` wins): links to what it leaves out are broken on the built site; a page left out (README.md)
    is no page of the site, so its links are read as GitHub shows them."""
    root = write(tmp_path / "site", {
        "_config.yml": "exclude: [drafts/, README.md, '*.txt', notes]\ninclude: [notes/keep.md]\n",
        "index.md": "---\n---\n# Home\n\n[a](/docs/a.html) [kept](/notes/keep.html)\n\n"
                    "Planted: [draft](/drafts/wip.html) [readme](/README.html) [text](/data.txt) "
                    "[prefix](/notes-old/x.html) [not included](/notes/other.html)\n",
        "docs/a.md": "---\n---\n# A\n", "drafts/wip.md": "---\n---\n# WIP\n", "data.txt": "x\n",
        "notes/keep.md": "---\n---\n# Keep\n", "notes/other.md": "---\n---\n# Other\n",
        "notes-old/x.md": "---\n---\n# X\n",
        "README.md": "# Readme\n\n[a](docs/a.md) [gone](docs/gone.md)\n"})
    result = check(root)
    assert [(f.path, f.message.split(":")[0]) for f in result.findings] == [
        ("README.md", "docs/gone.md"), ("index.md", "/drafts/wip.html"), ("index.md", "/README.html"),
        ("index.md", "/data.txt"), ("index.md", "/notes-old/x.html"), ("index.md", "/notes/other.html")]
    assert "`exclude:` in _config.yml leaves drafts/wip.md out of the site" in result.findings[1].message
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    out = tmp_path / "out"
    assert (out / "docs/a.html").is_file() and (out / "notes/keep.html").is_file()
    assert not any((out / name).exists() for name in ("drafts", "README.html", "data.txt", "notes-old",
                                                      "notes/other.html"))


def test_a_collection_without_output_is_read_as_github_shows_it(tmp_path: Path) -> None:
    """A document of a collection without `output: true` is no page: its own links are read from its file,
    as GitHub shows them (not from a URL it does not have)."""
    root = write(tmp_path, {"_config.yml": "collections:\n  notes:\n    output: false\n",
                            "_notes/a.md": "---\n---\n# A\n\n[b](b.md) [index](../index.md) [gone](c.md)\n",
                            "_notes/b.md": "---\n---\n# B\n", "index.md": "---\n---\n# Home\n"})
    assert [(f.path, f.message.split(":")[0]) for f in check(root).findings] == [("_notes/a.md", "c.md")]
