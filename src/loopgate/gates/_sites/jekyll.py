"""Jekyll: the URLs a Jekyll site gives its pages, and links read the way the built site resolves them.

Written from Jekyll 4.3's source (`url.rb`, `page.rb`, `document.rb`, `drops/url_drop.rb`,
`configuration.rb`, `utils.rb`) and checked against Debian's `jekyll` (tests/gates/
test_links_site_jekyll*.py):

- The site's `permalink` style (default `date`) gives the posts' URL template: `date` is
  `/:categories/:year/:month/:day/:title:output_ext`, `pretty` the same ending in `/`, `none`
  `/:categories/:title:output_ext`, `ordinal` `/:categories/:year/:y_day/:title:output_ext`,
  `weekdate` `/:categories/:year/W:week/:short_day/:title:output_ext`; any other value is the
  template itself. A page `a/b.md` is at `/a/b` plus the style's ending: `/` when the style ends in
  `/` (`pretty`), `.html` for the named styles and a template ending in `:output_ext`, nothing for
  any other template (Jekyll writes `a/b.html`, served at `/a/b`). `index.md` is at its folder.
- A collection (`collections:` in _config.yml) is published only with `output: true`, at its
  `permalink:` template, by default `/:collection/:path` plus the style's ending. Its documents,
  and the posts (`_posts/`, categories from the folders above it), fill the template from the
  file name (`YYYY-MM-DD-title`), front matter (`date`, `slug`, `categories`) and the
  collection's name; a document whose template needs a date it does not have gets the time of the
  build: its URL is not known here (links to it are unchecked, LG482).
- Front matter `permalink:` (or one from `defaults:` in _config.yml) replaces the template; a
  page's may use `:path`, `:basename`, `:output_ext`. A document's data is its `defaults:` with its
  front matter over them (`categories`, `slug`, `date` make its URL); a page's defaults give it only
  its `permalink`. `published: false` (`no`, empty) keeps a page or document off the site; from
  `defaults:` it does so for documents only (Jekyll's `fetch` skips a page's defaults).
- `exclude:` leaves files and folders out of the site (a glob, or a prefix of the path, as Jekyll's
  EntryFilter matches it; `include:` wins): a link to one is broken, and a page left out is no page
  of the site: its own links are read as GitHub shows them.
- `baseurl` in _config.yml is the path the site is served under (`jekyll serve` and GitHub Pages
  answer 404 outside it): `{{ site.baseurl }}`, `relative_url`, `absolute_url`, `prepend:
  site.baseurl` put it in front. A site-absolute link to one of the site's pages without it leads
  outside the site: broken. `{{ site.baseurl }}{% link x.md %}` names the page either way (Jekyll
  3, GitHub Pages' version, needs the prefix; Jekyll 4's `link` adds it itself): checked as `x.md`.

A page's URL is served as written, `/a/b/` also as `/a/b` and `/a/b/index.html`, `/a/b.html` also
as `/a/b` and `/a/b/` (`jekyll serve` answers both): `/a/b.html` for a page at `/a/b/` names nothing
on the built site (404 from `jekyll serve`, and from lychee on the built HTML).
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from loopgate.gates._linklocal import Boundary, under, unquote
from loopgate.gates._sites.base import CHECK, Generic, Route, Site, first_file
from loopgate.gates._sites.config import flag, text_value
from loopgate.gates._sites.routes import MAX_FRONT, front_matter, join_url, pages, text

_JEKYLL_LINK = re.compile(r"\{%-?\s*link\s+([^\s{}%]+)\s*-?%\}")
_POST_URL = re.compile(r"\{%-?\s*post_url\s+([^\s{}%]+)\s*-?%\}")
_SITE_BASEURL = r"\{\{-?\s*site\.baseurl\s*-?\}\}"
# `{{ site.baseurl }}` right before a tag that names a page: Jekyll 3 needs it, Jekyll 4 doubles it.
_BASE_BEFORE_TAG = re.compile(_SITE_BASEURL + r"(?=\{%-?\s*(?:link|post_url)\s)")
_BASEURL = re.compile(_SITE_BASEURL)
_RELATIVE_URL = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}")
_PREPEND_BASE = re.compile(r"\{\{-?\s*['\"]([^'\"{}]+)['\"]\s*\|\s*prepend:\s*site\.baseurl\s*-?\}\}")
_SOURCES = (".md", ".markdown")
_UNCHECKED = Route("unchecked", "a site route that is no file: known only once the site is built")
_UNKNOWN_HERE = Route("unchecked", "read from a page whose URL Jekyll gives it at build time (a date it does not "
                                   "have): known only once the site is built")

_STYLES = {"none": "/:categories/:title:output_ext", "date": "/:categories/:year/:month/:day/:title:output_ext",
           "ordinal": "/:categories/:year/:y_day/:title:output_ext",
           "pretty": "/:categories/:year/:month/:day/:title/",
           "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext"}
_DATE_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)$")
_PLAIN_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_DATED = {"year", "month", "day", "hour", "minute", "second", "i_day", "i_month", "short_month", "long_month",
          "short_year", "w_year", "week", "w_day", "short_day", "long_day", "y_day"}


def _suffix(template: str, style: str) -> str:
    """Jekyll's `Utils.add_permalink_suffix`."""
    if style == "pretty":
        return template + "/"
    if style in ("date", "ordinal", "none"):
        # (`weekdate` is not named here in Jekyll 4.3: its pages get no ending, `/a/b`, written as a/b.html)
        return template + ":output_ext"
    if style.endswith("/"):
        return template + "/"
    if style.endswith(":output_ext"):
        return template + ":output_ext"
    return template


