"""One verdict, every view: the real CLI's text, json, github, sarif, junit and markdown outputs of
`verify`, `check` and `gate` agree with the exit status, and each is valid in its own format (SARIF
against the published schema, JUnit against the junit-10.xsd shape) whatever the file names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "example-files" / "junit" / "junit-10.xsd")))
FORMATS = ("text", "json", "github", "sarif", "junit", "markdown")
ANSI = "\x1b["


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("GITHUB_ACTIONS", "CI", "NO_COLOR", "FORCE_COLOR") and not k.startswith("GIT_")}
    base.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="t",
                GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    base.update(extra)
    return base


def loopgate(cwd: Path, *args: str | bytes, **extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env(**extra),
                          capture_output=True, check=False, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a freshly initialised loop: valid, but its readiness items unticked."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True, env=env())
    done = loopgate(tmp_path, "init", ".loop", "--name", "Docs Links")
    assert done.returncode == 0, done.stderr
    return tmp_path


def junit_valid(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert XSD.validate(root), XSD.error_log
    return root


def sarif_valid(text: bytes, schema: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    return data


def test_strict_warnings_fail_in_every_view(repo: Path, published_schema: Any) -> None:
    out = {f: loopgate(repo, "verify", ".loop", "--strict", "--format", f) for f in FORMATS}
    assert {f: d.returncode for f, d in out.items()} == dict.fromkeys(FORMATS, 1)
    assert b"loopgate: failed:" in out["text"].stdout
    assert json.loads(out["json"].stdout)["ok"] is False
    root = junit_valid(out["junit"].stdout)
    assert root.get("failures") == "1"
    assert b"::error file=.loop/loop-readiness.md" in out["github"].stdout
    sarif = sarif_valid(out["sarif"].stdout, published_schema("sarif-schema-2.1.0.json"))
    run = sarif["runs"][0]
    assert {r["level"] for r in run["results"]} == {"error"}  # warnings that fail are errors here
    assert run["invocations"][0]["exitCode"] == 1
    assert out["markdown"].stdout.startswith("### ❌ loopgate verify: failed".encode())
    # and without --strict the same warnings pass, everywhere
    relaxed = {f: loopgate(repo, "verify", ".loop", "--format", f) for f in ("junit", "sarif", "json")}
    assert {d.returncode for d in relaxed.values()} == {0}
    assert junit_valid(relaxed["junit"].stdout).get("failures") == "0"
    assert {r["level"] for r in json.loads(relaxed["sarif"].stdout)["runs"][0]["results"]} == {"warning"}
    assert json.loads(relaxed["json"].stdout)["ok"] is True


def test_sarif_is_what_code_scanning_accepts(repo: Path, published_schema: Any) -> None:
    schema = published_schema("sarif-schema-2.1.0.json")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "prod.yaml").write_text("replicas: 2\n", encoding="utf-8")
    (repo / "app.py").write_text('KEY = "AKIA' + 'IOSFODNN7EXAMPLE"\n', encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env())
    sub = repo / ".loop"  # run from a subdirectory: paths are still relative to the repository root
    forbidden = sarif_valid(loopgate(sub, "gate", "forbidden", "--format", "sarif").stdout, schema)["runs"][0]
    secrets = sarif_valid(loopgate(repo, "gate", "secrets", "--format", "sarif").stdout, schema)["runs"][0]
    command = sarif_valid(loopgate(repo, "gate", "command", "--format", "sarif", "--", "false").stdout,
                          schema)["runs"][0]
    verify = sarif_valid(loopgate(repo, "verify", ".loop", "--format", "sarif").stdout, schema)["runs"][0]
    ids = [r["automationDetails"]["id"] for r in (forbidden, secrets, command, verify)]
    assert ids == ["loopgate/gate-forbidden/", "loopgate/gate-secrets/", "loopgate/gate-command/", "loopgate/verify/"]
    for run in (forbidden, secrets, command, verify):
        assert run["tool"]["driver"]["informationUri"].startswith("https://")
        for rule in run["tool"]["driver"]["rules"]:
            assert rule["helpUri"].endswith(f"/docs/codes.md#{rule['id'].lower()}")
        for result in run["results"]:
            for location in result.get("locations", []):
                artifact = location["physicalLocation"]["artifactLocation"]
                assert artifact["uriBaseId"] == "%SRCROOT%" and artifact["uri"] not in (".", "")
    where = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in forbidden["results"]}
    assert where == {"deploy/prod.yaml"}  # relative to the repository root, not to .loop/ where it ran
    severity = {rule["id"]: rule["properties"].get("security-severity") for run in (forbidden, secrets)
                for rule in run["tool"]["driver"]["rules"]}
    assert float(severity["LG411"]) >= 7.0 and float(severity["LG421"]) >= 7.0
    assert "locations" not in command["results"][0]  # a command's exit status names no file
    assert command["invocations"][0]["exitCode"] == 1


def test_junit_reports_an_advisory_gate_that_could_not_run_once(repo: Path) -> None:
    (repo / ".loop" / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs Links\n\n## Required Gates\n\n### true\n- command: true\n\n"
        "## Advisory Gates\n\n### reviewer\n- command: ./no-such-reviewer.sh\n", encoding="utf-8")
    done = loopgate(repo, "check", "--loop", ".loop", "--format", "junit")
    assert done.returncode == 0, done.stdout + done.stderr
    root = junit_valid(done.stdout)
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["true", "reviewer"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "0", "0")
    skipped = cases[1].findall("skipped")
    assert len(skipped) == 1 and "could not run" in (skipped[0].get("message") or "")
    # the same check failing: the name of each testcase is the same
    (repo / ".loop" / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs Links\n\n## Required Gates\n\n### true\n- command: false\n\n"
        "## Advisory Gates\n\n### reviewer\n- command: ./no-such-reviewer.sh\n", encoding="utf-8")
    failed = loopgate(repo, "check", "--loop", ".loop", "--format", "junit")
    assert failed.returncode == 1
    root = junit_valid(failed.stdout)
    assert [c.get("name") for c in root.findall("testsuite/testcase")] == ["true", "reviewer"]
    assert root.get("failures") == "1"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_stays_valid_for_a_name_that_is_not_utf8(repo: Path, fmt: str, published_schema: Any) -> None:
    name = b".env\xff\xfe"
    (repo / os.fsdecode(name)).write_bytes(b"A=1\n")
    done = loopgate(repo, "gate", "forbidden", "--format", fmt, name)
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode("utf-8")  # strict: every view is UTF-8
    if fmt == "json":
        assert json.loads(text)["problems"][0]["code"] == "LG411"
    elif fmt == "sarif":
        data = sarif_valid(done.stdout, published_schema("sarif-schema-2.1.0.json"))
        uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == ".env%FF%FE"  # the name's own bytes, percent-encoded
    elif fmt == "junit":
        junit_valid(done.stdout)
    else:
        assert ".env\ufffd\ufffd" in text


def test_markdown_is_a_job_summary_table_for_every_command(repo: Path) -> None:
    verify = loopgate(repo, "verify", ".loop", "--format", "markdown").stdout.decode()
    assert verify.startswith("### ✅ loopgate verify: passed with findings")
    assert "| ⚠️ | .loop/loop-readiness.md:" in verify and "(https://" in verify
    check = loopgate(repo, "check", "--loop", ".loop", "--format", "markdown").stdout.decode()
    assert re.search(r"^\| gate \| kind \| status \| time \| summary \|$", check, flags=re.M), check
    gate = loopgate(repo, "gate", "command", "--format", "markdown", "--", "false").stdout.decode()
    assert gate.startswith("### ❌ loopgate gate command: failed")
    assert "| command | required | ❌ failed |" in gate


@pytest.mark.parametrize(("command", "args"), [(("verify",), (".loop",)), (("check",), ("--loop", ".loop")),
                                               (("gate", "command"), ("--", "false"))])
def test_colour_follows_the_same_rules_for_every_command(repo: Path, command: tuple[str, ...],
                                                         args: tuple[str, ...]) -> None:
    def coloured(*flags: str, **extra: str) -> bool:
        done = loopgate(repo, *command, *flags, *args, **extra)  # a pipe: never a terminal here
        return ANSI.encode() in done.stdout

    assert not coloured()
    assert coloured("--color")  # forced through the pipe
    assert coloured(FORCE_COLOR="1")
    assert not coloured(FORCE_COLOR="0")
    assert not coloured("--no-color", FORCE_COLOR="1")
    assert not coloured(NO_COLOR="1", FORCE_COLOR="1")
    assert coloured("--color", NO_COLOR="1")  # the flag is the user's word for this run


def test_a_missing_schema_is_a_usage_error(repo: Path) -> None:
    (repo / "a.json").write_text("{}\n", encoding="utf-8")
    done = loopgate(repo, "gate", "schema", "a.json")
    assert done.returncode == 2
    assert b"loopgate: schema: usage error: no schema given" in done.stderr
    assert b"environment error" not in done.stderr
