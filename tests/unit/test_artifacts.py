"""The artifacts as data: the article's examples, the shipped example, `loopgate init`, and how
values and names are normalised on the way from markdown to the schema."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loopgate.artifacts import values
from loopgate.artifacts.artifact import check_artifact, detect_kind
from loopgate.artifacts.kinds import BY_FILENAME, KINDS, SPEC, STATE, kind_for_title
from loopgate.findings import Finding, Severity
from loopgate.init_loop import InitError, InitSettings, default_name, run_init
from loopgate.verify import VerifySettings, run_verify

ROOT = Path(__file__).resolve().parents[2]
ARTICLE_FILES = ROOT / "tests" / "example-files" / "article"
SEED_ARTICLE = ROOT.parent / "shared" / "seed" / "loop-engineering-article.txt"
EXAMPLE = ROOT / "examples" / "repo-maintenance"


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def data_of(name: str, text: str) -> dict[str, Any]:
    artifact = check_artifact(name, BY_FILENAME[name.lower()], text)
    assert errors(artifact.findings) == [], artifact.findings
    return artifact.data


# -- the article's examples ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["LOOP_SPEC.md", "LOOP_STATE.md", "escalation-policy.md"])
def test_the_articles_examples_validate_with_no_finding(name: str) -> None:
    result = run_verify(VerifySettings((str(ARTICLE_FILES / name),)))
    assert result.findings == []
    assert result.exit_code(strict=True) == 0


def test_the_articles_examples_as_one_loop_have_only_missing_file_warnings() -> None:
    result = run_verify(VerifySettings((str(ARTICLE_FILES),)))
    assert {f.code for f in result.findings} == {"LG102"}
    assert result.exit_code(strict=False) == 0


def test_the_article_spec_reads_as_the_article_means_it() -> None:
    """As a text copy prints it: no blank line before `The loop must skip and escalate when:`."""
    text = (ARTICLE_FILES / "LOOP_SPEC.md").read_text("utf-8")
    assert "or\nlink validation\nThe loop must skip and escalate when:\n" in text
    data = data_of("LOOP_SPEC.md", text)
    rules = data["work_selection_rules"]
    assert rules["may_select"][3] == "the definition of done can be checked with tests, lint, schema validation, or " \
                                     "link validation"
    assert len(rules["may_select"]) == 4
    assert rules["must_skip_and_escalate"] == [
        "requirements are ambiguous",
        "the change touches authentication, authorization, payments, or data deletion",
        "the same item failed twice before",
        "required tests are missing or failing before the change starts",
    ]
    assert data["budgets"] == {"max_iterations": 3, "max_tool_calls_per_iteration": 20, "max_runtime": 1800,
                               "max_pull_requests_per_run": 2}
    assert len(data["stop_conditions"]) == 5


def test_the_article_state_reads_its_flat_gates_as_nested() -> None:
    text = (ARTICLE_FILES / "LOOP_STATE.md").read_text("utf-8")
    assert "- gates:\n- link check: passed\n" in text  # flat, as the article's text prints it
    data = data_of("LOOP_STATE.md", text)
    assert data["current_run"] == {"run_id": "2026-07-04T080000Z", "mode": "shadow", "selected_items": 2,
                                   "opened_pull_requests": 0, "escalations": 1}
    assert data["items"]["MT-117"] == {"status": "drafted", "reason": "stale documentation links", "attempts": 1,
                                       "gates": {"link_check": "passed", "docs_lint": "passed",
                                                 "scope_check": "passed"},
                                       "next_action": "human review"}
    assert data["items"]["MT-104"]["status"] == "escalated"


def test_the_article_policy_sections() -> None:
    data = data_of("escalation-policy.md", (ARTICLE_FILES / "escalation-policy.md").read_text("utf-8"))
    assert len(data["always_escalate"]) == 8
    assert data["escalate_on_ambiguity"][-1] == "two retries fail for the same reason"


def _article_runs(name: str) -> list[str]:
    """The fixture's runs of lines that come from the article (the rest is marked as added)."""
    text = (ARTICLE_FILES / name).read_text("utf-8")
    if name == "LOOP_SPEC.md":
        head, rest = text.split("## Inputs\n", 1)
        return [head.rstrip("\n"), rest[rest.index("## Budgets"):].rstrip("\n")]
    if name == "escalation-policy.md":
        return [text.split("\n", 1)[1].rstrip("\n")]  # below the title the article does not print
    return [text.rstrip("\n")]


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason="the seed article is not beside the project")
@pytest.mark.parametrize("name", ["LOOP_SPEC.md", "LOOP_STATE.md", "escalation-policy.md"])
def test_the_fixtures_are_the_articles_text(name: str) -> None:
    article = SEED_ARTICLE.read_text("utf-8")
    for run in _article_runs(name):
        assert run in article, f"{name}: this text is not the article's:\n{run}"


