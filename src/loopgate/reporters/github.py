"""GitHub Actions workflow commands: the readable log in a collapsible `::group::`, then one
annotation per finding (`::error file=...,line=...::message`), which GitHub shows on the diff."""

from __future__ import annotations

from loopgate.findings import Severity
from loopgate.reporters.base import Report, Reporter, printable, verdict_word
from loopgate.reporters.text import TextReporter

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _log_line(text: str) -> str:
    """A log line that cannot be taken for a workflow command (`::` at its start would be one)."""
    return f" {text}" if text.startswith("::") else text


class GithubReporter(Reporter):
    def render(self, report: Report) -> str:
        plain = TextReporter().render(Report(report.findings, report.ok, report.files_checked, False,
                                             report.results, report.strict, report.command, report.exit_code,
                                             report.advisory))
        lines = [f"::group::{_data(f'loopgate {report.command}: {verdict_word(report)}')}"]
        lines += [_log_line(line) for line in plain.splitlines()]
        lines.append("::endgroup::")
        for f in report.findings:
            # under --strict a warning fails the run: it is annotated as the error it counts as
            level = "error" if report.fails(f) else _LEVEL[f.severity]
            props = f"file={_prop(f.path)},line={f.line},col={f.column},title={_prop(f.code)}"
            message = f"{f.message}" + (f"\n{f.hint}" if f.hint else "")
            lines.append(f"::{level} {props}::{_data(message)}")
        return "\n".join(lines) + "\n"
