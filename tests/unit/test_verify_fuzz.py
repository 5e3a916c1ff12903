"""A mutation fuzz of `verify` over all five artifact kinds, as CI runs it: fixed seed, 2,000 cases.

Each case starts from the set `loopgate init` writes (valid, so every reader is reached) and
damages some of its files the ways hostile or careless edits do: lines deleted, duplicated and
swapped, random unicode inserted, tabs for spaces, very long lines, deep nesting, huge and
negative numbers, odd units; then whole-file damage: a BOM, CRLF or CR-only line endings, a NUL,
a byte that is not UTF-8. `verify` runs in-process on the real files. Whatever the damage:

- no exception escapes (a traceback is a broken contract: exit 0/1/2 and findings only);
- no case takes longer than HANG seconds (a hang in a pre-commit hook blocks every commit);
- every finding is a registered code whose line and column lie inside its file.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from loopgate import codes
from loopgate.artifacts.kinds import KINDS
from loopgate.init_loop import render
from loopgate.markdown.document import source_lines
from loopgate.verify import VerifySettings, run_verify

EXAMPLES = int(os.environ.get("LOOPGATE_FUZZ_EXAMPLES", "2000"))
HANG = 20  # seconds for one case; a linear verify takes milliseconds
TEMPLATES = {kind.filename: render(kind.filename, "Fuzz Loop").split("\n") for kind in KINDS}

unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
NUMBERS = ["9" * 400, "-5", "-0", "1" + "0" * 400, "1e400", "0.0000001", "99999999999999999999", "7" * 5000,
           "$" + "9" * 400, "-$5", "1,000,000", "NaN", "inf", "0", "00", "+3", "1_0", "\u0663"]
UNITS = ["fortnights", "µs", "H", "Minutes", "mins.", "", "ms", "hours hours", "PT", "P1D", "days ago", "h 30"]
LONG_UNITS = [" ", "\t", "x", "> ", "- ", "*", "`", "[", "#", "1", ":", "<!--", "\\"]
NESTERS = ["  ", "- ", "> ", ">", "1. ", "* [ ] ", "\t", "  > "]  # repeated before a bullet, level by level


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(sorted(MUTATIONS)))
    index = draw(st.integers(0, 200))
    if kind == "swap":
        return kind, (index, draw(st.integers(0, 200)))
    if kind in ("insert", "splice"):
        return kind, (index, draw(st.integers(0, 80)), draw(unicode_text))
    if kind == "long":
        return kind, (index, draw(st.sampled_from(LONG_UNITS)), draw(st.integers(1, 5000)))
    if kind == "nest":
        return kind, (index, draw(st.sampled_from(NESTERS)), draw(st.integers(1, 150)))
    if kind == "number":
        return kind, (index, draw(st.sampled_from(NUMBERS)))
    if kind == "unit":
        return kind, (index, draw(st.sampled_from(UNITS)))
    return kind, (index,)


def _swap(lines: list[str], at: int, other: int) -> None:
    other %= len(lines)
    lines[at], lines[other] = lines[other], lines[at]


def _splice(lines: list[str], at: int, column: int, text: str) -> None:
    column = min(column, len(lines[at]))
    lines[at] = lines[at][:column] + text + lines[at][column:]


def _odd_unit(lines: list[str], at: int, unit: str) -> None:
    for word in ("minutes", "hours", "minute", "hour", "seconds"):
        lines[at] = lines[at].replace(word, unit)


MUTATIONS: dict[str, Callable[..., None]] = {
    "delete": lambda lines, at: lines.pop(at),
    "duplicate": lambda lines, at: lines.insert(at, lines[at]),
    "swap": _swap,
    "insert": lambda lines, at, _column, text: lines.insert(at, text),
    "splice": _splice,
    "tabs": lambda lines, at: lines.__setitem__(at, lines[at].replace("  ", "\t")),
    "long": lambda lines, at, unit, count: lines.__setitem__(at, lines[at] + unit * count),
    # a bullet under `depth` levels of the prefix: nested lists, quotes, indentation
    "nest": lambda lines, at, prefix, depth: lines.__setitem__(
        slice(at, at), [prefix * level + "- k: v" for level in range(1, depth)]),
    # every number on the line becomes `number`
    "number": lambda lines, at, number: lines.__setitem__(
        at, "".join(number if c.isdigit() else c for c in _squeeze_digits(lines[at]))),
    "unit": _odd_unit,
}


# Numbers and units are damaged where there are numbers and units (any line would rarely be one).
TARGETS = {"number": lambda line: any(c.isdigit() for c in line),
           "unit": lambda line: any(w in line for w in ("minute", "hour", "second"))}


def _mutate(lines: list[str], kind: str, args: tuple[Any, ...]) -> None:
    if not lines:
        lines.append("")
    wanted = TARGETS.get(kind)
    candidates = [i for i, line in enumerate(lines) if wanted(line)] if wanted else []
    at = candidates[args[0] % len(candidates)] if candidates else args[0] % len(lines)
    MUTATIONS[kind](lines, at, *args[1:])


def _squeeze_digits(line: str) -> str:
    """Each run of digits as one digit, so a number is replaced whole."""
    out: list[str] = []
    for char in line:
        if not (char.isdigit() and out and out[-1].isdigit()):
            out.append(char)
    return "".join(out)


encoding = st.fixed_dictionaries({
    "newline": st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]),
    "bom": st.booleans(),
    "nul": st.one_of(st.none(), st.integers(0, 10_000)),
    "bad_byte": st.one_of(st.none(), st.integers(0, 10_000)),
    "final_newline": st.booleans(),
})
damage = st.lists(
    st.tuples(st.sampled_from(sorted(TEMPLATES)), st.lists(mutation(), min_size=1, max_size=4), encoding),
    min_size=1, max_size=3)


def _encode(lines: list[str], how: dict[str, Any]) -> bytes:
    text = how["newline"].join(lines) + (how["newline"] if how["final_newline"] else "")
    raw = ("\ufeff" if how["bom"] else "").encode("utf-8") + text.encode("utf-8")
    for key, byte in (("nul", b"\0"), ("bad_byte", b"\xff")):
        if how[key] is not None:
            at = how[key] % (len(raw) + 1)
            raw = raw[:at] + byte + raw[at:]
    return raw


class Hang(Exception):
    pass


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"verify took over {seconds} s on one case")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _lines_of(raw: bytes) -> list[str]:
    """The file's lines as verify counts them (BOM dropped; bytes that do not decode kept as one char)."""
    return source_lines(raw.decode("utf-8", "replace").removeprefix("\ufeff"))


