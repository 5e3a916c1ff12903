"""Heading anchors as MkDocs and mdBook make them, where they differ from GitHub's.

A page on the built site has its generator's ids, not GitHub's; the profiles add these to a
page's anchors (GitHub's stay: a link written for either works somewhere, and neither is a break).

- MkDocs (Python-Markdown's `toc` extension, its default `slugify`): the heading's text
  NFKD-normalised and reduced to ASCII (`žlutý` -> `zluty`), every character but word characters,
  spaces and `-` removed, trimmed, lowercased, each run of spaces and `-` one `-`. A repeated id
  gets `_1`, `_2`, ... (an id ending `_N` counts on from N), and an empty one is `_1`.
- Hugo (Goldmark's `autoHeadingIDType`): `github` (the default) is GitHub's slug of the text a
  typographer set (`_slugs.Slugger`); `github-ascii` the same after accents are taken off and any
  other non-ASCII character dropped (`Über uns` -> `uber-uns`); `blackfriday` keeps letters and
  numbers, lowercased, one `-` between runs of them (`a -- b` -> `a-b`). A repeated id gets `-1`, `-2`.
- mdBook: the characters Rust calls alphanumeric (letters, numbers and Other_Alphabetic marks such
  as Indic vowel signs: `alphabetic.py`), `_` and `-` kept, each whitespace character a `-`, all
  else dropped; a repeated id gets `-1`, `-2`, ... mdBook 0.4 (`utils::normalize_id`) lowercases
  only ASCII letters (`Über` stays `Über`); 0.5 lowercases the whole text first (rust-lang/mdBook
  PR #2922: `über`, `σίσυφος` with its final sigma, `İ` as `i`), after its smart punctuation (on by
  default: `--` an en dash, dropped: `## a -- b` is `#a--b`). Which one builds the book is not
  in the repository, so a page has the ids of both (checked against mdbook 0.5.4's HTML, and
  0.4's own test table).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from loopgate.gates._mdblocks import Blocks
from loopgate.gates._mdtext import explicit_id, heading_text
from loopgate.gates._sites.alphabetic import rust_alphanumeric
from loopgate.gates._slugs import Slugger, github_slug

_NOT_WORD = re.compile(r"[^\w\s-]")
_RUNS = re.compile(r"[-\s]+")
_COUNTED = re.compile(r"^(.*)_([0-9]+)$")


def _blocks(source: str) -> Blocks:
    """A page's blocks as the links scanner reads them (BOM dropped, any line break)."""
    blocks = Blocks(source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    blocks.run()
    return blocks


def headings(source: str, extended: str = "", smart: str = "", strip: bool = True) -> list[tuple[str, str]]:
    """(rendered text, explicit id or "") of each heading, in order, as the links scanner finds them;
    `extended`: every attribute block a generator reads (`_mdtext.explicit_id`); `smart`: dashes as its
    typographer sets them (`_mdtext.heading_text`); `strip`: the text's ends trimmed (not kramdown)."""
    blocks = _blocks(source)
    found = []
    for heading in blocks.headings:
        text, given = explicit_id(heading, extended)
        rendered = heading_text(text, smart)
        found.append((rendered.strip() if strip else rendered, given))
    return found


def top_level_anchors(source: str) -> list[str]:
    """The anchors the links scanner gives the level-1 headings (`# x`, `x` over `===`) of a page:
    each one's GitHub slug, numbered as among all the page's headings, and its explicit `{#id}`."""
    blocks = _blocks(source)
    slugger = Slugger()
    found = []
    for heading, level in zip(blocks.headings, blocks.levels, strict=True):
        anchors = slugger.add(heading)
        if level == 1:
            found += anchors
    return found


def toc_slug(text: str, separator: str = "-") -> str:
    """Python-Markdown's `toc.slugify(text, separator)` (toc's `separator`: runs of it and of blanks are
    one separator; with `_`, a `-` stays)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _runs(separator).sub(separator, _NOT_WORD.sub("", ascii_text).strip().lower())


@lru_cache(maxsize=8)
def _runs(separator: str) -> re.Pattern[str]:
    """Runs of the separator and of blanks (compiled once a separator, not once a heading)."""
    return _RUNS if separator == "-" else re.compile(f"[{re.escape(separator)}\\s]+")


def mkdocs_anchors(found: list[tuple[str, str]], separator: str = "-") -> list[str]:
    """The ids MkDocs gives these headings (explicit ids are taken first, as `toc` collects them first)."""
    taken = {given for _, given in found if given}
    # toc's `unique` walks `x`, `x_1`, `x_2`, ... to the first free id. Ids are only ever added, so a
    # walk from `x` can start where the last one from `x` ended (each before it is taken): linear in
    # repeated headings (20,000 `## a` took minutes), the same ids.
    walked: dict[str, int] = {}
    anchors = []
    for text, given in found:
        if given:
            continue
        slug = toc_slug(text, separator)
        root = slug if slug in taken or not slug else None
        while slug in taken or not slug:
            counted = _COUNTED.match(slug)
            base, number = (counted.group(1), int(counted.group(2)) + 1) if counted else (slug, 1)
            if root is not None and base == root:
                number = max(number, walked.get(root, 0))
            slug = f"{base}_{number}"
        if root is not None and slug.startswith(f"{root}_"):
            walked[root] = int(slug[len(root) + 1:])
        taken.add(slug)
        anchors.append(slug)
    return anchors


def mdbook_id(text: str) -> str:
    """mdBook 0.4's `normalize_id`."""
    kept = []
    for char in text:
        if char in "_-" or rust_alphanumeric(char):
            kept.append(char.lower() if char.isascii() else char)
        elif char.isspace():
            kept.append("-")
    return "".join(kept)


def mdbook_id_05(text: str) -> str:
    """mdBook 0.5's heading id: the text lowercased as a whole (Unicode's full lowercasing, final
    sigma included, as Rust's `str::to_lowercase`), then filtered as 0.4 does."""
    kept = []
    for char in text.strip().lower():
        if char in "_-" or rust_alphanumeric(char):
            kept.append(char)
        elif char.isspace():
            kept.append("-")
    return "".join(kept)


def _numbered(ids: list[str]) -> list[str]:
    """mdBook's `unique_id`: the second `x` is `x-1`, the third `x-2`."""
    seen: dict[str, int] = {}
    anchors = []
    for slug in ids:
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.append(slug if count == 0 else f"{slug}-{count}")
    return anchors


def mdbook_anchors(found: list[tuple[str, str]], smart: list[tuple[str, str]] | None = None) -> list[str]:
    """The ids mdBook 0.4 and 0.5 give these headings (each numbers its repeats on its own), and their
    given ids; `smart`: the same headings as 0.5's smart punctuation renders them (on by default)."""
    texts = [text for text, given in found if not given]
    old, new = _numbered([mdbook_id(t) for t in texts]), _numbered([mdbook_id_05(t) for t in texts])
    dashed = _numbered([mdbook_id_05(t) for t, given in smart or [] if not given])
    return list(dict.fromkeys([given for _, given in found if given] + old + new + dashed))


def auto_anchors(source: str) -> list[str]:
    """The anchors the links scanner makes from a page's headings' text (GitHub's slugs: `Slugger`),
    without the ids headings are given (`{#id}`)."""
    slugger = Slugger()
    found = []
    for heading in _blocks(source).headings:
        given = explicit_id(heading)[1]
        found += [anchor for anchor in slugger.add(heading) if anchor != given]
    return found


def github_ids(found: list[tuple[str, str]]) -> list[str]:
    """GitHub's slugs of these headings' text, numbered as github-slugger numbers them, and their given
    ids: the ids of a generator that slugs as GitHub does the text it renders (kramdown's GFM ids in
    Jekyll: `## a -- b` is `#a--b` there, its dashes set)."""
    slugger = Slugger()
    return [given or slugger.unique(github_slug(text)) for text, given in found]


def _hugo_ascii(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return github_slug("".join(c for c in bare if c.isascii()))


def _blackfriday(text: str) -> str:
    """blackfriday's `SanitizedAnchorName`."""
    kept: list[str] = []
    dash = False
    for char in text:
        if char.isalpha() or unicodedata.category(char)[0] == "N":
            if dash and kept:
                kept.append("-")
            dash = False
            kept.append(char.lower())
        else:
            dash = True
    return "".join(kept)


def hugo_anchors(found: list[tuple[str, str]], kind: str) -> list[str]:
    """The ids Hugo gives these headings with `autoHeadingIDType = kind` (`github`, `github-ascii`,
    `blackfriday`), numbered as Goldmark numbers them (in order: a given id counts from where it is;
    `## Dup`, `## Dup {#dup}`, `## Dup` are `dup`, `dup`, `dup-1`), and the given ids."""
    make = _hugo_ascii if kind == "github-ascii" else _blackfriday if kind == "blackfriday" else github_slug
    slugger = Slugger()  # Goldmark numbers repeats `-1`, `-2`, ... as github-slugger does
    anchors = []
    for text, given in found:
        if given:
            slugger.seen.setdefault(given, 0)
            anchors.append(given)
        else:
            anchors.append(slugger.unique(make(text)))
    return anchors
