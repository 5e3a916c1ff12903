"""Every regular expression and scanner of the artifact reader stays linear on hostile text.

A backtracking pattern is fine on the files we write and quadratic (or worse) on the file an
attacker or a careless paste writes: `[ \\t]*(?:>[ \\t]?)*[ \\t]*` took 34 s on 40,000 blanks once
the file held a `>`. Each check below feeds one reader hypothesis-generated worst cases: a short
unit (blanks, quote markers, digits, brackets, ...) repeated to SIZE characters between a prefix
and a tail chosen to make the match fail late. A linear reader handles each in milliseconds; a
quadratic one needs minutes. The check runs in a subprocess bounded by a generous timeout, so a
regression fails the test (instead of hanging the suite) and no wall-clock figure is asserted.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from loopgate.artifacts import values
from loopgate.artifacts.artifact import check_artifact, detect_kind
from loopgate.artifacts.extract import split_field
from loopgate.artifacts.kinds import KINDS, _work_selection_namer, kind_for_title
from loopgate.gates import _process, _secretscan, command, secrets
from loopgate.gates._positions import toml_positions
from loopgate.gates._sites.base import template_links
from loopgate.gates.scope import read_spec_scope
from loopgate.markdown import document, lines
from loopgate.reporters.base import printable

# Characters a worst case repeats its unit to: a quadratic reader needs minutes for one such case.
SIZE = 200_000
# What backtracking patterns trip over: runs of blanks, quote and list markers, digits, fences,
# brackets, emphasis, colons, and the characters that end a match late.
UNITS = [" ", "\t", "> ", ">", " >", ">\t", "1", "1.", "a ", "-", "- ", "* ", "*", "`", "~", "#", "# ", "[", "](",
         "[a](", "_", "**", "**_", ":", ": ", "<", "<!--", "=", "\\", "&", "1,", "1 ", "and ", ", ", "1h",
         "a.", ". ", '"', "'", "\x1b[", "(1,", ":1:", "pragma: "]
unit = st.one_of(st.sampled_from(UNITS), st.text(alphabet=" \t>-*+#`~=_1.)[]x:,<!h\n", min_size=1, max_size=3))
edge = st.sampled_from(["", "x", "\n", ":", "> q\n\n", "- ", "# ", "$", "1", "\n\n>", "```\n", "- a:"])


# Whole lines repeated: tokens mistune finds but the line patterns once did not (a setext heading
# inside a quote), so every later search scanned to the end of the file.
LINE_UNITS = ["> a\n> ===\n", "- a\n  ---\n", "> # h\n", "- # h\n", "a\n---\n", "[a]: b\n- x\n", "* * *\n- a\n",
              "- a\nb\n", "<div>\n- a\n</div>\n\n", "> > - a\n", "1. ## a\n", "- ```\n  a\n  ```\n"]


def worst_cases(size: int) -> st.SearchStrategy[str]:
    return st.builds(lambda prefix, repeated, tail: prefix + repeated * (size // len(repeated)) + tail,
                     edge, unit, edge)


def _each_line(pattern: Callable[[str], object]) -> Callable[[str], None]:
    def run(text: str) -> None:
        for line in document.source_lines(text):
            pattern(line)
    return run


def _ignore_value_errors(parse: Callable[[str], object]) -> Callable[[str], None]:
    def run(text: str) -> None:
        with contextlib.suppress(ValueError):
            parse(text)
    return run


def _artifacts(text: str) -> None:
    for kind in KINDS:
        check_artifact(kind.filename, kind, f"# {kind.title_prefix}: x\n\n## Budgets\n\n" + text)


def _scope(text: str) -> None:
    read_spec_scope("LOOP_SPEC.md", "# Loop Spec: x\n\n## Scope\n\n- allowed paths: " + text + "\n")


READERS: dict[str, Callable[[str], None]] = {
    **{name: _each_line(getattr(lines, name).match) for name in
       ("LIST_MARKER", "ATX", "SETEXT", "FENCE", "QUOTE_LINE", "ENDS_QUOTE", "THEMATIC", "TASK_BOX")},
    "normalise_key": document.normalise_key,
    "source_lines": document.source_lines,
    "parse_document": document.parse_document,
    "split_field": split_field,
    "parse_duration": _ignore_value_errors(values.parse_duration),
    "parse_money": _ignore_value_errors(values.parse_money),
    "parse_integer": _ignore_value_errors(values.parse_integer),
    "parse_number": _ignore_value_errors(values.parse_number),
    "parse_list": values.parse_list,
    "parse_word": values.parse_word,
    "kind_for_title": kind_for_title,
    "work_selection_namer": _work_selection_namer,
    "detect_kind": lambda text: detect_kind("notes.md", text),
    "check_artifact": _artifacts,
    "scope_spec": _scope,
    # the gates' readers of user text: TOML key lines, a command's output, pragmas, escapes
    "toml_positions": lambda text: toml_positions(text, [("tool", "key"), ("key",), (0, "x")]),
    "command_output": lambda text: command.output_findings(text, ".", "", "cmd", 1),
    "ansi": lambda text: _process._ANSI.sub("", text),
    "network_errors": _process._NETWORK.search,
    "pragma": _each_line(lambda line: (secrets._PRAGMA.search(line), secrets._NEXTLINE.search(line))),
    "pinned_rev": _each_line(_secretscan._PINNED_REV.fullmatch),
    "printable": printable,
    # a templated site's (Hugo, Jekyll) links whose destination is template code
    "template_links": _each_line(lambda line: list(template_links(line))),
}
# Units a reader's own syntax makes its worst case, repeated to SIZE besides the hypothesis draws.
OWN_UNITS = {"template_links": ["]({{", "]({%", "](\t{{", "]({{}}", "]({{ }}x", "}})", "{{%}", "](]({{ }}"]}
# The whole-document readers cost real milliseconds per character even when linear: fewer,
# smaller cases (still minutes for a quadratic reader).
WHOLE = {"parse_document", "check_artifact", "scope_spec", "detect_kind"}


TIMEOUT = 60


def drive(name: str) -> None:
    """Run in the subprocess: feed one reader its worst cases."""
    reader = READERS[name]

    size = SIZE // 4 if name in WHOLE else SIZE

    @seed(8)
    @settings(max_examples=5 if name in WHOLE else 30, deadline=None, database=None)
    @given(worst_cases(size))
    def check(text: str) -> None:
        reader(text)

    check()
    for own in OWN_UNITS.get(name, []):
        reader(own * (SIZE // len(own)))
        reader(own * (SIZE // len(own)) + "}})")  # a late closer: every start's match is the one far end
    if name == "parse_document":  # every known line-level worst case, not left to the draw
        for line in LINE_UNITS:
            reader(line * (SIZE // 2 // len(line)))


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_is_linear_on_worst_cases(name: str) -> None:
    here = Path(__file__).parent
    code = f"import sys; sys.path.insert(0, {str(here)!r}); import test_linear_scanners as t; t.drive({name!r})"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: worst cases of {SIZE:,} characters did not finish in {TIMEOUT} s (a quadratic reader)")
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_issue_repro_is_fast_in_verify(tmp_path: Path) -> None:
    """`printf '\\n> note\\n\\n%*sx\\n' 40000 '' >> LOOP_SPEC.md; loopgate verify .` took 34 s."""
    subprocess.run([sys.executable, "-m", "loopgate", "init", str(tmp_path), "--name", "Demo"], check=True,
                   capture_output=True)
    with open(tmp_path / "LOOP_SPEC.md", "a", encoding="utf-8") as spec:
        spec.write("\n> note\n\n" + " " * 40_000 + "x\n")
    done = subprocess.run([sys.executable, "-m", "loopgate", "verify", str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_the_schema_gate_places_a_toml_error_fast_after_a_line_of_blanks(tmp_path: Path) -> None:
    """A TOML file's error line was searched with a pattern cubic on a line of blanks."""
    (tmp_path / "schema.json").write_text('{"type": "object", "properties": {"key": {"type": "integer"}}}')
    (tmp_path / "data.toml").write_text("# " + " " * 200_000 + "x\n" + " " * 100_000 + "\nkey = 'text'\n")
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "schema", "--schema", "schema.json",
                           "--format", "text", "data.toml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "data.toml:3:1:" in done.stdout