# -- the shipped example, the README and `init` -------------------------------------------------
def test_the_shipped_example_is_clean_even_strict() -> None:
    result = run_verify(VerifySettings((str(EXAMPLE),)))
    assert result.findings == []
    assert result.files_checked == 5
    assert result.exit_code(strict=True) == 0


def _readme_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    return [b for b in re.findall(r"```markdown\n(.*?)```", readme, re.S) if kind_for_title(b.split("\n")[0][2:])]


@pytest.mark.parametrize("block", _readme_blocks(), ids=lambda b: b.split("\n")[0][2:].split(":")[0])
def test_the_readmes_artifact_examples_validate(block: str) -> None:
    kind = detect_kind("example.md", block)
    assert kind is not None
    artifact = check_artifact("example.md", kind, block)
    assert errors(artifact.findings) == []


def test_init_writes_a_set_that_verifies_at_once(tmp_path: Path) -> None:
    written = run_init(InitSettings(str(tmp_path / "loop"), "Docs Link Repair"))
    assert sorted(Path(p).name for p in written) == sorted([k.filename for k in KINDS] + ["work-queue.md"])
    result = run_verify(VerifySettings((str(tmp_path / "loop"),)))
    assert result.findings and {f.code for f in result.findings} == {"LG305"}
    assert result.exit_code(strict=False) == 0
    assert result.exit_code(strict=True) == 1
    spec = (tmp_path / "loop" / "LOOP_SPEC.md").read_text("utf-8")
    assert spec.startswith("# Loop Spec: Docs Link Repair\n")
    assert "{{" not in spec
    assert [p.name for p in (tmp_path / "loop").iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_init_never_overwrites_and_then_writes_nothing(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "escalation-policy.md").write_text("mine\n", encoding="utf-8")
    with pytest.raises(InitError, match=r"would overwrite .*escalation-policy\.md .*--force"):
        run_init(InitSettings(str(loop), "X"))
    assert sorted(p.name for p in loop.iterdir()) == ["escalation-policy.md"]
    assert (loop / "escalation-policy.md").read_text("utf-8") == "mine\n"
    run_init(InitSettings(str(loop), "X", force=True))
    assert (loop / "escalation-policy.md").read_text("utf-8").startswith("# Escalation Policy: X\n")
    assert len(list(loop.iterdir())) == 6  # the five artifacts and the work queue


def test_init_never_replaces_a_work_queue_even_with_force(tmp_path: Path) -> None:
    """The queue is the user's work: --force replaces loop policy, not the items waiting in it."""
    loop = tmp_path / "loop"
    run_init(InitSettings(str(loop), "X"))
    queue = loop / "work-queue.md"
    assert queue.read_text("utf-8").startswith("# Work Queue: X\n")
    queue.write_text("# Work Queue: X\n\n### DOC-7\n- title: mine\n", encoding="utf-8")
    written = run_init(InitSettings(str(loop), "Y", force=True))
    assert str(queue) not in written
    assert queue.read_text("utf-8") == "# Work Queue: X\n\n### DOC-7\n- title: mine\n"
    assert (loop / "LOOP_SPEC.md").read_text("utf-8").startswith("# Loop Spec: Y\n")


@pytest.mark.parametrize("name", ["", "   ", "two\nlines", "x" * 201])
def test_init_refuses_a_bad_name(name: str, tmp_path: Path) -> None:
    with pytest.raises(InitError, match="--name"):
        run_init(InitSettings(str(tmp_path / "loop"), name))
    assert not (tmp_path / "loop").exists()


def test_init_refuses_a_file_as_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InitError, match="not a directory"):
        run_init(InitSettings(str(tmp_path / "file"), "X"))


