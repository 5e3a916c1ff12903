"""Jekyll's URL templates: the permalink styles, the placeholders a page's and a document's URL are
filled from, Jekyll's slugify, and the URL spellings a page is served at (see jekyll.py for the rules)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Any

STYLES = {"none": "/:categories/:title:output_ext", "date": "/:categories/:year/:month/:day/:title:output_ext",
          "ordinal": "/:categories/:year/:y_day/:title:output_ext",
          "pretty": "/:categories/:year/:month/:day/:title/",
          "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext"}
DATE_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)$")
_PLAIN_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_DATED = {"year", "month", "day", "hour", "minute", "second", "i_day", "i_month", "short_month", "long_month",
          "short_year", "w_year", "week", "w_day", "short_day", "long_day", "y_day"}


def suffix(template: str, style: str) -> str:
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


def sanitize(url: str) -> str:
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


def document_date(value: Any, named: str) -> datetime.date | None:
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


def other_spelling(url: str) -> list[str]:
    """The URL a page at `url/` would have with the other ending (`url.html`), where nothing is served:
    `jekyll serve` and lychee answer 404 there."""
    if url.endswith("/") and url != "/":
        return [url.rstrip("/") + ".html"]
    return []


def fill_hash(template: str, values: dict[str, str]) -> str:
    """Jekyll's `URL#generate_url_from_hash` (a page's placeholders: path, basename, output_ext)."""
    for key, value in values.items():
        if ":" not in template:
            break
        template = template.replace(f":{key}", value)
    return template


def fill_drop(template: str, values: dict[str, str]) -> str | None:
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
