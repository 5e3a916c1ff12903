"""Jekyll's `published: false`, in front matter and from `defaults:` in _config.yml, against the real
`jekyll` (Debian's, 4.3). Publisher#can_be_published? asks `data.fetch("published", true)`: a page or
document whose own front matter says `published: false` (or `no`, or nothing after the colon) is not
built; the string "false" is. Defaults are merged into a document's data (posts, collections), so
`published: false` from `defaults:` unpublishes documents, and defaults' `categories` move posts;
a page's defaults are a default_proc that `fetch` does not ask, so there they unpublish nothing.
Links to what is not built are broken, and say why; nothing else is.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from .test_links_site_jekyll import jekyll_build
from .test_links_sites import _broken_in_built_html, check, found, write

CONFIG = """title: x
defaults:
  - scope: {path: "drafts"}
    values: {published: false}
  - scope: {path: "drafts/keep.md"}
    values: {published: true}
  - scope: {path: "", type: posts}
    values: {categories: [news], layout: post}
  - scope: {path: "notes/*.md"}
    values: {published: false}
  - scope: {path: "_posts/old"}
    values: {published: false}
  - scope: {path: "", type: recipes}
    values: {published: false}
  - scope: {path: "_recipes/keep.md"}
    values: {published: true}
collections:
  recipes:
    output: true
