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
(`draft`, `build`, `headless`) to the section and the pages below it (`_Cascades`); a cascade the
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
from dataclasses import dataclass, field
from typing import Any

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file, kept_inside
from loopgate.gates._sites.config import flag, text_value
from loopgate.gates._sites.routes import DOT_FOLDERS, Routes, front_matter, join_url, pages, text
from loopgate.treewalk import walk

_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"([^\"{}]+)\"\s*[>%]\}\}")
_SOURCES = (".md", ".markdown")  # a link to a source file (what ref/relref name) is to that file
_CONTENT = (".md", ".markdown", ".html")  # content files: pages (or, in a leaf bundle, content resources)
_PATTERNED = Route("unchecked", "Hugo's permalinks config gives this page its URL (:year, :slug, ...): known only "
                   "once the site is built")


@dataclass
class HugoRoutes(Routes):
    # A leaf bundle's other files (a `.md` there is a resource, not a page) and a branch bundle's
    # files: the URL each is published at -> the file.
    files: dict[str, str] = field(default_factory=dict)
    # Content files Hugo publishes no page for -> why: a draft, a leaf bundle's resource.
    unpublished: dict[str, str] = field(default_factory=dict)
    # Their URLs (where the page would be) -> the file.
    unpublished_at: dict[str, str] = field(default_factory=dict)
    leaves: dict[str, str] = field(default_factory=dict)  # leaf bundle folder (relative) -> its index
    file_urls: dict[str, str] = field(default_factory=dict)  # a bundle's file -> its URL
    would_be: dict[str, str] = field(default_factory=dict)  # a draft or unrendered page -> its URL if it were
    # Pages whose URL or publishing the gate cannot know without building (a cascade it cannot read, a
    # section `slug` Hugo versions read differently) -> why: links to them are unchecked (LG482).
    unsure: dict[str, str] = field(default_factory=dict)
    versioned: set[str] = field(default_factory=set)  # of those, the pages only a section's slug makes unsure


def _leaf_bundles(top: str) -> dict[str, str]:
    """Folder (relative, `/`-separated) -> its `index.md` for every leaf bundle under content/."""
    found = {}
    for page in pages(top):
        folder, name = os.path.split(os.path.relpath(page, top))
        if os.path.splitext(name)[0] == "index" and page.endswith(_CONTENT):
            found[folder.replace(os.sep, "/")] = page
    return found


def _bundle_of(relative: str, leaves: dict[str, str]) -> str:
    """The leaf bundle folder that holds the file `relative` (`""` if none; the bundle's index is its own)."""
    parts = relative.split("/")[:-1]
    for end in range(1, len(parts) + 1):
        folder = "/".join(parts[:end])
        if folder in leaves:
            return folder
    return ""


def hugo_routes(top: str, lower: bool, patterned: frozenset[str] = frozenset(),
                ugly: Callable[[str], bool] = lambda section: False, cascade: Any = None) -> HugoRoutes:
    """The pages' URLs; a regular page of a section in `patterned` (the `permalinks` config, whose
    `:year`, `:title`, ... patterns only the build fills in) has an unknown URL, unless `url:` gives it.
    With `uglyURLs` (for the page's section) a regular page or leaf bundle is `/a/b.html`, not `/a/b/`.
    Front matter comes with what `cascade` (the site config's, and each section's `_index.md`) gives it."""
    found = HugoRoutes()
    aliases: list[tuple[str, str]] = []
    leaves = found.leaves = _leaf_bundles(top)
    cascades = _Cascades(top, cascade, lower)
    for page in pages(top):
        relative = os.path.relpath(page, top).replace(os.sep, "/")
        stem = os.path.splitext(relative)[0]
        folder, name = posixpath.split(stem)
        bundle = _bundle_of(relative, leaves)
        if bundle and leaves[bundle] != page:
            # Hugo publishes a leaf bundle's other content files as resources of its page, never as pages.
            found.unpublished[page] = f"is a resource of the leaf bundle {bundle}/ (beside its index), not a page: " \
                                      "Hugo publishes no page for it"
            found.unpublished_at.setdefault(_path(stem, lower), page)
            continue
        data = cascades.apply(page, relative, front_matter(page))
        place = stem if name not in ("index", "_index") else folder
        own = _path(place, lower)  # `/a/b/`, or `/` for the home page
        parent = posixpath.dirname(own.rstrip("/"))
        url = _url(data, name, folder, own, parent, lower, patterned, ugly)
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
        reason = _not_rendered(data)
        if url and reason:
            found.unpublished[page] = f"is not rendered ({reason} in its front matter): Hugo publishes no page for it"
            found.unpublished_at.setdefault(url, page)
            found.would_be[page] = url
            if name in ("index", "_index"):
                _resources(top, folder, url, leaves, found)  # its files are published all the same
            continue
        if url:
            found.urls[page] = url
            found.pages.setdefault(url, page)
            cascades.newer_url(page, relative, url, data)
        for natural in () if not url else {own, _path(place, False), "/" + place.lstrip("/") + "/"} - {url}:
            found.moved.setdefault(natural, page)
        if url and name in ("index", "_index"):
            _resources(top, folder, url, leaves, found)
        aliases += [(alias, page) for alias in _aliases(data.get("aliases"), parent)]
    cascades.finish(found)
    _top_sections(top, lower, patterned, found)
    for alias, page in aliases:  # a page's own URL wins over another page's alias
        found.pages.setdefault(alias if alias.endswith((".html", "/")) else alias + "/", page)
    return found


