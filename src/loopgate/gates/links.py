"""Fail when a markdown link is broken: a missing file, a missing anchor, or a dead URL.

Checked in every `*.md` and `*.markdown` file under the given paths (default `.`; in a git
work tree, files git ignores are skipped, elsewhere hidden directories and `node_modules`):
inline links and images, reference-style definitions, autolinks, bare `https://` URLs that
GitHub links, and raw HTML `<a href>` and `<img src>`. Code blocks and code spans are not
links. A local link must name an existing file or directory (relative to the file, or to
the repository root when it starts with `/`; `%20` and other escapes are decoded). A
`#anchor` must exist in the target markdown file: a heading's GitHub slug (lowercase,
punctuation but `-` and `_` dropped, spaces to `-`, repeated headings `-1`, `-2`, ...; setext
headings too) or an explicit HTML `id`/`name`. Each finding is at the line and column of the
link's destination and says why, with a "did you mean" when something close exists.

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

Examples:

    loopgate gate links --offline docs
    loopgate gate links README.md docs --exclude 'docs/archive/**'
    loopgate gate links --accept 200-299 --accept 403 --ignore '^https://example\\.com/'
"""

from __future__ import annotations

import contextlib
import difflib
import os
import pickle
import re
import stat
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from loopgate import codes
from loopgate.findings import Finding, Severity
from loopgate.gates import _http, _mdlinks
from loopgate.gates._changes import BAD_PATTERN
from loopgate.gates._patterns import RuleSet, rules_from_values
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt, verdict

NAME = "links"
SHARED_CODES = (BAD_PATTERN, codes.UNREADABLE)
E = Severity.ERROR

MISSING_FILE = codes.define(
    "LG441", "link-target-not-found", E, "A local link points to a file that does not exist.",
    "The link's destination, read relative to the file that holds it (or to the repository root when it "
    "starts with `/`), with `%20`-style escapes decoded, names no file or directory. On GitHub the link "
    "leads to a 404 page.",
    "Fix the path (the message suggests a close name when there is one), or restore the file.",
)
MISSING_ANCHOR = codes.define(
    "LG442", "anchor-not-found", E, "A `#anchor` names no heading or id in the target file.",
    "Anchors are GitHub's heading slugs: the heading text lowercased, punctuation other than `-` and `_` "
    "removed, spaces turned into `-`; a repeated heading gets `-1`, `-2`, ... Explicit HTML `id=` and "
    "`<a name=>` count too. The target file has none with this name, so the link opens the page at the top.",
    "Use the slug of the heading as it is now (the message suggests a close one), or add `<a id=\"...\"></a>`.",
)
BROKEN_URL = codes.define(
    "LG443", "url-broken", E, "An http(s) link does not answer with an accepted status.",
    "The URL answered with a status outside `--accept` (after following redirects and retrying 429, 5xx "
    "and timeouts), or could not be reached at all: connection refused, a host name that does not "
    "resolve, a TLS error, or no answer within `--request-timeout`.",
    "Fix or replace the URL. If the site refuses robots or rate-limits, accept its status with `--accept`, "
    "or skip the URL with `--ignore REGEX`.",
)
PATH_NOT_FOUND = codes.define(
    "LG444", "links-path-not-found", E, "A path given to the links gate does not exist.",
    "The gate was asked to check a file or directory that is not there, so it could not check it (exit 2).",
    "Check the path; paths are relative to the working directory.",
    input_error=True,
)
UNREADABLE = codes.define(
    "LG445", "markdown-unreadable", E, "A markdown file could not be read.",
    "The file exists but could not be read, is binary (it holds a NUL byte, which no markdown file does), "
    "or is not UTF-8 text, so its links were not checked. The gate does not pass a file it has not looked "
    "at: the finding fails the run, and the summary counts the files not read.",
    "Make the file readable and save it as UTF-8 text; if it is not markdown, rename it or leave it out "
    "with `--exclude`.",
)
BAD_OPTION = codes.define(
    "LG446", "links-bad-option", E, "An option of the links gate cannot be used.",
    "An `--accept` value is not a status or range of statuses (100-599), an `--ignore` pattern (or a line "
    "of the ignore file) is not a valid regular expression, the ignore file cannot be read, or a number is "
    "out of range. Nothing was checked (exit 2).",
    "Fix the option: `--accept 200-299 --accept 403`, `--ignore '^https://example\\.com/'`.",
    input_error=True,
)
NETWORK_DOWN = codes.define(
    "LG447", "network-unavailable", E, "No external link could be reached at all: the network looks down.",
    "Every http(s) request failed because a host name did not resolve or the network was unreachable, and "
    "none got any answer. That says more about the machine than the links, so the gate reports an "
    "environment error (exit 2) instead of failing every URL.",
    "Restore the network (or DNS), or check local links only with `--offline`.",
)

