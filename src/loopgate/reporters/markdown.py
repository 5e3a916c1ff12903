"""A markdown table for people: GitHub's job summary (`>> "$GITHUB_STEP_SUMMARY"`), a pull-request
comment, a chat message. The verdict first, then each gate, then each finding."""

from __future__ import annotations

from loopgate.project import code_url
from loopgate.reporters.base import Report, Reporter, count_words, printable, verdict_word

_MARK = {"ok": "✅", "passed with findings": "✅", "failed": "❌", "error": "⚠️"}
_STATUS = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error", "skipped": "⏭️ skipped"}


def _cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped, markdown and HTML characters shown as written."""
    out = printable(text.replace("\r", " ").replace("\n", " ")).replace("\\", "\\\\").replace("|", "\\|")
    for char in "`*_[]<>":
        out = out.replace(char, "\\" + char)
    return out


class MarkdownReporter(Reporter):
    def render(self, report: Report) -> str:
        verdict = verdict_word(report)
        what = (f"{len(report.results)} gate{'s' if len(report.results) != 1 else ''}" if report.results
                else f"{report.files_checked} file{'s' if report.files_checked != 1 else ''}")
        lines = [f"### {_MARK[verdict]} loopgate {_cell(report.command)}: {verdict}", "",
                 f"{what} checked; {count_words(report.findings)}"
                 + (" (warnings fail: --strict)" if report.strict else "") + ".", ""]
        if report.results:
            lines += ["| gate | kind | status | time | summary |", "|---|---|---|---|---|"]
            for r in report.results:
                kind = "advisory" if r.gate in report.advisory else "required"
                lines.append(f"| {_cell(r.gate)} | {kind} | {_STATUS.get(r.status.value, r.status.value)} | "
                             f"{r.duration:.2f}s | {_cell(r.reason or r.summary)} |")
            lines.append("")
        if report.findings:
            lines += ["| | location | code | message |", "|---|---|---|---|"]
            for f in report.findings:
                icon = "❌" if report.fails(f) else "⚠️" if f.severity.value == "warning" else "note"
                lines.append(f"| {icon} | {_cell(f'{f.path}:{f.line}:{f.column}')} | [{f.code}]({code_url(f.code)}) | "
                             f"{_cell(f.message)}<br>{_cell('hint: ' + f.hint) if f.hint else ''} |")
            lines.append("")
        return "\n".join(lines)
