"""Jekyll's _config.yml read as far as URLs go (`permalink`, `collections`, `include`/`exclude`,
`defaults`, `baseurl`), and the walk of the site that gives each page or document its URL or keeps it
off the site (`published`, collections without output): see jekyll.py for the rules."""

from __future__ import annotations

import datetime
import fnmatch
import os
import posixpath
import re
from collections.abc import Collection
from typing import Any

from loopgate.gates._sites.config import flag, text_value
from loopgate.gates._sites.jekyll_urls import (
    DATE_NAME,
    STYLES,
    document_date,
    fill_drop,
    fill_hash,
    other_spelling,
    sanitize,
    served,
    slugify,
    suffix,
)
from loopgate.gates._sites.routes import front_matter, pages, text
from loopgate.records import field, record

SOURCES = (".md", ".markdown")


@record
class JekyllRoutes:
    pages: dict[str, str] = field(default_factory=dict)  # served URL path (decoded) -> page
    urls: dict[str, str] = field(default_factory=dict)  # page -> its URL
    # URL spellings nothing is served at, though a page's file would suggest it -> the page
    moved: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # pages whose URL the build gives them
    unpublished: dict[str, str] = field(default_factory=dict)  # document of a collection without output -> label
    hidden: dict[str, str] = field(default_factory=dict)  # a page or document with `published: false` -> whence
    hidden_at: dict[str, str] = field(default_factory=dict)  # the URL such a page would have -> the page


@record(frozen=True)
class Default:
    path: str
    kind: str
    values: dict[str, Any]


FUTURE = "a date after the build"  # how a document `future: false` keeps off the site starts its reason