def _top_sections(top: str, lower: bool, patterned: frozenset[str], found: HugoRoutes) -> None:
    """A top-level folder of content/ is a section without an `_index.md` too (Hugo's docs, "Sections":
    "a top-level content directory, or any content directory containing an _index.md file"): Hugo
    publishes its list page at `/docs/`. Such a URL leads to the folder (there is no page file). Only
    a folder with a published page makes one; a section `permalinks` moves is left to the build."""
    published = [os.path.relpath(page, top).replace(os.sep, "/") for page in [*found.urls, *found.unknown]]
    folders = {relative.split("/", maxsplit=1)[0] for relative in published if "/" in relative}
    for folder in sorted(folders):
        if folder in found.leaves or folder in patterned:
            continue  # a leaf bundle is a page, not a section; a patterned section's URL is the build's
        if any(os.path.lexists(os.path.join(top, folder, "_index" + extension)) for extension in _CONTENT):
            continue  # its _index.md says (a draft or unrendered one is no page: the loop above knows)
        found.pages.setdefault(_path(folder, lower), os.path.join(top, folder))


# Cascaded keys that decide whether a page is published, and the ones that move it.
_PUBLISHING = frozenset({"draft", "build", "_build", "headless"})
_MOVING = frozenset({"slug", "url", "aliases"})
_KINDS = {"home", "page", "section"}
_BUILT_ENVIRONMENT = "production"  # what `hugo` builds by default


