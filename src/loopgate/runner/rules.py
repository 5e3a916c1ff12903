"""The spec's and the policy's prose, read into rules a machine can apply.

The artifacts stay human-first ("the issue is labeled maintenance", "the same item failed
twice before"), so the common phrasings are recognised here, and explicit keys
(`- required labels: maintenance` in Inputs, `- max files: 5` in Scope) always win.
"""

from __future__ import annotations

import re
from typing import Any

from loopgate.records import field, record

_NUMBERS = {"one": 1, "once": 1, "two": 2, "twice": 2, "three": 3, "thrice": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUMBER = r"(\d+|" + "|".join(_NUMBERS) + r")"
_STOP = {"the", "a", "an", "or", "and", "of", "to", "in", "on", "any", "changes", "change", "code", "files", "flow"}


def number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


@record(frozen=True)
class Category:
    """An always-escalate category: matched on labels, keywords in the title/body, and paths."""

    name: str
    keywords: tuple[tuple[str, ...], ...]  # each phrase: all its words must appear
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    def matches(self, labels: tuple[str, ...], text: str, paths: tuple[str, ...]) -> str | None:
        """The reason this category catches an item, or None."""
        lowered = {label.lower() for label in labels}
        for label in self.labels or (self.name.lower(),):
            if label.lower() in lowered:
                return f"labeled '{label}'"
        tokens = re.findall(r"[a-z0-9]+", text.lower())
        for phrase in self.keywords:
            if phrase and all(any(t.startswith(_stem(w)) for t in tokens) for w in phrase):
                return f"mentions '{' '.join(phrase)}'"
        if self.paths and paths:
            from pathspec import GitIgnoreSpec  # noqa: PLC0415 - only when a category has paths

            spec = GitIgnoreSpec.from_lines(self.paths)
            hit = next((p for p in paths if spec.match_file(p)), None)
            if hit:
                return f"touches '{hit}'"
        return None


def _stem(word: str) -> str:
    # "payments" ~ "payment", "deletion" ~ "delete": a short common prefix is enough, and a
    # false match only escalates (the safe direction).
    return word[: max(4, len(word) - 3)]


def phrases(text: str) -> tuple[tuple[str, ...], ...]:
    parts = re.split(r",|\bor\b|\band\b|/", text.lower())
    out = []
    for part in parts:
        words = tuple(w for w in re.findall(r"[a-z0-9]+", part) if w not in _STOP)
        if words:
            out.append(words)
    return tuple(out)


def _list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in str(value or "").split(",") if p.strip())


def category(entry: Any) -> Category:
    if isinstance(entry, dict):
        name = str(entry.get("name", ""))
        keywords = phrases(name) + tuple(phrases(", ".join(_list(entry.get("keywords")))))
        return Category(name, keywords, _list(entry.get("labels")), _list(entry.get("paths")))
    return Category(str(entry), phrases(str(entry)))


def _text_of(rule: Any) -> str:
    return str(rule.get("name", "")) if isinstance(rule, dict) else str(rule)


@record(frozen=True)
class Rules:
    required_labels: tuple[str, ...] = ()
    max_files: int | None = None
    max_failures: int = 2  # "the same item failed twice before"
    baseline: bool = False  # "required tests ... failing before the change starts"
    no_progress_attempts: int = 2  # "no progress across two consecutive attempts"
    categories: tuple[Category, ...] = field(default_factory=tuple)
    allowed_paths: tuple[str, ...] = ()  # the spec's ## Scope, gitignore-style
    # Rules written in prose that no pattern here understands: a person must judge them. The
    # run says so (progress warning, run report) instead of letting them look enforced.
    not_enforced: tuple[str, ...] = ()

    def outside_scope(self, paths: tuple[str, ...]) -> list[str]:
        """The expected paths no allowed pattern covers (all of them fit when no scope is set)."""
        if not self.allowed_paths:
            return []
        from pathspec import GitIgnoreSpec  # noqa: PLC0415

        spec = GitIgnoreSpec.from_lines(self.allowed_paths)
        return [p for p in paths if not spec.match_file(p)]


