"""SARIF 2.1.0, the format GitHub code scanning ingests (upload-sarif).

Rules come from the code registry, so every result's ruleId has a rule with the code's
summary, explanation and fix; locations are repository-relative URIs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from loopgate import __version__
from loopgate.codes import REGISTRY, Code
from loopgate.findings import Finding, Severity
from loopgate.reporters.base import Report, Reporter

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_uri(path: str) -> str:
    """A relative URI reference: forward slashes, no leading `./`, reserved characters escaped."""
    cleaned = path.replace("\\", "/")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    return quote(cleaned or ".", safe="/-._~")


def _rule(code: Code | None, code_id: str) -> dict[str, Any]:
    if code is None:
        return {"id": code_id, "shortDescription": {"text": code_id}}
    return {
        "id": code.code,
        "name": "".join(part.title() for part in code.name.split("-")),
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.explanation},
        "help": {
            "text": f"{code.explanation}\n\nFix: {code.hint}",
            "markdown": f"{code.explanation}\n\n**Fix:** {code.hint}",
        },
        "defaultConfiguration": {"level": _LEVEL[code.severity]},
        "properties": {"tags": ["loopgate"]},
    }


def _location(path: str) -> dict[str, Any]:
    if os.path.isabs(path):  # outside any checkout: an absolute file URI, no base
        return {"uri": Path(path).as_uri()}
    return {"uri": artifact_uri(path), "uriBaseId": "%SRCROOT%"}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    digest = hashlib.sha256(f"{finding.code}\0{finding.path}\0{finding.message}".encode()).hexdigest()[:32]
    text = finding.message + (f" Hint: {finding.hint}" if finding.hint else "")
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": _location(finding.path),
                "region": {"startLine": finding.line, "startColumn": finding.column},
            },
        }],
        "partialFingerprints": {"loopgateFinding/v1": digest},
    }


class SarifReporter(Reporter):
    def render(self, report: Report) -> str:
        # Every finding's code is registered: the module that made the finding defined it. (Reading the
        # table, not collecting it, keeps reporters from importing the gates above them.)
        registry = REGISTRY
        used = sorted({f.code for f in report.findings})
        index = {code: i for i, code in enumerate(used)}
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "loopgate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(registry.get(code), code) for code in used],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
            "results": [_result(f, index[f.code]) for f in report.findings],
            "invocations": [{"executionSuccessful": all(r.status.value != "error" for r in report.results)}],
        }
        payload = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
