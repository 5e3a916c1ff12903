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

`cascade` (the site config's, each section's `_index.md`) gives its keys that decide publishing
(`draft`, `build`, `headless`) to the section and the pages below it (`Cascades`, hugo_cascade.py); a cascade the
gate cannot read, and a section's `slug` (read by Hugo 0.167 and later only), leave a page's
publishing or URL unsure: links to it are unchecked (LG482).

`{{< ref "x" >}}` / `relref` with a literal path is checked as that page (from the page's folder,
else from `content/`); any other shortcode is template code: unchecked. A plain link to a content
file (`[x](other.md)`) is written by Hugo as it is, so it is broken on the built site, unless a link
render hook may rewrite it (Hugo's own runs only on multilingual sites: `useEmbedded = 'auto'`).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from typing import Any

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file, kept_inside
from loopgate.gates._sites.config import flag, text_value
from loopgate.gates._sites.hugo_cascade import Cascades
from loopgate.gates._sites.hugo_urls import (
    CONTENT,
    HugoRoutes,
    alias_urls,
    bundle_of,
    bundle_resources,
    leaf_bundles,
    not_rendered,
    path_of,
    top_sections,
    url_of,
)
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.routes import DOT_FOLDERS, front_matter, join_url, pages
from loopgate.gates._sites.slugs import auto_anchors, headings, hugo_anchors
from loopgate.treewalk import walk

_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"([^\"{}]+)\"\s*[>%]\}\}")
_SOURCES = (".md", ".markdown")  # a link to a source file (what ref/relref name) is to that file
_PATTERNED = Route("unchecked", "Hugo's permalinks config gives this page its URL (:year, :slug, ...): known only "
                   "once the site is built")


def hugo_routes(top: str, lower: bool, patterned: frozenset[str] = frozenset(),
                ugly: Callable[[str], bool] = lambda section: False, cascade: Any = None) -> HugoRoutes:
    """The pages' URLs; a regular page of a section in `patterned` (the `permalinks` config, whose
    `:year`, `:title`, ... patterns only the build fills in) has an unknown URL, unless `url:` gives it.
    With `uglyURLs` (for the page's section) a regular page or leaf bundle is `/a/b.html`, not `/a/b/`.
    Front matter comes with what `cascade` (the site config's, and each section's `_index.md`) gives it."""
    found = HugoRoutes()
    aliases: list[tuple[str, str]] = []
    leaves = found.leaves = leaf_bundles(top)
    cascades = Cascades(top, cascade, lower)
    for page in pages(top):
        relative = os.path.relpath(page, top).replace(os.sep, "/")
        stem = os.path.splitext(relative)[0]
        folder, name = posixpath.split(stem)
        bundle = bundle_of(relative, leaves)
        if bundle and leaves[bundle] != page:
            # Hugo publishes a leaf bundle's other content files as resources of its page, never as pages.
            found.unpublished[page] = f"is a resource of the leaf bundle {bundle}/ (beside its index), not a page: " \
                                      "Hugo publishes no page for it"
            found.unpublished_at.setdefault(path_of(stem, lower), page)
            continue
        data = cascades.apply(page, relative, front_matter(page))
        place = stem if name not in ("index", "_index") else folder
        own = path_of(place, lower)  # `/a/b/`, or `/` for the home page
        parent = posixpath.dirname(own.rstrip("/"))
        url = url_of(data, name, folder, own, parent, lower, patterned, ugly)
        if url is None:
            found.unknown.add(page)
            url = ""
        if url and flag(data.get("draft"), False):
            # `hugo` builds without drafts (only `hugo --buildDrafts` publishes them).
            found.unpublished[page] = "is a draft (draft: true): `hugo` publishes it only with --buildDrafts"
            found.unpublished_at.setdefault(url, page)
            found.would_be[page] = url
            if url.endswith(".html"):
                found.unpublished_at.setdefault(url[:-len(".html")] + "/", page)
            continue
        reason = not_rendered(data)
        if url and reason:
            found.unpublished[page] = f"is not rendered ({reason} in its front matter): Hugo publishes no page for it"
            found.unpublished_at.setdefault(url, page)
            found.would_be[page] = url
            if name in ("index", "_index"):
                bundle_resources(top, folder, url, leaves, found)  # its files are published all the same
            continue
        if url:
            found.urls[page] = url
            found.pages.setdefault(url, page)
            cascades.newer_url(page, relative, url, data)
        for natural in () if not url else {own, path_of(place, False), "/" + place.lstrip("/") + "/"} - {url}:
            found.moved.setdefault(natural, page)
        if url and name in ("index", "_index"):
            bundle_resources(top, folder, url, leaves, found)
        aliases += [(alias, page) for alias in alias_urls(data.get("aliases"), parent)]
    cascades.finish(found)
    top_sections(top, lower, patterned, found)
    for alias, page in aliases:  # a page's own URL wins over another page's alias
        found.pages.setdefault(alias if alias.endswith((".html", "/")) else alias + "/", page)
    return found