def test_init_names_the_loop_after_its_directory() -> None:
    assert default_name("loops/docs-link_repair") == "Docs Link Repair"
    assert default_name("/") == "My Loop"


# -- values ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seconds"), [
    ("30 minutes", 1800), ("90s", 90), ("1h 30m", 5400), ("2 hours", 7200), ("PT30M", 1800), ("pt1h30m", 5400),
    ("45 min", 2700), ("1.5 hours", 5400), ("1 hour and 30 minutes", 5400), ("1h, 30m", 5400), ("1 day", 86400),
    ("  10 MINUTES ", 600),
])
def test_durations(text: str, seconds: int) -> None:
    assert values.parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("30", "has no unit"), ("1.5", "has no unit"), ("30 fortnights", "not a time unit"), ("soon", "not a duration"),
    ("", "not a duration"), ("PT", "not a duration"), ("30 minutes ago", "not a duration"), ("-5m", "not a duration"),
])
def test_durations_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        values.parse_duration(text)


@pytest.mark.parametrize(("text", "money"), [
    ("$5", (5.0, "USD")), ("$2.50", (2.5, "USD")), ("5 USD", (5.0, "USD")), ("3 eur", (3.0, "EUR")),
    ("€3", (3.0, "EUR")), ("£1,000.50", (1000.5, "GBP")), ("$ 5", (5.0, "USD")),
])
def test_money(text: str, money: tuple[float, str]) -> None:
    assert values.parse_money(text) == {"amount": money[0], "currency": money[1]}


@pytest.mark.parametrize("text", ["5", "five dollars", "USD 5", "$", "5 dollars", "$5.", ""])
def test_money_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        values.parse_money(text)


@pytest.mark.parametrize(("text", "number"), [
    ("3", 3), ("1,000", 1000), ("1_000_000", 1000000), ("+7", 7), ("-1", -1), (" 20 ", 20),
])
def test_integers(text: str, number: int) -> None:
    assert values.parse_integer(text) == number


@pytest.mark.parametrize("text", ["three", "2.5", "1,00", "10,0000", "", "1e3", "0x10"])
def test_integers_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        values.parse_integer(text)


@pytest.mark.parametrize(("text", "flag"), [
    ("yes", True), ("True", True), ("on", True), ("Y", True), ("enabled", True),
    ("no", False), ("FALSE", False), ("off", False), ("n", False), ("disabled", False),
])
def test_booleans(text: str, flag: bool) -> None:
    assert values.parse_boolean(text) is flag


@pytest.mark.parametrize("text", ["maybe", "1", ""])
def test_booleans_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not yes or no"):
        values.parse_boolean(text)


@pytest.mark.parametrize(("text", "word"), [
    ("In_Progress", "in-progress"), ("draft_pr", "draft-pr"), ("DRAFT-PR", "draft-pr"), ("pr opened", "pr-opened"),
])
def test_choice_words_treat_underscore_and_dash_alike(text: str, word: str) -> None:
    assert values.parse_word(text) == word


def test_lists_keep_path_patterns() -> None:
    assert values.parse_list("docs/**, `*.md`, README.md,") == ["docs/**", "*.md", "README.md"]


SPEC_TEXT = """\
# LOOP-SPEC: Names

## purpose
P.

## TRIGGER
T.

## work-selection_RULES
### May Select
- a

### must_skip-and ESCALATE
- b

## Budgets
- Max_Iterations: 1,000
- max-tool-calls-per-iteration: 20
- MAX RUNTIME: 1h 30m
- max pull_requests per-run: 2
- max cost: $2.50

## stop_conditions
- done

## Scope
- allowed paths: **/docs/**, `*.md`
- max files: 5

## roll-out
- mode: Draft_PR
"""


