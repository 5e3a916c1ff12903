"""Heading anchors equal GitHub's: the table below is written from github-slugger's source (index.js and
the regex its script/generate-regex.mjs builds) and CommonMark's rendering rules, not from our code;
then the real `github-slugger` from npm, fed the heading text that markdown-it-py renders, must agree
with the table and with us (issue 9, point 2).

Under `CI=true` a missing node or npm fails these tests (.ci/run installs node and npm); elsewhere
they are skipped. The npm package is installed once into ~/.cache/loopgate-tests/npm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopgate.gates import _mdlinks, _mdtext, _slugs

# (heading source, GitHub's anchor): lowercase; drop punctuation but `-` and `_`, symbols, controls,
# other numbers; spaces to `-` (no trimming, no collapsing); from the *rendered* text of the heading.
SLUG_TABLE = [
    ("Hello, World!", "hello-world"),
    ("What's new in v2.0?", "whats-new-in-v20"),
    ("`__init__` method", "__init__-method"),  # a code span keeps its underscores
    ("__init__ method", "init-method"),  # outside code `__init__` is bold "init"
    ("`code` and **bold** and _emph_", "code-and-bold-and-emph"),
    ("snake_case_name", "snake_case_name"),
    ("_leading and trailing_", "leading-and-trailing"),
    ("foo_bar_", "foo_bar_"),  # intraword: no emphasis, the underscores stay
    ("_a_b_", "a_b"),
    ("A [link](x.md) here", "a-link-here"),
    ("A [link with `code_span`](x.md)", "a-link-with-code_span"),
    ("![logo](logo.png) Title", "-title"),  # the image renders nothing; the space stays
    ("Title ![logo](logo.png)", "title-"),
    ("<em>Emphasis</em> in HTML", "emphasis-in-html"),
    ("Tag <code>x_y</code>", "tag-x_y"),
    ("Ünïcödé Straße", "ünïcödé-straße"),
    ("Привет non-latin 你好", "привет-non-latin-你好"),
    ("spaced   out", "spaced---out"),
    ("C++ & C#", "c--c"),
    ("x &amp; y &lt;z&gt;", "x--y-z"),
    ("Escaped \\_underscores\\_", "escaped-_underscores_"),
    ("😄 unicode emoji", "-unicode-emoji"),
    (":smile: - a gemoji", "smile---a-gemoji"),
    ("I ♥ unicode", "i--unicode"),
    ("en\u2013dash and em\u2014dash", "endash-and-emdash"),
    ("apostrophe\u2019s", "apostrophes"),
    ("!!!", ""),  # punctuation only: an empty slug (then `-1`, `-2` for repeats)
    ("Options {#options}", "options-options"),  # GitHub keeps the braces' text; the explicit id is extra
    ("<https://example.com/a_b>", "httpsexamplecoma_b"),
    ("~~struck~~ out", "struck-out"),
    ("Version 1.2.3 (beta)", "version-123-beta"),
    ("`a  b`", "a--b"),
    ("Ⓐ circled", "ⓐ-circled"),  # an Alphabetic symbol is kept
    ("½ and ² and ①", "-and--and-"),  # Other_Number is dropped
    ("tab\there", "tabhere"),  # a control character is dropped, not turned into `-`
]


@pytest.mark.parametrize(("heading", "expected"), SLUG_TABLE)
def test_slug_table(heading: str, expected: str) -> None:
    assert _slugs.slug(heading) == expected


def test_duplicates_and_explicit_ids() -> None:
    text = "## Notes\n## Notes\n## Notes-1\n## Notes\n# !!!\n# ???\n## Options {#options}\n## Setup { #install .big }\n"
    assert _mdlinks.parse(text).anchors == [
        "notes", "notes-1", "notes-1-1", "notes-2", "", "-1", "options-options", "options", "setup--install-big-",
        "install"]
    assert _mdtext.explicit_id("Heading {#a.b}") == ("Heading", "a.b")
    assert _mdtext.explicit_id("No{#id}") == ("No{#id}", "")  # GitHub's and Pandoc's rule: a space before it
    assert _mdtext.explicit_id("Braces {not an id}") == ("Braces {not an id}", "")


def test_attribute_blocks_in_every_form_and_typographic_dashes() -> None:
    """Python-Markdown's `{: #id }`, `{.class #id}`, `{key="v" #id}`, `{.class}` (the last id winning, a
    class may hold dots) are attribute blocks for the generators that read them (`extended`), text for
    GitHub and kramdown, which take `{#id ...}` only. Dashes are set only where a typographer is
    (test_links_site_headings.py builds each with the real generator)."""
    extended = {"Key {: #colon }": ("Key", "colon"), "Both {.cls #bid}": ("Both", "bid"),
                'Pair {key="v w" #kid}': ("Pair", "kid"), "With class {.cls}": ("With class", ""),
                "AB {#a #b}": ("AB", "b"), "E {.a-b.c}": ("E", ""), "Empty {}": ("Empty {}", ""),
                'Open {key="v}': ('Open {key="v}', ""), "Braces {not attr}": ("Braces", "")}  # attr_list: any word
    for text, wanted in extended.items():
        assert _mdtext.explicit_id(text, extended="attr_list") == wanted, text
    assert _mdtext.explicit_id("Key {: #colon }", extended="attributes") == ("Key {: #colon }", "")  # Goldmark
    assert _mdtext.explicit_id("Braces {not an id}", extended="pulldown") == ("Braces", "")  # mdBook
    assert _mdtext.explicit_id("AB {#a #b}") == ("AB", "a")
    assert _mdtext.explicit_id("Key {: #colon }") == ("Key {: #colon }", "")
    # GitHub's anchors: no typographer, an HTML comment renders nothing
    assert _mdlinks.parse("## -- a --\n## Title <!-- note -->\n").anchors == ["---a---", "title-"]
    assert _mdtext.heading_text("Use `x` -- fast", "lr") == "Use x \u2013 fast"
    assert _mdtext.heading_text("h -- [l](https://x.org) \\-- k", "lr") == "h \u2013 l -- k"
    assert _mdtext.heading_text("a ---- b", "cm") == "a \u2013\u2013\u2013\u2013 b"


# -- the real github-slugger ------------------------------------------------------------------------

CACHE = Path(os.environ.get("LOOPGATE_TEST_CACHE", Path.home() / ".cache" / "loopgate-tests")) / "npm"
RUNNER = """
import GithubSlugger, { slug } from 'github-slugger'
let input = ''
process.stdin.on('data', (chunk) => { input += chunk })
process.stdin.on('end', () => {
  const { texts, sequence } = JSON.parse(input)
  const slugger = new GithubSlugger()
  const slugs = texts.map((t) => slug(t))
  process.stdout.write(JSON.stringify({ slugs, unique: sequence.map((t) => slugger.slug(t)) }))
})
"""


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}: CI must have node and npm (github-slugger is the oracle for GitHub's anchors)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def github_slugger() -> Path:
    """The directory of a script that runs the real github-slugger (installed from npm once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _missing("node or npm not found")
    CACHE.mkdir(parents=True, exist_ok=True)
    if not (CACHE / "node_modules" / "github-slugger" / "package.json").exists():
        done = subprocess.run([npm or "npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(CACHE),
                               "github-slugger@2"], capture_output=True, text=True, check=False, timeout=300)
        if done.returncode != 0:
            _missing(f"npm install github-slugger failed: {done.stderr[-500:]}")
    (CACHE / "slugs.mjs").write_text(RUNNER, encoding="utf-8")
    return CACHE


def real_slugs(runner: Path, texts: list[str], sequence: list[str] | None = None) -> dict[str, list[str]]:
    done = subprocess.run(["node", str(runner / "slugs.mjs")], input=json.dumps({"texts": texts,
                          "sequence": sequence or []}), capture_output=True, text=True, check=False, timeout=60,
                          encoding="utf-8")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def rendered_text(heading: str) -> str:
    """The heading's text content as a CommonMark renderer (markdown-it-py, with GFM strikethrough) makes it."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("strikethrough").render(f"# {heading}\n")
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts).removesuffix("\n")


def test_the_table_is_what_github_slugger_gives(github_slugger: Path) -> None:
    headings = [heading for heading, _ in SLUG_TABLE]
    texts = [rendered_text(h) for h in headings]
    real = real_slugs(github_slugger, texts, texts + texts)
    assert real["slugs"] == [expected for _, expected in SLUG_TABLE]
    ours = _slugs.Slugger()
    assert [ours.unique(_slugs.github_slug(t)) for t in texts + texts] == real["unique"]


def test_heading_text_is_what_a_commonmark_renderer_shows() -> None:
    for heading, _ in SLUG_TABLE:
        if "~~" not in heading:  # strikethrough is GFM: the tildes go in the slugger either way
            assert _mdtext.heading_text(heading) == rendered_text(heading), heading


def _old_enough(char: str) -> bool:
    """Assigned already in Unicode 3.2 with the same category: github-slugger's tables are Unicode 13,
    Python's newer; characters assigned since then are Unassigned to one and not to the other."""
    category = unicodedata.category(char)
    return category not in ("Cs", "Cn") and unicodedata.ucd_3_2_0.category(char) == category


texts = st.text(st.characters(codec="utf-8").filter(_old_enough), max_size=20)


def test_github_slug_equals_github_slugger_on_generated_text(github_slugger: Path) -> None:
    drawn: list[str] = []

    @settings(max_examples=300, database=None)
    @given(text=texts)
    def draw(text: str) -> None:
        drawn.append(text)

    draw()
    fixed = ["İstanbul ΣΑΣ", "ǅungla", "ﬀ ﬁ", "\U0001d400\U0001d401", "a\u00adb", "a\u200bb", "a\u3000b",
             "x\u2028y", "٣ ٤", "Ⅻ"]
    real = real_slugs(github_slugger, fixed + drawn)["slugs"]
    assert [_slugs.github_slug(t) for t in fixed + drawn] == real


HEADING_PIECES = ["_", "__", "*", "**", "`", "``", "a", "b", " ", "[", "]", "(x.md)", "![", "<em>", "</em>", "&amp;",
                  "\\_", "\\", "x_y", "!", "<http://a.b>", "é", "-", "(", ")", "&#42;", "<br/>", '"', "{#id}"]
headings = st.lists(st.sampled_from(HEADING_PIECES), min_size=1, max_size=10).map("".join)


@settings(max_examples=400, deadline=None)
@given(heading=headings)
def test_heading_text_parity_on_generated_headings(heading: str) -> None:
    """Emphasis, code spans, links, images, tags, escapes and entities in every combination: our heading
    text is what markdown-it-py renders (so the slug is GitHub's: the slugger is compared above)."""
    from markdown_it import MarkdownIt

    if not heading.strip() or "<h1>" not in MarkdownIt("commonmark").render(f"# {heading}\n"):
        return  # not a heading's text (`# ` followed by nothing, or by what closes the heading)
    assert _mdtext.heading_text(heading) == rendered_text(heading)