_TOKEN = re.compile(r":(\w+)")
_DIGITS = {"year": r"\d{4}", "month": r"\d{2}", "monthname": r"[a-z]+", "day": r"\d{2}", "weekday": r"\d",
           "weekdayname": r"[a-z]+", "yearday": r"\d{1,3}"}


def _patterned(config: Any) -> dict[str, list[re.Pattern[str]]]:
    """Section -> the URLs Hugo's `permalinks` config can give its pages (`posts = '/:year/:slug/'`, or
    per kind, `[permalinks.page] posts = ...`, `[permalinks.section] posts = ...`): `:year` is four
    digits, `:slug` any one segment. A section can have a pattern per kind: each is kept (the section's
    pattern once overwrote its pages' one, and links to the pages were reported broken)."""
    if not isinstance(config, dict):
        return {}
    patterns = [(str(key), value) for key, value in config.items() if isinstance(value, str)]
    for kind in ("page", "section"):
        nested = config.get(kind)
        if isinstance(nested, dict):
            patterns += [(str(key), value) for key, value in nested.items() if isinstance(value, str)]
    found: dict[str, list[re.Pattern[str]]] = {}
    for section, pattern in patterns:
        parts = _TOKEN.split("/" + pattern.strip("/"))
        regex = "".join(re.escape(part) if i % 2 == 0 else _DIGITS.get(part, "[^/]+") for i, part in enumerate(parts))
        found.setdefault(section, []).append(re.compile(regex + r"(?:/|\.html)?$", re.I))
    return found


def setting(settings: Any, *keys: str) -> Any:
    """A value of Hugo's config, whose keys Hugo reads case-insensitively (`uglyURLs`, `uglyurls`)."""
    for key in keys:
        if not isinstance(settings, dict):
            return None
        settings = next((value for name, value in settings.items() if str(name).lower() == key.lower()), None)
    return settings


def _ugly(value: Any) -> Callable[[str], bool]:
    """`uglyURLs = true`, or per section (`[uglyURLs] posts = true`)."""
    if isinstance(value, dict):
        sections = {str(key).lower(): flag(on, False) for key, on in value.items()}
        return lambda section: sections.get(section.lower(), False)
    every = flag(value, False)
    return lambda section: every


def _hooks(settings: dict[str, Any]) -> bool:
    """May a link render hook rewrite the links of a page? A theme or a module may bring one (it is not
    in the repository), the site's layouts may have one, and Hugo's own runs on a multilingual site
    (`useEmbedded = 'auto'`) or when asked to: such a hook resolves `img.png` as the page's resource."""
    theme = setting(settings, "theme")
    if theme or setting(settings, "module", "imports"):
        return True
    languages = setting(settings, "languages")
    if isinstance(languages, dict) and len(languages) > 1:
        return True
    embedded = str(setting(settings, "markup", "goldmark", "renderHooks", "link", "useEmbedded") or "")
    return embedded.lower() in ("always", "fallback")