def test_headings_keys_and_values_are_normalised() -> None:
    artifact = check_artifact("spec.md", SPEC, SPEC_TEXT)
    assert artifact.findings == []
    assert artifact.data["work_selection_rules"] == {"may_select": ["a"], "must_skip_and_escalate": ["b"]}
    assert artifact.data["budgets"] == {"max_iterations": 1000, "max_tool_calls_per_iteration": 20,
                                        "max_runtime": 5400, "max_pull_requests_per_run": 2,
                                        "max_cost": {"amount": 2.5, "currency": "USD"}}
    assert artifact.data["scope"] == {"allowed_paths": ["**/docs/**", "*.md"], "max_files": 5}
    assert "rollout" not in artifact.data  # `roll-out` normalises to `roll_out`, another section: free prose


def test_a_file_is_recognised_by_its_title() -> None:
    assert detect_kind("docs/notes.md", "# loop_state: x\n") is STATE
    assert detect_kind("a/LOOP_SPEC.md", "# Loop State: x\n") is SPEC  # the name wins
    assert detect_kind("notes.md", "text\n# Notes\n") is None


def test_the_source_map_points_at_nested_values() -> None:
    text = "# Loop State: X\n\n## Current Run\n- run_id: r\n- mode: shadow\n\n## Items\n\n### A\n- status: done\n" \
           "- gates:\n  - link check: sideways\n"
    artifact = check_artifact("LOOP_STATE.md", STATE, text)
    (finding,) = artifact.findings
    assert (finding.code, finding.line, finding.column) == ("LG206", 12, 17)
    assert "sideways" in finding.message and "passed" in finding.hint


# -- many loops ---------------------------------------------------------------------------------
def test_worker_processes_find_exactly_what_one_process_finds(tmp_path: Path) -> None:
    for index in range(6):
        loop = tmp_path / "mono" / f"loop-{index}"
        shutil.copytree(EXAMPLE, loop)
        if index % 2:
            spec = loop / "LOOP_SPEC.md"
            spec.write_text(spec.read_text("utf-8").replace("30 minutes", f"{index}"), encoding="utf-8")
    serial = run_verify(VerifySettings((str(tmp_path / "mono"),), jobs=1))
    parallel = run_verify(VerifySettings((str(tmp_path / "mono"),), jobs=2))
    assert parallel.findings == serial.findings
    assert [f.code for f in serial.findings] == ["LG203"] * 3
    assert (parallel.files_checked, parallel.loops_checked) == (serial.files_checked, serial.loops_checked) == (30, 6)


def test_the_value_column_skips_the_spaces_after_the_colon() -> None:
    text = "# Loop State: X\n\n## Current Run\n- run_id: r\n- mode:    yolo\n- **escalations**:\t-1\n"
    findings = check_artifact("LOOP_STATE.md", STATE, text).findings
    assert sorted((f.code, f.line, f.column) for f in findings) == [("LG205", 6, 20), ("LG206", 5, 12)]


def test_a_loop_named_twice_is_checked_once(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "loops" / "a")
    state = tmp_path / "loops" / "a" / "LOOP_STATE.md"
    state.write_text(state.read_text("utf-8").replace("- mode: shadow", "- mode: yolo"), encoding="utf-8")
    paths = (str(tmp_path / "loops"), str(tmp_path / "loops" / "a"), str(tmp_path / "loops" / "a") + "/", str(state),
             str(state))
    result = run_verify(VerifySettings(paths))
    assert [f.code for f in result.findings] == ["LG206"]
    assert (result.loops_checked, result.files_checked) == (1, 6)


