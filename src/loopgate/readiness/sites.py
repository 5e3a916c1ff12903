"""The `links-site` criterion: will the checklist's links gate check a documentation site the way
the site is published?

The links gate finds a site generator from its config file (gates/_sites/: `book.toml`,
`mkdocs.yml`, `hugo.toml`, `_config.yml`, `docusaurus.config.js`) in the directories it checks,
their parents, or the repository root, and resolves links as the built site does. The audit asks
the gate itself (`links.site_profile`, the function the gate runs) which profile each links entry
gets, so the two can never disagree. Three ways it goes wrong, each said with what to do:
- the config cannot be read, or an mdBook has no SUMMARY.md: the gate errors on every attempt;
- `--site NAME` names a generator whose config the gate will not find;
- the repository has a site (a config at the root or in a top-level folder, e.g. `website/`) that
  the gate will not find from the paths it checks: its links would be judged as plain markdown.
"""

from __future__ import annotations

import os
import shlex
import typing
from typing import Any

from loopgate import records
from loopgate.config import ConfigError, load_config
from loopgate.gates import _sites, links
from loopgate.history.text import code
from loopgate.readiness.criteria import ALL, Criterion, judged

G = "repository"
TITLE = "the links gate checks a documentation site the way it is published"


@records.record(frozen=True)
class LinksEntry:
    name: str  # the checklist entry's heading
    site: str  # --site as the gate will see it (args over pyproject.toml over "auto")
    paths: tuple[str, ...]


def site_criterion(checklist: dict[str, dict[str, Any]], root: str, loop_dir: str) -> Criterion | None:
    """None when the checklist runs no links gate."""
    entries = links_entries(checklist, loop_dir)
    if not entries:
        return None
    said: list[str] = []
    fixes: list[str] = []
    broken = False
    for entry in entries:
        detail, fix = _judge(entry, root)
        said.append(f"{entry.name}: {detail}")
        if fix:
            broken = True
            fixes.append(fix)
    return judged(not broken, "links-site", G, TITLE, "; ".join(said)[:400], " ".join(dict.fromkeys(fixes)), ALL)


def _judge(entry: LinksEntry, root: str) -> tuple[str, str]:
    """(what was found, what to do: empty when it is right) for one links entry."""
    checked = " ".join(entry.paths) or "."
    try:
        profile = links.site_profile(entry.site, entry.paths, root)
    except _sites.ConfigError as err:
        if entry.site in ("auto", "none"):
            return (f"the site config does not load, so the gate cannot run: {err}",
                    "Fix the site's config file (or give the links gate `--site none` to check plain markdown).")
        found = _auto(entry.paths, root)
        elsewhere = f" (detection finds {found})" if found else ""
        return (f"--site {entry.site}, but the gate checking {code(checked)} cannot use it: {err}{elsewhere}",
                f"In the {code(entry.name)} entry, name the folder that holds the {entry.site} config in `args:`, "
                f"or change --site to what the site is{' (' + found.split()[0] + ')' if found else ''}.")
    if profile.config:
        return f"{profile.title} site, from {profile.config}", ""
    if entry.site == "none":
        return "--site none: links are checked as plain markdown", ""
    missed = _site_elsewhere(root)
    if missed:
        name, config = missed
        folder = os.path.dirname(config) or "."
        return (f"no site profile detected from {code(checked)}, yet {config} is a {name} site: its links would be "
                "checked as plain markdown, not as the site publishes them",
                f"In the {code(entry.name)} entry, check the site's folder (`- args: --offline {folder}`), "
                f"or say `--site none` if that site is not what the loop edits.")
    return "no documentation site (links checked as plain markdown, as GitHub shows them)", ""


def _auto(paths: tuple[str, ...], root: str) -> str:
    try:
        profile = links.site_profile("auto", paths, root)
    except _sites.ConfigError:
        return ""
    return f"{profile.name} from {profile.config}" if profile.config else ""


def _site_elsewhere(root: str) -> tuple[str, str] | None:
    """A generator's config at the repository root or in one of its top-level folders (where sites
    live: `docs/`, `website/`, `book/`), found by the gate's own detection. Hidden folders and
    `node_modules` are not sites."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return None
    folders = [root] + [os.path.join(root, n) for n in names if not n.startswith((".", "_"))
                        and n != "node_modules" and os.path.isdir(os.path.join(root, n))]
    name, config = _sites.detect(folders)
    return (name, os.path.relpath(config, root).replace(os.sep, "/")) if name else None


def links_entries(checklist: dict[str, dict[str, Any]], loop_dir: str) -> list[LinksEntry]:
    """Each checklist entry that runs the links gate, with the --site and paths it will run with."""
    entries = [(name, entry) for name, entry in checklist.items() if str(entry.get("gate", "")) == links.NAME]
    if not entries:
        return []
    try:
        configured = load_config(loop_dir).section("gates").get(links.NAME, {})
    except ConfigError:
        configured = {}  # `loopgate check` reports a broken [tool.loopgate]; the audit goes on without it
    default_site = str(configured.get("site", "auto")) if isinstance(configured, dict) else "auto"
    default_paths = configured.get("paths", ()) if isinstance(configured, dict) else ()
    out = []
    for name, entry in entries:
        try:
            site, paths = _given(shlex.split(str(entry.get("args", ""))))
        except ValueError:
            continue  # not shell words: `gates-runnable` and `loopgate check` say so
        paths += tuple(str(p) for p in entry.get("paths", []) or [])
        if not paths and isinstance(default_paths, list | tuple):
            paths = tuple(str(p) for p in default_paths)
        out.append(LinksEntry(name, site or default_site, paths))
    return out


def _given(argv: list[str]) -> tuple[str, tuple[str, ...]]:
    """`--site` and the positional paths in a links entry's `args:`, read by the gate's own option
    table (links.Options): an option that is not a flag takes the next word as its value."""
    hints = typing.get_type_hints(links.Options)
    takes_value: set[str] = set()
    for field in records.fields(links.Options):
        if field.metadata.get("argument") or hints[field.name] is bool:
            continue
        takes_value.add(field.metadata.get("flag") or "--" + field.name.replace("_", "-"))
    site, paths = "", []
    words = iter(argv)
    for word in words:
        if word == "--":
            paths += list(words)
            break
        option, equals, value = word.partition("=")
        if option in takes_value:
            value = value if equals else next(words, "")
            if option == "--site":
                site = value
        elif not word.startswith("-") or word == "-":
            paths.append(word)
    return site, tuple(paths)
