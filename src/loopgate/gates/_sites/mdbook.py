"""mdBook: a book's `src/` (book.toml's `[book] src`) is the site; `x.md` is published as `x.html`.

From mdBook's documentation: every chapter `x.md` under `src/` becomes `x.html` (links to `x.md`
are rewritten to `x.html`, so both spellings work), and the index preprocessor publishes a
`README.md` as `index.html`. So `x.html#a` is checked against `x.md`, `index.html` against
`README.md` (or `index.md`), a directory link against its `README.md`/`index.md`, and `/x.html`
from the book's root. Anchors are still checked, against GitHub's slugs and mdBook's own heading
ids. A link that leaves `src/` points at something published beside the book (sibling books, API
docs): counted like an external link, not checked. mdBook renders only the chapters `SUMMARY.md`
lists: a link to a page that is no chapter (`x.html`, `x.md`, or a folder whose `README.md` is
none) leads nowhere on the built book, and is reported broken. So is a link to a `README.md`
chapter written as `README.md` or `README.html`: the index preprocessor publishes it as
`index.html` but leaves such links as they are (`README.html`, which is not there).
"""

from __future__ import annotations

import os
import re
from typing import Any

from loopgate.gates import _mdlinks
from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import flag
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.slugs import headings, mdbook_anchors

_PAGES = (".md", ".markdown")
# `{{#include path}}`, `{{ #include path:2:10 }}`, `{{#rustdoc_include path:anchor}}`; `\{{#include}}` is escaped.
_INCLUDE = re.compile(r"(?<!\\)\{\{\s*#(?:include|rustdoc_include)\s+([^\s}]+?)(?::[^\s}]*)?\s*\}\}")
_INCLUDE_DEPTH = 10  # mdBook's own limit on nested includes


class MdBook(Site):
    name = "mdbook"
    title = "mdBook"
    _chapters: frozenset[str] | None = None
    _first: str | None = None

    def __init__(self, boundary: Boundary, options: Generic, config: str, top: str,
                 settings: dict[str, Any] | None = None) -> None:
        super().__init__(boundary, options, config, top)
        settings = settings or {}
        build = settings.get("build")
        defaults = flag(build.get("use-default-preprocessors"), True) if isinstance(build, dict) else True
        named = settings.get("preprocessor")
        named = named if isinstance(named, dict) else {}
        self.links = defaults or "links" in named  # {{#include}} expanded
        self.index = defaults or "index" in named  # README.md published as index.html

    def first_chapter(self) -> str:
        """The first chapter SUMMARY.md lists, which mdBook also writes as the book's index.html."""
        if self._first is None:
            listed = _mdlinks.parse_file(self._summary()).links
            paths = [unquote(link.target.partition("#")[0]) for link in listed]
            self._first = next((os.path.normpath(os.path.join(self.top, p)) for p in paths
                                if p and "://" not in p), "")
        return self._first

    def chapters(self) -> frozenset[str]:
        """The files SUMMARY.md lists (read once, on the first link to a page)."""
        if self._chapters is None:
            listed = _mdlinks.parse_file(self._summary()).links
            paths = (unquote(link.target.partition("#")[0]) for link in listed)
            self._chapters = frozenset(os.path.normpath(os.path.join(self.top, path)) for path in paths
                                       if path and "://" not in path)
        return self._chapters

    def in_site(self, source: str, decoded: str) -> str:
        start = self.top if decoded.startswith("/") else os.path.dirname(source)
        found = os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        if os.path.isfile(found) or not under(found, self.top):
            return found
        folder_index = [os.path.join(found, "README.md"), os.path.join(found, "index.md")] if self.index \
            else [os.path.join(found, "index.md")]
        if found.endswith(".html"):
            if os.path.basename(found) == "index.html":
                folder = os.path.dirname(found)
                names = ["README.md", "index.md"] if self.index else ["index.md"]
                chosen = first_file([os.path.join(folder, name) for name in names])
                if folder == self.top and not os.path.isfile(chosen) and self.first_chapter():
                    return self.first_chapter()  # the book's index.html: the first chapter again
                return chosen
            return found[:-len(".html")] + ".md"
        if os.path.isdir(found):
            return first_file(folder_index)
        return found

    def extra_anchors(self, full: str) -> list[str]:
        """mdBook's own heading ids (`slugs.py`), and with the links preprocessor the anchors of the
        markdown files the page includes."""
        if not under(full, self.top):
            return []
        text = read_text(full)
        texts = [text]
        anchors: list[str] = []
        if self.links and "{{" in text:
            for included in self._included(full, text, _INCLUDE_DEPTH, {full}):
                anchors += _mdlinks.parse_file(included).anchors
                texts.append(read_text(included))
        return anchors + mdbook_anchors([h for t in texts for h in headings(t)])

    def _included(self, full: str, text: str, depth: int, seen: set[str]) -> list[str]:
        """The markdown files `{{#include}}` brings into `text` (read from `full`'s folder), nested ones too."""
        files: list[str] = []
        for match in _INCLUDE.finditer(text):
            included = os.path.normpath(os.path.join(os.path.dirname(full), unquote(match.group(1))))
            if included in seen or not included.endswith(_PAGES) or not os.path.isfile(included):
                continue
            # Only files of the repository, and no symlink out of it (as links out are not followed).
            if not (under(included, self.boundary.main) and self.boundary.really_inside(included, self.boundary.main)):
                continue
            seen.add(included)
            files.append(included)
            if depth > 1:
                files += self._included(included, read_text(included), depth - 1, seen)
        return files

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        resolved = self(source, path)
        if not under(resolved, self.top):
            return Route("beside", "outside the mdBook's src (published beside the book)")
        if not resolved.endswith(_PAGES) or not os.path.isfile(resolved) or source == self._summary():
            return CHECK  # SUMMARY.md's links are the sidebar's, which mdBook writes itself
        if resolved not in self.chapters():
            return Route("broken", f"{self.shown(resolved)} is no chapter in SUMMARY.md, so mdBook does not publish it")
        named = os.path.basename(unquote(path))
        if self.index and os.path.basename(resolved) == "README.md" and named in ("README.md", "README.html"):
            # The index preprocessor publishes a README chapter as index.html, and links to it stay README.html.
            return Route("broken", f"mdBook publishes {self.shown(resolved)} as index.html and does not rewrite links "
                         "to it: link to index.html (or the folder)")
        return CHECK

    def _summary(self) -> str:
        return os.path.join(self.top, "SUMMARY.md")
