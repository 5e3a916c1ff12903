"""Random markdown never crashes the parser or the checks, and every finding points into the file.

The generator mixes what loop artifacts are made of (headings with the real section names,
`- key: value` bullets with typed-looking values, checkboxes, `###` entries) with what breaks
naive readers (code fences left open, HTML comments, setext underlines, block quotes, tabs,
CRLF, deep indentation, unicode).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopgate import codes
from loopgate.artifacts.artifact import Artifact, check_artifact
from loopgate.artifacts.crosscheck import cross_check
from loopgate.artifacts.kinds import KINDS
from loopgate.findings import Finding
from loopgate.markdown.document import Item, ListBlock, Section, parse_document, source_lines
from loopgate.verify import VerifySettings, run_verify

LIST_MARKER = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
ATX = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)*[ \t]*#{1,6}(?:[ \t]|$)")
SETEXT = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)*[ \t]*(?:=+|-+)[ \t]*$")

SECTION_NAMES = [
    "Purpose", "Trigger", "Inputs", "Work Selection Rules", "Roles", "Gates", "Budgets", "Stop Conditions",
    "Scope", "Rollout", "Current Run", "Items", "Required Gates", "Advisory Gates", "Always Escalate",
    "Escalate On Ambiguity", "Notify", "The Work", "work_selection-rules", "BUDGETS",
]
TITLES = ["Loop Spec", "Loop State", "Quality Gate Checklist", "Escalation Policy", "Loop Readiness", "Notes"]
KEYS = [
    "max iterations", "max tool calls per iteration", "max runtime", "max pull requests per run", "max cost",
    "mode", "run_id", "status", "gates", "gate", "command", "timeout", "attempts", "opened_pull_requests",
    "selected_items", "allowed paths", "max files", "link check", "labels", "**reason**", "`odd`", "a:b",
]
VALUES = [
    "3", "0", "-1", "1,000", "30", "30 minutes", "90s", "1h 30m", "PT30M", "P", "$5", "$2.50", "5 USD", "five",
    "shadow", "draft_pr", "PR", "yolo", "passed", "in_progress", "yes", "", "`x`", "**/docs/**", "a, b, c",
    "1e9", "9" * 40, "\N{SLIGHTLY SMILING FACE}", "\u0663\u0664",
]
unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
words = st.one_of(st.sampled_from(SECTION_NAMES + KEYS + VALUES), unicode_text)
indent = st.sampled_from(["", "  ", "   ", "    ", "\t", "      ", "  " * 8])


def _joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


def _fixed(*choices: str) -> st.SearchStrategy[str]:
    return st.sampled_from(choices)


lines = st.one_of(
    _joined(st.integers(1, 7).map(lambda n: "#" * n + " "), words),
    _joined(_fixed("## "), st.sampled_from(SECTION_NAMES)),
    _joined(_fixed("# "), st.sampled_from(TITLES), _fixed(": "), words),
    _joined(indent, _fixed("- "), st.sampled_from(KEYS), _fixed(": "), st.sampled_from(VALUES)),
    _joined(indent, _fixed("- ", "* ", "+ ", "1. ", "2) "), words),
    _joined(indent, _fixed("- [ ] ", "- [x] ", "- [X] ", "- [-] "), words),
    _fixed("```", "~~~", "```python", "````", "    code"),
    _fixed("<!--", "-->", "<!-- a comment -->", "<div>", "</div>"),
    _fixed("", "", "   ", "\t"),
    _fixed("---", "===", "***", "___", "- - -"),
    _joined(st.integers(1, 4).map(lambda n: "> " * n), words),
    _fixed("### MT-1", "### MT-2", "### link check", "### May Select", "### Must Skip And Escalate"),
    _fixed("The loop may select work only when:", "The loop must skip and escalate when:", "Escalate when:",
           "Stop when one of these is true:"),
    _joined(_fixed("| "), words, _fixed(" | "), words, _fixed(" |")),
    _joined(indent, words),
)
documents = st.builds(
    lambda parts, newline: newline.join(parts),
    st.lists(lines, max_size=40),
    st.sampled_from(["\n", "\n", "\r\n"]),
)


def _assert_well_formed(finding: Finding, line_count: int) -> None:
    assert finding.code in codes.REGISTRY, finding
    assert finding.hint, finding
    assert finding.message, finding
    assert 1 <= finding.line <= max(line_count, 1), (finding, line_count)
    assert finding.column >= 1, finding
    assert finding.severity is codes.REGISTRY[finding.code].severity, finding


def _anchored(sections: list[Section], lines: list[str]) -> None:
    """Each heading sits on a heading line, each bullet on a line with a list marker."""
    def items(entries: list[Item]) -> None:
        for item in entries:
            assert LIST_MARKER.match(lines[item.line - 1]), (item, lines[item.line - 1])
            assert item.column >= 1
            items(item.children)

    for section in sections:
        here = lines[section.line - 1]
        assert ATX.match(here) or any(SETEXT.match(x) for x in lines[section.line:]), (section, here)
        for block in section.blocks:
            assert 1 <= block.line <= len(lines)
            if isinstance(block, ListBlock):
                items(block.items)
        _anchored(section.children, lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_markdown_parses_and_every_finding_points_into_the_file(text: str) -> None:
    lines = source_lines(text)
    line_count = len(lines)
    document = parse_document(text)
    _anchored(document.sections + document.stray, lines)
    artifacts: list[Artifact] = []
    for kind in KINDS:
        artifact = check_artifact(kind.filename, kind, text)
        artifacts.append(artifact)
        for finding in artifact.findings:
            _assert_well_formed(finding, line_count)
    for finding in cross_check(artifacts):
        _assert_well_formed(finding, line_count)


@settings(max_examples=60, deadline=None)
@given(st.lists(documents, min_size=len(KINDS), max_size=len(KINDS)))
def test_random_loops_cross_check_without_crashing(texts: list[str]) -> None:
    """Each artifact its own random text: the cross-file checks meet any shape of data."""
    artifacts = [check_artifact(kind.filename, kind, text) for kind, text in zip(KINDS, texts, strict=True)]
    for kind, text, artifact in zip(KINDS, texts, artifacts, strict=True):
        assert artifact.kind is kind
        for finding in artifact.findings:
            _assert_well_formed(finding, len(source_lines(text)))
    counts = {a.path: len(source_lines(t)) for a, t in zip(artifacts, texts, strict=True)}
    for finding in cross_check(artifacts):
        _assert_well_formed(finding, counts[finding.path])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for kind in KINDS:
        for finding in check_artifact(kind.filename, kind, text).findings:
            _assert_well_formed(finding, len(source_lines(text)))


@settings(max_examples=40, deadline=None)
@given(st.lists(documents, min_size=len(KINDS), max_size=len(KINDS)))
def test_random_loop_directories_verify_to_exit_0_or_1(texts: list[str]) -> None:
    """Through the files: the reader, the directory walk and the exit status, as `verify` runs them."""
    with tempfile.TemporaryDirectory() as tmp:
        for kind, text in zip(KINDS, texts, strict=True):
            Path(tmp, kind.filename).write_text(text, encoding="utf-8", newline="")
        result = run_verify(VerifySettings((tmp,)))
    assert result.exit_code(strict=False) in (0, 1)
    counts = {str(Path(tmp, k.filename)): len(source_lines(t)) for k, t in zip(KINDS, texts, strict=True)}
    for finding in result.findings:
        _assert_well_formed(finding, counts[finding.path])
