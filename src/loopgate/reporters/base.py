from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loopgate.findings import Finding, Severity

if TYPE_CHECKING:
    from loopgate.gates.base import GateResult


@dataclass(frozen=True)
class Report:
    """What a reporter needs: the findings, whether the run failed, and how much was checked."""

    findings: list[Finding]
    ok: bool
    files_checked: int = 0
    color: bool = False
    # Gate runs, when the findings came from gates (JUnit and SARIF group by gate).
    results: list[GateResult] = field(default_factory=list)


class Reporter:
    def render(self, report: Report) -> str:
        raise NotImplementedError


def count_words(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    parts = [f"{errors} error{'s' if errors != 1 else ''}", f"{warnings} warning{'s' if warnings != 1 else ''}"]
    return ", ".join(parts)
