"""Docusaurus: the part of its resolution that holds without building the site (Hugo: hugo.py, Jekyll:
jekyll.py).

Docusaurus: doc links without an extension are `x.md` or `x.mdx`, `/docs/x` routes come
from file names and front matter `id`/`slug`; a route that is none of these is unchecked.
"""

from __future__ import annotations

import os

from loopgate.gates._linklocal import under
from loopgate.gates._sites.base import CHECK, Route, Site, first_file
from loopgate.gates._sites.routes import docusaurus_routes, lookup

_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")


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
