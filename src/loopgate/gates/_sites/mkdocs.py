"""MkDocs: `docs_dir` is the site; pages are `page.md`, published at `page/` (or `page.html`).

From MkDocs' documentation: a link to a `.md` file (or any file) under `docs_dir` is resolved
from the file that holds it and rewritten to the page's URL. A link written as a URL is left
alone, so the browser resolves it from the page's URL: with `use_directory_urls` (the default)
`guide/install.md` is at `guide/install/`, so `../config/` from it means `guide/config/`, which
is `guide/config.md`, `guide/config/index.md` or `guide/config/README.md`; without it
`guide/install.html`, and `config.html` is `guide/config.md`. A `/x/` link is read from the site's
root. A link out of `docs_dir` is not part of the site: counted, not checked.

Anchors: `attr_list` ids (`## Title { #id }`, `{#id .class}`) are anchors like any `{#id}`, and a
`pymdownx.snippets` include (`--8<-- "file"`, a line of its own, or a block of file names between
two `--8<--` lines) brings the included file's anchors into the page, and the page has MkDocs' own
heading ids (`slugs.py`) beside GitHub's.

A snippet's links are the including page's, read from that page's URL (a snippet outside docs_dir
only there; one MkDocs also builds as a page, on its own page too). A link to a page `mkdocs
build` leaves out is broken: `exclude_docs` and `draft_docs` patterns
(gitignore's, from `docs_dir`), files and folders whose names start with a dot, `/templates/`, and
a `README.md` beside an `index.md` (MkDocs builds the folder's page from index.md).
"""

from __future__ import annotations

import os
import re
from typing import Any

from loopgate.gates import _mdlinks
from loopgate.gates._linklocal import Boundary, under
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import Opaque, flag, text_value
from loopgate.gates._sites.slugs import headings, mkdocs_anchors
from loopgate.gates._sites.snippets import Shown, shown, target, text_shown

# A snippet line, by pymdownx.snippets' own rules (RE_ALL_SNIPPETS): any number of `-` around `8<`, a
# quoted name, nothing after it on the line (`--8<-- "x"  ` is text), a leading `;` escapes it.
_SNIPPET = re.compile(r"^[ \t]*(;*)-+8<-+[ \t]+(\"(?:\\\"|[^\"\n\r])+?\"|'(?:\\'|[^'\n\r])+?')(?![ \t])\r?$", re.M)
_BLOCK = re.compile(r"^[ \t]*-+8<-+\r?$")
_SNIPPET_DEPTH = 64  # snippets nest (pymdownx sets no depth); each file and part is read once: a cycle ends


def _extensions(config: dict[str, Any]) -> dict[str, Any]:
    """`markdown_extensions`, as a list of names or of `{name: settings}`, as one mapping."""
    found: dict[str, Any] = {}
    listed = config.get("markdown_extensions")
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, str):
            found[entry] = {}
        elif isinstance(entry, dict):
            for name, settings in entry.items():
                found[str(name)] = settings if isinstance(settings, dict) else {}
    return found