DEFAULT_IGNORE_FILE = ".loopgate-links-ignore"
_MARKDOWN = (".md", ".markdown")
_SKIP_DIRS = frozenset({"node_modules", "__pycache__"})
_EXTERNAL = re.compile(r"(?:https?:)?//", re.I)
_LINE_ANCHOR = re.compile(r"L\d+(?:-L\d+)?$")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# "Did you mean" compares a wrong name with every candidate (difflib, a few µs each): with
# thousands of headings and thousands of broken anchors that was quadratic (3,000 x 3,000: two
# minutes). A run spends at most this many comparisons (about a second at worst, when every
# candidate is close); after that, messages go without one.
SUGGESTION_BUDGET = 50_000
_POOL_MIN_BYTES = 2 * 1024 * 1024  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
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
    accept: tuple[str, ...] = field(default=(), metadata=opt(
        "HTTP statuses that mean a link works, e.g. 200-299 or 403 (repeatable; default: 200-299).",
        metavar="CODES"))
    # Not `timeout`: a checklist's `timeout:` bounds a whole gate run, this one HTTP request.
    request_timeout: float = field(default=10.0, metadata=opt(
        "Seconds to wait for the answer to each HTTP request; no answer in time is a broken link.",
        metavar="SECONDS"))
    retries: int = field(default=2, metadata=opt(
        "Retries after a 429, a 5xx or a timeout.", metavar="N"))
    backoff: float = field(default=1.0, metadata=opt(
        "Seconds before the first retry, doubled for each next one (Retry-After wins when longer).",
        metavar="SECONDS"))
    max_retry_wait: float = field(default=30.0, metadata=opt(
        "The longest wait before a retry; a longer Retry-After is a failure.", metavar="SECONDS"))
    # 64 and 8: see the module docstring and bench/links.md (a tree that links to many hosts is
    # bound by the first, one that links to one host by the second, kept low for politeness).
    concurrency: int = field(default=64, metadata=opt(
        "Requests in flight at once, over all hosts.", metavar="N"))
    per_host: int = field(default=8, metadata=opt(
        "Requests in flight at once to any one host (kept low: busy hosts answer bursts with 429).",
        metavar="N"))
    cache_file: str = field(default="", metadata=opt(
        "Where to cache URLs that answered well (default: $XDG_CACHE_HOME/loopgate/links.json).",
        metavar="FILE"))
    cache_ttl: int = field(default=86400, metadata=opt(
        "Seconds a cached good answer is trusted; 0 turns the cache off.", metavar="SECONDS"))
    jobs: int = field(default=0, metadata=opt(
        "Processes that parse markdown (0: one per CPU; 1: no worker processes).", metavar="N"))


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


@dataclass
class _Plan:
    """The parsed options: what to check and how."""

    ignore: list[re.Pattern[str]]
    excluded: RuleSet
    settings: _http.Settings


@dataclass
class _Tally:
    files: int = 0
    unreadable: int = 0  # files named *.md that could not be read, binary or not UTF-8 (each an LG445)
    not_regular: int = 0  # FIFOs, devices, sockets named *.md found in directories: skipped, never opened
    links: int = 0
    local: int = 0
    external: int = 0
    cached: int = 0
    unreached: int = 0  # URLs not judged because the network was down
    cache_problem: str = ""
    not_checked: Counter[str] = field(default_factory=Counter)


