"""Extraction parity (issue 9, point 3): the links the scanner finds in a file are the `<a href>` and
`<img src>` a CommonMark renderer makes of it. The oracle is cmark-gfm itself (`cmarkgfm`, GitHub's
own parser, raw HTML kept as GitHub keeps links and images); markdown-it-py agrees on everything
below except where it departs from cmark (a line indented after a definition continues the
paragraph in cmark and is code in markdown-it).

Reference definitions count when they are used: every document starts with a paragraph that uses
the labels the generator defines. GFM's bare-URL autolinks (`www.x.org`, `https://...` in text)
are left out of the generated comparison: the scanner follows the rules GFM's spec states (where
a `www.` link may start, trailing punctuation, parentheses; checked against cmark-gfm below) but
not cmark-gfm's quirks beyond them (a `www.` link swallowing a link after it in the same run, an
underscore in the last domain labels, ...): about 4 in 100 generated documents still differ there.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from loopgate.gates import _mdlinks


def _cmark() -> object:
    """cmarkgfm; a missing one fails under CI=true (the test extras install it), else the test is skipped."""
    import os

    try:
        import cmarkgfm as module
    except ImportError:  # pragma: no cover - the test extras install it
        if os.environ.get("CI"):
            pytest.fail("cmarkgfm is missing: `pip install -e '.[test]'` installs it")
        pytest.skip("cmarkgfm is not installed")
    return module


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            wanted = (tag == "a" and key == "href") or (tag == "img" and key == "src")
            footnote = "footnote" in (dict(attrs).get("class") or "") or "data-footnote-ref" in dict(attrs)
            if value is not None and wanted and not footnote:
                self.found.add(unquote(value))


def rendered_links(text: str, footnotes: bool = False) -> set[str]:
    module = _cmark()
    from cmarkgfm.cmark import Options

    options = Options.CMARK_OPT_UNSAFE | (Options.CMARK_OPT_FOOTNOTES if footnotes else 0)
    html = module.markdown_to_html_with_extensions(text, options=options, extensions=[])  # type: ignore[attr-defined]
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.found


def scanned_links(text: str) -> set[str]:
    return {unquote(link.target) for link in _mdlinks.parse(text).links if link.kind != _mdlinks.BARE}


CASES = {
    "tag over lines in an HTML block": ("<div>\n<a\n  href=\"missing.md\">x</a>\n</div>\n", {"missing.md"}),
    "tag in a comment in an HTML block": ("<div>\n<!-- <a href=\"no.md\"> -->\n<img src=\"yes.png\">\n</div>\n",
                                          {"yes.png"}),
    # a tag line that leaves a quote or list item: no link after it is hidden (cmark may open an HTML
    # block there; the scanner does not, as its view of the open paragraph is not exact enough)
    "a block quote in a list item, then a tag in the item": ("- > a\n  <x/>\n[gone](gone.md)\n", {"gone.md"}),
    "an empty quote in a list item, then text and a tag": ("- >\nb\n<x/>\n[z](missing.md)\n", {"missing.md"}),
    "the same tag inside the quote continues its paragraph": ("> b\n> </pre>\n[a](x.md)\n", {"x.md"}),
    "definition in a block quote": ("[r]\n\n> [r]: quoted.md\n", {"quoted.md"}),
    "definition in a list item": ("[r]\n\n- [r]: listed.md\n", {"listed.md"}),
    "definition's destination on the next line": ("[r]\n\n[r]:\n  next.md 'title'\n", {"next.md"}),
    "a second definition of a label is never used": ("[r]\n\n[r]: first.md\n[R]: second.md\n", {"first.md"}),
    "an unbalanced `)` is no destination": ("[r]\n\n[r]: x.md)\n", set()),
    "a label with a bracket is no label": ("[a[b]: x.md\n", set()),
    "a fence in a quote ends with the quote": ("> ```\n> [no](code.md)\n[yes](text.md)\n", {"text.md"}),
    "a fence line in a quote does not close an outer fence": ("```\n> ```\n[no](code.md)\n```\n", set()),
    "five spaces after a list marker: code": ("-     [no](code.md)\n", set()),
    "an empty item does not interrupt a paragraph": ("text\n*\n</pre>\n![i](i.png)\n", {"i.png"}),
    "a heading is one line": ("# <a\n href=\"no.md\">\n", set()),
    "a tab after `>`": ("> \t[a](x.md)\n", {"x.md"}),
    "a fenced block in a quote in a list item": ("- > ```\n  > [no](code.md)\n  > ```\n[yes](y.md)\n", {"y.md"}),
    "a fenced block in a list item in a quote": ("> - ```\n>   [no](c.md)\n> - x [y](y.md)\n", {"y.md"}),
    "a definition in a quote in a list item": ("[c]\n\n- > [c]:\n z.md\n", {"z.md"}),
    "a tag ends with its paragraph": ("<a\n\nhref=\"x.md\">\n", set()),
    "a comment ends with its paragraph": ("a <!-- x\n\n[l](y.md) -->\n", {"y.md"}),
    "a comment over lines in a paragraph": ("a <!-- x\n[l](y.md) -->\n", set()),
    "autolinks": ("<https://example.com/a> <me@example.org> <irc:y> <x:no>\n",
                  {"https://example.com/a", "mailto:me@example.org", "irc:y"}),  # a scheme has 2 to 32 characters
}


@pytest.mark.parametrize("name", list(CASES))
def test_extraction_matches_cmark(name: str) -> None:
    text, expected = CASES[name]
    assert rendered_links(text) == expected  # the case says what cmark does
    assert scanned_links(text) == expected


def test_footnote_definitions_are_not_reference_definitions() -> None:
    """`[^note]: [text](url)` is a footnote (GitHub renders footnotes): its link is a link, and no
    definition with the destination `[text](url)` exists."""
    text = "Claim.[^note]\n\n[^note]: [source](source.md) and <https://example.com/s>\n"
    assert rendered_links(text, footnotes=True) == {"source.md", "https://example.com/s"}
    parsed = _mdlinks.parse(text)
    assert [(link.target, link.kind) for link in parsed.links] == [
        ("source.md", _mdlinks.INLINE), ("https://example.com/s", _mdlinks.AUTOLINK)]


PIECES = ["<!-- c -->", "[a](x.md)", "[b]", "[b]: y.md", "\n", "\n\n", "> ", "- ", "1. ", "    ", '<a href="h.md">',
          '<a\n href="m.md">', "</a>", "<div>", "</div>", "`", "``", "![i](i.png)", "<http://a.b/c>", "<me@x.org>",
          "```\n", "~~~\n", "text ", "*", "_", "\\", "(", ")", "[", "]", ">", " ", "# ", '<img src="p.png">',
          "<pre>\n", "</pre>\n", "[c]:\n z.md", "&amp;", "\u00e9", "<x-y>", "[lazy", "\n===\n", "---\n", "."]
documents = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map(lambda p: "[b] [c]\n\n" + "".join(p))


@settings(max_examples=300, deadline=None)
@given(text=documents)
def test_extraction_parity_on_generated_documents(text: str) -> None:
    # A known gap, left out (about 1 in 2,000 generated documents): lazy continuation lines of
    # paragraphs in nested block quotes.
    assume("> >" not in text)
    # A definition whose label is not `b` or `c` (`[x\\[b]: y.md`) is not used by the first
    # paragraph, so cmark renders no link for it, while the scanner checks every definition.
    assume("\\[" not in text)
    assert scanned_links(text) == rendered_links(text)


BARE = {
    "www after a space": "Visit www.commonmark.org/help for more.",
    "www in parentheses": "(www.example.com/a)",
    "www after emphasis": "*www.example.com*",
    "www after a letter": "xwww.example.com",
    "www after `>`": "a>www.example.com",
    "https after a tag": "<span>https://example.com/p</span>",
    "trailing punctuation": "See https://example.com/a.b.",
    "unbalanced parenthesis": "(see https://example.com/x_(y))",
}


@pytest.mark.parametrize("name", list(BARE))
def test_bare_urls_follow_gfm_where_its_rules_are_plain(name: str) -> None:
    """GitHub's bare-URL autolinks (cmark-gfm's autolink extension) for the rules its spec states:
    where a `www.` link may start, trailing punctuation, parentheses. Its quirks beyond these are
    not followed (see the module docstring)."""
    module = _cmark()
    from cmarkgfm.cmark import Options

    text = BARE[name] + "\n"
    html = module.markdown_to_html_with_extensions(  # type: ignore[attr-defined]
        text, options=Options.CMARK_OPT_UNSAFE, extensions=["autolink"])
    parser = _Links()
    parser.feed(html)
    ours = {unquote(link.target) for link in _mdlinks.parse(text).links}
    assert ours == parser.found