def _sanitize(url: str) -> str:
    """Jekyll's `URL#sanitize_url`."""
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/+", "/", url)


def slugify(value: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's `Utils.slugify` in its `default` and `pretty` modes."""
    keep = "._~!$&'()+,;=@" if mode == "pretty" else ""
    out, hyphen = [], False
    for char in value:
        if unicodedata.category(char)[0] in "ML" or unicodedata.category(char) == "Nd" or char in keep:
            out.append(char)
            hyphen = False
        elif not hyphen:
            out.append("-")
            hyphen = True
    slug = "".join(out)
    slug = slug[1:] if slug.startswith("-") else slug
    slug = slug[:-1] if slug.endswith("-") else slug
    return slug if cased else slug.lower()


def _date(value: Any, named: str) -> datetime.date | None:
    """The day a document is dated: front matter `date` (a plain day only: a time is converted to the
    build machine's zone, which may change the day), else the file name's; None if neither."""
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if value is not None:
        match = _PLAIN_DATE.match(str(value))
        if match is None:
            return None
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            return None
    if named:
        year, month, day = named.split("-")
        try:
            return datetime.date(int(year), int(month), int(day))
        except ValueError:
            return None
    return None


@dataclass
class JekyllRoutes:
    pages: dict[str, str] = field(default_factory=dict)  # served URL path (decoded) -> page
    urls: dict[str, str] = field(default_factory=dict)  # page -> its URL
    # URL spellings nothing is served at, though a page's file would suggest it -> the page
    moved: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # pages whose URL the build gives them
    unpublished: dict[str, str] = field(default_factory=dict)  # document of a collection without output -> label
    hidden: dict[str, str] = field(default_factory=dict)  # a page or document with `published: false` -> whence
    hidden_at: dict[str, str] = field(default_factory=dict)  # the URL such a page would have -> the page


@dataclass(frozen=True)
class Default:
    path: str
    kind: str
    values: dict[str, Any]


def served(url: str) -> list[str]:
    """The URL paths a page at `url` answers to (its own first). `jekyll serve` answers `/a/b.html` at
    `/a/b` and `/a/b/` too (checked with it), and lychee with `--fallback-extensions html` accepts
    both: a host that does not (GitHub Pages and `/a/b/`) is not assumed."""
    if url.endswith("/"):
        return [url, url.rstrip("/") or "/", url + "index.html"]
    if url.endswith(".html"):
        return [url, url[:-len(".html")], url[:-len(".html")] + "/"]
    if "." not in url.rsplit("/", 1)[-1]:
        return [url, url + ".html", url + "/"]  # written as `x.html`, served at `/x`
    return [url]


def _other_spelling(url: str) -> list[str]:
    """The URL a page at `url/` would have with the other ending (`url.html`), where nothing is served:
    `jekyll serve` and lychee answer 404 there."""
    if url.endswith("/") and url != "/":
        return [url.rstrip("/") + ".html"]
    return []


class JekyllSite:
    """_config.yml, as far as URLs go."""

    def __init__(self, settings: dict[str, Any]) -> None:
        base = text(settings.get("baseurl")).strip("/")
        self.base = "/" + base if base else ""
        self.style = text_value(settings.get("permalink"), "date")
        listed = settings.get("collections")
        collections = {str(k): {} for k in listed} if isinstance(listed, list) else \
            {str(k): v if isinstance(v, dict) else {} for k, v in listed.items()} if isinstance(listed, dict) else {}
        posts = dict(collections.get("posts", {}))
        posts["output"] = True
        posts.setdefault("permalink", _STYLES.get(self.style, self.style))
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
            if kind == "page" and page.endswith(_SOURCES) and not _has_front_matter(page):
                # No front matter: a page on GitHub Pages (jekyll-optional-front-matter), a file copied as
                # it is on plain Jekyll; either spelling of its URL may be right.
                for key in _other_spelling(url):
                    found.pages.setdefault(key, page)
                continue
            for key in _other_spelling(url):
                natural_of.setdefault(key, page)
            if natural and natural != url:
                for key in served(natural):
                    natural_of.setdefault(key, page)
        found.moved = {key: page for key, page in natural_of.items() if key not in found.pages}
        return found

    def _data(self, page: str, relative: str, kind: str, label: str, found: JekyllRoutes) -> dict[str, Any] | None:
        """The page's data, or None for no page: a static file (published as it is, where it is), or a
        page `published: false` keeps off the site (recorded in `found.hidden`)."""
        own = front_matter(page)
        if kind == "page" and page.endswith(".html") and not own and not _has_front_matter(page):
            return None
        # A document's data is its defaults with its front matter over them (Document#read), so
        # `categories`, `slug`, `date` and `published` come from `defaults:` too.
        data = {**self.default_values(relative, label), **own} if kind == "document" else own
        published = data.get("published", True)
        if isinstance(published, str) and published.lower() in ("no", "off"):
            # Ruby's YAML (1.1) reads `no` and `off` as false, the loader here as text, as it reads "no":
            # the front matter's own text says which; a default's is not known (links to it unchecked).
            if "published" not in own:
                found.unknown.add(page)
                return None
            published = not _UNQUOTED_OFF.search(_head(page))
        if "published" in data and published in (False, None):
            # Publisher#can_be_published?: `data.fetch("published", true)`. A page's defaults are a
            # default_proc that fetch does not ask, so `published: false` from `defaults:` unpublishes
            # documents (posts, collections) but not pages (checked with jekyll 4.3).
            whence = "its front matter" if "published" in own else "`defaults:` in _config.yml"
            said = "(empty)" if data["published"] is None else str(data["published"]).lower()
            found.hidden[page] = f"published: {said} in {whence}"
            url = (self._document_url(relative, label, data) if kind == "document" else
                   self._page_url(relative, data))[0]
            for key in served(url) if url else []:
                found.hidden_at.setdefault(key, page)  # a link to it there is broken, and says why
            return None
        return data

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
        template = "/:path/" if stem == "index" else _suffix("/:path/:basename", self.style)
        values = {"path": folder, "basename": stem, "output_ext": ".html"}
        natural = _sanitize(_fill_hash(template, values))
        permalink = data.get("permalink") if "permalink" in data else self.default_permalink(relative, "pages")
        if permalink is None:
            return natural, natural
        if not isinstance(permalink, str) or not permalink.strip():
            return None, natural
        return _sanitize(_fill_hash(permalink.strip(), values)), natural

    def _document_url(self, relative: str, label: str, data: dict[str, Any]) -> tuple[str | None, str]:
        inside = relative
        if self.collections_dir and relative.startswith(self.collections_dir + "/"):
            inside = relative[len(self.collections_dir) + 1:]
        stem = os.path.splitext(inside)[0]
        name = posixpath.basename(stem)
        dated = _DATE_NAME.match(name)
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
        day = _date(data.get("date"), dated.group(1) if dated else "")
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
            _suffix("/:collection/:path", self.style)
        natural = _fill_drop(template, values)
        permalink = data.get("permalink")  # the defaults' are in `data` already
        if permalink is not None:
            url = _fill_drop(permalink.strip(), values) if isinstance(permalink, str) and permalink.strip() else None
        else:
            url = natural
        return (None if url is None else _sanitize(url)), "" if natural is None else _sanitize(natural)


# `published: no` (or `off`, any case) unquoted, as a line of front matter: false to Ruby's YAML.
_UNQUOTED_OFF = re.compile(r"^published:[ \t]*(?i:no|off)[ \t]*(?:#.*)?$", re.M)


def _head(page: str) -> str:
    """The front matter of a page, as text ("" for none)."""
    try:
        with open(page, encoding="utf-8") as handle:
            head = handle.read(MAX_FRONT)
    except (OSError, UnicodeDecodeError):
        return ""
    end = head.find("\n---", 3)
    return head[:end] if head.startswith("---") and end > 0 else ""


_WILDCARD = re.compile(r"[*?\[]")


class _Globs:
    """Patterns each matched as Ruby's `File.fnmatch?(pattern, entry)` without flags, or
    `entry.start_with?(pattern)` (Jekyll's EntryFilter). Matching each pattern with fnmatch in turn
    overran fnmatch's cache of compiled patterns (40,000 `exclude:` entries took 77 s). Here a set holds
    the prefixes, and the globs are grouped by the literal text before their first wildcard: an entry
    is matched only against the groups it starts with, each compiled once into one regex, when first
    needed (compiling is the cost: a group no entry starts with is never compiled)."""

    def __init__(self, patterns: Collection[str]) -> None:
        self.prefixes = set(patterns)
        self.lengths = sorted({len(p) for p in self.prefixes})
        self.groups: dict[str, list[str]] = {}
        for pattern in sorted(self.prefixes):
            wildcard = _WILDCARD.search(pattern)
            if wildcard is not None:
                self.groups.setdefault(pattern[:wildcard.start()], []).append(pattern)
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
                    "|".join(f"(?:{fnmatch.translate(p)})" for p in self.groups[literal]))
            if regex.match(entry) is not None:
                return True
        return False


