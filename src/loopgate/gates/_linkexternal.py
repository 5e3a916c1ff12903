"""The links gate's external half and its one-line summary: the failed URLs as findings, whether
the network itself looks down, and what was checked (split from links.py, which plans and walks)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from loopgate.findings import Finding
from loopgate.gates._linkcodes import BROKEN_URL, CACHE_UNUSABLE, MISSING_ANCHOR, MISSING_FILE, NETWORK_DOWN
from loopgate.gates._linklocal import Run, Tally
from loopgate.gates._redact import redact_url

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from loopgate.gates import _http, _mdlinks

# _http (its settings, the checker, requests behind it) is imported by the run that asks the
# network: an --offline run, the pre-commit hook's, pays for none of it.

# -- external links -----------------------------------------------------------------------------


def check_external(external: dict[str, list[tuple[str, _mdlinks.Link]]], settings: _http.Settings,
                    state: Run) -> tuple[list[Finding], str]:
    """Findings for the URLs that failed, and the reason when the network itself looks down ("" if not)."""
    from loopgate.gates import _http  # noqa: PLC0415  (see above)

    checker = _http.Checker(settings)
    results = checker.check_all(external)
    failed = [o for o in results.values() if not o.ok]
    state.tally.cached = sum(1 for o in results.values() if o.cached)
    state.tally.cache_problem = checker.cache_problem
    findings = [_cache_warning(settings.cache_file, checker.cache_problem, state)] if checker.cache_problem else []
    if network_down(list(results.values())):
        shown, link = external[failed[0].url][0]
        kinds = " / ".join(_http.describe(k) for k in sorted({o.kind for o in failed}))
        asked = len(failed)
        reason = (f"network unavailable: all {asked} external URL{'s' if asked != 1 else ''} asked failed "
                  f"({kinds}); use --offline to check local links only")
        state.tally.unreached = asked
        return [*findings, NETWORK_DOWN.at(shown, link.line, link.column, reason)], reason
    for outcome in failed:
        text = outcome.reason
        if outcome.redirects:
            count = len(outcome.redirects)
            text += f" after {count} redirect{'s' if count != 1 else ''} (via {' -> '.join(outcome.redirects)})"
        for shown, link in external[outcome.url]:
            findings.append(BROKEN_URL.at(shown, link.line, link.column, f"{redact_url(link.target)}: {text}"))
    return findings, ""


def _cache_warning(path: str, problem: str, state: Run) -> Finding:
    """LG484 at the cache file: as a relative path when it is under the working directory, else as it is."""
    full = os.path.abspath(path)
    inside = not os.path.relpath(full, state.cwd).startswith("..")
    return CACHE_UNUSABLE.at(state.shown(full) if inside else full, 1, 1, problem)


def network_down(outcomes: list[_http.Outcome]) -> bool:
    """Every URL asked failed, and every failure was a name that did not resolve or an unreachable network.

    One refused connection, one timeout, one HTTP answer of any status, or one success means the
    network works, and the failures are the links' own. Answers from the cache say nothing about
    the network now, so they do not count either way.
    """
    from loopgate.gates._http import NETWORK_LEVEL  # noqa: PLC0415  (loaded by whoever made the outcomes)

    asked = [o for o in outcomes if not o.cached]
    return bool(asked) and all(not o.ok and o.kind in NETWORK_LEVEL for o in asked)


def summarize(tally: Tally, unique: int, offline: bool, findings: list[Finding]) -> str:
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
    if tally.unchecked:
        text += f"; {n(tally.unchecked, 'link')} only the built site can resolve (unchecked, LG482)"
    if tally.not_checked:
        text += "; not checked: " + ", ".join(f"{count:,} {why}" for why, count in sorted(tally.not_checked.items()))
    if tally.unreadable:
        text += f"; {n(tally.unreadable, 'file')} not read: unreadable, binary or not UTF-8"
    if tally.outside:
        text += f"; {n(tally.outside, 'file')} named *.md not read: a symlink out of the repository"
    if tally.not_regular:
        text += f"; {n(tally.not_regular, 'file')} named *.md not read: not a regular file (FIFO, device, socket)"
    broken = sum(1 for f in findings if f.code in (MISSING_FILE.code, MISSING_ANCHOR.code, BROKEN_URL.code))
    text += f"; {n(broken, 'broken link')}" if broken else "; none broken"
    if tally.cache_problem:
        text += f"; {tally.cache_problem}"
    return text


def parse_statuses(values: Iterable[str]) -> frozenset[int]:
    """`200-299`, `403`, `200,301` -> the set of codes; ValueError on anything else."""
    codes: set[int] = set()
    for value in values:
        for part in value.replace(" ", "").split(","):
            if not part:
                continue
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
            if not 100 <= first <= last <= 599:
                raise ValueError(f"'{part}' is not an HTTP status or range of statuses (100-599)")
            codes.update(range(first, last + 1))
    return frozenset(codes)
