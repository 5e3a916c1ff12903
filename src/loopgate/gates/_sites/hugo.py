"""Hugo: pages live under `content/` and are published at the URLs Hugo gives them.

From Hugo's documentation (URL management, front matter) and checked against the `hugo` binary
(tests/gates/test_links_site_hugo.py):

- A page's URL is its path under `content/` without the extension, as a directory: `a/b.md` is at
  `/a/b/`, a leaf bundle `a/b/index.md` and a section `a/b/_index.md` at `/a/b/`.
- Hugo lowercases that path and turns spaces into `-` (`Blog/First Post.md` is at `/blog/first-post/`)
  unless `disablePathToLower = true` in the site config.
- Front matter `slug:` replaces the last segment (lowercased with the path; not for sections or the
  home page); `url:` replaces the whole path, as written (not lowercased; `x/file.html` is a file,
  `x/y` the directory `/x/y/`); each of `aliases:` is a redirect page to it (`/old/` as written, a
  relative alias from the page's parent folder). A page's URL no longer at its file's place is a
  broken link there: Hugo publishes nothing at `/blog/first-post/` when the page says `slug: hello`.
- A relative URL is read from the page's URL, as the browser reads it; a file under `static/` is
  published at the site's root.
- The `permalinks` config gives a section's pages URLs from patterns (`/:year/:month/:slug/`) filled
  in from dates and titles at build time: a link to such a page by URL, and a site-absolute URL
  that is no page, are unchecked (LG482), never broken.

`{{< ref "x" >}}` / `relref` with a literal path is checked as that page (from the page's folder,
else from `content/`); any other shortcode is template code: unchecked.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from typing import Any

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import flag, text_value
from loopgate.gates._sites.routes import Routes, front_matter, join_url, pages, text

_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"([^\"{}]+)\"\s*[>%]\}\}")
_SOURCES = (".md", ".markdown")  # a link to a source file (what ref/relref name) is to that file
_PATTERNED = Route("unchecked", "Hugo's permalinks config gives this page its URL (:year, :slug, ...): known only "
                   "once the site is built")


def hugo_routes(top: str, lower: bool, patterned: frozenset[str] = frozenset()) -> Routes:
    """The pages' URLs; a regular page of a section in `patterned` (the `permalinks` config, whose
    `:year`, `:title`, ... patterns only the build fills in) has an unknown URL, unless `url:` gives it."""
    found = Routes()
    aliases: list[tuple[str, str]] = []
    for page in pages(top):
        stem = os.path.splitext(os.path.relpath(page, top))[0].replace(os.sep, "/")
        folder, name = posixpath.split(stem)
        data = front_matter(page)
        place = stem if name not in ("index", "_index") else folder
        own = _path(place, lower)  # `/a/b/`, or `/` for the home page
        parent = posixpath.dirname(own.rstrip("/"))
        written = text(data.get("url"))
        slug = text(data.get("slug"))
        if written:
            url = "/" + written.lstrip("/")
            if not url.endswith("/") and "." not in url.rsplit("/", 1)[-1]:
                url += "/"  # `url: a/b` is published as `/a/b/index.html`
        elif name != "_index" and folder.split("/")[0] in patterned:
            found.unknown.add(page)
            url = ""
        elif slug and name != "_index" and own != "/":
            url = posixpath.join(parent, _segment(slug, lower)) + "/"
        else:
            url = own
        if url:
            found.urls[page] = url
            found.pages.setdefault(url, page)
        for natural in () if not url else {own, _path(place, False), "/" + place.lstrip("/") + "/"} - {url}:
            found.moved.setdefault(natural, page)
        listed = data.get("aliases")
        for value in [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []:
            alias = value.strip() if isinstance(value, str) else ""
            if alias:
                aliases.append((alias if alias.startswith("/") else join_url(parent + "/", alias), page))
    for alias, page in aliases:  # a page's own URL wins over another page's alias
        found.pages.setdefault(alias if alias.endswith((".html", "/")) else alias + "/", page)
    return found


_TOKEN = re.compile(r":(\w+)")
_DIGITS = {"year": r"\d{4}", "month": r"\d{2}", "monthname": r"[a-z]+", "day": r"\d{2}", "weekday": r"\d",
           "weekdayname": r"[a-z]+", "yearday": r"\d{1,3}"}


def _patterned(config: Any) -> dict[str, re.Pattern[str]]:
    """Section -> the URLs Hugo's `permalinks` config can give its pages (`posts = '/:year/:slug/'`, or
    per kind, `[permalinks.page] posts = ...`): `:year` is four digits, `:slug` any one segment."""
    if not isinstance(config, dict):
        return {}
    patterns = {str(key): value for key, value in config.items() if isinstance(value, str)}
    for kind in ("page", "section"):
        nested = config.get(kind)
        if isinstance(nested, dict):
            patterns.update({str(key): value for key, value in nested.items() if isinstance(value, str)})
    found = {}
    for section, pattern in patterns.items():
        parts = _TOKEN.split("/" + pattern.strip("/"))
        regex = "".join(re.escape(part) if i % 2 == 0 else _DIGITS.get(part, "[^/]+") for i, part in enumerate(parts))
        found[section] = re.compile(regex + r"(?:/|\.html)?$", re.I)
    return found


def _segment(name: str, lower: bool) -> str:
    name = name.replace(" ", "-")
    return name.lower() if lower else name


def _path(stem: str, lower: bool) -> str:
    parts = [_segment(part, lower) for part in stem.split("/") if part]
    return "/" + "".join(f"{part}/" for part in parts)


class Hugo(Site):
    name = "hugo"
    title = "Hugo"
    templates = True

    def __init__(self, boundary: Boundary, options: Generic, config: str, home: str, settings: dict[str, Any],
                 shown: Callable[[str], str]) -> None:
        content = os.path.normpath(os.path.join(home, text_value(settings.get("contentDir"), "content")))
        super().__init__(boundary, options, config, content)
        self.lower = not flag(settings.get("disablePathToLower"), False)
        self.static = os.path.normpath(os.path.join(home, text_value(settings.get("staticDir"), "static")))
        self.shown = shown
        self._routes: Routes | None = None
        self.patterned = _patterned(settings.get("permalinks"))

    def routes(self) -> Routes:
        if self._routes is None:  # one walk of content/, on the first link written as a URL
            self._routes = hugo_routes(self.top, self.lower, frozenset(self.patterned))
        return self._routes

    def rewrite(self, target: str) -> str:
        target = super().rewrite(target)
        return _REF.sub(lambda m: m.group(1), target)

    def in_site(self, source: str, decoded: str) -> str:
        if decoded.startswith("/"):
            named = os.path.normpath(os.path.join(self.top, decoded.lstrip("/")))
            if decoded.endswith(_SOURCES) and os.path.isfile(named):
                return named  # `{{< ref "/docs/a.md" >}}`
            return self._at(decoded)
        written = os.path.normpath(os.path.join(os.path.dirname(source), decoded))
        if os.path.isfile(written):
            return written  # a bundle's own file, or a source file named by ref
        if decoded.endswith(_SOURCES):
            from_top = os.path.normpath(os.path.join(self.top, decoded))  # ref: from content/ too
            return from_top if os.path.isfile(from_top) else written
        page_url = self.routes().urls.get(source, "/")
        return self._at(join_url(page_url, decoded))

    def _at(self, url: str) -> str:
        """The file the built site serves at `url`: a page, a file under content/ or static/."""
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if os.path.isfile(found) and not found.endswith(_SOURCES):
            return found  # a page bundle's image, a file published as it is
        page = self._lookup(url, self.routes().pages)
        if page is not None:
            return page
        static = os.path.normpath(os.path.join(self.static, url.lstrip("/")))
        if under(static, self.static) and os.path.isfile(static):
            return static
        moved = self._lookup(url, self.routes().moved)
        if moved is not None:
            self._elsewhere[found] = moved
            return found
        return first_file([found + ".md", os.path.join(found, "index.md"), os.path.join(found, "_index.md")])

    @staticmethod
    def _lookup(url: str, routes: dict[str, str]) -> str | None:
        path = url.removesuffix("index.html") if url.endswith("/index.html") else url
        for key in (path, path.rstrip("/") + "/", path.rstrip("/")):
            if key in routes:
                return routes[key]
        return None

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        page = self._elsewhere.get(self(source, path)) if path else None
        if page is not None:
            return Route("broken", f"no page has this URL on the built site: {self.shown(page)} is published "
                         f"at {self.routes().urls[page]}")
        unknown = self.routes().unknown if path and self.patterned and not path.endswith(_SOURCES) else set()
        if unknown:
            resolved = self(source, path)
            if resolved in unknown or (not path.startswith("/") and source in unknown and not os.path.exists(resolved)):
                return _PATTERNED
            url = unquote(path)
            patterns = self.patterned.values()
            if path.startswith("/") and not os.path.exists(resolved) and any(p.match(url) for p in patterns):
                return _PATTERNED
        return CHECK
