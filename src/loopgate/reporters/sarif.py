"""SARIF 2.1.0, the format GitHub code scanning ingests (upload-sarif).

Rules come from the code registry, so every result's ruleId has a rule with the code's summary,
explanation, fix and documentation link. Locations are relative to the repository root
(`uriBaseId: %SRCROOT%`); a finding that names no file (a command's exit status) has no location
rather than a made-up one. `automationDetails.id` names the command or gate, so the uploads of
`verify`, `check` and each gate are separate analyses that do not replace each other.
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
from loopgate.project import HOMEPAGE, code_url
from loopgate.reporters.base import Report, Reporter, clean

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub ranks security alerts by this CVSS-like score (>= 7.0 "high", >= 9.0 "critical").
_SECURITY_SEVERITY = {"possible-secret": "9.0", "forbidden-path": "7.5"}


def artifact_uri(path: str) -> str:
    """A relative URI reference: forward slashes, no leading `./`, reserved characters escaped.

    The file name's own bytes are escaped (os.fsencode), so a name that is not UTF-8 keeps them."""
    cleaned = path.replace("\\", "/")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    try:
        raw = os.fsencode(cleaned or ".")
    except UnicodeEncodeError:
        raw = (cleaned or ".").encode("utf-8", "surrogatepass")
    return quote(raw, safe="/-._~")


def repository_root(start: str = ".") -> Path | None:
    """The nearest directory at or above `start` holding `.git` (a checkout or a linked worktree)."""
    here = Path(os.path.abspath(start))
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _rule(code: Code | None, code_id: str) -> dict[str, Any]:
    if code is None:
        return {"id": code_id, "shortDescription": {"text": code_id}}
    properties: dict[str, Any] = {"tags": ["loopgate"]}
    if code.name in _SECURITY_SEVERITY:
        properties = {"tags": ["loopgate", "security"], "security-severity": _SECURITY_SEVERITY[code.name]}
    return {
        "id": code.code,
        "name": "".join(part.title() for part in code.name.split("-")),
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.explanation},
        "helpUri": code_url(code.code),
        "help": {
            "text": f"{code.explanation}\n\nFix: {code.hint}",
            "markdown": f"{code.explanation}\n\n**Fix:** {code.hint}",
        },
        "defaultConfiguration": {"level": _LEVEL[code.severity]},
        "properties": properties,
    }


def _location(path: str, root: Path | None) -> dict[str, Any] | None:
    if path in ("", "."):
        return None  # the finding is about a command or the run, not a file
    absolute = Path(os.path.abspath(path))
    if root is not None and (absolute == root or root in absolute.parents):
        return {"uri": artifact_uri(absolute.relative_to(root).as_posix()), "uriBaseId": "%SRCROOT%"}
    if os.path.isabs(path) or root is not None:  # outside the checkout: an absolute file URI, no base
        return {"uri": "file://" + artifact_uri(absolute.as_posix())}
    return {"uri": artifact_uri(path), "uriBaseId": "%SRCROOT%"}  # no checkout: relative to where we ran


def _result(finding: Finding, rule_index: int, report: Report, root: Path | None) -> dict[str, Any]:
    key = f"{finding.code}\0{finding.path}\0{finding.message}".encode("utf-8", "surrogatepass")
    text = clean(finding.message + (f" Hint: {finding.hint}" if finding.hint else ""))
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        # under --strict a warning fails the run: the level says so, as the exit status does
        "level": "error" if report.fails(finding) else _LEVEL[finding.severity],
        "message": {"text": text},
        "partialFingerprints": {"loopgateFinding/v1": hashlib.sha256(key).hexdigest()[:32]},
    }
    where = _location(finding.path, root)
    if where is not None:
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": where,
            "region": {"startLine": finding.line, "startColumn": finding.column},
        }}]
    return result


def _invocation(report: Report) -> dict[str, Any]:
    """The run's verdict. SARIF's executionSuccessful means the tool did its job (findings are a
    successful analysis); exit 2 (bad input, a gate that could not run) is the one that did not."""
    invocation: dict[str, Any] = {"executionSuccessful": report.code != 2, "exitCode": report.code,
                                  "exitCodeDescription": {0: "passed", 1: "failed", 2: "error"}.get(report.code, "")}
    errors = [r for r in report.results if r.status.value == "error" and r.gate not in report.advisory]
    if errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": clean(f"{r.gate} could not run: {r.reason}")}} for r in errors]
    return invocation


class SarifReporter(Reporter):
    def render(self, report: Report) -> str:
        # Every finding's code is registered: the module that made the finding defined it. (Reading the
        # table, not collecting it, keeps reporters from importing the gates above them.)
        registry = REGISTRY
        used = sorted({f.code for f in report.findings})
        index = {code: i for i, code in enumerate(used)}
        root = repository_root()
        base: dict[str, Any] = {"description": {"text": "The repository root."}}
        if root is not None:
            base["uri"] = root.as_uri() + "/"
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "loopgate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": HOMEPAGE,
                "rules": [_rule(registry.get(code), code) for code in used],
            }},
            # one analysis per command or gate: GitHub keeps an upload per category
            "automationDetails": {"id": f"loopgate/{report.command.replace(' ', '-')}/"},
            "originalUriBaseIds": {"%SRCROOT%": base},
            "results": [_result(f, index[f.code], report, root) for f in report.findings],
            "invocations": [_invocation(report)],
        }
        payload = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
