"""Every number a gate takes is bounded: a negative or absurd count is a usage error (exit 2, one
line naming the option), on the command line, in pyproject and in a checklist entry alike (issue 8)."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from loopgate import records
from loopgate.gates.registry import gates

HUGE = "1" + "0" * 400  # past any float: float() of it raised OverflowError deep in the links gate


def _loopgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=120)


def _numbers() -> list[tuple[str, str, typing.Any, dict[str, typing.Any]]]:
    found = []
    for name, spec in sorted(gates().items()):
        hints = typing.get_type_hints(spec.options)
        for f in records.fields(spec.options):
            base = [a for a in typing.get_args(hints[f.name]) if a is not type(None)] or [hints[f.name]]
            if base[0] in (int, float) and not f.metadata.get("argument"):
                found.append((name, f.name, base[0], dict(f.metadata)))
    return found


NUMBERS = _numbers()
# The timeouts keep their own rule (LG469: finite, 0 = no limit); a huge one is as good as none.
TIMEOUTS = {("command", "timeout"), ("generated", "timeout")}


def test_every_number_option_of_every_gate_declares_its_range() -> None:
    assert NUMBERS, "no number options found: the sweep below would check nothing"
    unbounded = [(g, n) for g, n, _, meta in NUMBERS if meta.get("maximum") is None and (g, n) not in TIMEOUTS]
    assert unbounded == []


@pytest.mark.parametrize(("gate", "name"), [(g, n) for g, n, _, meta in NUMBERS if meta.get("maximum") is not None])
def test_a_number_out_of_range_is_a_usage_error(tmp_path: Path, gate: str, name: str) -> None:
    meta = next(m for g, n, _, m in NUMBERS if (g, n) == (gate, name))
    flag = meta.get("flag") or "--" + name.replace("_", "-")
    values = [HUGE, str(meta["maximum"] + 1)]
    if meta.get("minimum") is not None:
        values.append(str(meta["minimum"] - 3))
    for value in values:
        done = _loopgate("gate", gate, f"{flag}={value}", cwd=tmp_path)
        assert done.returncode == 2, (value, done.stdout + done.stderr)
        assert flag in done.stderr and "must be" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(value) < 20 or value not in done.stderr  # a 400-digit number is not echoed back
        (tmp_path / "pyproject.toml").write_text(f"[tool.loopgate.gates.{gate}]\n{name} = {value}\n")
        done = _loopgate("gate", gate, cwd=tmp_path)
        assert done.returncode == 2, (value, done.stdout + done.stderr)
        assert f"{name}: must be" in done.stderr and "Traceback" not in done.stderr, done.stderr
        (tmp_path / "pyproject.toml").unlink()


def test_schema_jobs_minus_three_is_refused_and_nothing_is_validated(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    done = _loopgate("gate", "schema", "--jobs", "-3", "--builtin", "LOOP_STATE", "a.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "'--jobs': must be between 0 and 1,024, not -3" in done.stderr
    assert done.stdout == ""


def test_a_nan_or_inf_float_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# a\n")
    for value in ("nan", "inf", "-inf"):
        done = _loopgate("gate", "links", "--offline", "--backoff", value, "a.md", cwd=tmp_path)
        assert done.returncode == 2 and "must be a finite number" in done.stderr, done.stderr


def test_a_checklist_entry_with_an_absurd_number_is_reported_not_run(tmp_path: Path) -> None:
    loop = tmp_path / ".loop"
    loop.mkdir()
    root = Path(__file__).resolve().parents[2] / "examples" / "repo-maintenance"
    for artifact in root.glob("*.md"):
        (loop / artifact.name).write_text(artifact.read_text())
    (loop / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist\n\n## Required Gates\n\n"
        "### link check\n- gate: links\n- args: --offline --jobs 100000 README.md\n")
    (tmp_path / "README.md").write_text("# readme\n")
    done = _loopgate("check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--jobs" in done.stdout + done.stderr and "must be between 0 and 1,024" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