"""
SITE = {
    "_config.yml": CONFIG,
    "index.md": "---\ntitle: Home\n---\n# Home\n\n"
                "[d](/drafts/d.html) [keep](/drafts/keep.html) [n](/notes/n.html) [c](/docs/c.html) "
                "[hello](/news/2024/01/15/hello.html) [rk](/recipes/keep.html) [ro](/recipes/own.html) "
                "[f](/docs/f.html)\n\n"
                "[a](/docs/a.html) [b](/docs/b.html) [e](/docs/e.html) [q](/news/2024/01/16/q.html) "
                "[old](/news/2024/02/01/old.html) [r](/recipes/r.html)\n",
    "drafts/d.md": "---\ntitle: D\n---\nD\n",
    "drafts/keep.md": "---\ntitle: K\n---\nK\n",
    "notes/n.md": "---\ntitle: N\n---\nN\n",
    "docs/a.md": "---\ntitle: A\npublished: false\n---\nA: [b](b.md) as GitHub shows it\n",
    "docs/b.md": "---\ntitle: B\npublished:\n---\nB\n",
    "docs/c.md": "---\ntitle: C\npublished: \"false\"\n---\nC\n",
    "docs/e.md": "---\ntitle: E\npublished: no\n---\nE\n",
    "docs/f.md": "---\ntitle: F\npublished: \"no\"\n---\nF\n",  # a string: published
    "_posts/2024-01-15-hello.md": "---\ntitle: P\n---\nP\n",
    "_posts/2024-01-16-q.md": "---\ntitle: Q\npublished: false\n---\nQ\n",
    "_posts/old/2024-02-01-old.md": "---\ntitle: Old\n---\nOld\n",
    "_recipes/r.md": "---\ntitle: R\n---\nR\n",
    "_recipes/keep.md": "---\ntitle: RK\n---\nRK\n",
    "_recipes/own.md": "---\ntitle: RO\npublished: true\n---\nRO\n",
    "_layouts/post.html": "{{ content }}\n",
}
PLANTED = [
    "index.md:8:5: LG441 /docs/a.html: docs/a.md has published: false in its front matter: Jekyll does not publish "
    "it (only `jekyll build --unpublished` does)",
    "index.md:8:23: LG441 /docs/b.html: docs/b.md has published: (empty) in its front matter: Jekyll does not publish "
    "it (only `jekyll build --unpublished` does)",
    "index.md:8:41: LG441 /docs/e.html: docs/e.md has published: false in its front matter: Jekyll does not publish "
    "it (only `jekyll build --unpublished` does)",
    "index.md:8:59: LG441 /news/2024/01/16/q.html: _posts/2024-01-16-q.md has published: false in its front matter: "
    "Jekyll does not publish it (only `jekyll build --unpublished` does)",
    "index.md:8:90: LG441 /news/2024/02/01/old.html: _posts/old/2024-02-01-old.md has published: false in "
    "`defaults:` in _config.yml: Jekyll does not publish it (only `jekyll build --unpublished` does)",
    "index.md:8:121: LG441 /recipes/r.html: _recipes/r.md has published: false in `defaults:` in _config.yml: Jekyll "
    "does not publish it (only `jekyll build --unpublished` does)",
]


def test_published_false_as_jekyll_builds_it(tmp_path: Path) -> None:
    root = write(tmp_path / "site", SITE)
    result = check(root)
    assert found(result) == PLANTED
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    assert {href for _, href in _broken_in_built_html(tmp_path / "out")} == {
        line.split(" ")[2].rstrip(":") for line in PLANTED}


def test_a_document_dated_after_the_build_is_not_published_unless_future(tmp_path: Path) -> None:
    """Publisher#hidden_in_the_future?: with `future: false` (the default) a post or collection document
    dated after the build is not built: a link to it is broken and says so; one dated tomorrow depends on
    the hour and the zone (unchecked); `future: true` builds them all. Checked against the real jekyll."""
    tomorrow = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)
    files = {
        "_config.yml": "title: T\ncollections:\n  notes:\n    output: true\n",
        "_posts/2099-01-01-far.md": "---\n---\n# F\n", "_posts/2020-01-01-past.md": "---\n---\n# P\n",
        f"_posts/{tomorrow.isoformat()}-near.md": "---\n---\n# N\n",
        "_notes/later.md": "---\ndate: 2099-03-01\n---\n# L\n", "_notes/undated.md": "---\n---\n# U\n",
        "index.md": f"---\n---\n[f](/2099/01/01/far.html) [p](/2020/01/01/past.html) "
                    f"[n](/{tomorrow.strftime('%Y/%m/%d')}/near.html) [l](/notes/later.html) "
                    "[u](/notes/undated.html)\n",
    }
    root = write(tmp_path / "site", files)
    result = check(root)
    codes = {f.message.split(":")[0]: f.code for f in result.findings}
    assert codes == {"/2099/01/01/far.html": "LG441", f"/{tomorrow.strftime('%Y/%m/%d')}/near.html": "LG482",
                     "/notes/later.html": "LG441"}
    assert "only `jekyll build --future` does" in next(f.message for f in result.findings if "far" in f.message)
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    assert {p.name for p in (tmp_path / "out").rglob("*.html")} >= {"past.html", "undated.html"}
    assert not {"far.html", "later.html"} & {p.name for p in (tmp_path / "out").rglob("*.html")}

    (root / "_config.yml").write_text(files["_config.yml"] + "future: true\n", "utf-8")
    assert check(root).findings == []
    built = jekyll_build(root, tmp_path / "out2")
    assert {"far.html", "later.html", "near.html"} <= {p.name for p in (tmp_path / "out2").rglob("*.html")}


def test_published_no_from_defaults_is_false_unquoted_and_text_quoted(tmp_path: Path) -> None:
    """Ruby's YAML reads an unquoted `no` as false: `published: no` in `defaults:` keeps posts off the site;
    quoted, it is the text "no" (truthy), and they are published. The real jekyll decides both."""
    posts = {"_posts/2020-01-01-a.md": "---\n---\n# A\n", "index.md": "---\n---\n[a](/2020/01/01/a.html)\n"}
    defaults = "defaults:\n  - scope: {path: '', type: posts}\n    values: {published: %s}\n"
    root = write(tmp_path / "off", {"_config.yml": "title: T\n" + defaults % "no", **posts})
    assert [f.code for f in check(root).findings] == ["LG441"]
    assert "published: false in `defaults:` in _config.yml" in check(root).findings[0].message  # as Ruby reads it
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0 and not (tmp_path / "out/2020/01/01/a.html").exists()

    # quoted, the text "no": published, so the link is good (Jekyll's YAML is read as Ruby's Psych reads it)
    root = write(tmp_path / "text", {"_config.yml": "title: T\n" + defaults % '"no"', **posts})
    assert check(root).findings == []
    built = jekyll_build(root, tmp_path / "out2")
    assert built.returncode == 0 and (tmp_path / "out2/2020/01/01/a.html").is_file()


def test_quoted_and_unquoted_off_in_one_config_each_read_as_ruby_reads_them(tmp_path: Path) -> None:
    """The case the gate used to leave unchecked: one `_config.yml` with `published: Off` (false to Ruby,
    any case) for posts and `published: "off"` (text, so published) for a collection, and `future: YES`."""
    config = ("title: T\nfuture: YES\ncollections:\n  recipes:\n    output: true\ndefaults:\n"
              "  - scope: {path: '', type: posts}\n    values: {published: Off}\n"
              "  - scope: {path: '', type: recipes}\n    values: {published: \"off\"}\n")
    root = write(tmp_path / "site", {
        "_config.yml": config, "_posts/2020-01-01-a.md": "---\n---\n# A\n", "_recipes/r.md": "---\n---\n# R\n",
        "index.md": "---\n---\n[a](/2020/01/01/a.html) [r](/recipes/r.html)\n"})
    findings = check(root).findings
    assert [(f.code, f.message.split(":")[0]) for f in findings] == [("LG441", "/2020/01/01/a.html")], findings
    built = jekyll_build(root, tmp_path / "out")
    assert built.returncode == 0, built.stderr
    assert not (tmp_path / "out/2020/01/01/a.html").exists() and (tmp_path / "out/recipes/r.html").is_file()
