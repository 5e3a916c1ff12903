"""Jekyll: the URLs a Jekyll site gives its pages, and links read the way the built site resolves them.

Written from Jekyll 4.3's source (`url.rb`, `page.rb`, `document.rb`, `drops/url_drop.rb`,
`configuration.rb`, `utils.rb`) and checked against Debian's `jekyll` (tests/gates/
test_links_site_jekyll*.py):

- The site's `permalink` style (default `date`) gives the posts' URL template: `date` is
  `/:categories/:year/:month/:day/:title:output_ext`, `pretty` the same ending in `/`, `none`
  `/:categories/:title:output_ext`, `ordinal` `/:categories/:year/:y_day/:title:output_ext`,
  `weekdate` `/:categories/:year/W:week/:short_day/:title:output_ext`; any other value is the
  template itself. A page `a/b.md` is at `/a/b` plus the style's ending: `/` when the style ends in
  `/` (`pretty`), `.html` for the named styles and a template ending in `:output_ext`, nothing for
  any other template (Jekyll writes `a/b.html`, served at `/a/b`). `index.md` is at its folder.
- A collection (`collections:` in _config.yml) is published only with `output: true`, at its
  `permalink:` template, by default `/:collection/:path` plus the style's ending. Its documents,
  and the posts (`_posts/`, categories from the folders above it), fill the template from the
  file name (`YYYY-MM-DD-title`), front matter (`date`, `slug`, `categories`) and the
  collection's name; a document whose template needs a date it does not have gets the time of the
  build: its URL is not known here (links to it are unchecked, LG482).
- Front matter `permalink:` (or one from `defaults:` in _config.yml) replaces the template; a
  page's may use `:path`, `:basename`, `:output_ext`. A document's data is its `defaults:` with its
  front matter over them (`categories`, `slug`, `date` make its URL); a page's defaults give it only
  its `permalink`. `published: false` (`no`, empty) keeps a page or document off the site; from
  `defaults:` it does so for documents only (Jekyll's `fetch` skips a page's defaults).
- `exclude:` leaves files and folders out of the site (a glob, or a prefix of the path, as Jekyll's
  EntryFilter matches it; `include:` wins): a link to one is broken, and a page left out is no page
  of the site: its own links are read as GitHub shows them.
- `baseurl` in _config.yml is the path the site is served under (`jekyll serve` and GitHub Pages
  answer 404 outside it): `{{ site.baseurl }}`, `relative_url`, `absolute_url`, `prepend:
  site.baseurl` put it in front. A site-absolute link to one of the site's pages without it leads
  outside the site: broken. `{{ site.baseurl }}{% link x.md %}` names the page either way (Jekyll
  3, GitHub Pages' version, needs the prefix; Jekyll 4's `link` adds it itself): checked as `x.md`.

A page's URL is served as written, `/a/b/` also as `/a/b` and `/a/b/index.html`, `/a/b.html` also
as `/a/b` and `/a/b/` (`jekyll serve` answers both): `/a/b.html` for a page at `/a/b/` names nothing
on the built site (404 from `jekyll serve`, and from lychee on the built HTML).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import text_value
from loopgate.gates._sites.jekyll_site import FUTURE, SOURCES, JekyllRoutes, JekyllSite
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.routes import join_url, pages
from loopgate.gates._sites.slugs import github_ids, headings

_JEKYLL_LINK = re.compile(r"\{%-?\s*link\s+([^\s{}%]+)\s*-?%\}")
_POST_URL = re.compile(r"\{%-?\s*post_url\s+([^\s{}%]+)\s*-?%\}")
_SITE_BASEURL = r"\{\{-?\s*site\.baseurl\s*-?\}\}"
# `{{ site.baseurl }}` right before a tag that names a page: Jekyll 3 needs it, Jekyll 4 doubles it.
_BASE_BEFORE_TAG = re.compile(_SITE_BASEURL + r"(?=\{%-?\s*(?:link|post_url)\s)")
_BASEURL = re.compile(_SITE_BASEURL)
_RELATIVE_URL = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}")
_PREPEND_BASE = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*prepend:\s*site\.baseurl\s*-?\}\}")
_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")
_UNKNOWN_HERE = Route("unchecked", "read from a page whose URL Jekyll gives it at build time (a date it does not "
                                   "have): known only once the site is built")


class Jekyll(Site):
    name = "jekyll"
    title = "Jekyll"
    templates = True

    def __init__(self, boundary: Boundary, options: Generic, config: str, top: str, settings: dict[str, Any],
                 shown: Callable[[str], str]) -> None:
        super().__init__(boundary, options, config, top)
        self.site = JekyllSite(settings)
        self.shown = shown
        self._routes: JekyllRoutes | None = None
        self._posts: dict[str, str] | None = None

    def extra_anchors(self, full: str) -> list[str]:
        """kramdown's GFM ids where they are not GitHub's: its typographic symbols set `--` and `---` as
        dashes, which the id drops (`## a -- b` is `#a--b`). It takes `{#id}` only, as the scanner does."""
        if not full.endswith(SOURCES) or not under(full, self.top):
            return []
        text = read_text(full)
        return github_ids(headings(text, smart="lr", strip=False)) if "--" in text else []

    # -- the link as written -> the link the site checks
    def rewrite(self, target: str) -> str:
        target = super().rewrite(target)
        if "{" not in target:
            return target
        target = _BASE_BEFORE_TAG.sub("", target)
        target = _JEKYLL_LINK.sub(lambda m: "/" + m.group(1).lstrip("/"), target)
        target = _POST_URL.sub(lambda m: self._post(m.group(1)), target)
        target = _RELATIVE_URL.sub(lambda m: self._based(m.group(1)), target)
        target = _PREPEND_BASE.sub(lambda m: self.site.base + m.group(1), target)
        return _BASEURL.sub(lambda m: self.site.base, target)

    def _based(self, written: str) -> str:
        """Jekyll's `relative_url`: the baseurl, then the path from the site's root (a URL stays as it is)."""
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|//", written):
            return written
        return self.site.base + "/" + written.lstrip("/")

    def _post(self, name: str) -> str:
        """`{% post_url 2024-01-15-hello %}` is the URL of that post: checked as its source file."""
        if self._posts is None:  # one walk of the site, on the first post_url
            self._posts = {}
            for page in pages(self.top):
                relative = os.path.relpath(page, self.top).replace(os.sep, "/")
                if "/_posts/" in f"/{relative}":
                    name_in = os.path.splitext(relative.split("_posts/", 1)[1])[0]  # `sub/2024-01-15-x` under _posts/
                    self._posts.setdefault(name_in, page)
                    self._posts.setdefault(os.path.basename(name_in), page)  # Jekyll finds it by its name too
        found = self._posts.get(name.strip("/"))
        return "/" + os.path.relpath(found, self.top).replace(os.sep, "/") if found else f"/_posts/{name}.md"

    def routes(self) -> JekyllRoutes:
        if self._routes is None:  # one walk of the site, on the first link written as a URL
            self._routes = self.site.routes(self.top)
        return self._routes

    def _folder_url(self, source: str) -> str:
        return "/" + os.path.relpath(os.path.dirname(source), self.top).replace(os.sep, "/").strip(".") + "/"

    def page_url(self, source: str) -> str | None:
        """The URL the built site gives the page `source`, which its relative links are read from
        (None: only the build knows it)."""
        routes = self.routes()
        if source in routes.unknown:
            return None
        return routes.urls.get(source) or self._folder_url(source)

    def _unbased(self, decoded: str) -> str:
        base = self.site.base
        if base and decoded.startswith("/") and (decoded == base or decoded.startswith(base + "/")):
            return decoded[len(base):] or "/"
        return decoded

    def _left_out(self, full: str) -> bool:
        """Is `full`, a file under the site's source, left out of the site by `exclude:`?"""
        return under(full, self.top) and full != self.top and \
            self.site.excluded(os.path.relpath(full, self.top).replace(os.sep, "/"))

    def _no_page(self, source: str) -> bool:
        """Is the file `source` no page of the site (left out by `exclude:`, or a document of a
        collection without output)? Then its links are what GitHub shows, not links of the site."""
        routes = self.routes()
        return under(source, self.top) and (self._left_out(source) or source in routes.unpublished
                                            or source in routes.hidden)

    def route(self, source: str, target: str) -> Route:
        if self._no_page(source):
            return CHECK  # not part of the site: its links are what GitHub shows
        return super().route(source, target)

    # -- the resolver
    def _resolve(self, source: str, path: str) -> str:
        if self._no_page(source):
            decoded = unquote(path)
            return self.fallback(self.plain(source, decoded), decoded)
        return super()._resolve(source, path)

    def in_site(self, source: str, decoded: str) -> str:
        decoded = self._unbased(decoded)
        if decoded.endswith(SOURCES):  # a source file named (jekyll-relative-links, `{% link %}`): there or not
            start = self.top if decoded.startswith("/") else os.path.dirname(source)
            return os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        url = decoded if decoded.startswith("/") else join_url(self.page_url(source) or self._folder_url(source),
                                                                decoded)
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if os.path.isfile(found):
            return found
        routes = self.routes()
        routed = routes.pages.get(url)
        if routed is not None:
            return routed
        hidden = routes.hidden_at.get(url)
        if hidden is not None and url not in routes.pages:
            return hidden  # own_route says why it is broken
        moved = routes.moved.get(url)
        if moved is not None:  # where the page's file would put it, but Jekyll publishes it elsewhere
            self._elsewhere[found] = moved
            return found
        stem = found[:-len(".html")] if found.endswith(".html") else found
        return first_file([stem + ".md", stem + ".markdown", os.path.join(stem, "index.md"),
                           os.path.join(stem, "index.html"), found])

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        decoded = unquote(path)
        base = self.site.base
        absolute = decoded.startswith("/")
        if absolute and base and self._unbased(decoded) == decoded and target not in self.remapped \
                and not decoded.endswith(SOURCES):
            # Outside the path the site is served under: a page of the site linked without the baseurl
            # is a 404 (jekyll serve and GitHub Pages serve nothing there); anything else is beside the site.
            if self._served_at(decoded):
                return Route("broken", f"the site is served under {base} (baseurl in {self.config}), so this link "
                             f"leads to {decoded}, outside the site: write {{{{ site.baseurl }}}}{decoded} or "
                             f"{base}{decoded}")
            return Route("beside", "outside the Jekyll site's baseurl (not part of the site)")
        resolved = self(source, path)
        routes = self.routes()
        if self._left_out(resolved):
            return Route("broken", f"`exclude:` in {self.config} leaves {self.shown(resolved)} out of the site: "
                         "Jekyll does not publish it")
        unpublished = self._unpublished(resolved, routes)
        if unpublished is not None:
            return unpublished
        if decoded.endswith(SOURCES):
            return CHECK  # `/docs/x.md` names a source file (what `{% link %}` gives): there or not
        moved = self._elsewhere.get(resolved)
        if moved is not None:
            return Route("broken", f"no page has this URL on the built site: {self.shown(moved)} is published at "
                         f"{base}{routes.urls[moved]}")
        if os.path.exists(resolved):
            return CHECK
        if not absolute:
            page_url = self.page_url(source)
            if page_url is None:
                return _UNKNOWN_HERE
            # Read from the source file's folder it would work; the browser reads it from the page's URL.
            folder_url = self._folder_url(source)
            beside = self.in_site(source, join_url(folder_url, decoded))
            if page_url != folder_url and os.path.exists(beside):
                return Route("broken", f"this page is published at {base}{page_url}, so the link leads to "
                             f"{base}{join_url(page_url, decoded)}, where nothing is; it works only from the source "
                             "file's folder")
            # A page whose URL only the build knows may be the one it names.
            return _UNCHECKED if routes.unknown else CHECK
        return CHECK if target in self.remapped else _UNCHECKED

    def _unpublished(self, resolved: str, routes: JekyllRoutes) -> Route | None:
        label = routes.unpublished.get(resolved)
        if label is not None:
            return Route("broken", f"{self.shown(resolved)} is in the collection '{label}', which {self.config} does "
                         "not publish (no `output: true`): the built site has no page for it")
        hidden = routes.hidden.get(resolved)
        if hidden is not None:
            flag = "--future" if hidden.startswith(FUTURE) else "--unpublished"
            return Route("broken", f"{self.shown(resolved)} has {hidden}: Jekyll does not publish it (only "
                         f"`jekyll build {flag}` does)")
        return None

    def _served_at(self, url: str) -> bool:
        """Does the built site have a page or a file at `url` (read from the site's root, baseurl left out)?"""
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if under(found, self.top) and os.path.isfile(found) and not found.endswith(SOURCES):
            return True
        return url in self.routes().pages


def source_top(home: str, settings: dict[str, Any]) -> str:
    return os.path.normpath(os.path.join(home, text_value(settings.get("source"), ".")))
