"""Bad settings and bad checklists are usage errors (exit 2, one clear line), never a traceback
and never a gate quietly weakened: `allow = "docs/**"` must not become seven one-letter patterns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _loopgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=60)


@pytest.mark.parametrize(("toml", "args", "message"), [
    ('[tool.loopgate.gates.scope]\nallow = "docs/**"\n', ["gate", "scope", "src/evil.py"],
     "allow: expected a list of strings"),
    ("[tool.loopgate.gates.scope]\nmax_files = \"x\"\n", ["gate", "scope", "a.txt"],
     "max_files: expected a whole number"),
    ("[tool.loopgate.gates.scope]\nallow = [1, 2]\n", ["gate", "scope", "a.txt"], "expected a list of strings"),
    ("[tool.loopgate.gates.forbidden]\nforbid = 5\n", ["gate", "forbidden", "a.txt"], "forbid: expected a list"),
    ("[tool.loopgate.gates.command]\ntimeout = \"x\"\n", ["gate", "command", "--", "true"],
     "timeout: expected a number"),
    ("[tool.loopgate.gates.command]\nshell = 5\n", ["gate", "command"], "shell: expected text"),
    ("[tool.loopgate.gates.scope]\nmax_files = true\n", ["gate", "scope", "a.txt"], "expected a whole number"),
    ("[tool.loopgate.gates.scope]\nalow = [\"docs/**\"]\n", ["gate", "scope", "a.txt"], "unknown option 'alow'"),
    ("[tool]\nloopgate = 3\n", ["verify"], "[tool.loopgate] must be a table"),
    ("tool = 1\n", ["verify"], "`tool` must be a table"),
    ("[tool.loopgate.verify]\nstict = true\n", ["verify"], "unknown key 'stict' in [tool.loopgate.verify]"),
    ("[tool.loopgate.check]\njobs = 2\n", ["gate", "scope", "a.txt"], "unknown section [tool.loopgate.check]"),
    ("[tool.loopgate]\nformats = \"json\"\n", ["verify"], "unknown key 'formats' in [tool.loopgate]"),
    ("[tool.loopgate.gates]\nscope = 1\n", ["gate", "scope", "a.txt"], "scope must be a table"),
    ("[tool.loopgate.gates.command]\ntail = -4\n", ["gate", "command", "--", "true"],
     "tail: must be between 0 and 100,000, not -4"),
    ("[tool.loopgate.gates.generated]\ntail = -1\n", ["gate", "generated", "--", "true"],
     "must be between 0 and 100,000"),
])
def test_bad_settings_are_usage_errors(tmp_path: Path, toml: str, args: list[str], message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    done = _loopgate(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_good_settings_still_apply(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.loopgate.gates.scope]\nallow = ["docs/**"]\nmax_files = 1\n')
    assert _loopgate("gate", "scope", "docs/a.md", cwd=tmp_path).returncode == 0
    done = _loopgate("gate", "scope", "src/evil.py", cwd=tmp_path)
    assert done.returncode == 1 and "LG401" in done.stdout


SPEC = (ROOT / "examples" / "repo-maintenance" / "LOOP_SPEC.md").read_text()


def _loop(tmp_path: Path, checklist: str) -> Path:
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "LOOP_SPEC.md").write_text(SPEC)
    (loop / "quality-gate-checklist.md").write_text("# Quality Gate Checklist: Repository Maintenance Triage\n\n"
                                                     + checklist)
    return loop


def test_check_names_an_unknown_only_entry_instead_of_passing(tmp_path: Path) -> None:
    _loop(tmp_path, "## Required Gates\n\n### unit\n- command: true\n")
    done = _loopgate("check", "--loop", "loop", "--only", "lnks", cwd=tmp_path)
    assert done.returncode == 2
    assert "no checklist entry named 'lnks'" in done.stderr and "'unit'" in done.stderr
    assert _loopgate("check", "--loop", "loop", "--only", "unit", cwd=tmp_path).returncode == 0


def test_check_with_nothing_left_to_run_is_not_a_pass(tmp_path: Path) -> None:
    _loop(tmp_path, "## Required Gates\n\n### unit\n- command: true\n")
    done = _loopgate("check", "--loop", "loop", "--skip", "unit", cwd=tmp_path)
    assert done.returncode == 2 and "no gates to run" in done.stderr


def test_an_unclosed_quote_in_args_is_reported_at_its_entry(tmp_path: Path) -> None:
    _loop(tmp_path, '## Required Gates\n\n### scope check\n- gate: scope\n- args: --allow "unterminated\n')
    done = _loopgate("check", "--loop", "loop", "--format", "json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "LG802" in done.stdout and "No closing quotation" in done.stdout


def test_a_timeout_only_goes_to_gates_that_have_one(tmp_path: Path) -> None:
    _loop(tmp_path, "## Required Gates\n\n### docs\n- gate: links\n- args: --offline .\n- timeout: 5 minutes\n\n"
                    "### unit\n- command: true\n- timeout: 5 minutes\n")
    done = _loopgate("check", "--loop", "loop", "--format", "json", cwd=tmp_path)
    assert done.returncode == 2
    assert "LG802" in done.stdout and "gate 'links' has none" in done.stdout
    assert _loopgate("check", "--loop", "loop", "--only", "unit", cwd=tmp_path).returncode == 0


def test_gates_and_check_print_annotations_under_github_actions(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GITHUB_ACTIONS"] = "true"
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "forbidden", ".env"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1
    # the readable log in a collapsible group, then the annotations
    assert done.stdout.startswith("::group::loopgate gate forbidden: failed\n")
    assert "\n::error file=.env,line=1,col=1,title=LG411::" in done.stdout
    _loop(tmp_path, "## Required Gates\n\n### no env files\n- gate: forbidden\n- args: .env\n")
    done = subprocess.run([sys.executable, "-m", "loopgate", "check", "--loop", "loop"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1 and "::error file=.env" in done.stdout


# -- the verdict: nothing decided is not a pass; the loop's own repository is judged ----------------
def test_gate_exit_codes_come_from_the_real_cli(tmp_path: Path) -> None:
    """Through `loopgate gate`, not a copy of its table: skipped 0, passed 0, failed 1, error 2."""
    (tmp_path / "schema.json").write_text('{"type": "object"}')
    skipped = _loopgate("gate", "schema", "--schema", "schema.json", cwd=tmp_path)
    assert (skipped.returncode, "nothing validated" in skipped.stdout) == (0, True), skipped.stdout
    assert _loopgate("gate", "command", "--shell", "true", cwd=tmp_path).returncode == 0
    assert _loopgate("gate", "command", "--shell", "exit 1", cwd=tmp_path).returncode == 1
    assert _loopgate("gate", "command", "--", "no-such-tool-xyz", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("advisory", ["- command: exit 1\n", "- command: true\n"])
def test_check_with_only_advisory_gates_decides_nothing_and_does_not_pass(tmp_path: Path, advisory: str) -> None:
    _loop(tmp_path, "## Advisory Gates\n\n### style\n" + advisory)
    done = _loopgate("check", "--loop", "loop", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert "LG805" in [p["code"] for p in report["problems"]]


def test_check_with_a_skipped_required_gate_does_not_pass(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text('{"type": "object"}')
    _loop(tmp_path, "## Required Gates\n\n### data\n- gate: schema\n- args: --schema schema.json\n\n"
                    "### unit\n- command: true\n")
    done = _loopgate("check", "--loop", "loop", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [p["code"] for p in json.loads(done.stdout)["problems"]] == ["LG804"]


def _git(*args: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL="/dev/null")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_check_of_another_repositorys_loop_judges_that_repository(tmp_path: Path) -> None:
    """`check --loop ../other/.loop` ran the gates in the current directory with the other's config."""
    here, other = tmp_path / "here", tmp_path / "other"
    for repo in (here, other):
        repo.mkdir()
        _git("init", "-q", cwd=repo)
    (other / ".loop").mkdir()
    (other / ".loop" / "LOOP_SPEC.md").write_text(SPEC)
    (other / ".loop" / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Repository Maintenance Triage\n\n## Required Gates\n\n"
        "### marker\n- command: test -f only-in-other.txt\n\n### scope check\n- gate: scope\n- args: --base HEAD\n")
    (other / "only-in-other.txt").write_text("x\n")
    _git("add", "-A", cwd=other)
    _git("commit", "-qm", "loop", cwd=other)
    (here / "sub").mkdir()
    for cwd in (here, here / "sub"):
        done = _loopgate("check", "--loop", os.path.relpath(other / ".loop", cwd), cwd=cwd)
        assert done.returncode == 0, done.stdout + done.stderr
    (other / "only-in-other.txt").unlink()
    (other / "src").mkdir()
    (other / "src" / "app.py").write_text("x\n")  # outside the other spec's `## Scope`
    (here / "stray.py").write_text("x\n")  # a change here is not the other repository's
    done = _loopgate("check", "--loop", "../other/.loop", "--format", "json", cwd=here)
    assert done.returncode == 1, done.stdout + done.stderr
    found = {(p["code"], p["path"]) for p in json.loads(done.stdout)["problems"]}
    # the scope gate read the other spec (from the other root: no LG404/LG405) and judged the other tree
    assert {c for c, _ in found} == {"LG401", "LG461", "LG803"}, found
    # a deletion counts; paths name the judged files from where the check was run, not from the other root
    assert {p for c, p in found if c == "LG401"} == {"../other/src/app.py", "../other/only-in-other.txt"}, found


@pytest.mark.parametrize("gate", ["command", "generated"])
def test_a_negative_tail_is_a_usage_error_not_silently_no_output(tmp_path: Path, gate: str) -> None:
    done = _loopgate("gate", gate, "--tail", "-1", "--shell", "false", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--tail" in done.stderr and "Traceback" not in done.stderr
