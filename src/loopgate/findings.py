"""The one value every check produces: a finding at a place in a file.

Every output format (text, json, github, ...) is a view of a list of these, so nothing a
reporter shows can exist without being a Finding first.
"""

from __future__ import annotations

import enum

from loopgate.records import record


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str
    hint: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Stable order for every view: by file, then position, then code."""
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.code, f.message))
