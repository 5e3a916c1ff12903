from __future__ import annotations

from loopgate.findings import Severity
from loopgate.reporters.base import Report, Reporter

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: one `::error file=...::message` annotation per finding."""

    def render(self, report: Report) -> str:
        lines = []
        for f in report.findings:
            props = f"file={_prop(f.path)},line={f.line},col={f.column},title={_prop(f.code)}"
            message = f"{f.message}" + (f"\n{f.hint}" if f.hint else "")
            lines.append(f"::{_LEVEL[f.severity]} {props}::{_data(message)}")
        return "\n".join(lines) + ("\n" if lines else "")