_LABELED = re.compile(r"label(?:l)?ed\s+(?:as\s+)?[`'\"]?([\w.:/-]+)", re.I)
_CARRIES = re.compile(r"(?:carries|has|bears)\s+(?:the\s+)?[`'\"]?([\w.:/-]+)[`'\"]?\s+label", re.I)


def _may(rule: str, labels: list[str], files: list[int]) -> bool:
    """Apply one `may select` rule; whether the loop understood it."""
    found_labels = [m.group(1) for m in _LABELED.finditer(rule)] + [m.group(1) for m in _CARRIES.finditer(rule)]
    labels += found_labels
    found = re.search(r"(?:below|under|fewer than|less than)\s+" + _NUMBER + r"\s+files", rule, re.I)
    if found:
        files.append(number(found.group(1)) - 1)  # "below five files" allows four
    found_at_most = re.search(r"(?:at most|no more than|up to)\s+" + _NUMBER + r"\s+files", rule, re.I)
    if found_at_most:
        files.append(number(found_at_most.group(1)))
    return bool(found_labels or found or found_at_most)


def _must(rule: str) -> tuple[int | None, bool, Category | None]:
    """One `must skip and escalate` rule: (failures allowed, baseline wanted, category), as understood."""
    found = re.search(r"failed\s+" + _NUMBER + r"(?:\s+times)?\s+before", rule, re.I)
    before_change = re.search(r"fail\w*\s+before\s+the\s+change|already\s+fail", rule, re.I)
    touched = re.search(r"\b(?:touches|involves|changes)\s+(.+)$", rule, re.I)
    return (number(found.group(1)) if found else None, bool(before_change),
            Category(rule, phrases(touched.group(1))) if touched else None)


def read_rules(spec: dict[str, Any], policy: dict[str, Any] | None) -> Rules:
    selection = spec.get("work_selection_rules") or {}
    may = [_text_of(r) for r in selection.get("may_select", [])]
    must = [_text_of(r) for r in selection.get("must_skip_and_escalate", [])]
    stops = [_text_of(r) for r in spec.get("stop_conditions", [])]
    inputs, scope = spec.get("inputs") or {}, spec.get("scope") or {}

    labels = list(_list(inputs.get("required_labels")))
    max_files: int | None = scope.get("max_files") if isinstance(scope.get("max_files"), int) else None
    files: list[int] = []
    understood: list[str] = []
    for rule in may:
        if _may(rule, labels, files):
            understood.append(rule)
    if max_files is None and files:
        max_files = files[0]
    max_failures, baseline = 2, False
    categories: list[Category] = []
    for rule in may:  # "no production secret, billing flow, or deployment setting is involved"
        excluded = re.match(r"\s*no\s+(.+?)\s+(?:is|are)\s+(?:involved|touched|changed)", rule, re.I)
        if excluded:
            categories.append(Category(rule, phrases(excluded.group(1))))
            understood.append(rule)
    for rule in must:
        failures, before_change, touched = _must(rule)
        max_failures = failures if failures is not None else max_failures
        baseline = baseline or before_change
        categories += [touched] if touched is not None else []
        if failures is not None or before_change or touched is not None:
            understood.append(rule)
    no_progress = 2
    for rule in stops:
        found = re.search(r"no progress\s+(?:across|in|for)\s+" + _NUMBER, rule, re.I)
        if found:
            no_progress = number(found.group(1))
    for entry in (policy or {}).get("always_escalate", []):
        categories.append(category(entry))
    return Rules(tuple(dict.fromkeys(labels)), max_files, max_failures, baseline, max(no_progress, 2),
                 tuple(categories), _list(scope.get("allowed_paths")),
                 tuple(r for r in [*may, *must] if r not in understood))
