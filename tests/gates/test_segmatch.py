"""Gitignore patterns matched segment by segment: the same answers as pathspec's regexes (including
whether the match is on a directory of the path, which ranks it), without their backtracking."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from loopgate.gates._segmatch import matcher, segmented

_SEGMENT = st.sampled_from(["a", "b", "ab", "docs", "x.md", "a.b", "[x]", "c d", "(p)", "a+b", "é"])
_GLOB = st.sampled_from(["*", "**", "?", "a*", "*b", "*.md", "[ab]", "[!a]*", "a**b", "\\*", "[]x]", "(p)", "a+b"])


@st.composite
def _pattern(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_SEGMENT, _GLOB), min_size=1, max_size=5))
    return (draw(st.sampled_from(["", "/", "**/"])) + "/".join(parts)
            + draw(st.sampled_from(["", "/", "/**", "/**/"])))


def _reference(regex: object, path: str) -> bool | None:
    found = regex.search(path)  # type: ignore[attr-defined]
    return None if found is None else bool(found.groupdict().get("ps_d"))


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(_pattern(), st.lists(st.lists(_SEGMENT, min_size=1, max_size=7), min_size=1, max_size=8))
def test_the_same_answer_as_the_regex(pattern: str, paths: list[list[str]]) -> None:
    compiled = [p for p in GitIgnoreSpec.from_lines([pattern]).patterns if p.include is not None]
    for spec_pattern in compiled:
        match = matcher(spec_pattern.regex)
        for parts in paths:
            path = "/".join(parts)
            assert match(path) == _reference(spec_pattern.regex, path), (pattern, spec_pattern.regex.pattern, path)


def test_the_shapes_pathspec_produces_are_all_segmented() -> None:
    for pattern in ("docs", "/docs", "docs/", "a/**/b", "**/a/**/b/**/c/**/d", "a/**", "a/**/", "*.md",
                    "src/*/x", "[a-c]?", "\\*x", "a\\ ", "(x)/[]]"):
        (compiled,) = GitIgnoreSpec.from_lines([pattern]).patterns
        assert segmented(compiled.regex.pattern) is not None, (pattern, compiled.regex.pattern)


def test_many_double_stars_on_a_crafted_path_stay_linear() -> None:
    """pathspec's regex takes ~10 s on 1,200 characters and ~100 s on 2,400 (cubic); bounded here by a
    generous subprocess timeout, not a timing assertion."""
    code = ("from pathspec import GitIgnoreSpec\n"
            "from loopgate.gates._segmatch import matcher\n"
            "(p,) = GitIgnoreSpec.from_lines(['**/a/**/b/**/c/**/d']).patterns\n"
            "m = matcher(p.regex)\n"
            "assert m('/'.join(['a/b/c'] * 20_000)) is None\n"
            "assert m('/'.join(['a/b/c'] * 20_000) + '/d') is False\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_forbidden_gate_on_a_crafted_path_finishes(tmp_path: object) -> None:
    path = "/".join(["a/b/c"] * 2000) + "/x.txt"
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "forbidden", "--no-defaults", "--forbid",
                           "**/a/**/b/**/c/**/d", "--forbid", "**/b/**/c/**/x.txt", path], cwd=str(tmp_path),
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "is forbidden by '**/b/**/c/**/x.txt' (--forbid)" in done.stdout
