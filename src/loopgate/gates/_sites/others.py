"""Jekyll and Docusaurus: the part of their resolution that holds without building the site (Hugo: hugo.py).

Jekyll: `{% link x.md %}` and `{{ '/x' | relative_url }}` with a literal are read as the path
they name; a site-absolute URL is a file of the site, or a page's URL (`permalink:` front matter,
`_posts` dates: `routes.py`); one that is neither (a plugin's page, a collection) needs the build:
unchecked. Docusaurus: doc links without an extension are `x.md` or `x.mdx`, `/docs/x` routes come
from file names and front matter `id`/`slug`; a route that is none of these is unchecked.
"""

from __future__ import annotations

import os
import re

from loopgate.gates._linklocal import under, unquote
from loopgate.gates._sites.base import CHECK, Route, Site, first_file
from loopgate.gates._sites.routes import Routes, docusaurus_routes, jekyll_routes, join_url, lookup, pages

_JEKYLL_LINK = re.compile(r"\{%-?\s*link\s+([^\s{}%]+)\s*-?%\}")
_POST_URL = re.compile(r"\{%-?\s*post_url\s+([^\s{}%]+)\s*-?%\}")
_SOURCES = (".md", ".markdown")
_RELATIVE_URL = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}")
_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")


class Jekyll(Site):
    name = "jekyll"
    title = "Jekyll"
    templates = True

    pretty = False  # `permalink: pretty` in _config.yml: pages and posts at `x/`, not `x.html`
    _routes: Routes | None = None
    _posts: dict[str, str] | None = None

    def rewrite(self, target: str) -> str:
        target = _JEKYLL_LINK.sub(lambda m: "/" + m.group(1).lstrip("/"), super().rewrite(target))
        target = _POST_URL.sub(lambda m: self._post(m.group(1)), target)
        return _RELATIVE_URL.sub(lambda m: m.group(1), target)

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

    def routes(self) -> Routes:
        if self._routes is None:  # one walk of the site, on the first link written as a URL
            self._routes = jekyll_routes(self.top, self.pretty)
        return self._routes

    def page_url(self, source: str) -> str:
        """The URL the built site gives the page `source` (its permalink), which its relative links are read from."""
        known = self.routes().urls.get(source)
        return known or "/" + os.path.relpath(os.path.dirname(source), self.top).replace(os.sep, "/").strip(".") + "/"

    def in_site(self, source: str, decoded: str) -> str:
        if decoded.endswith(_SOURCES):  # a source file named (jekyll-relative-links, `{% link %}`): there or not
            start = self.top if decoded.startswith("/") else os.path.dirname(source)
            return os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        url = decoded if decoded.startswith("/") else join_url(self.page_url(source), decoded)
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if os.path.isfile(found):
            return found
        routes = self.routes()
        routed = lookup(routes.pages, url)
        if routed is not None:
            return routed
        moved = lookup(routes.moved, url)
        if moved is not None:  # where the page's file would put it, but its permalink is elsewhere
            self._elsewhere[found] = moved
            return found
        stem = found[:-len(".html")] if found.endswith(".html") else found
        return first_file([stem + ".md", stem + ".markdown", os.path.join(stem, "index.md"),
                           os.path.join(stem, "index.html"), found])

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        # `/docs/x.md` names a source file (what `{% link %}` gives): checked; `/2024/01/01/post.html` is a URL.
        if not path or path.endswith(_SOURCES):
            return CHECK
        resolved = self(source, path)
        moved = self._elsewhere.get(resolved)
        if moved is not None:
            return Route("broken", f"no page has this URL on the built site: {self.shown(moved)} is published at "
                         f"{self.routes().urls[moved]}")
        if os.path.exists(resolved):
            return CHECK
        if not path.startswith("/"):
            # Read from the source file's folder it would work; the browser reads it from the page's URL.
            page_url = self.page_url(source)
            folder_url = "/" + os.path.relpath(os.path.dirname(source), self.top).replace(os.sep, "/").strip(".") + "/"
            beside = self.in_site(source, join_url(folder_url, unquote(path)))
            if page_url != folder_url and os.path.exists(beside):
                return Route("broken", f"this page is published at {page_url}, so the link leads to "
                             f"{join_url(page_url, unquote(path))}, where nothing is; it works only from the source "
                             "file's folder")
            return CHECK
        return CHECK if target in self.remapped else _UNCHECKED


class Docusaurus(Site):
    name = "docusaurus"
    title = "Docusaurus"
    pages = (".mdx",)  # MDX: markdown with JSX, whose links are links on the site

    _routes: dict[str, str] | None = None

    def in_site(self, source: str, decoded: str) -> str:
        start = os.path.dirname(self.top) if decoded.startswith("/") else os.path.dirname(source)
        found = os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        if os.path.isfile(found):
            return found
        if decoded.startswith("/docs/"):
            if self._routes is None:  # one walk of docs/, on the first /docs/ link
                self._routes = docusaurus_routes(self.top)
            routed = lookup(self._routes, decoded)
            if routed is not None:
                return routed
        found = found.rstrip(os.sep)
        chosen = first_file([found + ".md", found + ".mdx", os.path.join(found, "index.md"),
                             os.path.join(found, "index.mdx"), found])
        # `./gone.md` not found is named as written, not as the `gone.md.md` tried first for `./gone`
        return found if not os.path.isfile(chosen) and "." in os.path.basename(found) else chosen

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if path and "." not in os.path.basename(path.rstrip("/")):
            resolved = self(source, path)
            if not os.path.exists(resolved) or not under(resolved, os.path.dirname(self.top)):
                return CHECK if target in self.remapped else _UNCHECKED
        return CHECK
