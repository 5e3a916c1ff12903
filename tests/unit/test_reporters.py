"""Every output format is a view of the same findings; SARIF is checked against the published schema."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loopgate.findings import Finding, Severity
from loopgate.gates.base import GateResult, GateStatus
from loopgate.reporters import REPORTER_BY_NAME, Report
from loopgate.reporters.sarif import artifact_uri

FINDINGS = [
    Finding("loops/a b/LOOP_SPEC.md", 42, 16, "LG203", Severity.ERROR, "max runtime: '30' has no unit", "Add a unit."),
    Finding("loops/a/LOOP_STATE.md", 3, 1, "LG102", Severity.WARNING,
            "no LOOP_STATE.md, 100% <sure> & \"quoted\"", "h"),
]


@pytest.mark.parametrize("findings", [FINDINGS, []])
def test_sarif_output_validates_against_the_published_schema(findings: list[Finding], published_schema: Any) -> None:
    schema = published_schema("sarif-schema-2.1.0.json")
    out = json.loads(REPORTER_BY_NAME["sarif"]().render(Report(findings, ok=not findings)))
    jsonschema.validators.validator_for(schema)(schema).validate(out)
    run = out["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == [f.code for f in findings]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_locations_are_relative_uris_with_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    out = json.loads(REPORTER_BY_NAME["sarif"]().render(Report(FINDINGS, ok=False)))
    location = out["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "loops/a%20b/LOOP_SPEC.md", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 42, "startColumn": 16}
    assert out["runs"][0]["results"][1]["level"] == "warning"
    assert artifact_uri("./docs\\x.md") == "docs/x.md"


def test_json_is_one_object_with_ok_and_problems() -> None:
    out = json.loads(REPORTER_BY_NAME["json"]().render(Report(FINDINGS, ok=False)))
    assert out["ok"] is False
    assert out["problems"][0] == {
        "path": "loops/a b/LOOP_SPEC.md", "line": 42, "column": 16, "code": "LG203", "severity": "error",
        "message": "max runtime: '30' has no unit", "hint": "Add a unit.",
    }


def test_github_annotations_escape_data_and_properties() -> None:
    out = REPORTER_BY_NAME["github"]().render(Report(FINDINGS, ok=False)).splitlines()
    annotations = [line for line in out if line.startswith(("::error ", "::warning "))]
    assert annotations[0] == (
        "::error file=loops/a b/LOOP_SPEC.md,line=42,col=16,title=LG203::max runtime: '30' has no unit%0AAdd a unit."
    )
    assert annotations[1].startswith("::warning file=loops/a/LOOP_STATE.md,line=3,col=1,title=LG102::")
    assert "100%25" in annotations[1]
    # the readable log is one collapsible group before the annotations
    assert out[0] == "::group::loopgate verify: failed" and "::endgroup::" in out
    assert out.index("::endgroup::") < out.index(annotations[0])


def test_text_has_location_code_message_hint_and_summary() -> None:
    out = REPORTER_BY_NAME["text"]().render(Report(FINDINGS, ok=False, files_checked=2)).splitlines()
    assert out[0] == "loops/a b/LOOP_SPEC.md:42:16: LG203 max runtime: '30' has no unit"
    assert out[1] == "    hint: Add a unit."
    assert out[2].startswith("loops/a/LOOP_STATE.md:3:1: LG102 [warning] ")
    assert out[-1] == "loopgate: failed: 1 error, 1 warning in 2 files checked"


def test_junit_has_one_testcase_per_gate_named_by_the_gate() -> None:
    results = [
        GateResult("links", GateStatus.FAILED, [FINDINGS[0]], duration=0.25),
        GateResult("scope", GateStatus.PASSED),
        GateResult("tests", GateStatus.ERROR, reason="command not found: pytest"),
    ]
    xml = REPORTER_BY_NAME["junit"]().render(Report(FINDINGS[:1], ok=False, results=results, command="check",
                                                    exit_code=2))
    root = ET.fromstring(xml)
    cases = {c.get("name"): c for c in root.findall("testsuite/testcase")}
    assert set(cases) == {"links", "scope", "tests"}
    failure = cases["links"].find("failure")
    assert failure is not None and failure.get("type") == "LG203"
    assert "loops/a b/LOOP_SPEC.md:42:16: LG203" in (failure.text or "")
    assert list(cases["scope"]) == []
    error = cases["tests"].find("error")
    assert error is not None and error.get("message") == "command not found: pytest"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")


def test_junit_for_verify_is_one_stable_testcase() -> None:
    root = ET.fromstring(REPORTER_BY_NAME["junit"]().render(Report(FINDINGS, ok=False)))
    (case,) = root.findall("testsuite/testcase")
    assert case.get("name") == "verify"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "LG203"
    assert "LG102" in (case.findtext("system-out") or "")  # the warning is recorded, not failed
    assert root.get("failures") == "1"


def test_junit_stays_well_formed_xml_when_command_output_holds_control_characters() -> None:
    finding = Finding(".", 1, 1, "LG461", Severity.ERROR, "exited 1: x \x01\x1b[31mred\x1b[0m", "read it")
    result = GateResult("lint", GateStatus.FAILED, [finding], reason="\x00")
    xml = REPORTER_BY_NAME["junit"]().render(Report([finding], False, results=[result]))
    case = ET.fromstring(xml).find("./testsuite/testcase")  # a strict parser accepts it
    assert case is not None
    assert "\ufffd[31mred" in ET.tostring(case, encoding="unicode")
