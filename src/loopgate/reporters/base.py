from __future__ import annotations

from loopgate import records
from loopgate.findings import Finding, Severity
from loopgate.records import field, record

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from loopgate.gates.base import GateResult


@record(frozen=True)
class Report:
    """What a reporter needs: the findings, the verdict, and how much was checked.

    Every view shows the same verdict: `fails()` says which findings fail the run (errors, and
    warnings too under `--strict`), and `exit_code` is what the command exits with.
    """

    findings: list[Finding]
    ok: bool
    files_checked: int = 0
    color: bool = False
    # Gate runs, when the findings came from gates (JUnit and SARIF group by gate).
    results: list[GateResult] = field(default_factory=list)
    strict: bool = False
    # What made the report: "verify", "check" or "gate NAME" (SARIF's automationDetails, JUnit's suite).
    command: str = "verify"
    exit_code: int | None = None  # None: 0 when ok, else 1
    # Checklist entries under Advisory Gates: their failures are warnings and never fail the run.
    advisory: frozenset[str] = frozenset()

    def fails(self, finding: Finding) -> bool:
        return finding.severity is Severity.ERROR or (self.strict and finding.severity is Severity.WARNING)

    @property
    def code(self) -> int:
        return self.exit_code if self.exit_code is not None else (0 if self.ok else 1)

    def gate_findings(self, result: GateResult) -> list[Finding]:
        """A gate's own findings as the verdict counts them: an advisory gate's errors are warnings."""
        if result.gate not in self.advisory:
            return list(result.findings)
        return [records.replace(f, severity=Severity.WARNING) if f.severity is Severity.ERROR else f
                for f in result.findings]


class Reporter:
    def render(self, report: Report) -> str:
        raise NotImplementedError


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# What a terminal or a CI log would act on instead of showing: C0 controls (ESC starts ANSI and OSC
# sequences: colours, a retitled window, a hyperlink, a cleared screen; CR overwrites the line),
# DEL, the C1 controls (U+009B is a one-character CSI), the bidirectional overrides and isolates
# that reorder what is read ("Trojan Source") and the Unicode line and paragraph separators.
_UNPRINTABLE = {c: _escape(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F),
                                        *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0x2028, 0x2029)
                if c not in (0x09, 0x0A)}
_ONE_LINE = {**_UNPRINTABLE, 0x0A: _escape(0x0A)}


def printable(text: str, newlines: bool = True) -> str:
    """`text` as a terminal shows it, never acts on it: each control character is written as its escape
    (`\\x1b`, `\\u202e`), visibly. Text from the judged change (file names, a command's output, messages
    quoting either) reaches the terminal only through this. Newlines are kept unless `newlines` is false."""
    return clean(text).translate(_UNPRINTABLE if newlines else _ONE_LINE)


def clean(text: str) -> str:
    """Text any encoder takes: a file name git holds may not be UTF-8 (Python keeps its bytes as
    lone surrogates, "surrogateescape"); each such byte is shown as U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate no decoder made (from JSON's \ud800, say)
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def count_words(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    parts = [f"{errors} error{'s' if errors != 1 else ''}", f"{warnings} warning{'s' if warnings != 1 else ''}"]
    return ", ".join(parts)


def verdict_word(report: Report) -> str:
    if report.code == 2:
        return "error"
    if not report.ok:
        return "failed"
    return "passed with findings" if report.findings else "ok"
