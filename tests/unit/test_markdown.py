"""The markdown reader: structure from mistune, positions from the source lines."""

from __future__ import annotations

import textwrap

import pytest

from loopgate.artifacts.artifact import check_artifact
from loopgate.artifacts.extract import split_field
from loopgate.artifacts.kinds import SPEC
from loopgate.markdown.document import Document, Item, ListBlock, Para, Section, parse_document, source_lines
from loopgate.markdown.document import normalise_key as key


def items(section: Section) -> list[Item]:
    return [i for b in section.blocks if isinstance(b, ListBlock) for i in b.items]


def sections(doc: Document) -> list[tuple[str, int, int]]:
    return [(s.title, s.line, s.column) for s in doc.sections]


def test_title_sections_entries_and_bullets_with_positions() -> None:
    doc = parse_document(textwrap.dedent("""\
        # Loop State: Docs

        Some intro.

        ## Current Run
        - run_id: r1
        -   mode: shadow

        ## Items

        ### MT-1
        - status: drafted
        - gates:
          - link check: passed
        """))
    assert doc.title == Para("Loop State: Docs", 1, 3)
    assert doc.preamble == [Para("Some intro.", 3, 1)]
    assert sections(doc) == [("Current Run", 5, 4), ("Items", 9, 4)]
    run = items(doc.sections[0])
    assert [(i.text, i.line, i.column) for i in run] == [("run_id: r1", 6, 3), ("mode: shadow", 7, 5)]
    (entry,) = doc.sections[1].children
    assert (entry.title, entry.level, entry.line, entry.column) == ("MT-1", 3, 11, 5)
    gates = items(entry)[1]
    assert [(c.text, c.line, c.column) for c in gates.children] == [("link check: passed", 14, 5)]


def test_checkboxes_keep_their_state_and_point_after_the_box() -> None:
    doc = parse_document("## The Work\n- [x] ticked\n- [ ] open\n- [X] upper\n- plain\n")
    got = [(i.text, i.checked, i.column) for i in items(doc.sections[0])]
    assert got == [("ticked", True, 7), ("open", False, 7), ("upper", True, 7), ("plain", None, 3)]


def test_code_blocks_and_html_comments_are_not_read() -> None:
    doc = parse_document(textwrap.dedent("""\
        # Loop Spec: X

        ## Purpose
        <!--
        ## Budgets
        - max iterations: 0
        -->
        ```markdown
        ## Trigger
        - not: a field
        ```

            ## Indented code
        Text.

        ~~~
        - also: code
        ~~~
        ## Budgets
        - max iterations: 3
        """))
    assert sections(doc) == [("Purpose", 3, 4), ("Budgets", 19, 4)]
    assert [b.text for b in doc.sections[0].blocks if isinstance(b, Para)] == ["Text."]
    assert [(i.text, i.line) for i in items(doc.sections[1])] == [("max iterations: 3", 20)]


def test_setext_headings_and_a_second_title() -> None:
    doc = parse_document("Loop Spec: X\n===\n\nPurpose\n---\ntext\n\n# Another Title\n")
    assert doc.title == Para("Loop Spec: X", 1, 1)
    assert sections(doc) == [("Purpose", 4, 1), ("Another Title", 8, 3)]  # nothing silently disappears


def test_headings_before_any_section_are_kept_as_stray() -> None:
    doc = parse_document("# T\n### Early\n## Real\n### Child\n")
    assert [(s.title, s.line) for s in doc.stray] == [("Early", 2)]
    assert [c.title for c in doc.sections[0].children] == ["Child"]


def test_crlf_and_unusual_separators_count_lines_like_an_editor() -> None:
    doc = parse_document("# T\r\n## A\r\nform\x0cfeed and\u2028separator\r\n## B\rx\n")
    assert sections(doc) == [("A", 2, 4), ("B", 4, 4)]
    assert source_lines("a\r\nb\rc\n") == ["a", "b", "c"]
    assert source_lines("a\n\n") == ["a", ""]
    assert source_lines("") == [""]


def test_a_heading_after_a_block_quote_is_not_swallowed() -> None:
    doc = parse_document("# T\n## A\n> a note\n## Budgets\n- max iterations: 3\n")
    assert sections(doc) == [("A", 2, 4), ("Budgets", 4, 4)]


def test_a_list_after_a_block_quote_stays_in_source_order() -> None:
    doc = parse_document("## A\n> quoted\nlazy line\n- item\n## B\n- other\n")
    assert [(i.text, i.line) for i in items(doc.sections[0])] == [("item", 4)]
    assert [(i.text, i.line) for i in items(doc.sections[1])] == [("other", 6)]


