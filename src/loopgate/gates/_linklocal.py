"""Local links: where a link's path points, whether it is there, and whether its #anchor is.

Where a link points is one question, asked through a resolver: `(source file, path part of
the link) -> candidate file`. `MarkdownResolver` answers it the way GitHub shows a repository
(relative to the file, or to the repository root for `/path`); a site profile (MkDocs, mdBook,
Hugo, ...) can plug in its own answer without touching the checks.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator

from loopgate.findings import Finding
from loopgate.gates import _mdlinks
from loopgate.gates._linkcodes import MISSING_ANCHOR, MISSING_FILE, OUTSIDE
from loopgate.gates._linkfiles import MARKDOWN, printable, root
from loopgate.records import field, record

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Protocol
else:  # the protocols below are interfaces for mypy; at run time plain classes
    Protocol = object


def unquote(text: str) -> str:
    """`%20`-style escapes decoded; urllib.parse (and the ipaddress module it loads) is imported only
    for a text that has one, which most links have not: it cost every run's cold start 2 ms."""
    if "%" not in text:
        return text
    from urllib.parse import unquote as decode  # noqa: PLC0415

    return decode(text)


_LINE_ANCHOR = re.compile(r"L\d+(?:-L\d+)?$")


class Pages(Protocol):
    """A site profile's word on pages (links.py passes its `Site`)."""

    def anchors(self, full: str, found: list[str]) -> tuple[list[str], dict[str, str]]:
        """Page `full`'s anchors from its markdown's (`found`), and those the built page lacks -> why."""

    def builds(self, full: str) -> bool:
        """Is `full` a page of the site (its links read as the built site reads them)?"""


class Resolver(Protocol):
    def __call__(self, source: str, path: str) -> str:
        """The absolute, normalised path that `path` (as written, %-escapes not yet decoded) names from `source`."""


class Boundary:
    """The repository a file belongs to, and whether a path stays inside it (also once symlinks are followed).

    The repository is the one of the working directory for files in it, else the one that holds
    the file (a file named outside it); outside git, the working directory. A link may point
    anywhere in its file's repository, and nowhere else: on GitHub nothing else exists, and on
    the checking machine `../../../../etc/passwd` exists but is none of the link's business.
    """

    def __init__(self, main_root: str) -> None:
        self.main = os.path.abspath(main_root)
        self.roots: dict[str, str] = {}
        self.real_dirs: dict[str, str] = {}
        self.real_tops: dict[str, str] = {}
        self.inside: dict[tuple[str, str], bool] = {}
        self.walked: dict[tuple[str, str], str] = {}

    def root_of(self, source: str) -> str:
        if under(source, self.main):
            return self.main
        directory = os.path.dirname(source)
        found = self.roots.get(directory)
        if found is None:
            found = self.roots[directory] = root(directory)
        return found

    def real(self, full: str) -> str:
        """`os.path.realpath`, with the directories' real paths cached (links to one directory are many)."""
        directory, name = os.path.split(full)
        real_dir = self.real_dirs.get(directory)
        if real_dir is None:
            real_dir = self.real_dirs[directory] = os.path.realpath(directory)
        return os.path.realpath(full) if os.path.islink(full) else os.path.join(real_dir, name)

    def really_inside(self, full: str, top: str) -> bool:
        """Is `full` inside `top` once symlinks are followed? (cached: a run asks about each path many times)"""
        key = (full, top)
        known = self.inside.get(key)
        if known is None:
            real_top = self.real_tops.get(top)
            if real_top is None:
                real_top = self.real_tops[top] = os.path.realpath(top)
            known = self.inside[key] = under(self.real(full), real_top)
        return known


    def walk(self, full: str, top: str) -> str:
        """Where `full` (lexically under `top`) leads: "inside", "outside" or "loop", followed one name
        at a time from the real `top`, so that nothing outside the repository is ever looked up: a
        link through `docs/etc -> /etc` is outside whether or not `/etc/x` exists (cached)."""
        key = (full, top)
        known = self.walked.get(key)
        if known is not None:
            return known
        real_top = self.real_tops.get(top)
        if real_top is None:
            real_top = self.real_tops[top] = os.path.realpath(top)
        path, pending, hops, known = real_top, os.path.relpath(full, top).split(os.sep), 0, "inside"
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                path = os.path.dirname(path)
            elif os.path.islink(candidate := os.path.join(path, name)):  # `path` is real and inside: so is this
                hops += 1
                if hops > 40:  # the kernel's own limit (ELOOP)
                    known = "loop"
                    break
                target = os.readlink(candidate)
                if os.path.isabs(target):  # decided on its words alone: outside is not looked at
                    target = os.path.normpath(target)
                    if not under(target, real_top):
                        known = "outside"
                        break
                    path, target = real_top, os.path.relpath(target, real_top)
                pending[:0] = target.split(os.sep)
                continue
            else:
                path = candidate
            if not under(path, real_top):
                known = "outside"
                break
        self.walked[key] = known
        return known