def _check_finding(finding: Any, files: dict[str, bytes], directory: str) -> None:
    assert finding.code in codes.REGISTRY, finding
    assert finding.message and finding.hint, finding
    assert finding.severity is codes.REGISTRY[finding.code].severity, finding
    raw = files.get(os.path.basename(finding.path))
    assert raw is not None and os.path.dirname(finding.path) == directory, finding
    lines = _lines_of(raw) or [""]
    assert 1 <= finding.line <= len(lines), (finding, len(lines))
    line = lines[finding.line - 1]
    assert 1 <= finding.column <= len(line) + 1, (finding, line[:80])


def test_verify_survives_damaged_artifacts(tmp_path: Path) -> None:
    directory = str(tmp_path)

    @seed(int(os.environ.get("LOOPGATE_FUZZ_SEED", "20261201")))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(damage)
    def case(changes: list[tuple[str, list[tuple[str, Any]], dict[str, Any]]]) -> None:
        files = {name: "\n".join(lines).encode("utf-8") for name, lines in TEMPLATES.items()}
        for name, mutations, how in changes:
            lines = list(TEMPLATES[name])
            for kind, args in mutations:
                _mutate(lines, kind, args)
            files[name] = _encode(lines, how)
        for name, raw in files.items():
            Path(directory, name).write_bytes(raw)
        with _deadline(HANG):
            result = run_verify(VerifySettings((directory,), jobs=1))
        assert result.exit_code(strict=False) in (0, 1, 2)
        for finding in result.findings:
            _check_finding(finding, files, directory)

    case()
