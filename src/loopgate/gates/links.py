"""Fail when a markdown link is broken: a missing file, a missing anchor, or a dead URL.

Checked in every `*.md` and `*.markdown` file under the given paths (default `.`; in a git
work tree, files git ignores are skipped, elsewhere hidden directories and `node_modules`):
inline links and images, reference-style definitions, autolinks, bare `https://` URLs that
GitHub links, and raw HTML `<a href>` and `<img src>` (a tag may span lines; one in an HTML
comment is no link). Code blocks and code spans are not links; a footnote `[^note]: ...` is not a
reference definition (its links are links), and only the first definition of a label counts,
as in GitHub's renderer (a test holds the links found to the ones cmark-gfm renders). A local
link must name an existing file or directory (relative to the file, or to the repository root
when it starts with `/`; `%20` and other escapes are decoded). A
`#anchor` must exist in the target markdown file: a heading's GitHub slug (github-slugger's:
the heading's rendered text lowercased, punctuation but `-` and `_`, symbols and emoji dropped,
spaces to `-`, repeated headings `-1`, `-2`, ...; a code span keeps its text, so `` `__init__`
method `` is `#__init__-method`; setext headings too), an explicit `{#id}` at the end of a
heading (MkDocs, Pandoc, Jekyll, Hugo, Docusaurus), or an HTML `id`/`name`. Each finding is at
the line and column of the link's destination and says why, with a "did you mean" when something
close exists.

http(s) URLs are checked once each, concurrently: HEAD, then GET if the server refuses HEAD;
redirects followed (the final status counts); each request waits up to `--request-timeout`
seconds (default 10); 429, 5xx and timeouts retried with backoff, honouring `Retry-After` up to
`--max-retry-wait`. Accepted statuses: `--accept` (default 200-299). URLs that answered well
are cached for `--cache-ttl` seconds in `--cache-file` (default
`$XDG_CACHE_HOME/loopgate/links.json`); failures are never cached. `--offline` checks local
links only and says how many external links it did not check.

Concurrency: at most `--concurrency` requests in flight (default 64) and `--per-host` to any
one host (default 8). The per-host default is low on purpose: documentation links mostly to a
few hosts (github.com above all), and those answer a burst from one address with 429s, which
cost retries and waits. It is what bounds a tree whose links all go to one host: 2,000 URLs on
one local server answering in 50 ms take 13.4 s with the defaults and 2.1 s with `--per-host
64 --concurrency 64` (bench/links.md); raise `--per-host` for hosts you own or know to cope.
Spread over 50 hosts, the same URLs take 2.7 s with the defaults.

A refused connection, a name that does not resolve and a timeout are broken links. But when
every external request failed because a name did not resolve or the network was unreachable,
the machine is offline, not the links: the gate reports an environment error (exit 2).

Documentation sites: the generator is found from its own config (`book.toml`, `mkdocs.yml`, `hugo.toml`,
`_config.yml`, `docusaurus.config.js`) and links in its pages are resolved as the built site resolves
them (`x.html` is `x.md`, `page/` is `page.md`, `/a/b/` is `content/a/b.md`, permalinks), anchors
still checked; what only the build can resolve (template code, unknown routes) is listed as LG482,
a warning. `--site none` turns it off; `--remap`, `--fallback-extensions`, `--index-files`,
`--root-dir` and `--base-url` work as lychee's do (gates/_sites/).

Not checked, and counted in the summary: other schemes (`mailto:`, `ftp:`, ...), anchors in
files that are not markdown (`src/app.py#L10`) and in external pages, links matching
`--ignore REGEX` or a line of the ignore file (`.loopgate-links-ignore`, one regex a line),
and links turned off in the text with `<!-- loopgate: disable links -->` ...
`<!-- loopgate: enable links -->`, `<!-- loopgate: disable-next-line links -->` or
`<!-- loopgate: disable-line links -->`. `--exclude PATTERN` (gitignore syntax) leaves whole
files out. Large trees are parsed on every CPU (`--jobs`). A FIFO, device or socket named
`*.md` is never opened (a read could wait forever): skipped and counted in a directory, an
input error (LG002, exit 2) when given by name. A markdown file that cannot be read, is binary
(holds a NUL byte) or is not UTF-8 is not passed unseen: each fails with LG445, and the summary
counts them.

What the gate refuses to follow: a local link whose path leaves the repository (outside git: the
working directory), or that names a symlink leading out of it, is a finding (LG448); the file it
names is never looked at, so `../../../../etc/passwd` existing on the checking machine proves
nothing. A `*.md` file that is a symlink out of the repository is not read (LG449). Credentials
in URLs (userinfo, and `token`, `key`, `secret`, `password`, `sig`, `signature`, `access_token`,
`api_key`, `X-Amz-Signature`-like query parameters, and the secret in the path of Slack, Telegram,
Discord and Teams webhook URLs) are shown as `***` in every message and never written to the
cache. A cache file that is not one (no version header, not JSON, over 64 MB, a symlink, a
directory) is ignored with a warning (LG484), never followed, and replaced by a new file renamed
over it; runs that save at once merge under a lock and lose no entry.

Examples:

    loopgate gate links --offline docs
    loopgate gate links README.md docs --exclude 'docs/archive/**'
    loopgate gate links --accept 200-299 --accept 403 --ignore '^https://example\\.com/'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from loopgate import codes, records
from loopgate.findings import Finding
from loopgate.gates import _mdlinks, _sites
from loopgate.gates._changecodes import BAD_PATTERN
from loopgate.gates._linkcodes import (
    BAD_OPTION,
    BROKEN_URL,
    MISSING_ANCHOR,
    MISSING_FILE,
    NETWORK_DOWN,
    OUTSIDE,
    PATH_NOT_FOUND,
    SITE_CONFIG,
    SYMLINK_OUTSIDE,
    UNCHECKED,
    UNREADABLE,
)
from loopgate.gates._linkexternal import check_external, network_down, parse_statuses, summarize
from loopgate.gates._linkfiles import collect, parse_all, root
from loopgate.gates._linkignore import read_ignore_file
from loopgate.gates._linklocal import Boundary, Run, check_local
from loopgate.gates._redact import escape_controls, redact_text
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict
from loopgate.records import field, record

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

    from loopgate.gates import _http
    from loopgate.gates._patterns import RuleSet

__all__ = ["BAD_OPTION", "BROKEN_URL", "MISSING_ANCHOR", "MISSING_FILE", "NETWORK_DOWN", "OUTSIDE", "PATH_NOT_FOUND",
           "SITE_CONFIG", "SYMLINK_OUTSIDE", "UNCHECKED", "UNREADABLE", "Options", "network_down", "run",
           "site_profile"]

NAME = "links"
SHARED_CODES = (BAD_PATTERN, codes.UNREADABLE)

DEFAULT_IGNORE_FILE = ".loopgate-links-ignore"
_EXTERNAL = re.compile(r"(?:https?:)?//", re.I)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# "Did you mean" compares a wrong name with every candidate (difflib, a few µs each): with
# thousands of headings and thousands of broken anchors that was quadratic (3,000 x 3,000: two
# minutes). A run spends at most this many comparisons (about a second at worst, when every
# candidate is close); after that, messages go without one.
SUGGESTION_BUDGET = 50_000


@record(frozen=True)
class Options:
    paths: tuple[str, ...] = field(default=(), metadata=opt(
        "Markdown files, or directories to search for *.md and *.markdown (default: .).", argument=True))
    offline: bool = field(default=False, metadata=opt(
        "Check local links and anchors only; count the external links that were not checked."))
    exclude: tuple[str, ...] = field(default=(), metadata=opt(
        "Do not check files matching PATTERN (gitignore syntax, relative to the working directory); "
        "repeatable.", metavar="PATTERN"))
    ignore: tuple[str, ...] = field(default=(), metadata=opt(
        "Do not check links whose destination matches REGEX (searched, as written); repeatable.",
        metavar="REGEX"))
    ignore_file: str = field(default=DEFAULT_IGNORE_FILE, metadata=opt(
        "More --ignore regexes, one a line ('#' comments); a missing default file is fine.", metavar="FILE"))
    ignore_file_at: str = field(default="", metadata=opt(
        "Read the ignore file as this commit holds it, not from the working tree. `loopgate gate links` reads "
        "it from the commit its [tool.loopgate.gates.links] table comes from (HEAD; in CI under `loopgate "
        "check`, the change's base), so a change cannot ignore its own broken links.", metavar="REV"))
    accept: tuple[str, ...] = field(default=(), metadata=opt(
        "HTTP statuses that mean a link works, e.g. 200-299 or 403 (repeatable; default: 200-299).",
        metavar="CODES"))
    # Not `timeout`: a checklist's `timeout:` bounds a whole gate run, this one HTTP request.
    request_timeout: float = field(default=10.0, metadata=opt(
        "Seconds to wait for the answer to each HTTP request; no answer in time is a broken link.",
        metavar="SECONDS", maximum=3600))
    retries: int = field(default=2, metadata=opt(
        "Retries after a 429, a 5xx or a timeout.", metavar="N", minimum=0, maximum=100))
    backoff: float = field(default=1.0, metadata=opt(
        "Seconds before the first retry, doubled for each next one (Retry-After wins when longer).",
        metavar="SECONDS", minimum=0, maximum=3600))
    max_retry_wait: float = field(default=30.0, metadata=opt(
        "The longest wait before a retry; a longer Retry-After is a failure.", metavar="SECONDS", minimum=0,
        maximum=86400))
    # 64 and 8: see the module docstring and bench/links.md (a tree that links to many hosts is
    # bound by the first, one that links to one host by the second, kept low for politeness).
    concurrency: int = field(default=64, metadata=opt(
        "Requests in flight at once, over all hosts.", metavar="N", minimum=1, maximum=4096))
    per_host: int = field(default=8, metadata=opt(
        "Requests in flight at once to any one host (kept low: busy hosts answer bursts with 429).",
        metavar="N", minimum=1, maximum=1024))
    cache_file: str = field(default="", metadata=opt(
        "Where to cache URLs that answered well (default: $XDG_CACHE_HOME/loopgate/links.json).",
        metavar="FILE"))
    cache_ttl: int = field(default=86400, metadata=opt(
        "Seconds a cached good answer is trusted; 0 turns the cache off.", metavar="SECONDS",
        minimum=0, maximum=10 * 365 * 86400))
    jobs: int = field(default=0, metadata=opt(
        "Processes that parse markdown (0: one per CPU; 1: no worker processes).", metavar="N",
        minimum=0, maximum=1024))
    # Site profiles and lychee's local-file options: gates/_sites/.
    site: str = field(default="auto", metadata=opt(
        "Resolve links as this documentation site publishes them: auto (detect from its config), none, "
        "mdbook, mkdocs, hugo, jekyll, docusaurus.", metavar="NAME"))
    remap: tuple[str, ...] = field(default=(), metadata=opt(
        "Rewrite links matching REGEX before checking them, as lychee does ('REGEX REPLACEMENT', $1 for a "
        "group; the first matching rule wins); repeatable.", metavar="RULE"))
    fallback_extensions: tuple[str, ...] = field(default=(), metadata=opt(
        "Extensions to try, in order, for a local link that names no file (e.g. md,html); repeatable.",
        metavar="EXT"))
    index_files: tuple[str, ...] = field(default=(), metadata=opt(
        "A link to a directory must find one of these files in it (e.g. index.md,README.md; '.': the "
        "directory itself will do); repeatable.", metavar="NAME"))
    root_dir: str = field(default="", metadata=opt(
        "Where links starting with / are read from (default: the repository root).", metavar="DIR"))
    base_url: str = field(default="", metadata=opt(
        "Your site's published URL: links starting with it are checked as local files from --root-dir.",
        metavar="URL"))


HOOK: dict[str, Any] = {
    "id": "loopgate-links",
    "name": "loopgate links",
    "description": "Local links, images and #anchors in staged markdown files resolve (offline: external URLs "
    "are not checked in the hook).",
    "entry": "loopgate gate links",
    "language": "python",
    "types": ["markdown"],
    "args": ["--offline"],
}


@record
class _Plan:
    """The parsed options: what to check and how."""

    ignore: list[re.Pattern[str]]
    excluded: RuleSet | None  # None without --exclude: compiling no pattern still imported pathspec
    accepted: frozenset[int]
    generic: _sites.Generic
    note: str = ""  # the ignore file not read as the working tree holds it, and why



def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    plan, problems = _plan(options, context)
    if problems:
        return _error(problems, timer)
    boundary = Boundary(root(context.cwd))
    cwd = os.path.abspath(context.cwd)
    site: _sites.Site | None = None
    unreadable = ""
    try:  # first: the site says which files are pages (a Docusaurus site's .mdx)
        site = site_profile(options.site, options.paths, cwd, plan.generic, boundary)
    except _sites.ConfigError as err:
        unreadable = str(err)
    files, not_regular, problems = collect(options.paths or (".",), context, plan.excluded,
                                           site.pages if site else ())
    if problems:
        return _error(problems, timer)
    if site is None:
        return _error([SITE_CONFIG.at(".", 1, 1, unreadable)], timer)
    state = Run(cwd, boundary, SUGGESTION_BUDGET, site, pages=site)
    findings: list[Finding] = []
    files = [f for f in files if not _leaves(f, state, findings)]
    state.parsed.update(parse_all(files, options.jobs))
    for full, parsed in state.parsed.items():  # anchors as the built page has them (MkDocs snippets, ...)
        state.on_site(full, parsed)
        if not parsed.error:
            parsed.links += site.template_links(full, {(link.line, link.column) for link in parsed.links})
    state.tally.files = len(files)
    state.tally.not_regular = not_regular
    external: dict[str, list[tuple[str, _mdlinks.Link]]] = {}
    for full in files:
        findings += _check_file(full, state, plan, external, options.offline, site)
    down = ""
    if external and not options.offline:
        checked, down = check_external(external, _settings(options, plan, context), state)
        findings += checked
    # No credential in a URL reaches any output: userinfo and `?token=`-like values are masked
    # wherever a message quotes a URL (the link, a redirect chain, an error from the HTTP library).
    findings = [_redacted(f) for f in findings]
    findings.sort(key=lambda f: (f.path, f.line, f.column))
    summary = summarize(state.tally, len(external), options.offline, findings)
    if site.config:
        summary = f"site: {site.title} (from {site.config}); {summary}"
    if plan.note:
        summary = f"{summary}; {plan.note}"
    if down:
        return GateResult(NAME, GateStatus.ERROR, findings, timer.elapsed(), summary, reason=redact_text(down))
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


def site_profile(site: str, paths: tuple[str, ...], cwd: str, generic: _sites.Generic | None = None,
                 boundary: Boundary | None = None) -> _sites.Site:
    """The site profile the gate checks links with, for `--site` and the paths it checks from `cwd`
    (the gate and `loopgate readiness` both ask here). Raises _sites.ConfigError."""
    cwd = os.path.abspath(cwd)
    boundary = boundary or Boundary(root(cwd))
    return _sites.load(site, _sites.folders(cwd, boundary.main, paths), boundary, generic or _sites.Generic(),
                       lambda full: os.path.relpath(full, cwd).replace(os.sep, "/"))


def _leaves(full: str, state: Run, findings: list[Finding]) -> bool:
    """Is this file a symlink (or under one) out of its repository? Then it is reported and not read."""
    if state.boundary.really_inside(full, state.boundary.root_of(full)):
        return False
    shown = state.shown(full)
    state.tally.outside += 1
    findings.append(SYMLINK_OUTSIDE.at(shown, 1, 1, f"{shown}: a symlink to a file outside the repository; "
                                       "not followed, its links were not checked"))
    return True


def _redacted(finding: Finding) -> Finding:
    message = escape_controls(redact_text(finding.message))
    return finding if message == finding.message else records.replace(finding, message=message)


def _error(problems: list[Finding], timer: Timer) -> GateResult:
    return GateResult(NAME, GateStatus.ERROR, problems, timer.elapsed(), summary="nothing checked",
                      reason="; ".join(p.message for p in problems))


# -- options ------------------------------------------------------------------------------------


def _plan(options: Options, context: GateContext) -> tuple[_Plan, list[Finding]]:
    problems: list[Finding] = []
    excluded = _excluded(options.exclude)
    problems += excluded.problems if excluded else []
    read, note = read_ignore_file(options.ignore_file, context.cwd, options.ignore_file_at, DEFAULT_IGNORE_FILE,
                                  BAD_OPTION, problems)
    patterns = [(p, "--ignore") for p in options.ignore] + read
    ignore: list[re.Pattern[str]] = []
    for pattern, origin in patterns:
        try:
            ignore.append(re.compile(pattern))
        except re.error as err:
            problems.append(BAD_OPTION.at(".", 1, 1, f"{origin} '{pattern}' is not a regular expression: {err}"))
    try:
        accepted = parse_statuses(options.accept or ("200-299",))
    except ValueError as err:
        problems.append(BAD_OPTION.at(".", 1, 1, f"--accept: {err}"))
        accepted = frozenset()
    numbers = {"--request-timeout": options.request_timeout, "--concurrency": options.concurrency,
               "--per-host": options.per_host}
    problems += [BAD_OPTION.at(".", 1, 1, f"{flag} must be more than 0 (got {value})")
                 for flag, value in numbers.items() if value <= 0]
    negative = {"--retries": options.retries, "--backoff": options.backoff, "--jobs": options.jobs,
                "--cache-ttl": options.cache_ttl, "--max-retry-wait": options.max_retry_wait}
    problems += [BAD_OPTION.at(".", 1, 1, f"{flag} must not be negative (got {value})")
                 for flag, value in negative.items() if value < 0]
    if options.site not in _sites.NAMES:
        problems.append(BAD_OPTION.at(".", 1, 1, f"--site {options.site}: not one of {', '.join(_sites.NAMES)}"))
    generic, wrong = _sites.generic(options.remap, options.fallback_extensions, options.index_files,
                                    options.root_dir, options.base_url, context.cwd)
    problems += [BAD_OPTION.at(".", 1, 1, message) for message in wrong]
    problems += _bad_replacements(options.remap, generic.remaps)
    return _Plan(ignore, excluded, accepted, generic, note), problems


def _settings(options: Options, plan: _Plan, context: GateContext) -> _http.Settings:
    """How to ask the network: built by a run that does (the HTTP module is not imported offline)."""
    from loopgate.gates import _http  # noqa: PLC0415

    cache_file = options.cache_file and os.path.join(context.cwd, options.cache_file)
    return _http.Settings(
        plan.accepted, options.request_timeout, options.retries, options.backoff, options.max_retry_wait,
        options.concurrency, options.per_host, cache_file or _http.default_cache_file(), float(options.cache_ttl))


def _bad_replacements(rules: tuple[str, ...], remaps: tuple[tuple[re.Pattern[str], str], ...]) -> list[Finding]:
    """A --remap replacement that names a group its regex lacks (`$9`, `${x}`) or is otherwise not a
    valid template (a bad escape such as `\\q`): re.sub raises only at
    the first link it matches, so each is tried here on "" (the template is parsed before any
    match), and the rule is a usage error before anything is checked."""
    problems = []
    for pattern, replacement in remaps:
        try:
            pattern.sub(replacement, "")
        except (re.error, IndexError) as err:
            reason = str(err).partition(" at position")[0]  # a position in the translated `\g<9>`: left out
            rule = next((r for r in rules if r.strip().partition(" ")[0] == pattern.pattern), pattern.pattern)
            problems.append(BAD_OPTION.at(".", 1, 1, f"--remap '{rule}': the replacement does not fit "
                                          f"'{pattern.pattern}': {reason}"))
    return problems


def _excluded(patterns: tuple[str, ...]) -> RuleSet | None:
    """The --exclude rules; None without any, so a run that excludes nothing never imports pathspec."""
    if not patterns:
        return None
    from loopgate.gates._patterns import RuleSet, rules_from_values  # noqa: PLC0415

    return RuleSet(rules_from_values(patterns, "--exclude"), BAD_PATTERN)


# -- the links of one file ----------------------------------------------------------------------


def _check_file(full: str, state: Run, plan: _Plan, external: dict[str, list[tuple[str, _mdlinks.Link]]],
                offline: bool, site: _sites.Site) -> Iterator[Finding]:
    parsed = state.parsed[full]
    shown = state.shown(full)
    if parsed.error:
        state.tally.unreadable += 1
        yield UNREADABLE.at(shown, 1, 1, f"{shown}: {parsed.error}; its links were not checked")
        return
    tally = state.tally
    for link in parsed.links:
        tally.links += 1
        target = site.rewrite(link.target.strip())
        if link.line in parsed.disabled:
            tally.not_checked["turned off by a loopgate: disable comment"] += 1
        elif plan.ignore and any(p.search(link.target.strip()) for p in plan.ignore):
            tally.not_checked["ignored by pattern"] += 1
        elif _EXTERNAL.match(target):
            tally.external += 1
            url, hashed, fragment = ("https:" + target if target.startswith("//") else target).partition("#")
            if hashed and fragment and not offline:
                tally.not_checked["anchors in external pages"] += 1
            external.setdefault(url, []).append((shown, link))
        elif _SCHEME.match(target):
            tally.not_checked[f"{target.split(':', 1)[0].lower()}: links"] += 1
        else:
            yield from _check_routed(full, shown, link, target, state, site)


def _check_routed(full: str, shown: str, link: _mdlinks.Link, target: str, state: Run,
                  site: _sites.Site) -> Iterator[Finding]:
    """A local link, as the site profile routes it, on each page that shows it (a file another page
    includes: that page); the findings of the first page it is broken on (else of the first it is
    unchecked on), said to be on that page: one verdict a link."""
    chosen: list[Finding] = []
    for index, (page, how) in enumerate(site.pages_of(full, link.line)):
        found = [records.replace(f, message=_sites.on_page(f.message, how)) if how else f
                 for f in _check_on(page, shown, link, target, state, site, index == 0)]
        if any(f.code != UNCHECKED.code for f in found):
            chosen = found
            break
        chosen = chosen or found
    state.tally.unchecked += sum(f.code == UNCHECKED.code for f in chosen)
    yield from chosen


def _check_on(page: str, shown: str, link: _mdlinks.Link, target: str, state: Run, site: _sites.Site,
              counted: bool) -> Iterator[Finding]:
    """The link read from `page` (counted in the summary once, on its first page)."""
    tally = state.tally
    route = site.route(page, target)
    if route.kind == "unchecked":  # counted by the caller, which picks one page's verdict
        yield UNCHECKED.at(shown, link.line, link.column, f"{link.target}: not checked: {route.why}")
    elif route.kind == "beside":
        if counted:
            tally.not_checked[route.why] += 1
    elif route.kind == "broken":  # the profile knows the built site has nothing there (a Hugo slug)
        tally.local += counted
        yield MISSING_FILE.at(shown, link.line, link.column, f"{link.target}: {route.why}")
    else:
        tally.local += counted
        written = link.target.strip()
        for finding in check_local(page, shown, link, target, state):
            rewritten = target != written
            yield records.replace(finding, message=_sites.as_written(finding.message, written, target)) \
                if rewritten else finding