def under(path: str, top: str) -> bool:
    """Is the normalised absolute `path` `top` or below it?"""
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


@record(frozen=True)
class MarkdownResolver:
    """Plain markdown, as GitHub renders a repository: relative to the file; `/x` from the repository root."""

    boundary: Boundary

    def __call__(self, source: str, path: str) -> str:
        decoded = unquote(path)
        start = self.boundary.root_of(source) if decoded.startswith("/") else os.path.dirname(source)
        return os.path.normpath(os.path.join(start, decoded.lstrip("/")))


@record
class Tally:
    files: int = 0
    unreadable: int = 0  # files named *.md that could not be read, binary or not UTF-8 (each an LG445)
    outside: int = 0  # files named *.md that are symlinks out of the repository (each an LG449)
    not_regular: int = 0  # FIFOs, devices, sockets named *.md found in directories: skipped, never opened
    links: int = 0
    local: int = 0
    external: int = 0
    cached: int = 0
    unreached: int = 0  # URLs not judged because the network was down
    unchecked: int = 0  # links only the built site can resolve (each an LG482 warning)
    cache_problem: str = ""
    not_checked: Counter[str] = field(default_factory=Counter)


@record
class Run:
    """Everything one run knows: the files, their parses, and the answers to the questions asked so far."""

    cwd: str
    boundary: Boundary
    # Comparisons "did you mean" may still make.
    suggestions_left: int
    resolver: Resolver
    parsed: dict[str, _mdlinks.Parsed] = field(default_factory=dict)  # by absolute path
    exists: dict[str, bool] = field(default_factory=dict)
    resolved: dict[tuple[str, str], str] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    listings: dict[str, list[str]] = field(default_factory=dict)
    anchor_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    pages: Pages | None = None  # the site profile, on anchors
    unmade: dict[str, dict[str, str]] = field(default_factory=dict)  # page -> anchor its site lacks -> why

    def on_site(self, full: str, parsed: _mdlinks.Parsed) -> None:
        """A parsed page's anchors as its site has them (once per page, before they are looked up)."""
        if self.pages is not None and not parsed.error:
            parsed.anchors, unmade = self.pages.anchors(full, parsed.anchors)
            if unmade:
                self.unmade[full] = unmade

    def anchor_set(self, full: str, parsed: _mdlinks.Parsed) -> frozenset[str]:
        """A file's anchors as a set: a page with thousands of headings gets thousands of links."""
        anchors = self.anchor_sets.get(full)
        if anchors is None:
            anchors = self.anchor_sets[full] = frozenset(parsed.anchors)
        return anchors

    def listing(self, directory: str) -> list[str]:
        """The names in a directory, sorted (cached: many broken links point into one directory)."""
        names = self.listings.get(directory)
        if names is None:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                names = []
            self.listings[directory] = names
        return names

    def closest(self, wanted: str, candidates: list[str], cutoff: float) -> str | None:
        """The closest candidate (difflib), while the run's comparison budget lasts."""
        if len(candidates) > self.suggestions_left:
            self.suggestions_left = 0
            return None
        self.suggestions_left -= len(candidates)
        import difflib  # noqa: PLC0415  (only a run with a broken link needs it)

        close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=cutoff)
        return close[0] if close else None

    def shown(self, full: str) -> str:
        return printable(os.path.relpath(full, self.cwd).replace(os.sep, "/"))

    def resolve(self, full: str, path: str) -> str:
        """The absolute path a link's path part names, from the file `full` (cached: links repeat)."""
        key = (full, path)
        resolved = self.resolved.get(key)
        if resolved is None:
            resolved = self.resolved[key] = self.resolver(full, path)
        return resolved

    def is_file(self, full: str) -> bool:
        known = self.exists.get(full)
        if known is None:
            known = self.exists[full] = os.path.exists(full)
        return known

    def anchors(self, full: str) -> _mdlinks.Parsed:
        parsed = self.parsed.get(full)
        if parsed is None:  # a markdown file outside the checked paths: parse it for its anchors
            parsed = self.parsed[full] = _mdlinks.parse_file(full)
            self.on_site(full, parsed)
        return parsed


