"""Where Hugo publishes a content file: a page's URL from its place and front matter (`slug`, `url`,
`aliases`, `uglyURLs`), what is no page (a draft, `headless`, `build: render`, a leaf bundle's
resource), and a bundle's files at its page's URL (see hugo.py for the rules)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from typing import Any

from loopgate.gates._sites.config import flag
from loopgate.gates._sites.routes import DOT_FOLDERS, Routes, join_url, pages, text
from loopgate.records import field, record
from loopgate.treewalk import walk

CONTENT = (".md", ".markdown", ".html")  # content files: pages (or, in a leaf bundle, content resources)


@record
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


def leaf_bundles(top: str) -> dict[str, str]:
    """Folder (relative, `/`-separated) -> its `index.md` for every leaf bundle under content/."""
    found = {}
    for page in pages(top):
        folder, name = os.path.split(os.path.relpath(page, top))
        if os.path.splitext(name)[0] == "index" and page.endswith(CONTENT):
            found[folder.replace(os.sep, "/")] = page
    return found


def bundle_of(relative: str, leaves: dict[str, str]) -> str:
    """The leaf bundle folder that holds the file `relative` (`""` if none; the bundle's index is its own)."""
    parts = relative.split("/")[:-1]
    for end in range(1, len(parts) + 1):
        folder = "/".join(parts[:end])
        if folder in leaves:
            return folder
    return ""
def top_sections(top: str, lower: bool, patterned: frozenset[str], found: HugoRoutes) -> None:
    """A top-level folder of content/ is a section without an `_index.md` too (Hugo's docs, "Sections":
    "a top-level content directory, or any content directory containing an _index.md file"): Hugo
    publishes its list page at `/docs/`. Such a URL leads to the folder (there is no page file). Only
    a folder with a published page makes one; a section `permalinks` moves is left to the build."""
    published = [os.path.relpath(page, top).replace(os.sep, "/") for page in [*found.urls, *found.unknown]]
    folders = {relative.split("/", maxsplit=1)[0] for relative in published if "/" in relative}
    for folder in sorted(folders):
        if folder in found.leaves or folder in patterned:
            continue  # a leaf bundle is a page, not a section; a patterned section's URL is the build's
        if any(os.path.lexists(os.path.join(top, folder, "_index" + extension)) for extension in CONTENT):
            continue  # its _index.md says (a draft or unrendered one is no page: the loop above knows)
        found.pages.setdefault(path_of(folder, lower), os.path.join(top, folder))


def segment(name: str, lower: bool) -> str:
    name = name.replace(" ", "-")
    return name.lower() if lower else name


def path_of(stem: str, lower: bool) -> str:
    parts = [segment(part, lower) for part in stem.split("/") if part]
    return "/" + "".join(f"{part}/" for part in parts)


def not_rendered(data: dict[str, Any]) -> str:
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


def alias_urls(listed: Any, parent: str) -> list[str]:
    """Front matter `aliases:`: each a URL of the page too (`/old/` as written, `older` from the page's parent)."""
    found = []
    for value in [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []:
        alias = value.strip() if isinstance(value, str) else ""
        if alias:
            found.append(alias if alias.startswith("/") else join_url(parent + "/", alias))
    return found


def url_of(data: dict[str, Any], name: str, folder: str, own: str, parent: str, lower: bool,
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
    url = posixpath.join(parent, segment(slug, lower)) + "/" if slug and regular else own
    return url.rstrip("/") + ".html" if regular and ugly(folder.split("/", maxsplit=1)[0]) else url


def bundle_resources(top: str, folder: str, url: str, leaves: dict[str, str], found: HugoRoutes) -> None:
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
            if file.endswith(CONTENT) or file.startswith(".") or os.path.isdir(path):  # a symlinked folder
                continue
            relative = file if inside == "." else f"{inside}/{file}"
            found.files.setdefault(base + relative, path)
            found.file_urls.setdefault(path, base + relative)
            natural = "/" + os.path.relpath(path, top).replace(os.sep, "/")
            if leaf and natural != base + relative:
                found.moved.setdefault(natural, path)  # a slugged bundle's image is not where its file is
