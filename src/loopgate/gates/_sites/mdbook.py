"""mdBook: a book's `src/` (book.toml's `[book] src`) is the site; `x.md` is published as `x.html`.

From mdBook's documentation: every chapter `x.md` under `src/` becomes `x.html` (links to `x.md`
are rewritten to `x.html`, so both spellings work), and the index preprocessor publishes a
`README.md` as `index.html`. So `x.html#a` is checked against `x.md`, `index.html` against
`README.md` (or `index.md`), a directory link against its `README.md`/`index.md`, and `/x.html`
from the book's root. Anchors are still checked, against GitHub's slugs and mdBook's own heading
ids. A link that leaves `src/` points at something published beside the book (sibling books, API
docs): counted like an external link, not checked.
"""

from __future__ import annotations

import os

from loopgate.gates._linklocal import under
from loopgate.gates._sites.base import CHECK, Route, Site, first_file
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.slugs import headings, mdbook_anchors


class MdBook(Site):
    name = "mdbook"
    title = "mdBook"

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
        if path and not under(self(source, path), self.top):
            return Route("beside", "outside the mdBook's src (published beside the book)")
        return CHECK