@dataclass
class _Run:
    """Everything one run knows: the files, their parses, and the answers to the questions asked so far."""

    cwd: str
    root: str
    parsed: dict[str, _mdlinks.Parsed] = field(default_factory=dict)  # by absolute path
    exists: dict[str, bool] = field(default_factory=dict)
    resolved: dict[tuple[str, str], str] = field(default_factory=dict)
    tally: _Tally = field(default_factory=_Tally)
    # Comparisons "did you mean" may still make (read at each run, so a test can lower it).
    suggestions_left: int = field(default_factory=lambda: SUGGESTION_BUDGET)
    listings: dict[str, list[str]] = field(default_factory=dict)
    anchor_sets: dict[str, frozenset[str]] = field(default_factory=dict)

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
        close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=cutoff)
        return close[0] if close else None

    def shown(self, full: str) -> str:
        rel = os.path.relpath(full, self.cwd)
        return rel.replace(os.sep, "/")

    def resolve(self, full: str, path: str) -> str:
        """The absolute path a link's path part names, from the file `full` (cached: links repeat)."""
        key = (full, path)
        resolved = self.resolved.get(key)
        if resolved is None:
            decoded = unquote(path) if "%" in path else path
            start = self.root if decoded.startswith("/") else os.path.dirname(full)
            resolved = self.resolved[key] = os.path.normpath(os.path.join(start, decoded.lstrip("/")))
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
        return parsed


def run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    plan, problems = _plan(options, context)
    if problems:
        return _error(problems, timer)
    files, not_regular, problems = _collect(options.paths or (".",), context, plan.excluded)
    if problems:
        return _error(problems, timer)
    state = _Run(os.path.abspath(context.cwd), _root(context.cwd))
    state.parsed.update(_parse_all(files, options.jobs))
    state.tally.files = len(files)
    state.tally.not_regular = not_regular
    findings: list[Finding] = []
    external: dict[str, list[tuple[str, _mdlinks.Link]]] = {}
    for full in files:
        findings += _check_file(full, state, plan, external, options.offline)
    down = ""
    if external and not options.offline:
        checked, down = _check_external(external, plan.settings, state)
        findings += checked
    findings.sort(key=lambda f: (f.path, f.line, f.column))
    summary = _summary(state.tally, len(external), options.offline, findings)
    if down:
        return GateResult(NAME, GateStatus.ERROR, findings, timer.elapsed(), summary, reason=down)
    return GateResult(NAME, verdict(findings), findings, timer.elapsed(), summary)


def _error(problems: list[Finding], timer: Timer) -> GateResult:
    return GateResult(NAME, GateStatus.ERROR, problems, timer.elapsed(), summary="nothing checked",
                      reason="; ".join(p.message for p in problems))


# -- options ------------------------------------------------------------------------------------


def _plan(options: Options, context: GateContext) -> tuple[_Plan, list[Finding]]:
    problems: list[Finding] = []
    excluded = RuleSet(rules_from_values(options.exclude, "--exclude"), BAD_PATTERN)
    problems += excluded.problems
    patterns = [(p, "--ignore") for p in options.ignore] + _ignore_file(options.ignore_file, context.cwd, problems)
    ignore: list[re.Pattern[str]] = []
    for pattern, origin in patterns:
        try:
            ignore.append(re.compile(pattern))
        except re.error as err:
            problems.append(BAD_OPTION.at(".", 1, 1, f"{origin} '{pattern}' is not a regular expression: {err}"))
    try:
        accepted = _http.parse_statuses(options.accept or ("200-299",))
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
    cache_file = options.cache_file and os.path.join(context.cwd, options.cache_file)
    settings = _http.Settings(
        accepted, options.request_timeout, options.retries, options.backoff, options.max_retry_wait,
        options.concurrency, options.per_host, cache_file or _http.default_cache_file(), float(options.cache_ttl))
    return _Plan(ignore, excluded, settings), problems


