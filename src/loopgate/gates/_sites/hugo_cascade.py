"""Hugo's front matter `cascade`: which of its keys reach a page (see `Cascades`), and a section's
`slug`, which Hugo versions read differently."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from loopgate.gates._sites.hugo_urls import CONTENT, HugoRoutes, segment
from loopgate.gates._sites.routes import front_matter, text
from loopgate.treewalk import walk

# Cascaded keys that decide whether a page is published, and the ones that move it.
_PUBLISHING = frozenset({"draft", "build", "_build", "headless"})
_MOVING = frozenset({"slug", "url", "aliases"})
_KINDS = {"home", "page", "section"}
_BUILT_ENVIRONMENT = "production"  # what `hugo` builds by default


class Cascades:
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
            index = next((f for f in files if os.path.splitext(f)[0] == "_index" and f.endswith(CONTENT)), "")
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
            if slug and depth <= len(segments) and segments[depth - 1] == segment(parts[depth - 1], self.lower):
                newer[depth - 1] = segment(slug, self.lower)
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