def test_whitespace_only_lines_do_not_shift_positions() -> None:
    doc = parse_document("## A\n      \n    code\n## B\n\x1f\n- x\n")
    assert sections(doc) == [("A", 1, 4), ("B", 4, 4)]
    assert [(i.text, i.line) for i in items(doc.sections[1])] == [("x", 6)]


def test_raw_keeps_what_markup_would_eat() -> None:
    doc = parse_document("## Scope\n- allowed paths: **/docs/**, src/*_test.py\n- **reason**: *why*\n")
    first, second = items(doc.sections[0])
    assert first.text == "allowed paths: /docs/, src/*_test.py"
    assert first.raw == "allowed paths: **/docs/**, src/*_test.py"
    assert second.text == "reason: why"


def test_continuation_lines_join_the_bullet() -> None:
    doc = parse_document("## R\n- one\n  continued\nlazily\n- two\n")
    first, second = items(doc.sections[0])
    assert (first.text, first.raw, first.line) == ("one continued lazily", "one continued lazily", 2)
    assert first.lines == ("- one", "  continued", "lazily")
    assert second.line == 5


def test_deep_nesting_and_huge_lines_do_not_crash() -> None:
    deep = "## Budgets\n" + "".join("  " * i + "- k: v\n" for i in range(400))
    doc = parse_document(deep)
    assert items(doc.sections[0])[0].line == 2
    wide = "## Purpose\n" + "word " * 200_000 + "\n" + "[" * 10_000 + "\n" + ">" * 1_000 + " x\n"
    assert parse_document(wide).sections[0].title == "Purpose"


@pytest.mark.parametrize(("text", "normal"), [
    ("Max Runtime", "max_runtime"), ("max_runtime", "max_runtime"), ("max-runtime", "max_runtime"),
    ("  MAX   RUNTIME ", "max_runtime"), ("Work Selection-Rules", "work_selection_rules"), ("_x_", "x"),
])
def test_keys_and_headings_match_case_insensitively_with_spaces_dashes_underscores_alike(text: str,
                                                                                        normal: str) -> None:
    assert key(text) == normal


@pytest.mark.parametrize(("text", "pair"), [
    ("max runtime: 30 minutes", ("max runtime", "30 minutes")),
    ("**reason**: x", ("reason", "x")),
    ("command: `pytest -q`", ("command", "pytest -q")),
    ("url: http://example.com:8080/x", ("url", "http://example.com:8080/x")),
    ("gates:", ("gates", "")),
    ("no key here", None),
    (": value", None),
    ("http://example.com", None),
])
def test_split_field(text: str, pair: tuple[str, str] | None) -> None:
    assert split_field(text) == pair


def test_the_lazy_introduction_is_only_split_at_the_margin() -> None:
    text = textwrap.dedent("""\
        # Loop Spec: X
        ## Purpose
        P
        ## Trigger
        T
        ## Work Selection Rules
        The loop may select work only when:
        - the label says:
          the loop must skip and escalate when:
        - b
        ## Budgets
        - max iterations: 1
        - max tool calls per iteration: 1
        - max runtime: 1 minute
        - max pull requests per run: 1
        ## Stop Conditions
        - done
        """)
    artifact = check_artifact("LOOP_SPEC.md", SPEC, text)
    # indented under the bullet, the line is the bullet's own text: one list, the other is missing
    assert artifact.data["work_selection_rules"]["may_select"][0].startswith("the label says:")
    assert [f.code for f in artifact.findings] == ["LG201"]
    assert artifact.findings[0].line == 6


def test_a_list_or_fence_on_its_items_own_line_keeps_later_lines_in_step() -> None:
    """`- - k: v` and `` - ``` `` start a block after the marker: searched from the next line, the
    anchor found a later one and every position after it was off (the verify fuzz found it)."""
    source = "- - k: v\n- ```\n  a\n  ```\n- b\n\n- - - x\n  - y\n\n## S\n- c\n"
    document = parse_document(source)
    top = document.preamble[0]
    assert isinstance(top, ListBlock)
    placed = [(i.line, i.column, i.text) for i in top.items]
    assert placed == [(1, 3, ""), (2, 3, ""), (5, 3, "b"), (7, 3, "")]
    assert [(c.line, c.column, c.text) for c in top.items[0].children] == [(1, 5, "k: v")]
    nested = top.items[3].children
    assert [(c.line, c.column) for c in nested] == [(7, 5), (8, 5)]
    assert [(c.line, c.column, c.text) for c in nested[0].children] == [(7, 7, "x")]
    block = document.sections[0].blocks[0]
    assert isinstance(block, ListBlock) and (block.items[0].line, block.items[0].text) == (11, "c")