class JekyllSite:
    """_config.yml, as far as URLs go."""

    def __init__(self, settings: dict[str, Any]) -> None:
        # `settings` and every front matter are read as Ruby's YAML reads them (`published: no` is false,
        # `published: "no"` text): site_loader(ruby=True)
        base = text(settings.get("baseurl")).strip("/")
        self.base = "/" + base if base else ""
        self.style = text_value(settings.get("permalink"), "date")
        self.future = flag(settings.get("future"), False)  # Jekyll's default: a document dated later is not built
        listed = settings.get("collections")
        collections = {str(k): {} for k in listed} if isinstance(listed, list) else \
            {str(k): v if isinstance(v, dict) else {} for k, v in listed.items()} if isinstance(listed, dict) else {}
        posts = dict(collections.get("posts", {}))
        posts["output"] = True
        posts.setdefault("permalink", STYLES.get(self.style, self.style))
        collections["posts"] = posts
        self.collections = collections
        self.collections_dir = text(settings.get("collections_dir")).strip("/")
        self.included = {str(x).strip("/") for x in settings.get("include") or [] if isinstance(x, str)} \
            if isinstance(settings.get("include"), list) else set()
        listed = settings.get("exclude")
        self.exclude = [x.strip() for x in listed if isinstance(x, str) and x.strip() and x.strip() not in
                        self.included] if isinstance(listed, list) else []
        self._include_globs = _Globs(self.included)
        self._exclude_globs = _Globs(self.exclude)
        self._exclude_folders = {p[:-1] for p in self.exclude if p.endswith("/")}
        self._excluded: dict[str, bool] = {}
        self.defaults: list[Default] = []
        rules = settings.get("defaults")
        for entry in rules if isinstance(rules, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
                continue
            given = entry.get("scope")
            scope: dict[str, Any] = given if isinstance(given, dict) else {}
            self.defaults.append(Default(text(scope.get("path")).strip("/"), text(scope.get("type")),
                                         dict(entry["values"])))

    def excluded(self, relative: str) -> bool:
        """Does `exclude:` leave the file (or a folder above it) out of the site? Jekyll's EntryFilter: a
        pattern matches a path from the site's source by glob (`*` across `/` too) or as a prefix of it,
        unless `include:` names it (or its name)."""
        if not self.exclude:
            return False
        known = self._excluded.get(relative)
        if known is None:
            parts = relative.split("/")
            # A file `include:` names is published even inside an excluded folder (checked with jekyll 4.3:
            # `exclude: [notes]`, `include: [notes/keep.md]` publishes notes/keep.html, not notes/other.html).
            known = not (self._include_globs.match(relative) or self._include_globs.match(parts[-1])) and any(
                self._exclude_globs.match("/".join(parts[:end]))
                or (end < len(parts) and "/".join(parts[:end]) in self._exclude_folders)
                for end in range(1, len(parts) + 1))
            self._excluded[relative] = known
        return known

    def default_values(self, relative: str, kind: str) -> dict[str, Any]:
        """The front matter `defaults:` give the file: each key from the most specific scope that sets it
        (a longer path, then a type; later on a tie), as Jekyll's FrontmatterDefaults#all merges them."""
        applying = []
        for order, rule in enumerate(self.defaults):
            if rule.kind and rule.kind != kind:
                continue
            if "*" in rule.path:
                if not fnmatch.fnmatch(relative, rule.path) and not fnmatch.fnmatch(relative, rule.path + "/*"):
                    continue
            elif rule.path and not (relative == rule.path or relative.startswith(rule.path + "/")):
                continue
            applying.append(((len(rule.path), bool(rule.kind), order), rule.values))
        merged: dict[str, Any] = {}
        for _, values in sorted(applying, key=lambda ranked: ranked[0]):
            merged.update(values)
        return merged

    def default_permalink(self, relative: str, kind: str) -> str | None:
        """The `permalink` front matter defaults give the file (None: none; "" for one that is not text)."""
        permalink = self.default_values(relative, kind).get("permalink")
        return None if permalink is None else permalink if isinstance(permalink, str) else ""

    def routes(self, top: str) -> JekyllRoutes:
        found = JekyllRoutes()
        natural_of: dict[str, str] = {}
        for page in pages(top):
            relative = os.path.relpath(page, top).replace(os.sep, "/")
            kind, label = self._kind(relative)
            if kind == "skip" or self.excluded(relative):
                continue
            if kind == "document" and not flag(self.collections[label].get("output"), False):
                found.unpublished[page] = label
                continue
            data = self._data(page, relative, kind, label, found)
            if data is None:
                continue
            url, natural = self._document_url(relative, label, data) if kind == "document" else \
                self._page_url(relative, data)
            if url is None:
                found.unknown.add(page)
                continue
            found.urls[page] = url
            spellings = served(url)
            for key in spellings:
                found.pages.setdefault(key, page)
            if kind == "page" and page.endswith(SOURCES) and not _has_front_matter(page):
                # No front matter: a page on GitHub Pages (jekyll-optional-front-matter), a file copied as
                # it is on plain Jekyll; either spelling of its URL may be right.
                for key in other_spelling(url):
                    found.pages.setdefault(key, page)
                continue
            for key in other_spelling(url):
                natural_of.setdefault(key, page)
            if natural and natural != url:
                for key in served(natural):
                    natural_of.setdefault(key, page)
        found.moved = {key: page for key, page in natural_of.items() if key not in found.pages}
        return found

    def _data(self, page: str, relative: str, kind: str, label: str, found: JekyllRoutes) -> dict[str, Any] | None:
        """The page's data, or None for no page: a static file (published as it is, where it is), or a
        page `published: false` keeps off the site (recorded in `found.hidden`)."""
        own = front_matter(page, ruby=True)
        if kind == "page" and page.endswith(".html") and not own and not _has_front_matter(page):
            return None
        # A document's data is its defaults with its front matter over them (Document#read), so
        # `categories`, `slug`, `date` and `published` come from `defaults:` too.
        data = {**self.default_values(relative, label), **own} if kind == "document" else own
        published = data.get("published", True)
        hidden = ""
        if "published" in data and published in (False, None):
            # Publisher#can_be_published?: `data.fetch("published", true)`. A page's defaults are a
            # default_proc that fetch does not ask, so `published: false` from `defaults:` unpublishes
            # documents (posts, collections) but not pages (checked with jekyll 4.3).
            whence = "its front matter" if "published" in own else "`defaults:` in _config.yml"
            said = "(empty)" if data["published"] is None else str(data["published"]).lower()
            hidden = f"published: {said} in {whence}"
        elif kind == "document" and not self.future:
            future = self._in_the_future(relative, data)
            if future is None:
                found.unknown.add(page)  # dated tomorrow: built or not depends on the hour and the zone
                return None
            hidden = future
        if hidden:
            found.hidden[page] = hidden
            url = (self._document_url(relative, label, data) if kind == "document" else
                   self._page_url(relative, data))[0]
            for key in served(url) if url else []:
                found.hidden_at.setdefault(key, page)  # a link to it there is broken, and says why
            return None
        return data

    def _in_the_future(self, relative: str, data: dict[str, Any]) -> str | None:
        """Why a document dated after the build is not built ("" when it is; None when that depends on
        the hour): Publisher#hidden_in_the_future? with `future: false`, Jekyll's default. A document's
        date is its front matter's, else a post's file name's (else the build's time: never later)."""
        dated = DATE_NAME.match(posixpath.basename(os.path.splitext(relative)[0]))
        value = data.get("date")
        day = document_date(value, dated.group(1) if dated else "")
        if isinstance(value, datetime.datetime):  # a time too: its day, as UTC when it has a zone
            day = (value.astimezone(datetime.timezone.utc) if value.tzinfo else value).date()
        elif isinstance(value, str) and day is None and (prefix := _DAY_PREFIX.match(value)):
            try:  # `2026-12-03 23:59:00 +0000` read as text: its day
                day = datetime.date(*map(int, prefix.groups()))
            except ValueError:
                return None
        if day is None:
            return None if value is not None else ""
        today = datetime.datetime.now(datetime.timezone.utc).date()
        if day <= today - datetime.timedelta(days=1):
            return ""
        if day <= today + datetime.timedelta(days=1):
            return None
        return f"{FUTURE} ({day.isoformat()}), and the site does not set `future: true`"

    def _kind(self, relative: str) -> tuple[str, str]:
        """("page", ""), ("document", collection) or ("skip", "") for a file of the site."""
        parts = relative.split("/")
        inside: list[str] | None = parts
        if self.collections_dir:  # collections (posts too) are read from there only
            prefix = self.collections_dir.split("/")
            inside = parts[len(prefix):] if parts[:len(prefix)] == prefix else None
        if inside is not None and len(inside) > 1:
            if inside[0] != "_posts" and inside[0].startswith("_") and inside[0][1:] in self.collections:
                return "document", inside[0][1:]
            if "_posts" in inside[:-1] and inside[0] != "_drafts":
                return "document", "posts"
        hidden = [i for i, part in enumerate(parts) if part.startswith(("_", ".", "#")) or part.endswith("~")]
        # _includes, _layouts, _drafts, _data, dotfiles: not pages, unless `include:` names them
        if hidden and not any("/".join(parts[:i + 1]) in self.included for i in range(len(parts))):
            return "skip", ""
        return "page", ""

    def _page_url(self, relative: str, data: dict[str, Any]) -> tuple[str | None, str]:
        folder, name = posixpath.split(relative)
        stem = os.path.splitext(name)[0]
        template = "/:path/" if stem == "index" else suffix("/:path/:basename", self.style)
        values = {"path": folder, "basename": stem, "output_ext": ".html"}
        natural = sanitize(fill_hash(template, values))
        permalink = data.get("permalink") if "permalink" in data else self.default_permalink(relative, "pages")
        if permalink is None:
            return natural, natural
        if not isinstance(permalink, str) or not permalink.strip():
            return None, natural
        return sanitize(fill_hash(permalink.strip(), values)), natural

    def _document_url(self, relative: str, label: str, data: dict[str, Any]) -> tuple[str | None, str]:
        inside = relative
        if self.collections_dir and relative.startswith(self.collections_dir + "/"):
            inside = relative[len(self.collections_dir) + 1:]
        stem = os.path.splitext(inside)[0]
        name = posixpath.basename(stem)
        dated = DATE_NAME.match(name)
        slug_default = (dated.group(2) if dated else name).rstrip(".")
        given_slug = data.get("slug")
        slug_text = str(given_slug) if given_slug is not None else slug_default
        categories: list[str] = []
        if label == "posts":
            above = inside.split("_posts", 1)[0]
            categories += [c for c in above.split("/") if c]
        for key in ("categories", "category"):
            value = data.get(key)
            listed = value.split() if isinstance(value, str) else [str(v) for v in value if v is not None] \
                if isinstance(value, list) else [] if value is None else [str(value)]
            categories += [c for c in listed if c not in categories]
        cleaned = stem.replace(f"_{label}", "", 1).rstrip(".")
        day = document_date(data.get("date"), dated.group(1) if dated else "")
        values: dict[str, str] = {
            "collection": label, "path": cleaned, "name": slugify(name),
            "title": slugify(slug_text, "pretty", cased=True), "slug": slugify(slug_text),
            "categories": "/".join(dict.fromkeys(c.lower() for c in categories)),
            "slugified_categories": "/".join(dict.fromkeys(slugify(c) for c in categories)),
            "output_ext": ".html"}
        if day is not None:
            values.update({"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}",
                           "i_day": str(day.day), "i_month": str(day.month), "short_year": f"{day.year % 100:02d}",
                           "y_day": f"{day.timetuple().tm_yday:03d}", "hour": "00", "minute": "00", "second": "00",
                           "short_month": day.strftime("%b"), "long_month": day.strftime("%B"),
                           "w_year": f"{day.isocalendar()[0]}", "week": f"{day.isocalendar()[1]:02d}",
                           "w_day": str(day.isoweekday()), "short_day": day.strftime("%a"),
                           "long_day": day.strftime("%A")})
        metadata = self.collections[label]
        template = metadata.get("permalink")
        template = template.strip() if isinstance(template, str) and template.strip() else \
            suffix("/:collection/:path", self.style)
        natural = fill_drop(template, values)
        permalink = data.get("permalink")  # the defaults' are in `data` already
        if permalink is not None:
            url = fill_drop(permalink.strip(), values) if isinstance(permalink, str) and permalink.strip() else None
        else:
            url = natural
        return (None if url is None else sanitize(url)), "" if natural is None else sanitize(natural)


_DAY_PREFIX = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]")  # a date with a time, read as text
_WILDCARD = re.compile(r"[*?\[]")