def test_workers_are_spawned_when_the_caller_has_threads(tmp_path: Path) -> None:
    """Forking a threaded process can deadlock; a caller with threads gets fresh interpreters."""
    import threading

    for index in range(4):
        shutil.copytree(EXAMPLE, tmp_path / "mono" / f"loop-{index}")
    release = threading.Event()
    waiter = threading.Thread(target=release.wait)
    waiter.start()
    try:
        result = run_verify(VerifySettings((str(tmp_path / "mono"),), jobs=2))
    finally:
        release.set()
        waiter.join()
    assert (result.findings, result.loops_checked) == ([], 4)


def test_escalation_categories_carry_typed_matchers() -> None:
    """As the README documents: nested bullets under a category are its labels, keywords and paths."""
    text = ("# Escalation Policy: X\n\n## Always Escalate\n- authentication\n  - labels: auth, security\n"
            "  - keywords: login, session token\n  - paths: src/auth/**, `*.pem`\n- billing\n")
    data = data_of("escalation-policy.md", text)
    assert data["always_escalate"] == [
        {"name": "authentication", "labels": ["auth", "security"], "keywords": ["login", "session token"],
         "paths": ["src/auth/**", "*.pem"]},
        "billing",
    ]


def test_a_wrong_matcher_is_named_not_dumped() -> None:
    text = "# Escalation Policy: X\n\n## Always Escalate\n- authentication\n  - labels: auth\n  - colour: red\n"
    (finding,) = check_artifact("escalation-policy.md", BY_FILENAME["escalation-policy.md"], text).findings
    assert (finding.code, finding.line, finding.column) == ("LG207", 6, 5)
    assert finding.message == "'colour' is not a key of always escalate"
    assert "{" not in finding.message


def test_init_counts_a_broken_symlink_as_an_existing_file(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "LOOP_STATE.md").symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(InitError, match="would overwrite"):
        run_init(InitSettings(str(loop), "X"))
    assert [p.name for p in loop.iterdir()] == ["LOOP_STATE.md"]
    assert (loop / "LOOP_STATE.md").is_symlink()


# -- numbers are bounded: a finding with a code, never a traceback, never infinity -----------------
@pytest.mark.parametrize(("text", "parse"), [
    ("1" + "0" * 400 + " hours", values.parse_duration),  # was OverflowError from round(inf)
    ("PT" + "9" * 5000 + "H", values.parse_duration),  # int() of 5,000 digits
    ("$" + "9" * 400, values.parse_money),  # parsed as infinity, and passed
    ("9" * 400 + " USD", values.parse_money),
    ("7" * 5000, values.parse_integer),  # "call sys.set_int_max_str_digits()"
    ("1,000,000,000,000,000,000", values.parse_integer),
    ("-" + "7" * 5000, values.parse_number),
    ("9" * 400 + ".5", values.parse_number),
    ("4000 days", values.parse_duration),  # over ten years
])
def test_huge_numbers_are_out_of_range(text: str, parse: Any) -> None:
    with pytest.raises(values.OutOfRange, match="too large") as raised:
        parse(text)
    message = str(raised.value)
    assert "set_int_max_str_digits" not in message
    assert len(message) < 120  # the value is shortened, not echoed in full


@pytest.mark.parametrize(("text", "expected"), [
    ("3650 days", 3650 * 86400), ("1000000000000000", 10**15), ("$1000000000000000", 1e15),
])
def test_the_bounds_themselves_are_allowed(text: str, expected: float) -> None:
    parse = values.parse_duration if "day" in text else values.parse_money if "$" in text else values.parse_integer
    got = parse(text)
    assert (got["amount"] if isinstance(got, dict) else got) == expected


