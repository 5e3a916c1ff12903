"""Gitignore-style path rules that remember where each pattern came from, matched fast.

Matching is pathspec's `GitIgnoreSpec` (git's own `.gitignore` semantics, including `!`
negation and "the last matching pattern wins"). A gate needs two things pathspec does not
give by itself: which *rule* fired (pattern plus origin, e.g. `LOOP_SPEC.md:61`), and speed
on large change sets. For speed, every pattern is indexed by a literal it cannot match
without: a whole path component (`docs` in `docs/**`) or a file extension (`md` in `*.md`).
A path is then checked only against the patterns whose literal it contains (plus the few
patterns that have none), and when several match, GitIgnoreSpec's ranking decides among
them. The answer is the same as checking every pattern, because a pattern that does not match
a path never influences the result; a property test holds the two to the same answers.

pathspec parses the patterns; the matching itself is `_segmatch`, segment by segment, because
pathspec's regexes backtrack without bound on a crafted path (`**/a/**/b/**/c` against
`a/b/c/a/b/c/...`: minutes), and the path is part of the change being judged.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence

from loopgate._memo import DiskMemo
from loopgate.artifacts.loader import leaves_repository
from loopgate.findings import Finding
from loopgate.gates._segmatch import matcher
from loopgate.records import record

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from loopgate.codes import Code

_GLOB_CHARS = frozenset("*?[\\")
_MAX_PATTERN_FILE = 2 * 1024 * 1024


@record(frozen=True)
class Rule:
    """One pattern and where it came from; `path`/`line`/`column` locate it for findings."""

    pattern: str
    origin: str  # e.g. "--allow", "default (secrets and key files)", "ci/allow.txt:3"
    path: str = ""
    line: int = 1
    column: int = 1

    def describe(self) -> str:
        return f"'{self.pattern}' ({self.origin})"


def _keys(pattern: str) -> list[tuple[str, str]]:
    """Literals every path matched by `pattern` must contain; [] if there are none.

    ("c", name): some path component equals `name`. ("e", ext): some component's text after
    its last dot equals `ext`. Anything unusual (escapes, leading or trailing spaces, `.` or
    `..` components, character classes) gets no key: it is simply checked against every path.
    """
    if pattern != pattern.strip() or "\\" in pattern:
        return []
    parts = [p for p in pattern.removeprefix("!").strip("/").split("/") if p and p != "**"]
    if not parts or any(p in (".", "..") for p in parts):
        return []
    keys = [("c", p) for p in parts if not _GLOB_CHARS.intersection(p)]
    for part in reversed(parts):
        tail = re.split(r"[*?]", part)[-1]
        if "[" not in part and "." in tail:
            keys.append(("e", tail.rsplit(".", 1)[1]))
            break
    return keys


def _choose(keys: list[list[tuple[str, str]]]) -> list[tuple[str, str] | None]:
    """Per pattern, its literal shared by the fewest other patterns (then the longest): the best filter."""
    counts: dict[tuple[str, str], int] = {}
    for options in keys:
        for key in set(options):
            counts[key] = counts.get(key, 0) + 1
    return [min(options, key=lambda k: (counts[k], k[0] != "c", -len(k[1]))) if options else None
            for options in keys]


class PatternIndex:
    """`check(path)` gives (include, index) exactly as `GitIgnoreSpec.check_file` would."""

    def __init__(self, patterns: Sequence[tuple[str | None, bool | None]], texts: Sequence[str]) -> None:
        # (regex, include) as pathspec makes them of each gitignore pattern (see gitignore_regex).
        # Matched segment by segment (see _segmatch): pathspec's regexes backtrack without bound on a
        # crafted path; these give the same answers (None, or whether the match is on a directory).
        self._search = [matcher(regex) if regex is not None and include is not None else None
                        for regex, include in patterns]
        self._include: list[bool | None] = [include for _, include in patterns]
        self._by_component: dict[str, list[int]] = {}
        self._by_extension: dict[str, list[int]] = {}
        always: list[int] = []
        keys = _choose([_keys(text) if include is not None else [] for include, text in zip(self._include, texts,
                                                                                             strict=True)])
        for index, (include, key) in enumerate(zip(self._include, keys, strict=True)):
            if include is None:  # comments and blank lines never match
                continue
            if key is None:
                always.append(index)
            else:
                table = self._by_component if key[0] == "c" else self._by_extension
                table.setdefault(key[1], []).append(index)
        self._always = always

    def _matching(self, path: str) -> tuple[int, ...]:
        """The indexes of the patterns that match `path`, ascending."""
        found: list[int] = []
        by_component, by_extension = self._by_component, self._by_extension
        for part in path.split("/"):
            hit = by_component.get(part)
            if hit:
                found += hit
            dot = part.rfind(".")
            if dot >= 0:
                hit = by_extension.get(part[dot + 1:])
                if hit:
                    found += hit
        found += self._always
        search = self._search
        return tuple(sorted(i for i in set(found) if search[i](path) is not None))  # type: ignore[misc]

    def included(self, path: str) -> bool | None:
        """Just the verdict of `check`: when every matching pattern agrees, no need to rank them."""
        matching = self._matching(path)
        if not matching:
            return None
        verdicts = {self._include[i] for i in matching}
        return verdicts.pop() if len(verdicts) == 1 else self._decide(path, matching)[0]

    def check(self, path: str) -> tuple[bool | None, int | None]:
        matching = self._matching(path)
        if not matching:
            return None, None
        if len(matching) == 1:
            return self._include[matching[0]], matching[0]
        return self._decide(path, matching)

    def _decide(self, path: str, matching: tuple[int, ...]) -> tuple[bool | None, int | None]:
        """Several patterns match: GitIgnoreSpec.check_file's ranking among exactly those (pathspec's
        default, patterns taken last to first): the last pattern that matches the path itself wins;
        failing that, the last one that matches only a directory of it (`dir/`, or `name` matching a
        parent directory)."""
        out_include: bool | None = None
        out_index: int | None = None
        out_priority = 0
        for index in reversed(matching):
            search = self._search[index]
            on_directory = search(path) if search is not None else None
            if on_directory is None:
                continue
            priority = 1 if on_directory else 2
            if priority > out_priority:
                out_include, out_index, out_priority = self._include[index], index, priority
            if priority == 2:
                break
        return out_include, out_index


class RuleSet:
    """Compiled rules; patterns that do not compile become findings, not exceptions."""

    def __init__(self, rules: Iterable[Rule], bad_pattern: Code, ignore_case: bool = False) -> None:
        # ignore_case: patterns and paths are both lowercased, so `.ENV` matches `.env*` (the same
        # file on a case-insensitive checkout: macOS, Windows); findings still quote the pattern as written.
        self.ignore_case = ignore_case
        self.rules: list[Rule] = []
        self.problems: list[Finding] = []
        compiled: list[tuple[str | None, bool | None]] = []
        texts: list[str] = []
        for rule in rules:
            text = rule.pattern.lower() if ignore_case else rule.pattern
            made = gitignore_regex(text)
            if made[0] == "bad":
                self.problems.append(bad_pattern.at(
                    rule.path or ".", rule.line, rule.column,
                    f"pattern {rule.describe()} is not a valid gitignore pattern: {made[1]}"))
                continue
            self.rules.append(rule)
            compiled.append((made[1], made[2]))
            texts.append(text)
        if _MADE is not None:
            _MADE.flush()  # the patterns made here, in one write
        self._index = PatternIndex(compiled, texts)

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, path: str) -> tuple[bool | None, Rule | None]:
        """(True, rule) matched; (False, rule) excluded by a `!` rule; (None, None) no rule matched."""
        include, index = self._index.check(path.lower() if self.ignore_case else path)
        return include, (None if index is None else self.rules[index])

    def included(self, path: str) -> bool | None:
        """`match(path)[0]`, faster: which rule decided is not worked out."""
        return self._index.included(path.lower() if self.ignore_case else path)


# What pathspec makes of a gitignore pattern: ("ok", regex text or None, include: True, False, or
# None for a line that matches nothing) or ("bad", pathspec's message). Importing pathspec is 13 ms
# (typing_extensions, urllib, its optional backends) for a handful of patterns that are the same on
# every run: each answer is kept between processes (see loopgate._memo), under pathspec's version
# and place, read from its files without importing it.
Made = tuple[str, "str | None", "bool | None"]  # ("bad", message, None) for a pattern pathspec refuses
_MADE: DiskMemo | None = None  # (at most 50,000 patterns: a few MiB)
_STAMP = ""


def gitignore_regex(text: str) -> Made:
    global _MADE, _STAMP  # noqa: PLW0603 - one memo a process
    if _MADE is None:
        _STAMP = _pathspec_stamp()
        _MADE = DiskMemo("gitignore_regex", _STAMP or "-", _is_made, limit=50_000)
    made: Made | None = _MADE.get(text) if _STAMP else None
    if made is None:
        import pathspec  # noqa: PLC0415

        try:
            (pattern,) = pathspec.GitIgnoreSpec.from_lines([text]).patterns
            made = ("ok", None if pattern.regex is None else pattern.regex.pattern, pattern.include)
        except Exception as err:  # pathspec raises ValueError subclasses and re.error
            made = ("bad", str(err), None)
        if _STAMP.endswith("@" + os.path.dirname(os.path.abspath(pathspec.__file__))):
            _MADE.put(text, made)  # (only when the copy imported is the one the memo is named for)
    return made


def _is_made(value: object) -> bool:
    return (isinstance(value, tuple) and len(value) == 3 and value[0] in ("ok", "bad")
            and isinstance(value[1], (str, type(None))) and isinstance(value[2], (bool, type(None))))


def _pathspec_stamp() -> str:
    """pathspec's version and folder, from the first sys.path entry that holds it (as an import
    finds it), without importing it; "" when it is not found that way."""
    for folder in sys.path:
        package = os.path.abspath(os.path.join(folder or os.curdir, "pathspec"))
        if os.path.isfile(os.path.join(package, "__init__.py")):
            try:
                with open(os.path.join(package, "_version.py"), encoding="utf-8") as handle:
                    found = re.search(r"""__version__\s*=\s*["']([^"']+)""", handle.read(4096))
            except (OSError, UnicodeDecodeError):
                return ""
            return f"{found[1]}@{package}" if found else ""
    return ""


def rules_from_values(values: Iterable[str], origin: str) -> list[Rule]:
    """Patterns given on the command line or in pyproject.toml, one pattern a value."""
    return [Rule(value.strip(), origin) for value in values if value.strip()]


Committed = Callable[[str], "bytes | None"]


def rules_from_file(path: str, cwd: str, unreadable: Code,
                    committed: Committed | None = None) -> tuple[list[Rule], Finding | None]:
    """A pattern file in `.gitignore` format: one pattern a line, `#` comments, blank lines.

    `committed(absolute path)` gives the file as the change's base holds it (None: not there): a
    gate that judges a change takes its rules from the base, so the change cannot loosen them.
    A file the base does not hold is read from the working tree: which file to read came from the
    command line or the committed configuration, not from the change.
    """
    try:
        raw = committed(os.path.abspath(os.path.join(cwd, path))) if committed is not None else None
        outside = leaves_repository(os.path.join(cwd, path)) if raw is None else ""
        if outside:
            return [], unreadable.at(path, 1, 1, f"pattern file {path} is a symlink to {outside}, outside the "
                                                 "repository; not read")
        if raw is None:
            with open(os.path.join(cwd, path), "rb") as handle:
                raw = handle.read(_MAX_PATTERN_FILE + 1)
        if len(raw) > _MAX_PATTERN_FILE:
            return [], unreadable.at(path, 1, 1, f"pattern file {path} is over 2 MiB; is it the right file?")
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return [], unreadable.at(path, 1, 1, f"pattern file {path} is not UTF-8 text: {err.reason}")
    except OSError as err:
        return [], unreadable.at(path, 1, 1, f"cannot read pattern file {path}: {err.strerror or err}")
    rules = []
    for number, entry in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = entry.removesuffix("\r")
        if line.strip() and not line.startswith("#"):
            rules.append(Rule(line, f"{path}:{number}", path, number, 1))
    return rules, None