class _Globs:
    """Patterns each matched as Ruby's `File.fnmatch?(pattern, entry)` without flags, or
    `entry.start_with?(pattern)` (Jekyll's EntryFilter). Matching each pattern with fnmatch in turn
    overran fnmatch's cache of compiled patterns (40,000 `exclude:` entries took 77 s). Here a set holds
    the prefixes, and the globs are grouped by the literal text before their first wildcard: an entry
    is matched only against the groups it starts with, each compiled once into one regex, when first
    needed (compiling is the cost: a group no entry starts with is never compiled)."""

    def __init__(self, patterns: Collection[str]) -> None:
        # Jekyll joins each pattern to the source folder (File.join collapses a leading `/`)
        self.prefixes = {p.lstrip("/") or p for p in patterns}
        self.lengths = sorted({len(p) for p in self.prefixes})
        self.groups: dict[str, list[str]] = {}
        for pattern in sorted(self.prefixes):
            wildcard = _WILDCARD.search(pattern)
            if wildcard is not None:  # a backslash before it escapes: its text is no literal of the entry
                literal = pattern[:wildcard.start()]
                self.groups.setdefault("" if "\\" in literal else literal, []).append(pattern)
        self.literal_lengths = sorted({len(literal) for literal in self.groups})
        self.compiled: dict[str, re.Pattern[str]] = {}

    def match(self, entry: str) -> bool:
        if any(entry[:n] in self.prefixes for n in self.lengths if n <= len(entry)):
            return True
        for n in self.literal_lengths:
            if n > len(entry):
                break
            literal = entry[:n]
            if literal not in self.groups:
                continue
            regex = self.compiled.get(literal)
            if regex is None:
                # fnmatch.translate gives `(?s:...)\Z`: the alternation matches a whole entry, as fnmatchcase
                regex = self.compiled[literal] = re.compile(
                    "|".join(f"(?:{ruby_fnmatch_regex(p)})" for p in self.groups[literal]))
            if regex.match(entry) is not None:
                return True
        return False


