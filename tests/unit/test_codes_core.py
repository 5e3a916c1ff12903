"""Every finding code of the core (LG001-LG306, and the spec's spend codes LG871-LG873): a case
that produces it, where it points, and a closely related case that does not.

Each case edits a small valid loop (BASE) on disk and runs the verify core over the directory,
as `loopgate verify DIR` does. The expected line is found from a marker in the edited text, so
the tables say what the defect is and where it is, not a bare number.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from loopgate import codes
from loopgate.artifacts.loader import MAX_BYTES
from loopgate.findings import Finding, Severity
from loopgate.verify import VerifySettings, run_verify

SPEC, STATE, CHECKLIST, POLICY, READINESS = (
    "LOOP_SPEC.md", "LOOP_STATE.md", "quality-gate-checklist.md", "escalation-policy.md", "loop-readiness.md")

BASE = {
    SPEC: textwrap.dedent("""\
        # Loop Spec: Docs Repair

        Intro prose before the first section is allowed.

        ## Purpose
        Repair broken documentation links.

        ## Trigger
        Run every weekday at 08:00.

        ## Work Selection Rules
        The loop may select work only when:
        - the issue is labeled docs

        The loop must skip and escalate when:
        - requirements are ambiguous

        ## Roles
        - maker: a coding agent

        ## Gates
        - link check

        ## Budgets
        - max iterations: 3
        - max tool calls per iteration: 20
        - max runtime: 30 minutes
        - max pull requests per run: 2

        ## Stop Conditions
        - max iterations are reached

        ## Rollout
        - mode: shadow
        """),
    STATE: textwrap.dedent("""\
        # Loop State: Docs Repair

        ## Current Run
        - run_id: r-1
        - mode: shadow
        - opened_pull_requests: 1
        - escalations: 0

        ## Items

        ### D-1
        - status: drafted
        - attempts: 1
        - gates:
          - link check: passed
        """),
    CHECKLIST: textwrap.dedent("""\
        # Quality Gate Checklist: Docs Repair

        ## Required Gates

        ### link check
        - gate: links

        ## Advisory Gates

        ### reviewer
        - command: ./review.sh
        - timeout: 10 minutes
        """),
    POLICY: textwrap.dedent("""\
        # Escalation Policy: Docs Repair

        ## Always Escalate
        - production secrets
        """),
    READINESS: textwrap.dedent("""\
        # Loop Readiness: Docs Repair

        ## The Work
        - [x] the work repeats
        - [x] done can be checked by code
        """),
}

Edit = tuple[str, str, str]  # file, old text (must occur once; "*" = the whole file), new text


@dataclass(frozen=True)
class Case:
    code: str
    edits: tuple[Edit, ...]
    file: str = ""  # where the finding is; the first edit's file when empty
    marker: str | None = None  # the finding is on the first line containing this; None: line 1
    column: int = 1

    @property
    def where(self) -> str:
        return self.file or self.edits[0][0]


def edit(*edits: Edit) -> tuple[Edit, ...]:
    return edits


def build(root: Path, edits: tuple[Edit, ...]) -> dict[str, str]:
    texts = dict(BASE)
    for name, old, new in edits:
        if old == "*":
            texts[name] = new
            continue
        assert texts[name].count(old) == 1, f"{old!r} must occur once in {name}"
        texts[name] = texts[name].replace(old, new)
    root.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (root / name).write_text(text, encoding="utf-8")
    return texts


def verify_dir(root: Path) -> list[Finding]:
    return run_verify(VerifySettings((str(root),))).findings


def line_of(text: str, marker: str | None) -> int:
    """The line where `marker` (which may span lines) starts; line 1 when there is none."""
    if marker is None:
        return 1
    assert text.count(marker) == 1, f"marker {marker!r} must occur once in the edited text"
    return text[:text.index(marker)].count("\n") + 1


CODEX_MAKER = "- maker: a coding agent\n- maker command: codex exec --json -"

# -- positive cases: each produces its code at (file, line, column) -----------------------------
POSITIVE = [
    Case("LG103", edit((POLICY, "*", "  \n\n"))),
    Case("LG104", edit((SPEC, "# Loop Spec: Docs Repair", "# Docs Repair"))),
    Case("LG104", edit((SPEC, "# Loop Spec: Docs Repair", "# Loop State: Docs Repair"))),
    Case("LG105", edit((SPEC, "## Budgets", "## Budget Notes"))),
    Case("LG105", edit((CHECKLIST, "*", "# Quality Gate Checklist: Docs Repair\n\n## Notes\nnone yet\n"))),
    Case("LG105", edit((POLICY, "## Always Escalate", "## Sometimes Escalate"))),
    Case("LG105", edit((READINESS, "## The Work\n", ""))),
    Case("LG106", edit((SPEC, "## Stop Conditions", "## purpose\nAgain.\n\n## Stop Conditions")),
         marker="## purpose", column=4),
    Case("LG106", edit((CHECKLIST, "### reviewer", "### link check")), marker="### link check\n- command", column=5),
    Case("LG106", edit((CHECKLIST, "- gate: links\n", "- gate: links\n\n### Link-Check\n- gate: scope\n")),
         marker="### Link-Check", column=5),
    Case("LG106", edit((SPEC, "The loop must skip and escalate when:", "The loop may also select work when:")),
         marker="- requirements are ambiguous", column=3),
    Case("LG107", edit((SPEC, "Repair broken documentation links.", "<!-- to do -->")), marker="## Purpose", column=4),
    Case("LG107", edit((POLICY, "- production secrets", "")), marker="## Always Escalate", column=4),
    Case("LG108", edit((CHECKLIST, "## Required Gates\n", "## Required Gates\nThese must pass.\n")),
         marker="These must pass.", column=1),
    Case("LG108", edit((SPEC, "## Purpose", "### Early Notes\nsome text\n\n## Purpose")), marker="### Early", column=5),
    Case("LG109", edit((SPEC, "- max runtime: 30 minutes", "- max runtime 30 minutes")),
         marker="- max runtime", column=3),
    Case("LG110", edit((SPEC, "- max iterations: 3", "- max iterations: 3\n- Max_Iterations: 4")),
         marker="Max_Iterations", column=3),
    Case("LG111", edit((SPEC, "The loop must skip and escalate when:", "Also:")),
         marker="- requirements are ambiguous", column=3),
    Case("LG112", edit((CHECKLIST, "## Required Gates\n\n### link check\n- gate: links\n", "")), column=1),
    Case("LG201", edit((SPEC, "- max runtime: 30 minutes\n", "")), marker="## Budgets", column=4),
    Case("LG201", edit((STATE, "- run_id: r-1\n", "")), marker="## Current Run", column=4),
    Case("LG201", edit((STATE, "- status: drafted\n", "")), marker="### D-1", column=5),
    Case("LG202", edit((SPEC, "- max iterations: 3", "- max iterations: three")),
         marker="- max iterations:", column=19),
    Case("LG202", edit((SPEC, "- max iterations: 3", "- max iterations: 2.5")), marker="- max iterations:", column=19),
    Case("LG202", edit((STATE, "- attempts: 1", "- attempts: once")), marker="- attempts", column=13),
    Case("LG203", edit((SPEC, "- max runtime: 30 minutes", "- max runtime: 30")), marker="- max runtime", column=16),
    Case("LG203", edit((SPEC, "- max runtime: 30 minutes", "- max runtime: 30 lightyears")),
         marker="- max runtime", column=16),
    Case("LG203", edit((CHECKLIST, "- timeout: 10 minutes", "- timeout: soon")), marker="- timeout", column=12),
    Case("LG204", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: five")),
         marker="- max cost", column=13),
    Case("LG205", edit((SPEC, "- max iterations: 3", "- max iterations: 0")), marker="- max iterations:", column=19),
    Case("LG205", edit((STATE, "- escalations: 0", "- escalations: -1")), marker="- escalations", column=16),
    Case("LG205", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: $0")),
         marker="- max cost", column=13),
    Case("LG206", edit((STATE, "- mode: shadow", "- mode: yolo")), marker="- mode", column=9),
    Case("LG206", edit((STATE, "- status: drafted", "- status: drafting")), marker="- status", column=11),
    Case("LG206", edit((STATE, "  - link check: passed", "  - link check: green")), marker="link check", column=17),
    Case("LG206", edit((CHECKLIST, "- gate: links", "- gate: linkz")), marker="- gate", column=9),
    Case("LG207", edit((SPEC, "- max iterations: 3", "- max iterations: 3\n- max iteratons: 4")),
         marker="iteratons", column=3),
    Case("LG207", edit((CHECKLIST, "- timeout: 10 minutes", "- timeout: 10 minutes\n- retries: 2")),
         marker="- retries", column=3),
    Case("LG207", edit((POLICY, "- production secrets", "- production secrets\n  - labels: secrets\n  - colour: red")),
         marker="- colour", column=5),
    Case("LG208", edit((CHECKLIST, "- gate: links", "- gate: links\n- command: ./check-links.sh")),
         marker="### link check", column=5),
    Case("LG208", edit((CHECKLIST, "- command: ./review.sh\n", "")), marker="### reviewer", column=5),
    Case("LG209", edit((STATE, "- attempts: 1", "- attempts: 1\n\n### D-1\n- status: done")),
         marker="### D-1\n- status: done", column=5),
    Case("LG301", edit((STATE, "- opened_pull_requests: 1", "- opened_pull_requests: 3")),
         marker="opened_pull_requests", column=25),
    Case("LG302", edit((STATE, "- mode: shadow", "- mode: pr")), marker="- mode", column=9),
    Case("LG302", edit((STATE, "- mode: shadow", "- mode: draft_pr")), marker="- mode", column=9),
    Case("LG303", edit((STATE, "  - link check: passed", "  - link chek: passed")), marker="link chek", column=5),
    Case("LG304", edit((SPEC, "- link check", "- lint check")), marker="- lint check", column=3),
    Case("LG304", edit((SPEC, "## Gates\n- link check", "## Gates\nThe links must resolve.")),
         marker="The links must", column=1),
    Case("LG305", edit((READINESS, "- [x] the work repeats", "- [ ] the work repeats")),
         marker="the work repeats", column=7),
    Case("LG305", edit((READINESS, "- [x] the work repeats", "- the work repeats")),
         marker="the work repeats", column=3),
    Case("LG306", edit((SPEC, "- mode: shadow", "- mode: draft-pr"),
                       (READINESS, "- [x] the work repeats", "- [ ] the work repeats")),
         marker="- mode: draft-pr", column=9),
    Case("LG871", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: 20 EUR")),
         marker="- max cost", column=13),
    Case("LG871", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: 20 EUR"
                                                                 "\n- exchange rate: 1 GBP = 1.27 USD")),
         marker="- max cost", column=13),
    Case("LG872", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n"
                                                                 "- price per million input tokens: $3")),
         marker="- price per million input", column=35),
    Case("LG873", edit((SPEC, "- maker: a coding agent", CODEX_MAKER),
                       (SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: $20")),
         marker="- max cost", column=13),
]

# -- negative cases: a near miss of each positive case that must not produce the code ---------
NEGATIVE = [
    Case("LG103", edit((POLICY, "*", "# Escalation Policy: Docs Repair\n\n## Always Escalate\n- all of it\n"))),
    Case("LG104", edit((SPEC, "# Loop Spec: Docs Repair", "# loop_spec: Docs Repair"))),
    Case("LG105", edit((SPEC, "## Budgets", "## BUDGETS"))),
    Case("LG105", edit((SPEC, "## Budgets", "## budgets"), (SPEC, "## Stop Conditions", "## stop-conditions"))),
    Case("LG105", edit((CHECKLIST, "## Required Gates\n\n### link check\n- gate: links\n", ""))),
    Case("LG106", edit((SPEC, "## Stop Conditions", "## Purpose Notes\nAgain.\n\n## Stop Conditions"))),
    Case("LG106", edit((CHECKLIST, "### reviewer", "### link check two"))),
    Case("LG107", edit((SPEC, "- maker: a coding agent\n", ""))),  # an optional section left empty
    Case("LG107", edit((STATE, "### D-1\n- status: drafted\n- attempts: 1\n- gates:\n  - link check: passed\n", ""))),
    Case("LG108", edit((CHECKLIST, "## Required Gates", "These must pass.\n\n## Required Gates"))),
    Case("LG109", edit((SPEC, "- max runtime: 30 minutes", "- Max Runtime: 30 minutes"))),
    Case("LG109", edit((SPEC, "- max runtime: 30 minutes", "- **max runtime**: 30 minutes"))),
    Case("LG110", edit((SPEC, "- max iterations: 3", "- max iterations: 3\n- max cost: $5"))),
    Case("LG111", edit((SPEC, "The loop must skip and escalate when:", "### Must Skip And Escalate"))),
    Case("LG111", edit((SPEC, "The loop may select work only when:", "### May Select"),
                       (SPEC, "The loop must skip and escalate when:", "### Must Skip And Escalate"))),
    Case("LG112", edit((CHECKLIST, "## Advisory Gates\n\n### reviewer\n- command: ./review.sh\n- timeout: 10 minutes\n",
                        ""))),
    Case("LG201", edit((SPEC, "- max runtime: 30 minutes", "- max_runtime: 30 minutes"))),
    Case("LG201", edit((SPEC, "- max runtime: 30 minutes", "- MAX-RUNTIME: 30 minutes"))),
    Case("LG202", edit((SPEC, "- max tool calls per iteration: 20", "- max tool calls per iteration: 1,000"))),
    Case("LG202", edit((STATE, "- attempts: 1", "- attempts: 0"))),
    Case("LG203", edit((SPEC, "- max runtime: 30 minutes", "- max runtime: PT30M"))),
    Case("LG203", edit((SPEC, "- max runtime: 30 minutes", "- max runtime: 1h 30m"))),
    Case("LG203", edit((CHECKLIST, "- timeout: 10 minutes", "- timeout: 90s"))),
    Case("LG204", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: 5 USD"))),
    Case("LG204", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: $2.50"))),
    Case("LG205", edit((SPEC, "- max iterations: 3", "- max iterations: 1"))),
    Case("LG205", edit((STATE, "- escalations: 0", "- escalations: 0"))),
    Case("LG206", edit((STATE, "- status: drafted", "- status: In_Progress"))),
    Case("LG206", edit((STATE, "  - link check: passed", "  - link check: PASSED"))),
    Case("LG206", edit((CHECKLIST, "- gate: links", "- gate: Links"))),
    Case("LG207", edit((SPEC, "- max iterations: 3", "- Max-Iterations: 3"))),
    Case("LG207", edit((SPEC, "- maker: a coding agent", "- maker: a coding agent\n- anything goes: in roles"))),
    Case("LG208", edit((CHECKLIST, "- gate: links", "- command: ./check-links.sh"))),
    Case("LG208", edit((POLICY, "- production secrets", "- production secrets\n  - labels: secrets, vault"))),
    Case("LG209", edit((STATE, "- attempts: 1", "- attempts: 1\n\n### D-2\n- status: done"))),
    Case("LG301", edit((STATE, "- opened_pull_requests: 1", "- opened_pull_requests: 2"))),
    Case("LG302", edit((STATE, "- mode: shadow", "- mode: draft-pr"), (SPEC, "- mode: shadow", "- mode: draft_pr"))),
    Case("LG302", edit((STATE, "- mode: shadow", "- mode: Shadow"))),
    Case("LG303", edit((STATE, "  - link check: passed", "  - Link_Check: passed"))),
    Case("LG304", edit((SPEC, "- link check", "- Link-Check"))),
    Case("LG305", edit((READINESS, "- [x] the work repeats", "- [X] the work repeats"))),
    Case("LG306", edit((SPEC, "- mode: shadow", "- mode: pr"), (STATE, "- mode: shadow", "- mode: pr"))),
    Case("LG306", edit((READINESS, "- [x] the work repeats", "- [ ] the work repeats"))),  # shadow may run
    Case("LG871", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: 20 EUR"
                                                                 "\n- exchange rate: 1 eur = 1.08 usd"))),
    Case("LG872", edit((SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n"
                                                                 "- price per million input tokens: $3\n"
                                                                 "- price per million output tokens: $15"))),
    Case("LG873", edit((SPEC, "- maker: a coding agent", CODEX_MAKER),
                       (SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: $20\n"
                                                                 "- price per million input tokens: $1.25\n"
                                                                 "- price per million output tokens: $10"))),
    Case("LG873", edit((SPEC, "- maker: a coding agent", "- maker: a coding agent\n"
                                                          "- maker command: claude -p --output-format stream-json"),
                       (SPEC, "- max pull requests per run: 2", "- max pull requests per run: 2\n- max cost: $20"))),
]


def _ids(cases: list[Case]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        seen[case.code] = seen.get(case.code, 0) + 1
        out.append(f"{case.code}-{seen[case.code]}")
    return out


def test_the_base_loop_is_clean(tmp_path: Path) -> None:
    build(tmp_path / "loop", ())
    assert verify_dir(tmp_path / "loop") == []


@pytest.mark.parametrize("case", POSITIVE, ids=_ids(POSITIVE))
def test_code_is_produced_where_the_defect_is(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "loop"
    texts = build(root, case.edits)
    findings = verify_dir(root)
    entry = codes.REGISTRY[case.code]
    hits = [f for f in findings if f.code == case.code]
    assert hits, f"{case.code} not produced; got {[(f.code, f.message) for f in findings]}"
    expected = (str(root / case.where), line_of(texts[case.where], case.marker), case.column)
    assert expected in [(f.path, f.line, f.column) for f in hits], [(f.path, f.line, f.column, f.message) for f in hits]
    for hit in hits:
        assert hit.severity is entry.severity
        assert hit.hint and hit.message
    result = run_verify(VerifySettings((str(root),)))
    assert result.exit_code(strict=True) == 1
    if entry.severity is Severity.ERROR:
        assert result.exit_code(strict=False) == 1
    elif all(f.severity is Severity.WARNING for f in findings):
        assert result.exit_code(strict=False) == 0


@pytest.mark.parametrize("case", NEGATIVE, ids=_ids(NEGATIVE))
def test_near_miss_does_not_produce_the_code(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "loop"
    build(root, case.edits)
    findings = verify_dir(root)
    assert case.code not in {f.code for f in findings}, [(f.code, f.line, f.message) for f in findings]


# -- the directory and input codes: set up by hand ----------------------------------------------
def _not_found(root: Path) -> tuple[str, list[str]]:
    return str(root / "nowhere"), [str(root / "nowhere")]


def _directory_as_spec(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / SPEC).unlink()
    (root / SPEC).mkdir()
    return str(root / SPEC), [str(root)]


def _dangling_symlink(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / STATE).unlink()
    os.symlink("gone.md", root / STATE)
    return str(root / STATE), [str(root / STATE)]


def _dangling_symlink_in_dir(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / STATE).unlink()
    os.symlink("gone.md", root / STATE)
    return str(root / STATE), [str(root)]


def _fifo(root: Path) -> tuple[str, list[str]]:
    """Opening a FIFO blocks until something writes to it: it must be refused, not read."""
    build(root, ())
    (root / STATE).unlink()
    os.mkfifo(root / STATE)
    return str(root / STATE), [str(root)]


def _latin1(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / POLICY).write_bytes(b"# Escalation Policy: Docs Repair\n\n- caf\xe9 secrets\n")
    return str(root / POLICY), [str(root)]


def _nul(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / POLICY).write_bytes(b"# Escalation Policy: Docs Repair\n\x00\x01\x02")
    return str(root / POLICY), [str(root)]


def _too_large(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / POLICY).write_text(BASE[POLICY] + "<!--\n" + "x" * (MAX_BYTES + 10) + "\n-->\n", encoding="utf-8")
    return str(root / POLICY), [str(root)]


def _not_an_artifact(root: Path) -> tuple[str, list[str]]:
    root.mkdir(parents=True)
    (root / "notes.md").write_text("# Notes\n\nNothing here.\n", encoding="utf-8")
    return str(root / "notes.md"), [str(root / "notes.md")]


def _no_spec(root: Path) -> tuple[str, list[str]]:
    build(root, ())
    (root / SPEC).unlink()
    return str(root / SPEC), [str(root)]


def _nothing_below(root: Path) -> tuple[str, list[str]]:
    (root / "src").mkdir(parents=True)
    (root / "src" / "notes.md").write_text("# Loop Spec: not by this name\n", encoding="utf-8")
    return str(root / SPEC), [str(root)]


def _spec_only(root: Path) -> tuple[str, list[str]]:
    root.mkdir(parents=True)
    (root / SPEC).write_text(BASE[SPEC], encoding="utf-8")
    return str(root / STATE), [str(root)]


Setup = Callable[[Path], tuple[str, list[str]]]
INPUT_CASES: list[tuple[str, Setup, int, int]] = [  # code, setup, line, column
    ("LG001", _not_found, 1, 1),
    ("LG002", _directory_as_spec, 1, 1),
    ("LG002", _dangling_symlink, 1, 1),
    ("LG002", _dangling_symlink_in_dir, 1, 1),
    ("LG002", _fifo, 1, 1),
    ("LG003", _latin1, 3, 6),
    ("LG004", _nul, 2, 1),
    ("LG005", _too_large, 1, 1),
    ("LG006", _not_an_artifact, 1, 1),
    ("LG101", _no_spec, 1, 1),
    ("LG101", _nothing_below, 1, 1),
    ("LG102", _spec_only, 1, 1),
]


@pytest.mark.parametrize(("code", "setup", "line", "column"), INPUT_CASES,
                         ids=[f"{c[0]}-{c[1].__name__.strip('_')}" for c in INPUT_CASES])
def test_directory_and_input_codes(code: str, setup: Setup, line: int, column: int, tmp_path: Path) -> None:
    path, args = setup(tmp_path / "loop")
    result = run_verify(VerifySettings(tuple(args)))
    hits = [f for f in result.findings if f.code == code]
    assert [(f.path, f.line, f.column) for f in hits][:1] == [(path, line, column)], result.findings
    entry = codes.REGISTRY[code]
    assert all(f.severity is entry.severity and f.hint for f in hits)
    assert result.exit_code(strict=False) == (2 if entry.input_error else 1 if entry.severity is Severity.ERROR else 0)


def _symlink_to_a_real_file(root: Path) -> list[str]:
    build(root, ())
    (root / "real-state.md").write_text(BASE[STATE], encoding="utf-8")
    (root / STATE).unlink()
    os.symlink("real-state.md", root / STATE)
    return [str(root)]


def _utf8_with_bom_and_accents(root: Path) -> list[str]:
    build(root, ())
    (root / POLICY).write_bytes("\ufeff# Escalation Policy: Docs Repair\n\n## Always Escalate\n- café ☕\n".encode())
    return [str(root)]


def _control_characters_but_no_nul(root: Path) -> list[str]:
    build(root, ())
    (root / POLICY).write_text(BASE[POLICY] + "- odd \x01\x7f bytes\n", encoding="utf-8")
    return [str(root)]


def _exactly_the_limit(root: Path) -> list[str]:
    build(root, ())
    padding = "<!--\n\n-->\n"
    text = BASE[POLICY] + padding
    text = BASE[POLICY] + "<!--\n" + "x" * (MAX_BYTES - len(text.encode())) + "\n-->\n"
    assert len(text.encode()) == MAX_BYTES
    (root / POLICY).write_text(text, encoding="utf-8")
    return [str(root)]


def _named_by_title(root: Path) -> list[str]:
    root.mkdir(parents=True)
    (root / "notes.md").write_text(BASE[POLICY], encoding="utf-8")
    return [str(root / "notes.md")]


def _spec_in_dot_loop(root: Path) -> list[str]:
    build(root / ".loop", ())
    return [str(root)]


def _spec_below(root: Path) -> list[str]:
    build(root / "loops" / "docs", ())
    return [str(root)]


INPUT_NEGATIVE: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("LG001", lambda root: [str(build(root, ()) and root)]),
    ("LG002", _symlink_to_a_real_file),
    ("LG003", _utf8_with_bom_and_accents),
    ("LG004", _control_characters_but_no_nul),
    ("LG005", _exactly_the_limit),
    ("LG006", _named_by_title),
    ("LG101", _spec_in_dot_loop),
    ("LG101", _spec_below),
    ("LG102", lambda root: [str(build(root, ()) and root)]),
]


@pytest.mark.parametrize(("code", "setup"), INPUT_NEGATIVE, ids=[f"{c[0]}-{i}" for i, c in enumerate(INPUT_NEGATIVE)])
def test_directory_and_input_near_misses(code: str, setup: Callable[[Path], list[str]], tmp_path: Path) -> None:
    result = run_verify(VerifySettings(tuple(setup(tmp_path / "loop"))))
    assert code not in {f.code for f in result.findings}, result.findings
    assert result.exit_code(strict=False) == 0, result.findings


def test_every_core_code_has_a_positive_and_a_negative_case() -> None:
    core = {code for code in codes.REGISTRY if code < "LG400" or "LG871" <= code <= "LG889"}
    positive = {c.code for c in POSITIVE} | {c[0] for c in INPUT_CASES}
    negative = {c.code for c in NEGATIVE} | {c[0] for c in INPUT_NEGATIVE}
    assert core - positive == set(), f"codes with no case that produces them: {sorted(core - positive)}"
    assert core - negative == set(), f"codes with no near-miss case: {sorted(core - negative)}"
    assert positive <= set(codes.REGISTRY), "a case names a code that is not registered"

