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

from loopgate.gates import _mdlinks
from loopgate.gates._linklocal import under, unquote
from loopgate.gates._sites.base import CHECK, Route, Site, first_file
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.slugs import headings, mdbook_anchors

_PAGES = (".md", ".markdown")


class MdBook(Site):
    name = "mdbook"
    title = "mdBook"
    _chapters: frozenset[str] | None = None

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
        if found.endswith(".html"):
            if os.path.basename(found) == "index.html":
                folder = os.path.dirname(found)
                return first_file([os.path.join(folder, "README.md"), os.path.join(folder, "index.md")])
            return found[:-len(".html")] + ".md"
        if os.path.isdir(found):
            return first_file([os.path.join(found, "README.md"), os.path.join(found, "index.md")])
        return found

    def extra_anchors(self, full: str) -> list[str]:
        """mdBook's own heading ids (`slugs.py`: non-ASCII letters keep their case)."""
        return mdbook_anchors(headings(read_text(full))) if under(full, self.top) else []

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
        if os.path.basename(resolved) == "README.md" and named in ("README.md", "README.html"):
            # The index preprocessor publishes a README chapter as index.html, and links to it stay README.html.
            return Route("broken", f"mdBook publishes {self.shown(resolved)} as index.html and does not rewrite links "
                         "to it: link to index.html (or the folder)")
        return CHECK

    def _summary(self) -> str:
        return os.path.join(self.top, "SUMMARY.md")
