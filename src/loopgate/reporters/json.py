from __future__ import annotations

import json

from loopgate.reporters.base import Report, Reporter, clean


class JsonReporter(Reporter):
    """One object: `{"ok": bool, "problems": [{path, line, column, code, severity, message, hint}]}`."""

    def render(self, report: Report) -> str:
        payload: dict[str, object] = {"ok": report.ok, "problems": [f.as_dict() for f in report.findings]}
        if report.results:  # gate runs: each gate's status, duration and summary too
            payload["gates"] = [r.as_dict() for r in report.results]
        return clean(json.dumps(payload, indent=2, ensure_ascii=False)) + "\n"