def ruby_fnmatch_regex(pattern: str) -> str:
    """A regex matching a whole entry as Ruby's `File.fnmatch(pattern, entry)` with no flags does: `*`
    and `?` match `/` too, `[^...]` negates as `[!...]` does, and a backslash escapes the next
    character. Python's fnmatch reads `[^0-9]` as "^ or a digit" and a backslash as itself: an
    `exclude:` of `notes-[^0-9]*` then left out the pages Jekyll publishes, and kept the others."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "[":
            end = i + 1
            negate = end < len(pattern) and pattern[end] in "!^"
            end += 1 if negate else 0
            end += 1 if end < len(pattern) and pattern[end] == "]" else 0  # a `]` first is itself
            close = pattern.find("]", end)
            if close != -1:
                inside = pattern[i + 1 + (1 if negate else 0):close].replace("\\", "\\\\")
                out.append(("[^" if negate else "[") + inside + "]")
                i = close + 1
                continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return "(?s:" + "".join(out) + r")\Z"


def _has_front_matter(page: str) -> bool:
    # Only regular files that are no symlinks (as `front_matter`): a FIFO named `x.md` would block the read.
    if os.path.islink(page) or not os.path.isfile(page):
        return False
    try:
        with open(page, "rb") as handle:
            return handle.read(4).removeprefix(b"\xef\xbb\xbf")[:3] == b"---"
    except OSError:
        return False