def check_local(full: str, shown: str, link: _mdlinks.Link, target: str, state: Run) -> Iterator[Finding]:
    path, _, fragment = target.partition("#")
    path, query, _ = path.partition("?")
    if query and _LINE_ANCHOR.match(fragment):  # `x.md?plain=1#L3`: a line of the source view
        state.tally.not_checked["line anchors"] += 1
        fragment = ""
    if path:
        resolved = state.resolve(full, path)
        top = state.boundary.root_of(full)
        if not under(resolved, top):  # decided on the path alone: nothing outside is even looked at
            yield OUTSIDE.at(shown, link.line, link.column,
                             f"{link.target}: points outside the repository; only files in it can be linked")
            return
        # Symlinks first, before the file is looked up: whether `docs/etc/x` exists (`docs/etc -> /etc`)
        # is the checking machine's business, and must not show in the findings.
        where = state.boundary.walk(resolved, top)
        if where == "outside":
            yield OUTSIDE.at(shown, link.line, link.column, f"{link.target}: {state.shown(resolved)} is a symlink "
                             "(or under one) to a place outside the repository; it is not followed")
            return
        if where == "loop":
            yield MISSING_FILE.at(shown, link.line, link.column,
                                  f"{link.target}: {state.shown(resolved)} is a symlink loop; it leads to no file")
            return
        if not state.is_file(resolved):
            yield MISSING_FILE.at(shown, link.line, link.column, _missing_file(link.target, resolved, state))
            return
    else:
        resolved = full
    if not fragment:
        return
    parsed = state.parsed.get(resolved)
    # MDX (Docusaurus, ...) is markdown with JSX: its headings are markdown headings, its anchors theirs.
    if parsed is None and (not resolved.lower().endswith((*MARKDOWN, ".mdx")) or os.path.isdir(resolved)):
        state.tally.not_checked["anchors in files that are not markdown"] += 1
        return
    parsed = parsed or state.anchors(resolved)
    if parsed.error:
        state.tally.not_checked["anchors in unreadable files"] += 1
        return
    anchor = unquote(fragment)
    anchors = state.anchor_set(resolved, parsed)
    # An anchor of the markdown that the site's page lacks (Docusaurus' `#` heading), for a link the site reads.
    unmade = state.unmade.get(resolved, {}) if state.pages is not None and state.pages.builds(full) else {}
    why = unmade.get(anchor if anchor in anchors else anchor.lower(), "")
    if not _has_anchor(anchors, anchor) or why:
        # "this file" is the finding's: a link read on another page (mdBook's include) names that page.
        where = "this file" if state.shown(resolved) == shown else state.shown(resolved)
        message = f"{target}: anchor #{anchor} not found in {where}" + (f": {why}" if why else "")
        close = state.closest(anchor.lower(), [a for a in parsed.anchors if a not in unmade], 0.6)
        if close is not None:
            message += f"; did you mean #{close}?"
        yield MISSING_ANCHOR.at(shown, link.line, link.column, message)


def _has_anchor(anchors: frozenset[str], anchor: str) -> bool:
    if not anchor or anchor == "top":  # `#` and `#top` go to the top of the page (HTML standard)
        return True
    anchor = anchor.removeprefix("user-content-")
    # GitHub finds `#Install` too: its page script retries an anchor lowercased.
    return anchor in anchors or anchor.lower() in anchors


def _missing_file(written: str, resolved: str, state: Run) -> str:
    message = f"{written}: file not found: {state.shown(resolved)}"
    if not state.suggestions_left:
        return message
    directory = os.path.dirname(resolved)
    while directory and not os.path.isdir(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return message
        directory = parent
    if not state.boundary.really_inside(directory, state.boundary.root_of(resolved)):
        return message  # a symlinked directory out of the repository: its names are not ours to list
    names = state.listing(directory)
    wanted = os.path.relpath(resolved, directory).split(os.sep)[0]
    close = state.closest(wanted, names, 0.8)
    if close is not None:
        message += f"; did you mean {state.shown(os.path.join(directory, close))}?"
    return message
