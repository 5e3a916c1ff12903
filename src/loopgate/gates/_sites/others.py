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

from loopgate.gates._linklocal import under
from loopgate.gates._sites.base import CHECK, Route, Site, first_file
from loopgate.gates._sites.routes import docusaurus_routes, jekyll_routes, lookup

_JEKYLL_LINK = re.compile(r"\{%-?\s*link\s+([^\s{}%]+)\s*-?%\}")
_RELATIVE_URL = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}")
_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")


class Jekyll(Site):
    name = "jekyll"
    title = "Jekyll"
    templates = True

    def rewrite(self, target: str) -> str:
        target = _JEKYLL_LINK.sub(lambda m: "/" + m.group(1).lstrip("/"), super().rewrite(target))
        return _RELATIVE_URL.sub(lambda m: m.group(1), target)

    pretty = False  # `permalink: pretty` in _config.yml: pages and posts at `x/`, not `x.html`
    _routes: dict[str, str] | None = None

    def routes(self) -> dict[str, str]:
        if self._routes is None:  # one walk of the site, on the first site-absolute link
            self._routes = jekyll_routes(self.top, self.pretty)
        return self._routes

    def in_site(self, source: str, decoded: str) -> str:
        start = self.top if decoded.startswith("/") else os.path.dirname(source)
        found = os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        if os.path.isfile(found):
            return found
        routed = lookup(self.routes(), decoded) if decoded.startswith("/") else None
        if routed is not None:
            return routed
        if found.endswith((".md", ".markdown")):
            return found  # a source file named (jekyll-relative-links, `{% link %}`): it is there or not
        stem = found[:-len(".html")] if found.endswith(".html") else found
        return first_file([stem + ".md", stem + ".markdown", os.path.join(stem, "index.md"),
                           os.path.join(stem, "index.html"), found])

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        # `/docs/x.md` names a source file (what `{% link %}` gives): checked; `/2024/01/01/post.html` is a URL.
        if path.startswith("/") and not path.endswith((".md", ".markdown")) and not os.path.exists(self(source, path)):
            return _UNCHECKED
        return CHECK


class Docusaurus(Site):
    name = "docusaurus"
    title = "Docusaurus"

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
                return _UNCHECKED
        return CHECK