def _ignore_file(name: str, cwd: str, problems: list[Finding]) -> list[tuple[str, str]]:
    if not name:
        return []
    path = os.path.join(cwd, name)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        if name != DEFAULT_IGNORE_FILE:
            problems.append(BAD_OPTION.at(name, 1, 1, f"ignore file {name} not found"))
        return []
    except (OSError, UnicodeDecodeError) as err:
        problems.append(BAD_OPTION.at(name, 1, 1, f"cannot read ignore file {name}: {err}"))
        return []
    return [(line.strip(), f"{name}:{number}") for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


# -- files --------------------------------------------------------------------------------------


def _collect(paths: Iterable[str], context: GateContext,
             excluded: RuleSet) -> tuple[list[str], int, list[Finding]]:
    """Absolute paths of the markdown files to check, each once, in a stable order; and how many
    files that are not regular files (FIFOs, devices, sockets) the directories held."""
    found: dict[str, None] = {}
    not_regular = 0
    problems: list[Finding] = []
    base = os.path.abspath(context.cwd)
    for given in paths:
        full = os.path.normpath(os.path.join(base, given))
        mode = _mode(full)
        if stat.S_ISDIR(mode):
            files, skipped = _markdown_under(full, context.env)
            found.update(dict.fromkeys(files))
            not_regular += skipped
        elif stat.S_ISREG(mode):
            found[full] = None
        elif mode:  # reading a FIFO waits for a writer forever; a device may never end
            problems.append(codes.UNREADABLE.at(given, 1, 1, f"{given}: not a regular file (a FIFO, device or "
                                                "socket); the links gate never opens one"))
        else:
            problems.append(PATH_NOT_FOUND.at(given, 1, 1, f"{given}: no such file or directory"))
    if excluded.rules:
        found = {f: None for f in found
                 if not excluded.included(os.path.relpath(f, base).replace(os.sep, "/"))}
    return list(found), not_regular, problems


def _mode(full: str) -> int:
    """`st_mode` of what `full` names (symlinks followed); 0 when nothing is there."""
    try:
        return os.stat(full).st_mode
    except (OSError, ValueError):
        return 0


def _markdown_under(directory: str, env: dict[str, str] | None = None) -> tuple[list[str], int]:
    """The markdown files under `directory`, and how many other things named *.md were skipped."""
    names = _git_listed(directory, env)
    if names is None:
        names = []
        for top, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
            names += [os.path.join(top, n) for n in sorted(files) if n.lower().endswith(_MARKDOWN)]
    regular, skipped = [], 0
    for full in names:
        mode = _mode(full)
        if stat.S_ISREG(mode) or not mode:  # gone or a broken link: reported as unreadable when read
            regular.append(full)
        elif not stat.S_ISDIR(mode):
            skipped += 1
    return regular, skipped


def _git_listed(directory: str, env: dict[str, str] | None) -> list[str] | None:
    """Markdown files git tracks or would track under `directory` (ignored ones left out); None outside git.

    git lists no FIFO or device it does not track; a tracked file replaced by one is listed and
    then skipped (and counted) by the caller.
    """
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate", "--",
             "*.md", "*.markdown", "*.MD", "*.Md", "*.MARKDOWN"],
            cwd=directory, env=env, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    names = sorted({n for n in os.fsdecode(done.stdout).split("\0") if n})
    return [os.path.normpath(os.path.join(directory, n)) for n in names
            if os.path.lexists(os.path.join(directory, n))]  # deleted but still in the index: gone


def _root(cwd: str) -> str:
    """Where `/path` links start: the repository root, or the working directory outside git."""
    here = os.path.abspath(cwd)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def _parse_all(files: list[str], jobs: int) -> dict[str, _mdlinks.Parsed]:
    """Parse every file; on a large tree, worker processes take a share each while this one parses its own."""
    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(files) < 2 * workers or _total_size(files) < _POOL_MIN_BYTES:
        return {f: _mdlinks.parse_file(f) for f in files}
    shares = [files[i::workers] for i in range(workers)]
    threads = [_Worker(share) for share in shares[1:]]
    for thread in threads:
        thread.start()
    parsed = {f: _mdlinks.parse_file(f) for f in shares[0]}
    for thread in threads:
        thread.join()
        parsed.update(thread.parsed)
    return parsed


