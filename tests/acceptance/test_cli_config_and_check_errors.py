"""Bad settings and bad checklists are usage errors (exit 2, one clear line), never a traceback
and never a gate quietly weakened: `allow = "docs/**"` must not become seven one-letter patterns."""

from __future__ import annotations

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
