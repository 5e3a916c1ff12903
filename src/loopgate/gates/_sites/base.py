"""What every site profile shares: the generic options (named after lychee's) and plain resolution.

A profile answers two questions about a local link in a file of its site: where the built site
sends it (`Site.__call__`, the links gate's resolver: `(source file, path as written) -> file`),
and whether the gate can know that at all without building the site (`Site.route`). Files
outside the site's source directory keep plain markdown resolution, as GitHub shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._mdsyntax import INLINE, Link
from loopgate.gates._sites.config import ConfigError
from loopgate.records import record

# Template code in a link's destination (Jinja/Liquid `{{ x }}`, `{% x %}`, Hugo `{{< x >}}`): what it
# becomes is known only once the generator has run. Never a broken link; listed as unchecked.
TEMPLATE = re.compile(r"\{\{|\{%")
# `](` then template code up to `)`: `[t]({{< ref "x" >}})`, `[t]({% link x.md %})`, `[t]({{ '/x' | relative_url }})`.
# What `\]\([ \t]*(\{[{%].*?[}%]\}[^\s)]*)[ \t]*\)` matches, found in linear time by `template_links`: that
# regex scanned to the end of the line from every `]({{` without a closing `}})` (80 KB of them took 10 s).
_TEMPLATE_START = re.compile(r"\]\([ \t]*(\{[{%])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# `$1`, `${1}`, `${name}` in a --remap replacement (lychee's Rust regex syntax) -> Python's `\g<...>`.
_GROUP = re.compile(r"\$(?:\{(\w+)\}|(\d+))")


def kept_inside(boundary: Boundary, config: str, key: str, folder: str, shown: Callable[[str], str]) -> str:
    """`folder`, a site directory `key` of the config `config` names (Jekyll's `source:`, Hugo's
    `contentDir`, mdBook's `src`), if it is inside the repository once symlinks are followed. One that
    leads out (`source: /`, `src = "../x"`) raises ConfigError: the links gate reads nothing outside
    the repository, and checking the site without it would report its links wrongly."""
    if not boundary.really_inside(folder, boundary.main):
        raise ConfigError(f"{config}: {key} leads out of the repository ({shown(folder)}); the links gate reads "
                          "nothing outside it")
    return folder


def template_links(line: str) -> Iterator[tuple[int, str]]:
    """(0-based column, destination) of each `](` + template code + `)` in `line`, left to right and
    not overlapping, as `finditer` of the regex above finds them; in linear time.

    The regex's lazy `.*?` ends at the first `}}` or `%}` (at least two characters after the `{{`)
    whose tail `[^\\s)]*[ \\t]*\\)` matches, and that tail has one way to match (the characters
    `[^\\s)]*` could give back are neither blanks nor `)`). So one right-to-left pass gives, for every
    position, the first such closer at or after it, and each start is answered by one lookup."""
    first = _TEMPLATE_START.search(line)
    if first is None:
        return
    n = len(line)
    run_end = [n] * (n + 1)  # the end of the run of [^\s)] from i
    blank_end = [n] * (n + 1)  # the end of the run of [ \t] from i
    closer = [-1] * (n + 1)  # the first position >= i of a closer whose tail matches, -1 for none
    for i in range(n - 1, -1, -1):
        char = line[i]
        run_end[i] = i if char.isspace() or char == ")" else run_end[i + 1]
        blank_end[i] = blank_end[i + 1] if char in " \t" else i
        if char in "}%" and i + 1 < n and line[i + 1] == "}":
            after = blank_end[run_end[i + 2]]
            closer[i] = i if after < n and line[after] == ")" else closer[i + 1]
        else:
            closer[i] = closer[i + 1]
    match: re.Match[str] | None = first
    while match is not None:
        brace = match.start(1)
        end = closer[brace + 2]
        if end < 0:
            return  # no closer after this start, so none after any later one
        destination_end = run_end[end + 2]
        yield brace, line[brace:destination_end]
        match = _TEMPLATE_START.search(line, blank_end[destination_end] + 1)


@record(frozen=True)
class Route:
    """What the gate does with a local link: `check` it, count it as `beside` the site (published
    next to it, not part of it: like an external link), list it as `unchecked` (it needs the build),
    or report it `broken` for the reason `why` (the profile knows the built site has nothing there)."""

    kind: str
    why: str = ""


CHECK = Route("check")


@record(frozen=True)
class Generic:
    """lychee's local-file options: `--remap`, `--fallback-extensions`, `--index-files`, `--root-dir`, `--base-url`."""

    remaps: tuple[tuple[re.Pattern[str], str], ...] = ()
    fallback_extensions: tuple[str, ...] = ()
    index_files: tuple[str, ...] = ()
    root_dir: str = ""  # absolute; "" is the repository root
    base_url: str = ""


def _listed(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable and comma-separated, as lychee takes them: `md,html` or `--x md --x html`."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def generic(remap: tuple[str, ...], fallback_extensions: tuple[str, ...], index_files: tuple[str, ...],
            root_dir: str, base_url: str, cwd: str) -> tuple[Generic, list[str]]:
    """The generic options, checked; the problems are messages (the caller makes them LG446)."""
    problems: list[str] = []
    remaps: list[tuple[re.Pattern[str], str]] = []
    for rule in remap:
        pattern, _, replacement = rule.strip().partition(" ")
        if not replacement.strip():
            problems.append(f"--remap '{rule}' is not 'REGEX REPLACEMENT' (two parts separated by a space)")
            continue
        try:
            remaps.append((re.compile(pattern), _GROUP.sub(lambda m: rf"\g<{m.group(1) or m.group(2)}>",
                                                          replacement.strip())))
        except re.error as err:
            problems.append(f"--remap '{rule}': '{pattern}' is not a regular expression: {err}")
    top = os.path.normpath(os.path.join(os.path.abspath(cwd), root_dir)) if root_dir else ""
    if top and not os.path.isdir(top):
        problems.append(f"--root-dir {root_dir}: no such directory")
    if base_url and not re.match(r"(?:https?:)?//", base_url):
        problems.append(f"--base-url {base_url}: not an http(s) URL")
    extensions = tuple(e.lstrip(".") for e in _listed(fallback_extensions))
    return Generic(tuple(remaps), extensions, _listed(index_files), top, base_url), problems


class Site:
    """Plain markdown plus the generic options: the profile for `--site none`, and every profile's base."""

    name = "none"
    title = "none"
    templates = False  # does the generator expand template code in links before markdown? (Hugo, Jekyll)
    pages: tuple[str, ...] = ()  # suffixes of pages beside .md and .markdown, whose links are checked too

    def __init__(self, boundary: Boundary, options: Generic, config: str = "", top: str = "") -> None:
        self.boundary = boundary
        self.options = options
        self.config = config  # the file the profile was read from, as shown ("" for none)
        self.top = top  # the site's source directory, absolute ("" for none)
        self.shown: Callable[[str], str] = os.path.normpath  # a file as findings name it (`load` sets it)
        self._resolved: dict[tuple[str, str], str] = {}
        # A path the built site has no page at, though a page's file is there (Hugo's slug, Jekyll's
        # permalink) -> that page: `route` reports such a link broken and says where the page is.
        self._elsewhere: dict[str, str] = {}
        # Links as --remap or --base-url made them: the user says the page is this file, so a route the
        # profile does not know is a break (as in lychee), not a link only the build can resolve.
        self.remapped: set[str] = set()

    # -- the link as written -> the link the site checks
    def rewrite(self, target: str) -> str:
        """`--remap` (the first rule that matches), then `--base-url` (your own site's URLs are local files)."""
        for pattern, replacement in self.options.remaps:
            if pattern.search(target):
                target = pattern.sub(replacement, target, count=1)
                self.remapped.add(target)
                break
        base = self.options.base_url
        if base and target.startswith(base):
            target = "/" + target[len(base):].lstrip("/")
            self.remapped.add(target)
        return target

    def route(self, source: str, target: str) -> Route:
        if not self.builds(source):
            return CHECK  # outside a site (or --site none) a link is what GitHub shows: checked as written
        if TEMPLATE.search(target):
            return Route("unchecked", "template code in the destination: known only once the site is built")
        return self.own_route(source, target)

    def own_route(self, source: str, target: str) -> Route:
        return CHECK

    # -- the resolver
    def __call__(self, source: str, path: str) -> str:
        # Asked twice a link (`route`, then the check) and once per repeat of a link: answered once.
        key = (source, path)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(source, path)
        return found

    def _resolve(self, source: str, path: str) -> str:
        decoded = unquote(path)
        inside = bool(self.top) and under(source, self.top)
        found = self.in_site(source, decoded) if inside else self.plain(source, decoded)
        return self.fallback(found, decoded)

    def plain(self, source: str, decoded: str) -> str:
        if decoded.startswith("/"):
            start = self.options.root_dir or self.boundary.root_of(source)
        else:
            start = os.path.dirname(source)
        return os.path.normpath(os.path.join(start, decoded.lstrip("/")))

    def in_site(self, source: str, decoded: str) -> str:
        return self.plain(source, decoded)

    def fallback(self, found: str, decoded: str) -> str:
        """lychee's `--index-files` for a directory, `--fallback-extensions` for a path that is not there."""
        options = self.options
        if options.index_files and os.path.isdir(found):
            for name in options.index_files:
                if name == ".":  # lychee: the directory itself will do
                    return found
                if os.path.isfile(os.path.join(found, name)):
                    return os.path.join(found, name)
            return os.path.join(found, options.index_files[0])
        if options.fallback_extensions and not os.path.exists(found):
            for extension in options.fallback_extensions:
                if os.path.isfile(f"{found}.{extension}"):
                    return f"{found}.{extension}"
        return found

    def template_links(self, full: str, known: set[tuple[int, int]]) -> list[Link]:
        """Links whose destination is template code with spaces (`[t]({{< relref "x" >}})`): no link to a
        CommonMark reader, but the generator expands them first, so they are links on the site."""
        if not self.templates or not (self.top and under(full, self.top)):
            return []
        try:
            with open(full, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            return []  # the parse reports an unreadable file
        if "{{" not in text and "{%" not in text:
            return []
        found: list[Link] = []
        fence = ""
        for number, line in enumerate(text.splitlines(), start=1):
            opened = _FENCE.match(line)
            if opened and (not fence or opened.group(1).startswith(fence)):
                fence = "" if fence else opened.group(1)
                continue
            if fence:
                continue
            for column, destination in template_links(line):
                place = (number, column + 1)
                if place not in known:
                    found.append(Link(destination, number, place[1], INLINE))
        return found

    def pages_of(self, full: str, line: int) -> list[tuple[str, str]]:
        """The pages of the built site the link at `line` of `full` is on, each with how it gets there
        ("" for `full` itself): its links are read from those pages. Only mdBook's `{{#include}}` puts
        one file's links on another page."""
        return [(full, "")]

    def anchors(self, full: str, found: list[str]) -> tuple[list[str], dict[str, str]]:
        """The anchors of page `full`, from those of its markdown (`found`), with the ones only the
        generator adds (`extra_anchors`); and those of them it does not make (`unmade_anchors`), each
        with why: a link read on the site (`builds`) to one is broken; GitHub still has them."""
        unmade = {anchor: why for anchor, why in (self.unmade_anchors(full) if self.builds(full) else [])
                  if found.count(anchor) == 1}  # an HTML id of the same name is there all the same
        return found + self.extra_anchors(full), unmade

    def builds(self, full: str) -> bool:
        """Is `full` a page of the site, whose links are read as the built site reads them?"""
        return bool(self.top) and under(full, self.top)

    def unmade_anchors(self, full: str) -> list[tuple[str, str]]:
        """Anchors of a page's markdown the generator gives no id on the built page, each with why."""
        return []

    def extra_anchors(self, full: str) -> list[str]:
        """Anchors a page has on the built site beyond those in its markdown (MkDocs' snippet includes)."""
        return []


def as_written(message: str, written: str, target: str) -> str:
    """A finding's message about a rewritten link (`--remap`, `--base-url`, a Liquid tag) names the link
    as written, and what it was checked as."""
    for prefix in (target + ":", written + ":"):
        if message.startswith(prefix):
            return f"{written} (checked as {target}):{message[len(prefix):]}"
    return message


def on_page(message: str, how: str) -> str:
    """A finding's message about a link read on another page than its file's (`how` it is there)."""
    head, _, rest = message.partition(": ")
    return f"{head}: {how}: {rest}"


def first_file(candidates: list[str]) -> str:
    """The first candidate that is a file, else the first (the one a "file not found" names)."""
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    return candidates[0]