class _Worker(threading.Thread):
    """`python -m loopgate.gates._mdlinks` over one share of the files, falling back to parsing here.

    A plain subprocess rather than multiprocessing: no fork of a process that holds threads
    (`loopgate check` runs gates in a thread pool), and no re-import of the caller's `__main__`.
    """

    def __init__(self, files: list[str]) -> None:
        super().__init__(daemon=True)
        self.files = files
        self.parsed: dict[str, _mdlinks.Parsed] = {}

    def run(self) -> None:
        rows: list[_mdlinks.Row] | None = None
        try:
            done = subprocess.run([sys.executable, "-m", "loopgate.gates._mdlinks"],
                                  input=b"\0".join(os.fsencode(f) for f in self.files), capture_output=True,
                                  check=False, timeout=600)
            if done.returncode == 0:
                rows = pickle.loads(done.stdout)  # our own child wrote it
        except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError):
            rows = None
        if rows is None or len(rows) != len(self.files):
            self.parsed = {f: _mdlinks.parse_file(f) for f in self.files}
        else:
            self.parsed = {f: _mdlinks.from_row(row) for f, row in zip(self.files, rows, strict=True)}


def _total_size(files: list[str]) -> int:
    total = 0
    for full in files:
        with contextlib.suppress(OSError):
            total += os.path.getsize(full)
        if total >= _POOL_MIN_BYTES:
            break
    return total


# -- local links --------------------------------------------------------------------------------


def _check_file(full: str, state: _Run, plan: _Plan, external: dict[str, list[tuple[str, _mdlinks.Link]]],
                offline: bool) -> Iterator[Finding]:
    parsed = state.parsed[full]
    shown = state.shown(full)
    if parsed.error:
        state.tally.unreadable += 1
        yield UNREADABLE.at(shown, 1, 1, f"{shown}: {parsed.error}; its links were not checked")
        return
    tally = state.tally
    for link in parsed.links:
        tally.links += 1
        target = link.target.strip()
        if link.line in parsed.disabled:
            tally.not_checked["turned off by a loopgate: disable comment"] += 1
        elif plan.ignore and any(p.search(target) for p in plan.ignore):
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
            tally.local += 1
            yield from _check_local(full, shown, link, target, state)


def _check_local(full: str, shown: str, link: _mdlinks.Link, target: str, state: _Run) -> Iterator[Finding]:
    path, _, fragment = target.partition("#")
    path, query, _ = path.partition("?")
    if query and _LINE_ANCHOR.match(fragment):  # `x.md?plain=1#L3`: a line of the source view
        state.tally.not_checked["line anchors"] += 1
        fragment = ""
    if path:
        resolved = state.resolve(full, path)
        if not state.is_file(resolved):
            yield MISSING_FILE.at(shown, link.line, link.column, _missing_file(link.target, resolved, state))
            return
    else:
        resolved = full
    if not fragment:
        return
    parsed = state.parsed.get(resolved)
    if parsed is None and (not resolved.lower().endswith(_MARKDOWN) or os.path.isdir(resolved)):
        state.tally.not_checked["anchors in files that are not markdown"] += 1
        return
    parsed = parsed or state.anchors(resolved)
    if parsed.error:
        state.tally.not_checked["anchors in unreadable files"] += 1
        return
    anchor = unquote(fragment)
    if not _has_anchor(state.anchor_set(resolved, parsed), anchor):
        where = "this file" if resolved == full else state.shown(resolved)
        message = f"{target}: anchor #{anchor} not found in {where}"
        close = state.closest(anchor.lower(), parsed.anchors, 0.6)
        if close is not None:
            message += f"; did you mean #{close}?"
        yield MISSING_ANCHOR.at(shown, link.line, link.column, message)


def _has_anchor(anchors: frozenset[str], anchor: str) -> bool:
    if not anchor or anchor == "top":  # `#` and `#top` go to the top of the page (HTML standard)
        return True
    anchor = anchor.removeprefix("user-content-")
    # GitHub finds `#Install` too: its page script retries an anchor lowercased.
    return anchor in anchors or anchor.lower() in anchors