class MkDocs(Site):
    name = "mkdocs"
    title = "MkDocs"

    def __init__(self, boundary: Boundary, options: Generic, config: str, home: str,
                 settings: dict[str, Any]) -> None:
        top = os.path.normpath(os.path.join(home, text_value(settings.get("docs_dir"), "docs")))
        super().__init__(boundary, options, config, top)
        self.directory_urls = flag(settings.get("use_directory_urls"), True)
        extensions = _extensions(settings)
        # toc's own slugify unless another is configured (`!!python/name:pymdownx.slugs.uslugify`: not ours to run)
        self.toc_slugs = "slugify" not in extensions.get("toc", {})
        separator = extensions.get("toc", {}).get("separator", "-")
        self.separator = separator if isinstance(separator, str) and separator and not isinstance(separator, Opaque) \
            else "-"
        self.attr_list = "attr_list" in extensions  # `{: #id }`, `{.class #id}`, `{.class}` at a heading's end
        snippets = extensions.get("pymdownx.snippets")
        self.snippets: tuple[str, ...] = ()
        self.restricted = True
        if snippets is not None:
            bases = snippets.get("base_path", ["."])
            bases = [bases] if isinstance(bases, str) else bases if isinstance(bases, list) else ["."]
            # MkDocs runs where mkdocs.yml is: relative base paths are read from there.
            self.snippets = tuple(os.path.normpath(os.path.join(home, b)) for b in bases
                                  if isinstance(b, str) and not isinstance(b, Opaque))
            # on by default: a snippet's path must stay inside its base path (`../x.md` is not read)
            self.restricted = flag(snippets.get("restrict_base_path"), True)
        # What `mkdocs build` leaves out (gitignore patterns from docs_dir): dot files and /templates/
        # always, then `exclude_docs` (its `!` can take a default back), and `draft_docs` (built by
        # `mkdocs serve` only). Two sets, as MkDocs keeps them: a `!` in draft_docs takes back nothing
        # exclude_docs leaves out.
        self._patterns: dict[str, list[str]] = {"exclude_docs": [".*", "/templates/"], "draft_docs": []}
        for key, patterns in self._patterns.items():
            value = settings.get(key)
            if isinstance(value, str) and not isinstance(value, Opaque):
                patterns += [line for line in value.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        self._rules: dict[str, Any] = {}
        self._hosted: dict[str, list[tuple[str, Shown]]] | None = None

    def in_site(self, source: str, decoded: str) -> str:
        if decoded.startswith("/"):
            return self._page(os.path.normpath(os.path.join(self.top, decoded.lstrip("/"))), decoded)
        written = os.path.normpath(os.path.join(os.path.dirname(source), decoded))
        extension = os.path.splitext(decoded)[1].lower()
        if os.path.isfile(written) or decoded.endswith(".md") or extension not in ("", ".html", ".htm"):
            return written  # a file: a page's source or an asset (`img.png`), read from the page's file
        # A URL, read from the page's URL: `a/b.md` is at `a/b/` with directory URLs (an index at its folder).
        stem = os.path.splitext(os.path.basename(source))[0]
        folder = os.path.dirname(source)
        if self.directory_urls and stem not in ("index", "README"):
            folder = os.path.join(folder, stem)
        return self._page(os.path.normpath(os.path.join(folder, decoded)), decoded)

    def _page(self, found: str, decoded: str) -> str:
        """The source of the page at URL path `found` (a file that is there is itself)."""
        if os.path.isfile(found):
            return found
        index = [os.path.join(found, "index.md"), os.path.join(found, "README.md")]
        if found.endswith(".html"):
            stem = found[:-len(".html")]
            if os.path.basename(stem) == "index":
                folder = os.path.dirname(stem)
                return first_file([os.path.join(folder, "index.md"), os.path.join(folder, "README.md")])
            return stem + ".md"
        if self.directory_urls and os.path.basename(found) not in ("", "."):
            return first_file([found + ".md", *index])
        return first_file(index) if decoded.endswith("/") or os.path.isdir(found) else found

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        resolved = self(source, path)
        if not under(resolved, self.top):
            return Route("beside", "outside MkDocs' docs_dir (not part of the site)")
        if not os.path.isfile(resolved):
            return CHECK
        why = self._left_out(resolved)
        return Route("broken", f"MkDocs does not build {self.shown(resolved)}: {why}") if why else CHECK

    def pages_of(self, full: str, line: int) -> list[tuple[str, str]]:
        """pymdownx.snippets pastes a file into the page before the page is rendered: the file's links
        are the page's, read from the page's URL. A snippet that is no page of its own (outside docs_dir,
        or left out of the build) has its links on the pages that include it only."""
        hosts = [(page, f"as MkDocs builds it into {self.shown(page)}, which includes this file")
                 for page, lines in self._hosts().get(full, []) if lines is None or line in lines]
        if not hosts:
            return [(full, "")]
        # a page of its own too when MkDocs builds it; a fragment outside docs_dir is read where it lands
        own = under(full, self.top) and not self._left_out(full)
        return [(full, ""), *hosts] if own else hosts

    def _hosts(self) -> dict[str, list[tuple[str, Shown]]]:
        """Snippet file -> the pages that include it, and the lines each shows (docs_dir read once, on
        first use, with snippets on)."""
        if self._hosted is None:
            self._hosted = {}
            if self.snippets:
                from loopgate.treewalk import walk  # noqa: PLC0415

                for folder, names in walk(self.top):
                    for name in names:
                        page = os.path.join(folder, name)
                        if not name.endswith(".md") or self._left_out(page):
                            continue
                        text = read_text(page)
                        for included, lines in self._included(text, _SNIPPET_DEPTH, set()):
                            self._hosted.setdefault(included, []).append((page, lines))
        return self._hosted

    def _left_out(self, full: str) -> str:
        """Why `mkdocs build` publishes nothing for this file ("" when it does)."""
        folder, name = os.path.split(full)
        if name == "README.md" and os.path.isfile(os.path.join(folder, "index.md")):
            return "index.md in the same folder is the folder's page, and MkDocs skips README.md"
        if not self._rules:
            from loopgate.gates._changecodes import BAD_PATTERN  # noqa: PLC0415
            from loopgate.gates._patterns import RuleSet, rules_from_values  # noqa: PLC0415

            # A pattern that does not compile is left out here; MkDocs itself stops on it.
            self._rules = {key: RuleSet(rules_from_values(patterns, key), BAD_PATTERN)
                           for key, patterns in self._patterns.items()}
        relative = os.path.relpath(full, self.top).replace(os.sep, "/")
        for key, rules in self._rules.items():
            matched, rule = rules.match(relative)
            if not matched or rule is None:
                continue
            if key == "exclude_docs" and self._patterns[key].index(rule.pattern) < 2:
                return "MkDocs leaves out files and folders whose names start with a dot, and /templates/"
            return f"{key} leaves it out (pattern `{rule.pattern}`)"
        return ""

    def extra_anchors(self, full: str) -> list[str]:
        """The snippets' anchors, and MkDocs' own heading ids (toc's slugify) for the page and its snippets."""
        if not under(full, self.top):
            return []
        anchors: list[str] = []
        texts = [read_text(full)]
        if self.snippets:
            for included, lines in self._included(texts[0], _SNIPPET_DEPTH, set()):
                part = text_shown(read_text(included), lines)
                anchors += _mdlinks.parse(part).anchors
                texts.append(part)
        found = [h for text in texts for h in headings(text, "attr_list" if self.attr_list else "")]
        anchors += [given for _, given in found if given]  # attr_list's ids in every form
        if self.toc_slugs:
            anchors += mkdocs_anchors(found, self.separator)
        return anchors

    def _included(self, text: str, depth: int, seen: set[tuple[str, str, str]]) -> list[tuple[str, Shown]]:
        """The files the snippet lines of `text` include, with the lines each shows (`snippets.py`), nested
        ones too (read from the lines shown), each file and part once."""
        if "8<-" not in text:
            return []
        files: list[tuple[str, Shown]] = []
        for name in _snippet_names(text):
            path, ranges, section = target(name)
            included = self._snippet_file(path)
            if included is None or (included, ranges, section) in seen:
                continue
            seen.add((included, ranges, section))
            whole = read_text(included)
            lines = shown(whole, ranges, section)
            files.append((included, lines))
            if depth > 1:
                files += self._included(text_shown(whole, lines), depth - 1, seen)
        return files

    def _snippet_file(self, name: str) -> str | None:
        if re.match(r"https?://", name):
            return None  # a remote snippet: its anchors are not known here
        for base in self.snippets:
            found = os.path.normpath(os.path.join(base, name))
            if self.restricted and not under(found, base):
                continue
            # Only files of the repository: a `base_path: /etc` snippet is not looked at (as links out are not).
            main = self.boundary.main
            if under(found, main) and os.path.isfile(found) and self.boundary.really_inside(found, main):
                return found
        return None


def read_text(full: str) -> str:
    try:
        with open(full, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""  # the links scan reports a page it cannot read; a snippet it cannot read adds nothing


def _snippet_names(text: str) -> list[str]:
    names = [m.group(2)[1:-1] for m in _SNIPPET.finditer(text) if not m.group(1)]
    inside = False
    for line in text.splitlines():
        if _BLOCK.match(line):
            inside = not inside
        elif inside and line.strip() and not line.lstrip().startswith(";"):
            names.append(line.strip())
    return names
