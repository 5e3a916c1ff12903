"""Site profiles for the links gate: check links the way a documentation generator publishes them.

`detect` finds the generator from its own config file (in a directory given to check or one of
its parents below the working directory, else in the working directory, else at the repository
root): mdBook (`book.toml` with its `src/SUMMARY.md`), MkDocs (`mkdocs.yml`), Docusaurus
(`docusaurus.config.js|ts|mjs`), Hugo (`hugo.toml|yaml|json`, `config/_default/hugo.toml|...`, or
`config.toml|yaml` beside a `content/` folder) and Jekyll (`_config.yml`). `load` builds the profile (one module
per generator), or the plain one for `--site none`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from loopgate.gates._linklocal import Boundary
from loopgate.gates._sites.base import CHECK, TEMPLATE, Generic, Route, Site, as_written, generic, kept_inside, on_page
from loopgate.gates._sites.config import (
    ConfigError,
    read_json,
    read_text,
    read_toml,
    read_yaml,
    real_inside_repository,
    text_value,
)

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

# Each generator's module is imported when its config is found: a tree that is no site (the
# pre-commit hook's usual case) pays for none of them.

__all__ = ["CHECK", "NAMES", "TEMPLATE", "ConfigError", "Generic", "Route", "Site", "as_written", "detect", "folders",
           "generic", "load", "on_page"]

NAMES = ("auto", "none", "mdbook", "mkdocs", "hugo", "jekyll", "docusaurus")


def _named(path: str) -> bool:
    """Is there a config file at `path`? Anything but a folder: a symlink (dangling too), a FIFO or a
    device found here is then refused with a clear LG483 when read (config.read_text), not passed over
    as if the site had no config (its links would be checked without the profile, and misjudged)."""
    return os.path.lexists(path) and not os.path.isdir(path)


def _mdbook(folder: str) -> str:
    return "book.toml" if _named(os.path.join(folder, "book.toml")) else ""


def _mkdocs(folder: str) -> str:
    return next((n for n in ("mkdocs.yml", "mkdocs.yaml") if _named(os.path.join(folder, n))), "")


def _docusaurus(folder: str) -> str:
    return next((f"docusaurus.config.{e}" for e in ("js", "ts", "mjs", "cjs")
                 if _named(os.path.join(folder, f"docusaurus.config.{e}"))), "")


_HUGO_DIR = os.path.join("config", "_default")


def _hugo(folder: str) -> str:
    own = next((f"hugo.{e}" for e in ("toml", "yaml", "json") if _named(os.path.join(folder, f"hugo.{e}"))), "")
    if own:
        return own
    named = next((os.path.join(_HUGO_DIR, f"{n}.{e}") for n in ("hugo", "config") for e in ("toml", "yaml", "json")
                  if _named(os.path.join(folder, _HUGO_DIR, f"{n}.{e}"))), "")
    if named:
        return named  # Hugo's configuration directory (config/_default/hugo.toml, params.toml, ...)
    if not os.path.isdir(os.path.join(folder, "content")):
        return ""  # config.toml alone is too common a name to mean Hugo
    return next((f"config.{e}" for e in ("toml", "yaml") if _named(os.path.join(folder, f"config.{e}"))), "")


def _hugo_settings(config: str, shown: Callable[[str], str]) -> tuple[str, dict[str, Any]]:
    """(the site's folder, its settings) from a root config file or Hugo's configuration directory:
    config/_default/ (hugo.toml or config.toml hold the top level, any other file the key it is
    named after: permalinks.toml is `permalinks`), then config/production/ over it (what `hugo`
    builds by default), each over the root file."""
    folder = os.path.dirname(config)
    home = os.path.dirname(os.path.dirname(folder)) if folder.endswith(os.sep + _HUGO_DIR) else folder
    settings: dict[str, Any] = {}
    for name in ("hugo", "config"):
        for extension in ("toml", "yaml", "json"):
            root = os.path.join(home, f"{name}.{extension}")
            if _named(root) and not settings:
                settings = _read_any(root, shown)
    for environment in ("_default", "production"):
        directory = os.path.join(home, "config", environment)
        if not os.path.isdir(directory):
            continue
        if os.path.islink(directory) and real_inside_repository(directory) is None:  # its files would be read
            raise ConfigError(f"{shown(directory)}: a symlink leading out of the repository; loopgate reads no "
                              "site config there")
        for entry in sorted(os.listdir(directory)):
            stem, extension = os.path.splitext(entry)
            path = os.path.join(directory, entry)
            if extension not in (".toml", ".yaml", ".yml", ".json") or not _named(path):
                continue
            data = _read_any(path, shown)
            _merge(settings, data if stem in ("hugo", "config") else {stem: data}, shown(path))
    return home, settings


def _read_text(path: str, shown: str) -> str:
    """A JavaScript config, as text (read for a literal or two, never run); read and refused as the
    other configs are (config.read_text)."""
    return read_text(path, shown, strict=False)


def _read_any(path: str, shown: Callable[[str], str]) -> dict[str, Any]:
    read = read_toml if path.endswith(".toml") else read_json if path.endswith(".json") else read_yaml
    return read(path, shown(path))


# How deep two config files' tables are merged: a real config is a few levels; TOML's dotted keys
# (`k.k.k... = 1`, which tomllib reads without recursing) or a YAML alias of its own mapping
# (`a: &x {b: *x}`, a cycle) made the merge recurse until RecursionError.
MERGE_DEPTH = 64


def _merge(into: dict[str, Any], data: dict[str, Any], label: str, depth: int = 0) -> None:
    """`data` over `into`, tables merged key by key; ConfigError past MERGE_DEPTH levels (named `label`)."""
    if depth >= MERGE_DEPTH:
        raise ConfigError(f"{label}: nested more than {MERGE_DEPTH} levels deep (or a mapping that holds itself) "
                          "where it merges with the site's other config files")
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, label, depth + 1)
        else:
            into[key] = value


def _jekyll(folder: str) -> str:
    return "_config.yml" if _named(os.path.join(folder, "_config.yml")) else ""


# In this order: a repository with mkdocs.yml and a stray _config.yml (GitHub Pages) is MkDocs.
_FINDERS: dict[str, Callable[[str], str]] = {"mdbook": _mdbook, "mkdocs": _mkdocs, "docusaurus": _docusaurus,
                                             "hugo": _hugo, "jekyll": _jekyll}


def folders(cwd: str, main: str, paths: tuple[str, ...]) -> list[str]:
    """Where to look for a config, nearest first: each directory given to check and its parents up
    to the working directory (`loopgate gate links website/` finds website/docusaurus.config.js),
    then the working directory, then the repository root."""
    found: list[str] = []
    for path in paths:
        folder = os.path.normpath(os.path.join(cwd, path))
        folder = folder if os.path.isdir(folder) else os.path.dirname(folder)
        while folder != cwd and folder.startswith(cwd + os.sep):
            found.append(folder)
            folder = os.path.dirname(folder)
    return list(dict.fromkeys([*found, cwd, main]))


def detect(folders: list[str], only: str = "") -> tuple[str, str]:
    """(profile name, config file's absolute path) of the first generator found, or ("", "")."""
    for folder in folders:
        for name, finder in _FINDERS.items():
            if only and name != only:
                continue
            found = finder(folder)
            if found:
                return name, os.path.join(folder, found)
    return "", ""


def load(site: str, folders: list[str], boundary: Boundary, options: Generic,
         shown: Callable[[str], str]) -> Site:
    """The profile for `--site` (auto: detected). Raises ConfigError for a config that cannot be read,
    or a generator asked for by name whose config is not there."""
    if site == "none":
        return Site(boundary, options)
    name, config = detect(folders, "" if site == "auto" else site)
    if not name:
        if site == "auto":
            return Site(boundary, options)
        raise ConfigError(f"--site {site}: no {site} config found in {' or '.join(map(shown, folders))}")
    home = os.path.dirname(config)
    label = shown(config)
    if name == "mdbook":
        settings = read_toml(config, label)
        book = settings.get("book")
        source = os.path.normpath(os.path.join(home, text_value(book.get("src") if isinstance(book, dict) else None,
                                                                "src")))
        kept_inside(boundary, label, "`src`", source, shown)
        if not os.path.isfile(os.path.join(source, "SUMMARY.md")):
            raise ConfigError(f"{label}: an mdBook needs {shown(os.path.join(source, 'SUMMARY.md'))}, which is missing")
        from loopgate.gates._sites.mdbook import MdBook  # noqa: PLC0415

        mdbook = MdBook(boundary, options, label, source, settings)
        mdbook.shown = shown
        return mdbook
    if name == "mkdocs":
        from loopgate.gates._sites.mkdocs import MkDocs  # noqa: PLC0415

        mkdocs = MkDocs(boundary, options, label, home, read_yaml(config, label))
        mkdocs.shown = shown
        return mkdocs
    if name == "hugo":
        from loopgate.gates._sites.hugo import Hugo  # noqa: PLC0415

        home, settings = _hugo_settings(config, shown)
        return Hugo(boundary, options, label, home, settings, shown)
    if name == "jekyll":
        from loopgate.gates._sites.jekyll import Jekyll, source_top  # noqa: PLC0415

        settings = read_yaml(config, label, ruby=True)
        top = kept_inside(boundary, label, "`source:`", source_top(home, settings), shown)
        return Jekyll(boundary, options, label, top, settings, shown)
    from loopgate.gates._sites.others import Docusaurus  # noqa: PLC0415

    docusaurus = Docusaurus(boundary, options, label, os.path.join(home, "docs"), _read_text(config, label))
    docusaurus.shown = shown
    return docusaurus
