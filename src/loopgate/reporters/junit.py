"""JUnit XML in the shape of the Jenkins/Ant `junit-10.xsd`, which CI servers parse.

One testsuite for the command; one testcase per gate (named by the gate or checklist entry, the
same whatever its status, so a CI server tracks it across runs), or for `verify` one testcase for
the run. A testcase fails exactly when the command's verdict counts it: a required gate that
failed, or a finding that fails the run (warnings too under `--strict`); a required gate that could
not run is an `<error>`; an advisory gate is never a failure, and one that could not run is
reported once, as skipped. The findings are the text of the failure, `path:line:col: CODE message`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from loopgate.findings import Finding
from loopgate.reporters.base import Report, Reporter, clean

if TYPE_CHECKING:
    from loopgate.gates.base import GateResult


def _lines(findings: list[Finding]) -> str:
    return "\n".join(f"{f.path}:{f.line}:{f.column}: {f.code} [{f.severity.value}] {f.message}\n    hint: {f.hint}"
                     for f in findings)


def _failure(case: ET.Element, failing: list[Finding]) -> None:
    first = failing[0]
    count = f"{len(failing)} finding{'s' if len(failing) != 1 else ''}"
    node = ET.SubElement(case, "failure", {"message": f"{count}; first: {first.path}:{first.line}: {first.message}",
                                           "type": first.code})
    node.text = _lines(failing)


def _output(case: ET.Element, findings: list[Finding]) -> None:
    if findings:
        ET.SubElement(case, "system-out").text = _lines(findings)


def _gate_case(suite: ET.Element, classname: str, report: Report, result: GateResult) -> None:
    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": result.gate,
                                             "time": f"{result.duration:.3f}"})
    findings = report.gate_findings(result)
    advisory = result.gate in report.advisory
    status = result.status.value
    if status == "error" and not advisory:
        ET.SubElement(case, "error", {"message": result.reason or "could not run", "type": "environment"}).text = (
            "\n".join(filter(None, [result.reason, _lines(findings)])))
        return
    if status == "error":  # advisory: it cannot outvote the required gates, so it is not an error
        ET.SubElement(case, "skipped", {"message": f"advisory gate could not run: {result.reason}"})
        return
    if status == "skipped":
        ET.SubElement(case, "skipped", {"message": result.reason or result.summary or "skipped"})
        return
    if status == "failed" and not advisory:
        failing = [f for f in findings if report.fails(f)] or findings
        if failing:
            _failure(case, failing)
            _output(case, [f for f in findings if f not in failing])
        else:  # a gate may fail without a finding of its own; the verdict still counts it
            ET.SubElement(case, "failure", {"message": result.summary or "failed", "type": "failed"})
        return
    _output(case, findings)


def _verify_case(suite: ET.Element, report: Report) -> None:
    case = ET.SubElement(suite, "testcase", {"classname": "loopgate", "name": "verify"})
    failing = [f for f in report.findings if report.fails(f)]
    if report.code == 2:
        ET.SubElement(case, "error", {"message": "the input could not be read", "type": "input"}).text = (
            _lines(report.findings))
        return
    if failing:
        _failure(case, failing)
    _output(case, [f for f in report.findings if not report.fails(f)])


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


class JunitReporter(Reporter):
    def render(self, report: Report) -> str:
        root = ET.Element("testsuites", {"name": "loopgate"})
        suite = ET.SubElement(root, "testsuite", {"name": f"loopgate {report.command}"})
        if report.results:
            classname = "loopgate." + report.command.replace(" ", ".")
            for result in report.results:
                _gate_case(suite, classname, report, result)
            suite.set("time", f"{sum(r.duration for r in report.results):.3f}")
        else:
            _verify_case(suite, report)
        _count(suite)
        for attr in ("tests", "failures", "errors"):  # junit-10.xsd: testsuites has no `skipped`
            root.set(attr, suite.get(attr, "0"))
        if suite.get("time"):
            root.set("time", suite.get("time", "0"))
        ET.indent(root)
        text = clean(ET.tostring(root, encoding="unicode"))
        # XML 1.0 cannot hold most control characters, even escaped; command output often has them
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub("\ufffd", text) + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