class _Cascades:
    """Front matter `cascade` (a map, or a list of maps each with an optional `_target`/`target`) in
    the site config and in each section's `_index.md`: its keys go to the section page itself and every
    page below it, a page's own front matter first, then the nearest section's cascade (checked with
    hugo 0.168: `cascade: {draft: true}` unpublishes the section and its pages, a page's `draft: false`
    and a nearer `cascade: {draft: false}` win; a target `path: /old/**` matches `/old/o`, not `/old`).
    Only the keys that decide publishing are applied; a cascade that would move pages (`slug`, `url`)
    or whose target the gate cannot read (`lang`, a key it does not know) makes its pages unsure."""

    def __init__(self, top: str, config: Any, lower: bool) -> None:
        self.lower = lower
        self.unsure: dict[str, str] = {}  # page -> why a cascade leaves its publishing unknown
        self.newer: dict[str, str] = {}  # URL only Hugo 0.167+ gives a page (a section's slug) -> the page
        self.cascaded: set[str] = set()  # pages a cascade leaves unsure
        self.by_folder: dict[str, list[dict[str, Any]]] = {"\0config": _entries(config)}
        self.slugs: dict[str, str] = {}  # section folder -> its `slug:`
        for folder, files in walk(top):  # iterative: os.walk recursed per level (RecursionError ~1,000 deep)
            index = next((f for f in files if os.path.splitext(f)[0] == "_index" and f.endswith(_CONTENT)), "")
            if index:
                data = front_matter(os.path.join(folder, index))
                relative = os.path.relpath(folder, top).replace(os.sep, "/")
                relative = "" if relative == "." else relative
                entries = _entries(data.get("cascade"))
                if entries:
                    self.by_folder[relative] = entries
                if text(data.get("slug")) and relative:
                    self.slugs[relative] = text(data.get("slug"))

    def finish(self, found: HugoRoutes) -> None:
        found.unsure = self.unsure
        found.versioned = set(self.newer.values()) - set(self.cascaded)
        for url, page in self.newer.items():
            found.pages.setdefault(url, page)

    def newer_url(self, page: str, relative: str, url: str, data: dict[str, Any]) -> None:
        """A section's `slug:` is ignored by Hugo up to 0.166 and replaces the section's segment of its own
        URL and of every page below it from 0.167 on (checked with hugo 0.147.8, 0.166.0, 0.167.0 and
        0.168.0): which one builds the site is not in the repository, so such a page is unsure, and its
        URL under the newer Hugo (returned in `self.newer`) leads to it as well."""
        if not self.slugs or not url.startswith("/") or text(data.get("url")):
            return  # a page's own `url:` wins
        stem = os.path.splitext(relative)[0]
        folder, name = posixpath.split(stem)
        parts = folder.split("/") if folder else []
        if name == "index" and parts:
            parts = parts[:-1]  # a leaf bundle's folder is the page: its own slug is the page's
        segments = url.strip("/").split("/")
        newer = list(segments)
        moved = []
        for depth in range(1, len(parts) + 1):
            section = "/".join(parts[:depth])
            slug = self.slugs.get(section)
            if slug and depth <= len(segments) and segments[depth - 1] == _segment(parts[depth - 1], self.lower):
                newer[depth - 1] = _segment(slug, self.lower)
                moved.append(section)
        if moved:
            at = "/" + "/".join(newer) + ("/" if url.endswith("/") else "")
            self.newer[at] = page
            self.unsure.setdefault(page, f"Hugo 0.167 and later publish it at {at} ({moved[-1]}/_index.md has a slug), "
                                 f"earlier versions at {url}; which one builds the site is not in the repository")

    def apply(self, page: str, relative: str, data: dict[str, Any]) -> dict[str, Any]:
        """The page's front matter with what cascades to it (`unsure` says why when that is not known)."""
        if len(self.by_folder) == 1 and not self.by_folder["\0config"]:
            return data
        stem = os.path.splitext(relative)[0]
        folder, name = posixpath.split(stem)
        kind = "home" if stem == "_index" else "section" if name == "_index" else "page"
        logical = "/" + (folder if name in ("index", "_index") else stem).strip("/")
        logical = logical.lower() if self.lower else logical
        parts = folder.split("/") if folder else []
        # Nearest first: the section's own folder (for its _index.md), then each parent, then the config.
        chain = ["/".join(parts[:end]) for end in range(len(parts), -1, -1)]
        if name == "index" and chain:
            chain = chain[1:]  # a leaf bundle's folder is the page, not a section above it
        merged = dict(data)
        for place in [*chain, "\0config"]:
            for entry in self.by_folder.get(place, []):
                target = entry.get("_target", entry.get("target"))
                matched = _targets(target, logical, kind)
                keys = {key for key in entry if key not in ("_target", "target")}
                if matched is None and keys & (_PUBLISHING | _MOVING):
                    self.cascaded.add(page)
                    self.unsure[page] = f"a cascade in {_origin(place)} has a target the gate does not read ({target})"
                    return data
                if not matched:
                    continue
                if keys & _MOVING - set(data):
                    self.cascaded.add(page)
                    self.unsure[page] = f"a cascade in {_origin(place)} gives it {', '.join(sorted(keys & _MOVING))}"
                    return data
                for key in keys & _PUBLISHING:
                    merged.setdefault(key, entry[key])
        return merged


def _origin(place: str) -> str:
    return "the site config" if place == "\0config" else f"{place or 'content'}/_index.md"


