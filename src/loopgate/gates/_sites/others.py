"""Docusaurus: the part of its resolution that holds without building the site (Hugo: hugo.py, Jekyll:
jekyll.py).

Docusaurus (its documentation on docs and links, checked against Docusaurus 3's own broken-link
check): a link to a file (`./x.md`, `../img.png`) is read from the file that holds it; a link
without an extension is a URL, read from the page's route as the browser reads it (`/docs/a/b`,
a folder's `index.md` at `/docs/a/`, every route ending in `/` with `trailingSlash: true`), and
routes come from file names (number prefixes dropped) and front matter `id`/`slug`. A relative
route that no doc has under /docs/ is broken (Docusaurus stops its build on it); a `/docs/x` route
where only a doc's file name would put it is broken and says where the doc is; any other route
that is no doc (a blog post, a page, a plugin's) is unchecked. With versions.json the docs folder
is a version of its own: its relative routes are read as files, as before. A markdown `#`
heading has no id on the built page (`unmade_anchors`).
"""

from __future__ import annotations

import os
import re

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.routes import docusaurus_urls, join_url, lookup
from loopgate.gates._sites.slugs import top_level_anchors

_NUMBER = re.compile(r"^\d+[-_.]")  # `01-intro`: Docusaurus drops number prefixes from routes
_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")


class Docusaurus(Site):
    name = "docusaurus"
    title = "Docusaurus"
    pages = (".mdx",)  # MDX: markdown with JSX, whose links are links on the site

    _routes: dict[str, str] | None = None
    _urls: dict[str, str] | None = None
    _natural: dict[str, str] | None = None

    def __init__(self, boundary: Boundary, options: Generic, config: str, docs: str, settings: str = "") -> None:
        super().__init__(boundary, options, config, docs)
        # `trailingSlash: true` in the config (JavaScript, read for this one literal): every route ends in `/`.
        self.trailing = re.search(r"\btrailingSlash\s*:\s*true\b", settings) is not None
        # With versions.json, docs/ is the `next` version (`/docs/next/...`): its routes are not modelled here.
        self.versioned = os.path.isfile(os.path.join(os.path.dirname(docs), "versions.json"))
        # A swizzled Heading (or MDXComponents) may give a `#` heading an id after all: not guessed.
        theme = os.path.join(os.path.dirname(docs), "src", "theme")
        self.own_headings = os.path.isdir(theme) and any(
            name.startswith(("Heading", "MDXComponents")) for name in os.listdir(theme))

    def unmade_anchors(self, full: str) -> list[tuple[str, str]]:
        """The classic theme renders a markdown `#` heading (the page's title) as an h1 without its id
        (theme/Heading: "H1 headings do not need an id because they don't appear in the TOC"), so a
        link to its slug or `{#id}` lands at the top of the page, and Docusaurus' own check
        (onBrokenAnchors) reports it. An HTML `<h1 id>` keeps its id."""
        if self.own_headings or not full.endswith((".md", ".mdx")):
            return []
        why = "Docusaurus renders a `#` heading without an id (its theme leaves h1 out of the table of contents)"
        return [(anchor, why) for anchor in top_level_anchors(read_text(full))]

    def routes(self) -> dict[str, str]:
        if self._routes is None:  # one walk of docs/, on the first link written as a route
            self._urls = docusaurus_urls(self.top)
            self._routes = {}
            self._natural = {}
            for page, url in self._urls.items():
                self._routes.setdefault(url.rstrip("/") or "/", page)
            for page in self._urls:
                # Where the file's name would put it: its path as written, and without number prefixes.
                stem = os.path.splitext(os.path.relpath(page, self.top).replace(os.sep, "/"))[0]
                for natural in ("/docs/" + stem, "/docs/" + "/".join(_NUMBER.sub("", p) for p in stem.split("/"))):
                    if natural.rstrip("/") not in self._routes:
                        self._natural.setdefault(natural, page)
        return self._routes

    def page_route(self, source: str) -> str | None:
        """The route path the doc `source` is served at, which the browser reads its relative links from."""
        self.routes()
        url = (self._urls or {}).get(source)
        if url is None:
            return None
        return url.rstrip("/") + "/" if self.trailing else url

    def _route_link(self, source: str, decoded: str) -> str | None:
        """A relative link without an extension is a URL: where it leads from the page's route (None if
        it is no such link, or the page's route is not known)."""
        if decoded.startswith("/") or "." in os.path.basename(decoded.rstrip("/")) or self.versioned:
            return None
        route = self.page_route(source)
        return join_url(route, decoded) if route else None

    def in_site(self, source: str, decoded: str) -> str:
        url = self._route_link(source, decoded)
        if url is not None:
            routed = lookup(self.routes(), url)
            if routed is not None:
                return routed
        start = os.path.dirname(self.top) if decoded.startswith("/") else os.path.dirname(source)
        found = os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        if os.path.isfile(found):
            return found
        if decoded.startswith("/docs/"):
            routed = lookup(self.routes(), decoded)
            if routed is not None:
                return routed
            natural = lookup(self._natural or {}, decoded)
            if natural is not None:
                self._elsewhere[found] = natural
                return found
        found = found.rstrip(os.sep)
        chosen = first_file([found + ".md", found + ".mdx", os.path.join(found, "index.md"),
                             os.path.join(found, "index.mdx"), found])
        # `./gone.md` not found is named as written, not as the `gone.md.md` tried first for `./gone`
        return found if not os.path.isfile(chosen) and "." in os.path.basename(found) else chosen

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        decoded = unquote(path)
        url = self._route_link(source, decoded)
        if url is not None:
            if lookup(self.routes(), url) is not None:
                return CHECK
            if url == "/docs" or url.startswith("/docs/"):
                # Docusaurus' own broken-link check reads it so too, and stops the build on it.
                by_file = self(source, path)
                hint = f"; {self.shown(by_file)} is at {self.page_route(by_file)}" \
                    if by_file in (self._urls or {}) else ""
                return Route("broken", f"Docusaurus reads this link from the page's URL {self.page_route(source)}, "
                             f"so it leads to {url}, where no doc is{hint}")
            return CHECK if target in self.remapped else _UNCHECKED
        resolved = self(source, path)
        moved = self._elsewhere.get(resolved)
        if moved is not None:
            return Route("broken", f"no doc has this URL on the built site: {self.shown(moved)} is published at "
                         f"{self.page_route(moved)}")
        outside = not os.path.exists(resolved) or not under(resolved, os.path.dirname(self.top))
        if "." not in os.path.basename(path.rstrip("/")) and outside:
            return CHECK if target in self.remapped else _UNCHECKED
        return CHECK
