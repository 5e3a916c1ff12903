"""The URLs a Docusaurus site gives its pages, read from file names and front matter, and what the
profiles share for that (Hugo's URLs: hugo.py, Jekyll's: jekyll.py; `front_matter` reads Hugo's
TOML `+++` and JSON forms too).

Docusaurus (its documentation on docs): a doc under `docs/` is at `/docs/` + its path without the
extension and without number prefixes (`01-intro.md` is `intro`); front matter `id` replaces the
file's name, `slug` replaces the URL (from `/docs/` when it starts with `/`, else from the doc's
folder).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Collection
from typing import Any

from loopgate.gates._linkfiles import Skipped
from loopgate.gates._sites.config import load_toml, load_yaml
from loopgate.records import field, record
from loopgate.treewalk import walk

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TOML_FRONT = re.compile(r"\A\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", re.S)  # Hugo's TOML front matter
_POST = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(.+)$")
_NUMBER = re.compile(r"^\d+[-_.]")
_PAGES = (".md", ".markdown", ".mdx", ".html")
_SKIPPED = {"node_modules", "vendor", "_site", "build", ".git"}
MAX_FRONT = 64 * 1024  # front matter is read from the start of a page only


@record
class Routes:
    """The URLs of a site's pages (Hugo, Jekyll)."""

    pages: dict[str, str] = field(default_factory=dict)  # URL (aliases too) -> page
    urls: dict[str, str] = field(default_factory=dict)  # page -> its URL
    # The URL a page's file name would give it -> the page, where the site publishes it elsewhere (Hugo:
    # slug, url, lowercase; Jekyll: permalink): nothing is there, and the finding says where the page is.
    moved: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # pages whose URL only the build knows (Hugo's `permalinks`)


def front_matter(path: str, ruby: bool = False) -> dict[str, Any]:
    """A page's front matter ({} for none or unreadable); `ruby`: YAML as Jekyll reads it (load_yaml)."""
    # Only regular files that are no symlinks: a FIFO named `x.md` would block the read, and a
    # symlink may lead out of the repository (the links gate reads neither).
    if os.path.islink(path) or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(MAX_FRONT)
    except (OSError, UnicodeDecodeError):
        return {}
    head = head.removeprefix("\ufeff")
    if head.startswith("+++") or head.startswith("{"):
        return _other_front_matter(head)
    match = _FRONT.match(head)
    if match is None:
        return {}
    import yaml  # noqa: PLC0415  (imported only when a Jekyll or Docusaurus site has site-absolute links)

    try:
        data = load_yaml(match.group(1), ruby)
    except (yaml.YAMLError, RecursionError, ValueError):  # ValueError: an integer of over 4,300 digits
        return {}  # the generator would stop on it; for links, the page keeps its default URL
    return data if isinstance(data, dict) else {}


def _other_front_matter(head: str) -> dict[str, Any]:
    """Hugo's other two forms: TOML between `+++` lines, or a JSON object at the top of the page."""
    data: Any = {}
    if head.startswith("+++"):
        match = _TOML_FRONT.match(head)
        if match is None:
            return {}
        try:
            data = load_toml(match.group(1))
        except (ValueError, RecursionError):
            return {}
    else:
        import json  # noqa: PLC0415

        try:
            data = json.JSONDecoder().raw_decode(head)[0]
        except (ValueError, RecursionError):
            return {}
    return data if isinstance(data, dict) else {}


DOT_FOLDERS: Collection[str] = Skipped()


def pages(top: str) -> list[str]:
    # Iteratively (treewalk): os.walk recursed once per level, and a tree ~1,000 deep raised RecursionError.
    skipped = Skipped(_SKIPPED)
    return [os.path.join(folder, f) for folder, files in walk(top, skipped) for f in files if f.endswith(_PAGES)]


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def join_url(base: str, relative: str) -> str:
    """`relative` read from the page at URL `base`, as a browser does (a trailing `/` kept)."""
    joined = posixpath.normpath(posixpath.join(base if base.endswith("/") else posixpath.dirname(base), relative))
    joined = "/" + joined.lstrip("/")
    return joined + "/" if relative.endswith(("/", "/.", "/..", ".", "..")) and joined != "/" else joined


def docusaurus_urls(docs: str) -> dict[str, str]:
    """Doc -> its route path: `/docs/a/b`; a folder's `index.md` or `README.md` is the folder, `/docs/a/`
    (what Docusaurus' route table holds, checked against Docusaurus 3's build)."""
    urls: dict[str, str] = {}
    for page in pages(docs):
        relative = os.path.relpath(page, docs).replace(os.sep, "/")
        folder, name = os.path.split(os.path.splitext(relative)[0])
        folder = "/".join(_NUMBER.sub("", part) for part in folder.split("/") if part)
        data = front_matter(page)
        slug = text(data.get("slug"))
        name = text(data.get("id")) or _NUMBER.sub("", name)
        if slug:
            url = "/docs" + (slug if slug.startswith("/") else f"/{folder}/{slug}".replace("//", "/"))
        else:
            url = f"/docs/{folder}/{name}".replace("//", "/")
            if name in ("index", "README"):
                url = url[:-len(name)]
        urls[page] = url
    return urls


def docusaurus_routes(docs: str) -> dict[str, str]:
    """Route path (without its trailing `/`) -> doc."""
    routes: dict[str, str] = {}
    for page, url in docusaurus_urls(docs).items():
        routes.setdefault(url.rstrip("/") or "/", page)
    return routes


def lookup(routes: dict[str, str], path: str) -> str | None:
    """The source of URL `path`, with or without its trailing `/` or `.html`."""
    for key in (path, path.rstrip("/"), path.rstrip("/") + "/", path.removesuffix(".html"),
                path.removesuffix(".html") + "/", path.rstrip("/") + ".html"):
        if key in routes:
            return routes[key]
    return None