def _hooks_in(layouts: str) -> bool:
    """Do the site's layouts hold a link render hook (`render-link.html`, at any depth)?"""
    return any(any(f.startswith("render-link") for f in files) for _, files in walk(layouts, DOT_FOLDERS))


class Hugo(Site):
    name = "hugo"
    title = "Hugo"
    templates = True

    def __init__(self, boundary: Boundary, options: Generic, config: str, home: str, settings: dict[str, Any],
                 shown: Callable[[str], str]) -> None:
        def folder(key: str, default: str) -> str:  # the site's folders are the repository's, or refused
            path = os.path.normpath(os.path.join(home, text_value(setting(settings, key), default)))
            return kept_inside(boundary, config, f"`{key}`", path, shown)

        content = folder("contentDir", "content")
        super().__init__(boundary, options, config, content)
        self.lower = not flag(setting(settings, "disablePathToLower"), False)
        self.static = folder("staticDir", "static")
        self.statics = _static_folders(settings, home, self.static, lambda key, path: kept_inside(
            boundary, config, key, path, shown))
        self.shown = shown
        self._routes: HugoRoutes | None = None
        self.patterned = _patterned(setting(settings, "permalinks"))
        self.ugly = _ugly(setting(settings, "uglyURLs"))
        self.cascade = setting(settings, "cascade")
        self.hooks = _hooks(settings) or _hooks_in(folder("layoutDir", "layouts"))
        self._refs: set[str] = set()
        self._made: dict[str, list[str]] = {}  # page -> its heading ids (extra_anchors)
        # Heading ids (markup.goldmark.parser): none at all with autoHeadingID = false; else of a kind.
        parser = setting(settings, "markup", "goldmark", "parser")
        self.heading_ids = flag(setting(parser, "autoHeadingID"), True)
        self.id_kind = text_value(setting(parser, "autoHeadingIDType"), "github").lower()
        # markup.goldmark.extensions.typographer: a table with `disable` (Hugo 0.112+) or a boolean (before)
        typographer = setting(settings, "markup", "goldmark", "extensions", "typographer")
        self.typographer = flag(typographer, True) if not isinstance(typographer, dict) else \
            not flag(setting(typographer, "disable"), False)

    def extra_anchors(self, full: str) -> list[str]:
        """Hugo's own heading ids (`slugs.hugo_anchors`): of the text Goldmark renders (attribute blocks
        in every form dropped, dashes set by its typographer), of `autoHeadingIDType`'s kind; with
        `autoHeadingID = false` only the ids headings are given. Worked out once a page (the links
        scanner asks here, and `unmade_anchors` too)."""
        if not full.endswith(".md"):
            return []
        made = self._made.get(full)
        if made is None:
            found = headings(read_text(full), extended="attributes", smart="lr" if self.typographer else "")
            made = self._made[full] = [given for _, given in found if given] if not self.heading_ids else \
                hugo_anchors(found, self.id_kind)
        return made

    def unmade_anchors(self, full: str) -> list[tuple[str, str]]:
        """GitHub's slugs of the headings, where Hugo makes other ids (or none) from them."""
        if (self.heading_ids and self.id_kind not in ("github-ascii", "blackfriday")) or not full.endswith(".md"):
            return []
        made = set(self.extra_anchors(full))
        why = ("the site's markup.goldmark.parser.autoHeadingID = false: Hugo gives headings no id" if
               not self.heading_ids else f"Hugo makes {self.id_kind} heading ids (markup.goldmark.parser"
               ".autoHeadingIDType), not GitHub's")
        return [(anchor, why) for anchor in auto_anchors(read_text(full)) if anchor not in made]

    def routes(self) -> HugoRoutes:
        if self._routes is None:  # one walk of content/, on the first link written as a URL
            self._routes = hugo_routes(self.top, self.lower, frozenset(self.patterned), self.ugly, self.cascade)
        return self._routes

    def rewrite(self, target: str) -> str:
        target = super().rewrite(target)
        if "{{" not in target:
            return target
        target = _REF.sub(lambda m: m.group(1), target)
        self._refs.add(target)  # a page named by ref/relref: Hugo writes its URL
        return target

    def in_site(self, source: str, decoded: str) -> str:
        if decoded.startswith("/"):
            named = os.path.normpath(os.path.join(self.top, decoded.lstrip("/")))
            if decoded.endswith(_SOURCES) and os.path.isfile(named):
                return named  # `{{< ref "/docs/a.md" >}}`
            return self._at(decoded)
        written = os.path.normpath(os.path.join(os.path.dirname(source), decoded))
        if decoded.endswith(_SOURCES):
            if os.path.isfile(written):
                return written  # a source file named by ref
            from_top = os.path.normpath(os.path.join(self.top, decoded))  # ref: from content/ too
            return from_top if os.path.isfile(from_top) else written
        routes = self.routes()
        # A draft's links are read from where `hugo --buildDrafts` would put it.
        page_url = routes.urls.get(source) or routes.would_be.get(source)
        if os.path.isfile(written) and (self.hooks or page_url is None):
            # A render hook may resolve it as the page's own resource; a page without a known URL (a
            # draft, a resource, a pattern's) is read from its file, as before.
            return written
        return self._at(join_url(page_url or "/", decoded))

    def _at(self, url: str) -> str:
        """The file the built site serves at `url`: a page, a bundle's file, a file under content/ or static/."""
        routes = self.routes()
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if found == os.path.normpath(self.top) and url.rstrip("/") in ("", "/index.html"):
            return self.top  # the home page: Hugo builds it (kind `home`) with or without content/_index.md
        page = self._lookup(url, routes.pages)
        if page is not None:
            return page
        published = routes.files.get(url)
        if published is not None:
            return published  # a page bundle's image, at its page's URL
        inside = os.path.relpath(found, self.top).replace(os.sep, "/")
        if os.path.isfile(found) and not found.endswith(CONTENT) and not bundle_of(inside, routes.leaves):
            return found  # a file under content/ outside any leaf bundle, published where it is
        for folder, prefix in self.statics:
            if prefix and not (url == prefix or url.startswith(prefix + "/")):
                continue
            static = os.path.normpath(os.path.join(folder, url[len(prefix):].lstrip("/")))
            if under(static, folder) and os.path.isfile(static):
                return static
        unpublished = self._lookup(url, routes.unpublished_at)
        if unpublished is not None:
            return unpublished  # a draft, a leaf bundle's content file: own_route says why it is broken
        moved = self._lookup(url, routes.moved)
        if moved is not None:
            # A path of its own: a slugged bundle's image is at its file's path too, for links from the bundle.
            nowhere = os.path.join(found, ".published-elsewhere") if os.path.exists(found) else found
            self._elsewhere[nowhere] = moved
            return nowhere
        return first_file([found + ".md", os.path.join(found, "index.md"), os.path.join(found, "_index.md")])

    @staticmethod
    def _lookup(url: str, routes: dict[str, str]) -> str | None:
        """`/a/b/` is also `/a/b` and `/a/b/index.html`; `/a/b.html` (uglyURLs) also `/a/b`, as hosts
        answer it, but not `/a/b/` (a folder the build does not have)."""
        path = url.removesuffix("index.html") if url.endswith("/index.html") else url
        keys = (path, path.rstrip("/") + "/", path.rstrip("/"))
        for key in (*keys, path + ".html") if not path.endswith("/") else keys:
            if key in routes:
                return routes[key]
        return None

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        routes = self.routes()
        resolved = self(source, path)
        if path.endswith(_SOURCES) and target not in self._refs and target not in self.remapped and not self.hooks \
                and resolved.endswith(_SOURCES) and under(resolved, self.top):
            # Without a link render hook Hugo writes the link as it is: `x.md` is no URL of the built site.
            return Route("broken", f"Hugo publishes {self.shown(resolved)} as a page and leaves this link as it is "
                         "(no link render hook here): no file is at that URL; link the page with "
                         "{{< relref \"...\" >}} or by its URL")
        unsure = routes.unsure.get(resolved)
        if unsure is not None and not (resolved in routes.versioned and target in self._refs):  # ref: either URL
            return Route("unchecked", f"{self.shown(resolved)}: {unsure}: whether and where Hugo publishes it is "
                         "known only once the site is built")
        why = routes.unpublished.get(resolved)
        if why is not None:
            return Route("broken", f"{self.shown(resolved)} {why}")
        page = self._elsewhere.get(resolved)
        if page is not None:
            kind = "page" if page in routes.urls else "file"
            return Route("broken", f"no {kind} has this URL on the built site: {self.shown(page)} is published "
                         f"at {routes.urls.get(page) or routes.file_urls[page]}")
        unknown = routes.unknown if self.patterned and not path.endswith(_SOURCES) else set()
        if unknown:
            if resolved in unknown or (not path.startswith("/") and source in unknown and not os.path.exists(resolved)):
                return _PATTERNED
            url = unquote(path)
            patterns = [p for each in self.patterned.values() for p in each]
            if path.startswith("/") and not os.path.exists(resolved) and any(p.match(url) for p in patterns):
                return _PATTERNED
        if not path.startswith("/") and not path.endswith(_SOURCES) and not os.path.exists(resolved):
            return self._relative(source, path, routes)
        return CHECK

    def _relative(self, source: str, path: str, routes: HugoRoutes) -> Route:
        """A relative link that leads to nothing from the page's URL."""
        if source in routes.unpublished and source not in routes.would_be:
            return Route("unchecked", "read from a leaf bundle's resource, which Hugo publishes as no page: "
                         "where it leads is known only once a template uses it")
        page_url = routes.urls.get(source) or routes.would_be.get(source)
        decoded = unquote(path)
        written = os.path.normpath(os.path.join(os.path.dirname(source), decoded))
        if source in routes.unsure:
            return Route("unchecked", f"read from this page's URL, which is not known: {routes.unsure[source]}")
        if page_url is not None and os.path.exists(written):
            return Route("broken", f"this page is published at {page_url}, so the link leads to "
                         f"{join_url(page_url, decoded)}, where nothing is; it works only from the source "
                         "file's folder")
        return CHECK


def _static_folders(settings: dict[str, Any], home: str, static: str,
                    kept: Callable[[str, str], str]) -> list[tuple[str, str]]:
    """(folder, URL prefix) of every folder Hugo serves files from at their paths: `staticDir` (a list
    is merged, as Hugo does), and each module mount whose target is `static` or under it
    (`target = "static/images"` serves its source at /images/). A file under none is no file."""
    listed = setting(settings, "staticDir")
    names = [d for d in listed if isinstance(d, str) and d.strip()] if isinstance(listed, list) else []
    found = [(kept("`staticDir`", os.path.normpath(os.path.join(home, d))), "") for d in names] or [(static, "")]
    module = setting(settings, "module")
    mounts = module.get("mounts") if isinstance(module, dict) else None
    for mount in mounts if isinstance(mounts, list) else []:
        source, target = (mount.get("source"), mount.get("target")) if isinstance(mount, dict) else (None, None)
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        target = target.strip("/")
        if target == "static" or target.startswith("static/"):
            prefix = "/" + target[len("static"):].strip("/") if target != "static" else ""
            found.append((kept("`module.mounts`", os.path.normpath(os.path.join(home, source))), prefix.rstrip("/")))
    return found