@pytest.mark.parametrize("value", [
    "1" + "0" * 400 + " hours", "$" + "9" * 400, "7" * 5000, "-3 hours", "5 fortnights", "1e400 minutes",
])
def test_huge_and_odd_budgets_are_findings_through_verify(tmp_path: Path, value: str) -> None:
    run_init(InitSettings(str(tmp_path), "Demo"))
    spec = tmp_path / "LOOP_SPEC.md"
    text = spec.read_text(encoding="utf-8")
    key = "max cost" if value.startswith("$") else "max runtime" if not value.isdigit() else "max iterations"
    lines = [f"- {key}: {value}" if line.startswith(f"- {key}:") else line for line in text.split("\n")]
    spec.write_text("\n".join(lines), encoding="utf-8")
    result = run_verify(VerifySettings((str(tmp_path),)))
    mine = [f for f in result.findings if f.path.endswith("LOOP_SPEC.md") and f.severity.value == "error"]
    assert len(mine) == 1, result.findings
    assert mine[0].code in ("LG203", "LG204", "LG205", "LG202"), mine
    assert mine[0].line == lines.index(f"- {key}: {value}") + 1
    assert result.exit_code(strict=False) == 1
    if value[:2] in ("$9", "10", "77"):
        assert mine[0].code == "LG205", mine


def test_backticks_keep_a_comma_inside_one_list_entry() -> None:
    assert values.parse_list("a/**, `{b,c}/**`, d") == ["a/**", "{b,c}/**", "d"]
    assert values.parse_list("`a, b") == ["`a", "b"]  # an unpaired backtick: every comma splits


@pytest.mark.parametrize(("name", "said"), [
    ("A\x85B", "U+0085"), ("A\udc85B", "a byte that is not UTF-8"), ("A\u2028B", "U+2028"), ("A\tB", "U+0009"),
])
def test_init_refuses_a_name_that_is_not_one_printable_line_and_leaves_nothing(
        tmp_path: Path, name: str, said: str) -> None:
    """`init --name $'A\\x85B'` crashed (the surrogate could not be written) and left a .tmp file."""
    with pytest.raises(InitError, match=re.escape(said)):
        run_init(InitSettings(str(tmp_path / "loop"), name))
    assert not (tmp_path / "loop").exists() or list((tmp_path / "loop").iterdir()) == []


def test_init_through_the_cli_with_a_non_utf8_name_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "loopgate", "init", "loop", "--name", os.fsdecode(b"A\x85B")],
                          cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "not UTF-8" in done.stderr
    assert [p.name for p in tmp_path.rglob("*")] in ([], ["loop"])


def test_init_files_follow_the_umask_and_a_directory_name_is_made_printable(tmp_path: Path) -> None:
    directory = tmp_path / os.fsdecode(b"my\x85loop")
    written = run_init(InitSettings(str(directory), default_name(str(directory))))
    old = os.umask(0)
    os.umask(old)
    for path in written:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~old  # not mkstemp's private 0600
    assert Path(written[0]).read_text(encoding="utf-8").startswith("# Loop Spec: My Loop\n")


def test_verify_walks_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    """os.walk recursed once per level (Python < 3.12): RecursionError at about 1,000 levels."""
    depth = sys.getrecursionlimit() + 200
    deep = os.path.join(str(tmp_path), *(["d"] * depth))
    path = str(tmp_path)
    for _ in range(depth):  # one level at a time: os.makedirs recurses too
        path = os.path.join(path, "d")
        os.mkdir(path)
    try:
        assert path == deep
        run_init(InitSettings(path, "Deep"))
        result = run_verify(VerifySettings((str(tmp_path),)))
        assert result.loops_checked == 1
        assert result.exit_code(strict=False) == 0, result.findings[:3]
    finally:  # bottom up, one level at a time: pytest's own clean-up (shutil.rmtree) recurses
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        while path != str(tmp_path):
            os.rmdir(path)
            path = os.path.dirname(path)


def test_a_huge_line_is_shortened_in_the_message_it_causes() -> None:
    text = "# Loop Spec: x\n\n## Budgets\n- " + "word " * 200_000 + "\n"
    findings = check_artifact("LOOP_SPEC.md", SPEC, text).findings
    not_a_field = [f for f in findings if f.code == "LG109"]
    assert len(not_a_field) == 1 and len(not_a_field[0].message) < 200, not_a_field[0].message[:300]
    assert not_a_field[0].message.endswith("characters)' is not a `key: value` bullet")
