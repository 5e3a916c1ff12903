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
The links preprocessor pastes a file `{{#include}}`d into the chapter before it is rendered: the
file's links are the chapter's, read from the chapter's folder and its anchors (`pages_of`), for
the lines the include shows (`:3`, `::3`, `3:7`, `:anchor`), and not from inside a code block.
The pages mdBook writes by itself at the book's root (`print.html`, `404.html`, 0.5's `toc.html`) are
there though no file is: counted as published beside the book, not checked.
"""

from __future__ import annotations

import os
import re
from typing import Any

from loopgate.gates import _mdlinks
from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._mdblocks import Blocks
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import flag
from loopgate.gates._sites.mkdocs import read_text
from loopgate.gates._sites.slugs import headings, mdbook_anchors
from loopgate.gates._sites.snippets import text_shown

_PAGES = (".md", ".markdown")
# `{{#include path}}`, `{{ #include path:2:10 }}`, `{{#rustdoc_include path:anchor}}`; `\{{#include}}` is escaped.
_INCLUDE = re.compile(r"(?<!\\)\{\{\s*#(?:include|rustdoc_include)\s+([^\s}:]+)(?::([^\s}]*))?\s*\}\}")
_ANCHOR = re.compile(r"ANCHOR(?:_END)?:\s*([\w-]+)")
_INCLUDE_DEPTH = 10  # mdBook's own limit on nested includes


class MdBook(Site):
    name = "mdbook"
    title = "mdBook"
    _chapters: frozenset[str] | None = None
    _first: str | None = None
    _hosted: dict[str, list[tuple[str, frozenset[int] | None]]] | None = None

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
        # Pages the HTML renderer writes at the book's root by itself: the whole book on one page (unless
        # `[output.html.print] enable = false`), the 404 page (from `input-404`, else its own) and 0.5's toc.html.
        html = settings.get("output", {}).get("html", {}) if isinstance(settings.get("output"), dict) else {}
        html = html if isinstance(html, dict) else {}
        printed = html.get("print")
        # 0.5's smart punctuation (`--` a dash its ids drop) is on unless `smart-punctuation = false`
        self.smart = flag(html.get("smart-punctuation"), True)
        self.generated = {"404.html", "toc.html"}
        if not isinstance(printed, dict) or flag(printed.get("enable"), True):
            self.generated.add("print.html")

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
        markdown the page includes (only the lines it includes, and not where a code block holds them)."""
        if not under(full, self.top):
            return []
        text = read_text(full)
        texts = [text]
        anchors: list[str] = []
        if self.links and "{{" in text:
            for included, lines in self._included(full, text, None, _INCLUDE_DEPTH, {full}):
                shown = text_shown(read_text(included), lines)
                anchors += _mdlinks.parse(shown).anchors
                texts.append(shown)
        found = [h for t in texts for h in headings(t, extended="pulldown")]
        smart = [h for t in texts for h in headings(t, extended="pulldown", smart="cm")] if self.smart else None
        return anchors + mdbook_anchors(found, smart)

    def _included(self, full: str, text: str, shown: frozenset[int] | None, depth: int,
                  seen: set[str]) -> list[tuple[str, frozenset[int] | None]]:
        """The markdown files `{{#include}}` brings into `text` (read from `full`'s folder), nested ones
        too, each with the lines of it the page shows (None: all). An include on a line the page does
        not show (`shown`), or inside a code block, brings no markdown: its text is code there."""
        files: list[tuple[str, frozenset[int] | None]] = []
        code: set[int] | None = None
        for match in _INCLUDE.finditer(text):
            number = text.count("\n", 0, match.start()) + 1
            if shown is not None and number not in shown:
                continue
            included = os.path.normpath(os.path.join(os.path.dirname(full), unquote(match.group(1))))
            if included in seen or not included.endswith(_PAGES) or not os.path.isfile(included):
                continue
            # Only files of the repository, and no symlink out of it (as links out are not followed).
            if not (under(included, self.boundary.main) and self.boundary.really_inside(included, self.boundary.main)):
                continue
            if code is None:
                code = _code_lines(text)
            if number in code:
                continue
            seen.add(included)
            included_text = read_text(included)
            lines = _range(match.group(2), included_text)
            files.append((included, lines))
            if depth > 1:
                files += self._included(included, included_text, lines, depth - 1, seen)
        return files

    def pages_of(self, full: str, line: int) -> list[tuple[str, str]]:
        """mdBook's links preprocessor pastes an included file into the chapter before the chapter is
        rendered: the file's links are the chapter's, read from the chapter's folder. A file only
        included (no chapter of its own) has its links on the chapters that include it; a chapter, or a
        file outside src/ (a README.md GitHub shows), has them on its own page too."""
        hosts = [(chapter, f"as mdBook builds it into {self.shown(chapter)}, which includes this file")
                 for chapter, lines in self._hosts().get(full, []) if lines is None or line in lines]
        if not hosts:
            return [(full, "")]
        own = full in self.chapters() or not under(full, self.top) or full == self._summary()
        return [(full, ""), *hosts] if own else hosts

    def _hosts(self) -> dict[str, list[tuple[str, frozenset[int] | None]]]:
        """Included file -> the chapters that show it, and which of its lines (read once, on first use)."""
        if self._hosted is None:
            self._hosted = {}
            if self.links:
                for chapter in sorted(self.chapters()):
                    text = read_text(chapter) if chapter.endswith(_PAGES) and os.path.isfile(chapter) else ""
                    if "{{" not in text:
                        continue
                    for included, lines in self._included(chapter, text, None, _INCLUDE_DEPTH, {chapter}):
                        self._hosted.setdefault(included, []).append((chapter, lines))
        return self._hosted

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        written = unquote(path)
        start = self.top if written.startswith("/") else os.path.dirname(source)
        page = os.path.normpath(os.path.join(start, written.lstrip("/")))
        if os.path.dirname(page) == self.top and os.path.basename(page) in self.generated:
            return Route("beside", f"mdBook writes {os.path.basename(page)} itself (not from a file in src)")
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


def _range(spec: str | None, text: str) -> frozenset[int] | None:
    """The lines of an included file that `{{#include file:SPEC}}` shows (1-based; None: all), as mdBook
    takes them (checked with mdbook 0.5.4): `:3` line 3 alone, `::3` lines 1-3, `:3:` from 3, `:3:7`
    lines 3-7; `:name` the lines between `ANCHOR: name` and `ANCHOR_END: name`, marker lines left out
    (none for an anchor that is not there)."""
    if not spec:
        return None
    lines = text.split("\n")
    parts = spec.split(":")
    if len(parts) <= 2 and all(part.isdigit() or not part for part in parts):
        if len(parts) == 1:
            return frozenset({int(parts[0])})
        first = int(parts[0]) if parts[0] else 1
        last = int(parts[1]) if parts[1] else len(lines)
        return frozenset(range(max(first, 1), last + 1))
    shown: set[int] = set()
    inside = False
    for number, line in enumerate(lines, start=1):
        marker = _ANCHOR.search(line)
        if marker is not None:
            if marker.group(1) == spec:
                inside = "ANCHOR:" in line and not inside
                if not inside:
                    break
            continue
        if inside:
            shown.add(number)
    return frozenset(shown)


def _code_lines(text: str) -> set[int]:
    """The lines of `text` that code blocks hold (1-based)."""
    blocks = Blocks(text.replace("\r\n", "\n").split("\n"))
    blocks.run()
    return blocks.code