def _fill_hash(template: str, values: dict[str, str]) -> str:
    """Jekyll's `URL#generate_url_from_hash` (a page's placeholders: path, basename, output_ext)."""
    for key, value in values.items():
        if ":" not in template:
            break
        template = template.replace(f":{key}", value)
    return template


def _fill_drop(template: str, values: dict[str, str]) -> str | None:
    """Jekyll's `URL#generate_url_from_drop`; None when a placeholder is not known here (a date the
    document does not have, or a name Jekyll stops the build on)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        for key in (name, name[:-1]) if name.endswith("_") else (name,):
            if key in values:
                found = values[key]
                return found + "_" if key != name else found
        missing = True
        return ""

    filled = _PLACEHOLDER.sub(value, template)
    return None if missing else filled


def _has_front_matter(page: str) -> bool:
    # Only regular files that are no symlinks (as `front_matter`): a FIFO named `x.md` would block the read.
    if os.path.islink(page) or not os.path.isfile(page):
        return False
    try:
        with open(page, "rb") as handle:
            return handle.read(4).removeprefix(b"\xef\xbb\xbf")[:3] == b"---"
    except OSError:
        return False


class Jekyll(Site):
    name = "jekyll"
    title = "Jekyll"
    templates = True

    def __init__(self, boundary: Boundary, options: Generic, config: str, top: str, settings: dict[str, Any],
                 shown: Callable[[str], str]) -> None:
        super().__init__(boundary, options, config, top)
        self.site = JekyllSite(settings)
        self.shown = shown
        self._routes: JekyllRoutes | None = None
        self._posts: dict[str, str] | None = None

    # -- the link as written -> the link the site checks
    def rewrite(self, target: str) -> str:
        target = super().rewrite(target)
        if "{" not in target:
            return target
        target = _BASE_BEFORE_TAG.sub("", target)
        target = _JEKYLL_LINK.sub(lambda m: "/" + m.group(1).lstrip("/"), target)
        target = _POST_URL.sub(lambda m: self._post(m.group(1)), target)
        target = _RELATIVE_URL.sub(lambda m: self._based(m.group(1)), target)
        target = _PREPEND_BASE.sub(lambda m: self.site.base + m.group(1), target)
        return _BASEURL.sub(lambda m: self.site.base, target)

    def _based(self, written: str) -> str:
        """Jekyll's `relative_url`: the baseurl, then the path from the site's root (a URL stays as it is)."""
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|//", written):
            return written
        return self.site.base + "/" + written.lstrip("/")

    def _post(self, name: str) -> str:
        """`{% post_url 2024-01-15-hello %}` is the URL of that post: checked as its source file."""
        if self._posts is None:  # one walk of the site, on the first post_url
            self._posts = {}
            for page in pages(self.top):
                relative = os.path.relpath(page, self.top).replace(os.sep, "/")
                if "/_posts/" in f"/{relative}":
                    name_in = os.path.splitext(relative.split("_posts/", 1)[1])[0]  # `sub/2024-01-15-x` under _posts/
                    self._posts.setdefault(name_in, page)
                    self._posts.setdefault(os.path.basename(name_in), page)  # Jekyll finds it by its name too
        found = self._posts.get(name.strip("/"))
        return "/" + os.path.relpath(found, self.top).replace(os.sep, "/") if found else f"/_posts/{name}.md"

    def routes(self) -> JekyllRoutes:
        if self._routes is None:  # one walk of the site, on the first link written as a URL
            self._routes = self.site.routes(self.top)
        return self._routes

    def _folder_url(self, source: str) -> str:
        return "/" + os.path.relpath(os.path.dirname(source), self.top).replace(os.sep, "/").strip(".") + "/"

    def page_url(self, source: str) -> str | None:
        """The URL the built site gives the page `source`, which its relative links are read from
        (None: only the build knows it)."""
        routes = self.routes()
        if source in routes.unknown:
            return None
        return routes.urls.get(source) or self._folder_url(source)

    def _unbased(self, decoded: str) -> str:
        base = self.site.base
        if base and decoded.startswith("/") and (decoded == base or decoded.startswith(base + "/")):
            return decoded[len(base):] or "/"
        return decoded

    def _left_out(self, full: str) -> bool:
        """Is `full`, a file under the site's source, left out of the site by `exclude:`?"""
        return under(full, self.top) and full != self.top and \
            self.site.excluded(os.path.relpath(full, self.top).replace(os.sep, "/"))

    def _no_page(self, source: str) -> bool:
        """Is the file `source` no page of the site (left out by `exclude:`, or a document of a
        collection without output)? Then its links are what GitHub shows, not links of the site."""
        routes = self.routes()
        return under(source, self.top) and (self._left_out(source) or source in routes.unpublished
                                            or source in routes.hidden)

    def route(self, source: str, target: str) -> Route:
        if self._no_page(source):
            return CHECK  # not part of the site: its links are what GitHub shows
        return super().route(source, target)

    # -- the resolver
    def _resolve(self, source: str, path: str) -> str:
        if self._no_page(source):
            decoded = unquote(path)
            return self.fallback(self.plain(source, decoded), decoded)
        return super()._resolve(source, path)

    def in_site(self, source: str, decoded: str) -> str:
        decoded = self._unbased(decoded)
        if decoded.endswith(_SOURCES):  # a source file named (jekyll-relative-links, `{% link %}`): there or not
            start = self.top if decoded.startswith("/") else os.path.dirname(source)
            return os.path.normpath(os.path.join(start, decoded.lstrip("/")))
        url = decoded if decoded.startswith("/") else join_url(self.page_url(source) or self._folder_url(source),
                                                                decoded)
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if os.path.isfile(found):
            return found
        routes = self.routes()
        routed = routes.pages.get(url)
        if routed is not None:
            return routed
        hidden = routes.hidden_at.get(url)
        if hidden is not None and url not in routes.pages:
            return hidden  # own_route says why it is broken
        moved = routes.moved.get(url)
        if moved is not None:  # where the page's file would put it, but Jekyll publishes it elsewhere
            self._elsewhere[found] = moved
            return found
        stem = found[:-len(".html")] if found.endswith(".html") else found
        return first_file([stem + ".md", stem + ".markdown", os.path.join(stem, "index.md"),
                           os.path.join(stem, "index.html"), found])

    def own_route(self, source: str, target: str) -> Route:
        path = target.partition("#")[0].partition("?")[0]
        if not path:
            return CHECK
        decoded = unquote(path)
        base = self.site.base
        absolute = decoded.startswith("/")
        if absolute and base and self._unbased(decoded) == decoded and target not in self.remapped \
                and not decoded.endswith(_SOURCES):
            # Outside the path the site is served under: a page of the site linked without the baseurl
            # is a 404 (jekyll serve and GitHub Pages serve nothing there); anything else is beside the site.
            if self._served_at(decoded):
                return Route("broken", f"the site is served under {base} (baseurl in {self.config}), so this link "
                             f"leads to {decoded}, outside the site: write {{{{ site.baseurl }}}}{decoded} or "
                             f"{base}{decoded}")
            return Route("beside", "outside the Jekyll site's baseurl (not part of the site)")
        resolved = self(source, path)
        routes = self.routes()
        if self._left_out(resolved):
            return Route("broken", f"`exclude:` in {self.config} leaves {self.shown(resolved)} out of the site: "
                         "Jekyll does not publish it")
        unpublished = self._unpublished(resolved, routes)
        if unpublished is not None:
            return unpublished
        if decoded.endswith(_SOURCES):
            return CHECK  # `/docs/x.md` names a source file (what `{% link %}` gives): there or not
        moved = self._elsewhere.get(resolved)
        if moved is not None:
            return Route("broken", f"no page has this URL on the built site: {self.shown(moved)} is published at "
                         f"{base}{routes.urls[moved]}")
        if os.path.exists(resolved):
            return CHECK
        if not absolute:
            page_url = self.page_url(source)
            if page_url is None:
                return _UNKNOWN_HERE
            # Read from the source file's folder it would work; the browser reads it from the page's URL.
            folder_url = self._folder_url(source)
            beside = self.in_site(source, join_url(folder_url, decoded))
            if page_url != folder_url and os.path.exists(beside):
                return Route("broken", f"this page is published at {base}{page_url}, so the link leads to "
                             f"{base}{join_url(page_url, decoded)}, where nothing is; it works only from the source "
                             "file's folder")
            # A page whose URL only the build knows may be the one it names.
            return _UNCHECKED if routes.unknown else CHECK
        return CHECK if target in self.remapped else _UNCHECKED

    def _unpublished(self, resolved: str, routes: JekyllRoutes) -> Route | None:
        label = routes.unpublished.get(resolved)
        if label is not None:
            return Route("broken", f"{self.shown(resolved)} is in the collection '{label}', which {self.config} does "
                         "not publish (no `output: true`): the built site has no page for it")
        hidden = routes.hidden.get(resolved)
        if hidden is not None:
            return Route("broken", f"{self.shown(resolved)} has {hidden}: Jekyll does not publish it (only "
                         "`jekyll build --unpublished` does)")
        return None

    def _served_at(self, url: str) -> bool:
        """Does the built site have a page or a file at `url` (read from the site's root, baseurl left out)?"""
        found = os.path.normpath(os.path.join(self.top, url.lstrip("/")))
        if under(found, self.top) and os.path.isfile(found) and not found.endswith(_SOURCES):
            return True
        return url in self.routes().pages


def source_top(home: str, settings: dict[str, Any]) -> str:
    return os.path.normpath(os.path.join(home, text_value(settings.get("source"), ".")))