def _entries(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _targets(target: Any, logical: str, kind: str) -> bool | None:
    """Does a cascade's target take this page? None: the target says something the gate does not read."""
    if target is None:
        return True
    if not isinstance(target, dict):
        return None
    answers = [_target_key(str(key).lower(), value, logical, kind) for key, value in target.items()]
    return False if False in answers else None if None in answers else True


def _target_key(key: str, value: Any, logical: str, kind: str) -> bool | None:
    if not isinstance(value, str):
        return None
    if key == "kind":
        kinds = {part.strip() for part in value.split(",")}
        return kind in kinds if kinds <= _KINDS | {"taxonomy", "term"} else None
    if key in ("path", "environment"):
        pattern = _glob(value)
        return None if pattern is None else pattern.fullmatch(logical if key == "path" else _BUILT_ENVIRONMENT) \
            is not None
    return None  # lang, sites, ...: not read here


def _glob(text: str) -> re.Pattern[str] | None:
    """A Hugo (gobwas) glob with `/` as separator: `**` any text, `*` and `?` within a segment,
    `{a,b}` alternatives, `[...]` a class. None for what it cannot read."""
    out = []
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        elif char == "[":
            end = text.find("]", index)
            if end < 0:
                return None
            out.append("[" + text[index + 1:end].replace("!", "^", 1).replace("\\", "\\\\") + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    if depth:
        return None
    try:
        return re.compile("".join(out))
    except re.error:
        return None


def _not_rendered(data: dict[str, Any]) -> str:
    """Why Hugo renders no page for this content file ("" when it does): `headless: true` (a leaf bundle
    kept for its resources), or `build: {render: never}` (`link`, or `false`; also under `_build`).
    Checked with hugo 0.168: the page is not written, its bundle's files are."""
    if flag(data.get("headless"), False):
        return "headless: true"
    for key in ("build", "_build"):
        options = data.get(key)
        render = options.get("render") if isinstance(options, dict) else None
        if render is False or (isinstance(render, str) and render.lower() in ("never", "link", "false")):
            return f"{key}: render: {str(render).lower()}"
    return ""


def _aliases(listed: Any, parent: str) -> list[str]:
    """Front matter `aliases:`: each a URL of the page too (`/old/` as written, `older` from the page's parent)."""
    found = []
    for value in [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []:
        alias = value.strip() if isinstance(value, str) else ""
        if alias:
            found.append(alias if alias.startswith("/") else join_url(parent + "/", alias))
    return found


def _url(data: dict[str, Any], name: str, folder: str, own: str, parent: str, lower: bool,
         patterned: frozenset[str], ugly: Callable[[str], bool]) -> str | None:
    """A page's URL from its front matter and place (None: a `permalinks` pattern the build fills in)."""
    written = text(data.get("url"))
    slug = text(data.get("slug"))
    regular = name != "_index" and own != "/"
    if written:
        url = "/" + written.lstrip("/")
        if not url.endswith("/") and "." not in url.rsplit("/", 1)[-1]:
            url += "/"  # `url: a/b` is published as `/a/b/index.html`
        return url
    if name != "_index" and folder.split("/", maxsplit=1)[0] in patterned:
        return None
    url = posixpath.join(parent, _segment(slug, lower)) + "/" if slug and regular else own
    return url.rstrip("/") + ".html" if regular and ugly(folder.split("/", maxsplit=1)[0]) else url


def _resources(top: str, folder: str, url: str, leaves: dict[str, str], found: HugoRoutes) -> None:
    """A bundle's files that are no content, at its page's URL as a folder (`/a/b.html` -> `/a/b/`):
    all of a leaf bundle's (its subfolders too), the files beside a branch bundle's `_index.md`."""
    base = url[:-len(".html")] + "/" if url.endswith(".html") else url
    directory = os.path.join(top, folder)
    leaf = folder in leaves
    # A leaf's subfolders too (not its dot folders), a branch's own files only; iteratively (treewalk).
    walked = walk(directory, DOT_FOLDERS) if leaf else iter([next(walk(directory), (directory, []))])
    for current, files in walked:
        inside = os.path.relpath(current, directory).replace(os.sep, "/")
        for file in files:
            path = os.path.join(current, file)
            if file.endswith(_CONTENT) or file.startswith(".") or os.path.isdir(path):  # a symlinked folder
                continue
            relative = file if inside == "." else f"{inside}/{file}"
            found.files.setdefault(base + relative, path)
            found.file_urls.setdefault(path, base + relative)
            natural = "/" + os.path.relpath(path, top).replace(os.sep, "/")
            if leaf and natural != base + relative:
                found.moved.setdefault(natural, path)  # a slugged bundle's image is not where its file is


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


def _segment(name: str, lower: bool) -> str:
    name = name.replace(" ", "-")
    return name.lower() if lower else name


def _path(stem: str, lower: bool) -> str:
    parts = [_segment(part, lower) for part in stem.split("/") if part]
    return "/" + "".join(f"{part}/" for part in parts)


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
        self.shown = shown
        self._routes: HugoRoutes | None = None
        self.patterned = _patterned(setting(settings, "permalinks"))
        self.ugly = _ugly(setting(settings, "uglyURLs"))
        self.cascade = setting(settings, "cascade")
        self.hooks = _hooks(settings) or _hooks_in(folder("layoutDir", "layouts"))
        self._refs: set[str] = set()

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
        page = self._lookup(url, routes.pages)
        if page is not None:
            return page
        published = routes.files.get(url)
        if published is not None:
            return published  # a page bundle's image, at its page's URL
        inside = os.path.relpath(found, self.top).replace(os.sep, "/")
        if os.path.isfile(found) and not found.endswith(_CONTENT) and not _bundle_of(inside, routes.leaves):
            return found  # a file under content/ outside any leaf bundle, published where it is
        static = os.path.normpath(os.path.join(self.static, url.lstrip("/")))
        if under(static, self.static) and os.path.isfile(static):
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
