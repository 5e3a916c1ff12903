"""The Hugo profile against the real `hugo` on leaf bundles (an `index.md` with its resources: files
published at the page's URL, other `.md` files there are resources, not pages), drafts (not built by
`hugo`), `uglyURLs` (`/a/b.html`), relative links read from the page's URL (a file beside the
source is not beside the page), and Hugo's configuration directory (`config/_default/hugo.toml`,
`config/production/` over it). Each site is built by Hugo: the hrefs broken in its HTML are exactly
the links the gate reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_links_site_hugo import built_breaks, hugo_site
from .test_links_sites import check, found

SITE = {
    "content/_index.md": "---\ntitle: Home\n---\n# Home\n\n"
                         "[bundle](/docs/bund/) [its image](/docs/bund/img.png) [nested](/docs/bund/sub/pic.png) "
                         "[slugged bundle](/blog/leafy/#part) [its photo](/blog/leafy/photo.png) [page](/docs/a/)\n\n"
                         "Planted: [resource](/docs/bund/other/) [draft](/docs/draft/) "
                         "[photo where the file is](/blog/leaf/photo.png)\n",
    "content/docs/_index.md": "---\ntitle: Docs\n---\n# Docs\n\n[a](a/) [bundle image](bund/img.png)\n",
    "content/docs/secimg.png": "png\n",
    "content/docs/a.md": "---\ntitle: A\n---\n# A\n\n[image](../bund/img.png) [section image](../secimg.png) "
                         "[bundle](../bund/)\n\nPlanted, beside the source only: [near](secimg.png)\n",
    "content/docs/bund/index.md": "---\ntitle: B\n---\n# B\n\n[img](img.png) [pic](sub/pic.png) [docs](../)\n",
    "content/docs/bund/img.png": "png\n",
    "content/docs/bund/sub/pic.png": "png\n",
    "content/docs/bund/other.md": "---\ntitle: Other\n---\n# Other\n",
    "content/docs/draft.md": "---\ntitle: D\ndraft: true\n---\n# D\n",
    "content/blog/leaf/index.md": "---\ntitle: L\nslug: leafy\n---\n# L\n\n## Part\n\n[photo](photo.png)\n",
    "content/blog/leaf/photo.png": "png\n",
}
CONFIG = 'baseURL = "https://example.org/"\ntitle = "x"\n'
PLANTED = [
    "content/_index.md:8:21: LG441 /docs/bund/other/: content/docs/bund/other.md is a resource of the leaf bundle "
    "docs/bund/ (beside its index), not a page: Hugo publishes no page for it",
    "content/_index.md:8:48: LG441 /docs/draft/: content/docs/draft.md is a draft (draft: true): `hugo` publishes it "
    "only with --buildDrafts",
    "content/_index.md:8:88: LG441 /blog/leaf/photo.png: no file has this URL on the built site: "
    "content/blog/leaf/photo.png is published at /blog/leafy/photo.png",
    "content/docs/a.md:8:41: LG441 secimg.png: this page is published at /docs/a/, so the link leads to "
    "/docs/a/secimg.png, where nothing is; it works only from the source file's folder",
]


def test_leaf_bundles_drafts_and_links_read_from_the_page(tmp_path: Path) -> None:
    root = hugo_site(tmp_path, {"hugo.toml": CONFIG, **SITE})
    result = check(root)
    assert found(result) == PLANTED
    assert built_breaks(root, tmp_path / "out") == {line.split(" ")[2].rstrip(":") for line in PLANTED}
    assert not (tmp_path / "out/docs/draft").exists() and not (tmp_path / "out/docs/bund/other").exists()


UGLY_PLANTED = [
    "content/_index.md:8:31: LG441 /docs/bund/: no page has this URL on the built site: content/docs/bund/index.md "
    "is published at /docs/bund.html",
    "content/_index.md:8:63: LG441 /docs/a/: no page has this URL on the built site: content/docs/a.md is "
    "published at /docs/a.html",
    "content/docs/bund/index.md:6:7: LG441 img.png: this page is published at /docs/bund.html, so the link leads to "
    "/docs/img.png, where nothing is; it works only from the source file's folder",
    "content/docs/bund/index.md:6:22: LG441 sub/pic.png: this page is published at /docs/bund.html, so the link leads "
    "to /docs/sub/pic.png, where nothing is; it works only from the source file's folder",
]


@pytest.mark.parametrize("layout", ["root", "config/_default", "config/production"])
def test_ugly_urls_and_the_config_directory(tmp_path: Path, layout: str) -> None:
    """`uglyURLs = true`: a regular page or leaf bundle is `/a/b.html` (its resources stay at `/a/b/`), a
    section is still `/a/`; the bundle's own `img.png` is then read from `/docs/`. The same setting in
    hugo.toml, in config/_default/hugo.toml, or in config/production/hugo.toml over config/_default/."""
    home = {"content/_index.md": SITE["content/_index.md"].replace("(/docs/bund/)", "(/docs/bund.html)", 1)
            .split("\n\nPlanted")[0].replace("[page](/docs/a/)", "[page](/docs/a.html)")
            + "\n\nPlanted: [bundle as a folder](/docs/bund/) [page as a folder](/docs/a/)\n"}
    content = {**{k: v for k, v in SITE.items() if k not in ("content/docs/draft.md", "content/docs/bund/other.md")},
               **home}
    content["content/docs/_index.md"] = "---\ntitle: Docs\n---\n# Docs\n\n[a](a.html) [bundle image](bund/img.png)\n"
    content["content/docs/a.md"] = "---\ntitle: A\n---\n# A\n\n[image](bund/img.png) [section image](secimg.png)\n"
    content["content/blog/leaf/index.md"] = ("---\ntitle: L\nslug: leafy\n---\n# L\n\n## Part\n\n"
                                             "[photo](leafy/photo.png)\n")
    content["content/_index.md"] = content["content/_index.md"].replace("(/blog/leafy/#part)",
                                                                        "(/blog/leafy.html#part)")
    files = {"root": {"hugo.toml": CONFIG + "uglyURLs = true\n"},
             "config/_default": {"config/_default/hugo.toml": CONFIG + "uglyURLs = true\n"},
             "config/production": {"config/_default/hugo.toml": CONFIG,
                                   "config/production/hugo.toml": "uglyurls = true\n"}}[layout]
    root = hugo_site(tmp_path, {**files, **content})
    result = check(root)
    assert found(result) == UGLY_PLANTED
    name = "hugo.toml" if layout == "root" else "config/_default/hugo.toml"
    assert result.summary.startswith(f"site: Hugo (from {name})")
    assert built_breaks(root, tmp_path / "out") == {line.split(" ")[2].rstrip(":") for line in UGLY_PLANTED}


def test_a_render_hook_or_a_theme_keeps_links_read_from_the_source_folder(tmp_path: Path) -> None:
    """A link render hook (the site's, a theme's, Hugo's own on a multilingual site) may resolve `img.png`
    as the page's resource: where one may run, a link that works from the source file's folder passes."""
    files = {"hugo.toml": CONFIG, "content/docs/_index.md": "# Docs\n", "content/docs/secimg.png": "png\n",
             "content/docs/a.md": "# A\n\n[near](secimg.png) [gone](nothing.png)\n"}
    plain = check(hugo_site(tmp_path / "plain", files))
    assert [f.message.split(":")[0] for f in plain.findings] == ["secimg.png", "nothing.png"]
    hooked = hugo_site(tmp_path / "hook", files)
    (hooked / "layouts" / "_markup").mkdir()
    (hooked / "layouts" / "_markup" / "render-link.html").write_text('<a href="{{ .Destination }}">{{ .Text }}</a>')
    themed = hugo_site(tmp_path / "theme", {**files, "hugo.toml": CONFIG + 'theme = "docsy"\n'})
    for root in (hooked, themed):
        assert [f.message.split(":")[0] for f in check(root).findings] == ["nothing.png"]


def test_a_plain_link_to_a_content_file_is_left_as_it_is(tmp_path: Path) -> None:
    """Hugo writes `[x](other.md)` as it is (its own link render hook runs only on multilingual sites):
    nothing is at `other.md` on the built site. `ref`/`relref` name the page and become its URL."""
    files = {"hugo.toml": CONFIG, "content/docs/_index.md": "---\ntitle: Docs\n---\n# Docs\n",
             "content/docs/other.md": "---\ntitle: Other\n---\n# Other\n\n## Part\n",
             "content/docs/a.md": "---\ntitle: A\n---\n# A\n\n[ref]({{< ref \"other.md#part\" >}}) "
                                  "[relref]({{< relref \"docs/other.md\" >}}) [url](../other/#part)\n\n"
                                  "Planted: [file](other.md)\n"}
    root = hugo_site(tmp_path, files)
    assert found(check(root)) == [
        "content/docs/a.md:8:17: LG441 other.md: Hugo publishes content/docs/other.md as a page and leaves this link "
        "as it is (no link render hook here): no file is at that URL; link the page with {{< relref \"...\" >}} or "
        "by its URL"]
    assert built_breaks(root, tmp_path / "out") == {"other.md"}
    (root / "layouts" / "_markup").mkdir()
    (root / "layouts" / "_markup" / "render-link.html").write_text('<a href="{{ .Destination }}">{{ .Text }}</a>')
    assert found(check(root)) == []


def test_pages_hugo_does_not_render(tmp_path: Path) -> None:
    """`headless: true` and `build: {render: never}` (or `link`, or `false`; `_build` before Hugo 0.145): Hugo
    writes no page, and still publishes the bundle's files."""
    files = {"hugo.toml": CONFIG, "content/docs/_index.md": "---\ntitle: Docs\n---\n# Docs\n\n"
                                                            "[img](hl/img.png) [img2](nv/img.png)\n\n"
                                                            "Planted: [headless](hl/) [never](nv/) [link](linkonly/) "
                                                            "[old](old/)\n",
             "content/docs/hl/index.md": "---\ntitle: HL\nheadless: true\n---\n# HL\n",
             "content/docs/hl/img.png": "p\n",
             "content/docs/nv/index.md": "---\ntitle: NV\nbuild:\n  render: never\n---\n# NV\n",
             "content/docs/nv/img.png": "p\n",
             "content/docs/linkonly.md": "+++\ntitle = 'L'\n[build]\nrender = 'link'\n+++\n# L\n",
             "content/docs/old.md": "---\ntitle: P\nbuild:\n  render: false\n---\n# P\n"}
    root = hugo_site(tmp_path, files)
    result = check(root)
    assert [f.message.split(":")[0] for f in result.findings] == ["hl/", "nv/", "linkonly/", "old/"]
    assert "content/docs/nv/index.md is not rendered (build: render: never in its front matter)" in \
        result.findings[1].message
    assert built_breaks(root, tmp_path / "out") == {"hl/", "nv/", "linkonly/", "old/"}


def test_links_of_a_draft_or_a_bundles_resource(tmp_path: Path) -> None:
    """A draft's links are read from where `hugo --buildDrafts` puts it (/docs/draft/); a leaf bundle's `.md`
    resource is no page, so where its relative URLs lead is not known: unchecked, never broken."""
    root = hugo_site(tmp_path, {"hugo.toml": CONFIG, "content/docs/_index.md": "# Docs\n", "content/docs/a.md": "# A\n",
                                "content/docs/draft.md": "---\ndraft: true\n---\n# D\n\n[a](../a/) [gone](../gone/)\n",
                                "content/docs/b/index.md": "# B\n",
                                "content/docs/b/part.md": "# Part\n\n[a](../a/) [img](pic.png)\n"})
    assert [(f.path, f.code, f.message.split(":")[0]) for f in check(root).findings] == [
        ("content/docs/b/part.md", "LG482", "../a/"), ("content/docs/b/part.md", "LG482", "pic.png"),
        ("content/docs/draft.md", "LG441", "../gone/")]
