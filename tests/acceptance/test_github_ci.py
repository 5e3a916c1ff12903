"""GitHub: the composite action (`action.yml`) and the workflow `loopgate init --ci github` writes.

Both are read with a YAML 1.2 reader, as GitHub reads them (`on:` is a key, not `true`), and
validated against GitHub's published schemas. The action's shell steps are then run for real, in
order, the way the runner would run them (bash -eo pipefail, `${{ }}` expressions substituted,
GITHUB_OUTPUT / GITHUB_PATH / GITHUB_STEP_SUMMARY files); the steps that are other actions
(setup-python, upload-sarif) cannot run here and are only checked to be declared.
"""

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
from ruamel.yaml import YAML

from loopgate import __version__
from loopgate.ci_github import schedule_from_trigger

ROOT = Path(__file__).resolve().parents[2]


def yaml12(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def validate(data: Any, schema: dict[str, Any]) -> None:
    jsonschema.validators.validator_for(schema)(schema).validate(data)


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("GITHUB_ACTIONS", "CI")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    return env


def test_action_metadata_is_valid(published_schema: Any) -> None:
    action = yaml12((ROOT / "action.yml").read_text("utf-8"))
    validate(action, published_schema("github-actions.json"))
    assert action["runs"]["using"] == "composite"
    assert {"loop", "gates", "strict"} <= set(action["inputs"])
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"  # a composite step must name its shell


def _substitute(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def value(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        step, _, key = expr.removeprefix("steps.").partition(".outputs.")
        return outputs.get(step, {}).get(key, "")
    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def _condition(expr: str, inputs: dict[str, str]) -> bool:
    """The few `if:` forms the action uses."""
    if expr.startswith("always()") or "upload-sarif" in expr:
        return True
    (name, op, literal) = re.fullmatch(r"inputs\.([\w-]+) (!=|==) '(.*)'", expr).groups()  # type: ignore[union-attr]
    return (inputs[name] == literal) == (op == "==")


def run_action(repo: Path, tmp: Path, **given: str) -> tuple[int, dict[str, dict[str, str]], str]:
    """The action's steps in `repo`; `tmp` is RUNNER_TEMP (shared by the tests: one virtualenv)."""
    action = yaml12((ROOT / "action.yml").read_text("utf-8"))
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | given
    outputs: dict[str, dict[str, str]] = {}
    tmp.mkdir(parents=True, exist_ok=True)
    files = {name: tmp / name for name in ("output", "path", "summary")}
    files["summary"].write_text("")
    path_dirs: list[str] = []
    failed = 0
    for index, step in enumerate(action["runs"]["steps"]):
        if "run" not in step or ("if" in step and not _condition(step["if"], inputs)):
            continue
        files["output"].write_text("")
        env = {**git_env(), "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(tmp), "GITHUB_ACTIONS": "true",
               "GITHUB_OUTPUT": str(files["output"]), "GITHUB_PATH": str(files["path"]),
               "GITHUB_STEP_SUMMARY": str(files["summary"]),
               "PATH": os.pathsep.join([*path_dirs, str(Path(sys.executable).parent), os.environ["PATH"]])}
        env.update({k: _substitute(str(v), inputs, outputs) for k, v in step.get("env", {}).items()})
        script = tmp / f"step{index}.sh"
        script.write_text(_substitute(step["run"], inputs, outputs))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repo, env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        outputs[step.get("id", str(index))] = dict(
            line.split("=", 1) for line in files["output"].read_text().splitlines() if "=" in line)
        if files["path"].exists():
            path_dirs = [line for line in files["path"].read_text().splitlines() if line][::-1]
        if step.get("name") == "Verdict":
            failed = done.returncode
        else:
            assert done.returncode == 0, (step.get("name"), done.stdout, done.stderr)
        outputs.setdefault("_log", {})[step.get("name", str(index))] = done.stdout
    return failed, outputs, files["summary"].read_text()


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture(scope="module")
def action_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("action-repo")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=git_env())
    subprocess.run([sys.executable, "-m", "loopgate", "init", ".loop", "--name", "Docs"], cwd=repo, check=True,
                   capture_output=True)
    (repo / ".loop" / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs\n\n## Required Gates\n\n### forbidden files\n- gate: forbidden\n\n"
        "### secret scan\n- gate: secrets\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=git_env())
    subprocess.run(["git", "commit", "-qm", "loop"], cwd=repo, check=True, env=git_env())
    return repo


def test_the_action_runs_verify_and_check_and_reports(action_repo: Path, runner_temp: Path) -> None:
    failed, outputs, summary = run_action(action_repo, runner_temp)
    assert failed == 0, outputs
    assert outputs["verify"]["exit-code"] == "0" and outputs["check"]["exit-code"] == "0"
    assert "### ✅ loopgate verify: passed with findings" in summary
    assert "### ✅ loopgate check: ok" in summary and "| forbidden files | required | ✅ passed |" in summary
    reports = Path(outputs["install"]["reports"])
    ids = {json.loads((reports / f"{n}.sarif").read_text())["runs"][0]["automationDetails"]["id"]
           for n in ("verify", "check")}
    assert ids == {"loopgate/verify/", "loopgate/check/"}  # two analyses: neither upload replaces the other
    assert "::warning file=.loop/loop-readiness.md" in outputs["_log"]["loopgate verify"]


def test_the_action_fails_on_a_failing_gate_and_on_strict_warnings(action_repo: Path, runner_temp: Path) -> None:
    (action_repo / ".env").write_text("A=1\n", encoding="utf-8")
    subprocess.run(["git", "add", ".env"], cwd=action_repo, check=True, env=git_env())
    try:
        failed, outputs, summary = run_action(action_repo, runner_temp, gates="forbidden files\n", strict="true")
    finally:
        subprocess.run(["git", "rm", "-q", "--cached", ".env"], cwd=action_repo, check=True, env=git_env())
        (action_repo / ".env").unlink()
    assert failed != 0
    assert outputs["verify"]["exit-code"] == "1" and outputs["check"]["exit-code"] == "1"
    assert "::error file=.env,line=1,col=1,title=LG411::" in outputs["_log"]["loopgate check"]
    assert "secret scan" not in summary  # only the gates asked for ran


@pytest.mark.parametrize(("trigger", "cron"), [
    ("Run every weekday at 08:00 local time.", "0 8 * * 1-5"),
    ("- cron: 30 6 * * 1", "30 6 * * 1"),
    ("Every day at 6:30pm.", "30 18 * * *"),
    ("Runs every Monday at 09:15", "15 9 * * 1"),
    ("hourly", "0 * * * *"),
    ("When a maintainer adds the loop-ready label.", ""),
    ("every weekday at 25:00", ""),
])
def test_the_trigger_becomes_a_schedule_only_when_it_says_one(trigger: str, cron: str) -> None:
    assert schedule_from_trigger(trigger).cron == cron


def test_init_ci_github_writes_a_valid_workflow(tmp_path: Path, published_schema: Any) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True, env=git_env())
    loop = tmp_path / "loops" / "docs"
    done = subprocess.run([sys.executable, "-m", "loopgate", "init", str(loop), "--ci", "github"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / ".github" / "workflows" / "loopgate.yml").read_text("utf-8")
    workflow = yaml12(text)
    validate(workflow, published_schema("github-workflows.json"))
    assert set(workflow["on"]) == {"pull_request", "schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"] == [{"cron": "0 8 * * 1-5"}]  # the template's "every weekday at 08:00"
    gates, shadow = workflow["jobs"]["gates"], workflow["jobs"]["shadow-run"]
    assert gates["steps"][-1]["uses"] == f"loopgate-cli/loopgate@v{__version__}"
    assert gates["steps"][-1]["with"]["loop"] == "loops/docs"  # relative to the repository root
    assert "loopgate run loops/docs --mode shadow --dry-run" in shadow["steps"][3]["run"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in shadow["steps"])
    assert "loops/docs/.loop/runs/" in text and "GITHUB_STEP_SUMMARY" in text
    # an existing loop: a second --ci only adds the workflow, and never overwrites it without --force
    again = subprocess.run([sys.executable, "-m", "loopgate", "init", str(loop), "--ci", "github"], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "would overwrite" in again.stderr


def test_a_trigger_in_prose_runs_on_demand_with_a_comment(tmp_path: Path, published_schema: Any) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True, env=git_env())
    subprocess.run([sys.executable, "-m", "loopgate", "init", ".loop"], cwd=tmp_path, check=True, capture_output=True)
    spec = tmp_path / ".loop" / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("Run every weekday at 08:00 local time.",
                                                    "When a maintainer asks for it."), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "loopgate", "init", ".loop", "--ci", "github"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote .loop/LOOP_SPEC.md" not in done.stdout  # the existing loop is kept
    text = (tmp_path / ".github" / "workflows" / "loopgate.yml").read_text("utf-8")
    workflow = yaml12(text)
    validate(workflow, published_schema("github-workflows.json"))
    assert "schedule" not in workflow["on"] and "workflow_dispatch" in workflow["on"]
    assert "It says: When a maintainer asks for it." in text
