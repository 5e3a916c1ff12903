from __future__ import annotations

from loopgate.findings import Severity
from loopgate.reporters.base import Report, Reporter, clean, count_words, printable, verdict_word

_STATUS_COLORS = {"passed": "32", "failed": "31", "error": "35", "skipped": "33"}
_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


class TextReporter(Reporter):
    """`path:line:col: CODE message`, the hint indented under it, then a one-line summary."""

    def render(self, report: Report) -> str:
        lines: list[str] = []
        for r in report.results:
            mark = _paint(f"{r.status.value:<7}", _STATUS_COLORS.get(r.status.value, "0"), report.color)
            detail = printable(r.reason if r.reason else r.summary, newlines=False)
            lines.append(f"{mark} {printable(r.gate, False)} ({r.duration:.2f}s){': ' + detail if detail else ''}")
        for f in report.findings:
            # the change's file names and its commands' words are shown, never obeyed (escapes, CR, bidi)
            where = _paint(f"{printable(f.path, False)}:{f.line}:{f.column}:", "1", report.color)
            code = _paint(f"{f.code}", _COLORS[f.severity], report.color)
            level = "" if f.severity is Severity.ERROR else f" [{f.severity.value}]"
            lines.append(f"{where} {code}{level} {printable(f.message, False)}")
            if f.hint:
                lines.append(f"    hint: {printable(f.hint)}")
        files = f"{report.files_checked} file{'s' if report.files_checked != 1 else ''} checked"
        if report.results:
            files = f"{len(report.results)} gate{'s' if len(report.results) != 1 else ''} run"
        verdict = verdict_word(report)
        if report.findings:
            lines.append(f"loopgate: {verdict}: {count_words(report.findings)} in {files}")
        elif verdict == "ok":
            lines.append(f"loopgate: ok: {files}, no findings")
        else:  # a gate could not run and left no finding of its own
            lines.append(f"loopgate: {verdict}: no findings in {files}")
        return clean("\n".join(lines) + "\n")
