"""JUnit XML, for CI systems that show test reports: one testsuite per gate, one testcase per
finding (with `file` and `line` attributes), or one passing testcase when a gate is clean."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from loopgate.findings import Finding, Severity
from loopgate.reporters.base import Report, Reporter


def _case(suite: ET.Element, classname: str, finding: Finding) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": classname,
        "name": f"{finding.code} {finding.path}:{finding.line}:{finding.column}",
        "file": finding.path,
        "line": str(finding.line),
    })
    tag = "failure" if finding.severity is Severity.ERROR else "system-out"
    if tag == "failure":
        node = ET.SubElement(case, "failure", {"message": finding.message, "type": finding.code})
    else:
        node = ET.SubElement(case, "system-out")
    node.text = (f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}\n"
                 f"hint: {finding.hint}")


def _suite(root: ET.Element, name: str, findings: Iterable[Finding], *, time: float = 0.0,
           status: str = "", reason: str = "") -> None:
    found = list(findings)
    failures = sum(1 for f in found if f.severity is Severity.ERROR)
    suite = ET.SubElement(root, "testsuite", {"name": name, "time": f"{time:.3f}"})
    classname = f"loopgate.{name}"
    if status == "error":
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": f"{name} ran"})
        ET.SubElement(case, "error", {"message": reason or "environment error", "type": "environment"}).text = reason
    elif status == "skipped":
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": f"{name} ran"})
        ET.SubElement(case, "skipped", {"message": reason or "skipped"})
    for finding in found:
        _case(suite, classname, finding)
    if not found and status not in ("error", "skipped"):
        ET.SubElement(suite, "testcase", {"classname": classname, "name": f"{name} passed"})
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", str(1 if status == "error" else 0))
    suite.set("skipped", str(1 if status == "skipped" else 0))


class JunitReporter(Reporter):
    def render(self, report: Report) -> str:
        root = ET.Element("testsuites", {"name": "loopgate"})
        if report.results:
            for result in report.results:
                _suite(root, result.gate, result.findings, time=result.duration,
                       status=result.status.value, reason=result.reason)
        else:
            _suite(root, "verify", report.findings)
        for attr in ("tests", "failures", "errors", "skipped"):
            root.set(attr, str(sum(int(s.get(attr, "0")) for s in root)))
        ET.indent(root)
        text = ET.tostring(root, encoding="unicode")
        # XML 1.0 cannot hold most control characters, even escaped; command output often has them
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub("\ufffd", text) + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