def _missing_file(written: str, resolved: str, state: _Run) -> str:
    message = f"{written}: file not found: {state.shown(resolved)}"
    if not state.suggestions_left:
        return message
    directory = os.path.dirname(resolved)
    while directory and not os.path.isdir(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return message
        directory = parent
    names = state.listing(directory)
    wanted = os.path.relpath(resolved, directory).split(os.sep)[0]
    close = state.closest(wanted, names, 0.8)
    if close is not None:
        message += f"; did you mean {state.shown(os.path.join(directory, close))}?"
    return message


# -- external links -----------------------------------------------------------------------------


def _check_external(external: dict[str, list[tuple[str, _mdlinks.Link]]], settings: _http.Settings,
                    state: _Run) -> tuple[list[Finding], str]:
    """Findings for the URLs that failed, and the reason when the network itself looks down ("" if not)."""
    checker = _http.Checker(settings)
    results = checker.check_all(external)
    failed = [o for o in results.values() if not o.ok]
    state.tally.cached = sum(1 for o in results.values() if o.cached)
    state.tally.cache_problem = checker.cache_problem
    if network_down(list(results.values())):
        shown, link = external[failed[0].url][0]
        kinds = " / ".join(_http.describe(k) for k in sorted({o.kind for o in failed}))
        asked = len(failed)
        reason = (f"network unavailable: all {asked} external URL{'s' if asked != 1 else ''} asked failed "
                  f"({kinds}); use --offline to check local links only")
        state.tally.unreached = asked
        return [NETWORK_DOWN.at(shown, link.line, link.column, reason)], reason
    findings = []
    for outcome in failed:
        text = outcome.reason
        if outcome.redirects:
            count = len(outcome.redirects)
            text += f" after {count} redirect{'s' if count != 1 else ''} (via {' -> '.join(outcome.redirects)})"
        for shown, link in external[outcome.url]:
            findings.append(BROKEN_URL.at(shown, link.line, link.column, f"{link.target}: {text}"))
    return findings, ""


def network_down(outcomes: list[_http.Outcome]) -> bool:
    """Every URL asked failed, and every failure was a name that did not resolve or an unreachable network.

    One refused connection, one timeout, one HTTP answer of any status, or one success means the
    network works, and the failures are the links' own. Answers from the cache say nothing about
    the network now, so they do not count either way.
    """
    asked = [o for o in outcomes if not o.cached]
    return bool(asked) and all(not o.ok and o.kind in _http.NETWORK_LEVEL for o in asked)


def _summary(tally: _Tally, unique: int, offline: bool, findings: list[Finding]) -> str:
    def n(count: int, word: str) -> str:
        return f"{count:,} {word}{'' if count == 1 else 's'}"

    text = f"{n(tally.links, 'link')} in {n(tally.files, 'file')}: {tally.local:,} local checked"
    if tally.external:
        if offline:
            text += f", {tally.external:,} external not checked (--offline)"
        elif tally.unreached:
            text += (f", {tally.external:,} external: {tally.cached:,} URLs good in the cache, {tally.unreached:,} "
                     "not checked (network unavailable)")
        else:
            text += f", {tally.external:,} external checked ({n(unique, 'unique URL')}, {tally.cached:,} from cache)"
    if tally.not_checked:
        text += "; not checked: " + ", ".join(f"{count:,} {why}" for why, count in sorted(tally.not_checked.items()))
    if tally.unreadable:
        text += f"; {n(tally.unreadable, 'file')} not read: unreadable, binary or not UTF-8"
    if tally.not_regular:
        text += f"; {n(tally.not_regular, 'file')} named *.md not read: not a regular file (FIFO, device, socket)"
    broken = sum(1 for f in findings if f.code in (MISSING_FILE.code, MISSING_ANCHOR.code, BROKEN_URL.code))
    text += f"; {n(broken, 'broken link')}" if broken else "; none broken"
    if tally.cache_problem:
        text += f"; {tally.cache_problem}"
    return text
