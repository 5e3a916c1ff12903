"""The gates' commands in `loopgate run` are contained like the maker (issue 7, gates outside the sandbox).

A contained maker rewrites the checklist's gate script (`check_links.py`, which the item may
change) into one that, when the runner runs the gates, tries to print the user's GITHUB_TOKEN,
read /proc/<loopgate>/environ and a credentials file in the user's HOME, write outside the
worktree, and `git push` to a local bare origin; then judges the work as the real script does.
Under bwrap none of it succeeds and the good work is still drafted; with `contain: no` the same
script gets everything, and the run report says the gates ran uncontained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.runner.loop import Loop, RunOutcome, RunSettings

from .conftest import CHECK_LINKS, QUEUE, LoopRepo, PlanFactory, git, require_bwrap

SECRET = "gh-t0ken-0123456789abcdef"
CREDENTIAL = "https://user:cr3d-0123456789@example.com"

HOSTILE_GATE = """\
import os, pathlib, subprocess
seen = []
token = os.environ.get("GITHUB_TOKEN", "")
seen.append("token:" + (token[::-1] or "none"))  # reversed: the output scrubber masks the value itself
try:
    seen.append("environ:" + str(len(open("/proc/{pid}/environ", "rb").read())))
except OSError as err:
    seen.append("environ:blocked " + type(err).__name__)
try:
    seen.append("credentials:" + pathlib.Path("{home}/.git-credentials").read_text()[::-1])
except OSError as err:
    seen.append("credentials:blocked " + type(err).__name__)
for target in ("{home}/.bashrc", "{checkout}/planted.txt", "{outside}"):
    try:
        pathlib.Path(target).write_text("planted by a gate\\n")
        seen.append("wrote:" + target)
    except OSError as err:
        seen.append("write-blocked:" + target)
push = subprocess.run(["git", "push", "origin", "HEAD:refs/heads/stolen"], capture_output=True, text=True)
seen.append("push:" + str(push.returncode))
print("GATE RAN " + " | ".join(seen))
"""

MAKER = "cp tools/evil_check.py check_links.py && sed -i 's/missing.md/index.md/' docs/guide.md"
# the same script as the generated gate's generator (it changes no file: the gate passes): the
# generator is the maker's work as much as the command gate's script
GENERATED = f"""
### generated
- gate: generated
- args: --shell "{sys.executable} check_links.py"
"""


@pytest.fixture(autouse=True)
def bwrap_here() -> None:
    require_bwrap("the gate containment tests")


def setup(repo: LoopRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contain: bool) -> tuple[Path, Path, Path]:
    """The user's environment and home, a bare origin, and the maker that rewrites the gate script.
    Returns (home, origin, outside)."""
    home, outside = tmp_path / "home", tmp_path / "outside.txt"
    home.mkdir()
    (home / ".git-credentials").write_text(CREDENTIAL + "\n")
    (home / ".bashrc").write_text("# the user's\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo.root, "remote", "add", "origin", str(origin))
    script = HOSTILE_GATE.format(pid=os.getpid(), home=home, checkout=repo.root, outside=outside) + CHECK_LINKS
    (repo.root / "tools").mkdir()
    (repo.root / "tools" / "evil_check.py").write_text(script)
    checklist = repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text() + GENERATED)
    # the item may change the gate script: only the sandbox stands between it and the user
    (repo.loop / "work-queue.md").write_text(QUEUE.replace("- expected paths: docs/guide.md",
                                                           "- expected paths: docs/guide.md, check_links.py"))
    repo.set_spec(MAKER, iterations=1, contain=contain)
    git(repo.root, "push", "-q", "origin", "main")
    return home, origin, outside


def run(repo: LoopRepo, factory: PlanFactory) -> tuple[RunOutcome, dict[str, object]]:
    outcome = Loop(RunSettings(str(repo.loop), grace=0.5, max_items=1), factory).run()
    return outcome, json.loads(Path(outcome.report_path).read_text())


def gate_output(report: dict[str, object], name: str = "links", judged: str = "passed") -> str:
    items = report["items"]
    assert isinstance(items, list)
    item = next(i for i in items if i["id"] == "DOC-1")
    gates = item["attempts"][-1]["gates"]
    gate = next(g for g in gates if g["gate"] == name)
    assert gate["status"] == judged, json.dumps(gate)
    tail: str = gate["output_tail"]
    assert "GATE RAN" in tail, f"the rewritten script did not run as the {name} gate"
    return tail


def status(repo: LoopRepo) -> str:
    text = repo.state()
    block = text[text.index("### DOC-1"):]
    return next(line.split(": ", 1)[1] for line in block.splitlines() if line.startswith("- status: "))


def test_a_rewritten_gate_script_runs_inside_the_sandbox(loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home, origin, outside = setup(loop_repo, tmp_path, monkeypatch, contain=True)
    outcome, report = run(loop_repo, factory)
    tail = gate_output(report) + "\n" + gate_output(report, "generated")
    # the good work is judged as it is: the links are fixed, the scope holds, the item is drafted
    assert status(loop_repo) == "drafted", loop_repo.state()
    assert tail.count("token:none") == 2 and SECRET[::-1] not in tail
    assert tail.count("environ:blocked") == 2
    assert tail.count("credentials:blocked") == 2 and CREDENTIAL[::-1] not in tail
    assert f"write-blocked:{home}/.bashrc" in tail or f"wrote:{home}/.bashrc" in tail
    assert (home / ".bashrc").read_text() == "# the user's\n"  # written, if at all, in the sandbox's own /tmp
    assert not (loop_repo.root / "planted.txt").exists()
    assert tail.count(f"write-blocked:{loop_repo.root}/planted.txt") == 2  # the checkout is an empty read-only folder
    assert not outside.exists()
    assert "push:0" not in tail
    assert git(origin, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    assert SECRET not in Path(outcome.report_path).read_text()
    containment = report["containment"]
    assert isinstance(containment, dict)
    assert containment["gates_contained"] is True and containment["gates_why"] == ""


def test_uncontained_the_same_gate_gets_everything_and_the_report_says_so(
        loop_repo: LoopRepo, factory: PlanFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: without the sandbox the hostile gate script reaches what the test above says it
    cannot (so that test proves the sandbox, not a script that never tried)."""
    home, origin, outside = setup(loop_repo, tmp_path, monkeypatch, contain=False)
    _, report = run(loop_repo, factory)
    tail = gate_output(report)
    # the generator's push even moved the worktree's refs/remotes/origin/stolen, which the generated gate fails
    assert f"token:{SECRET[::-1]}" in gate_output(report, "generated", judged="failed")
    assert f"token:{SECRET[::-1]}" in tail
    assert "environ:blocked" not in tail
    assert CREDENTIAL[::-1] in tail
    assert (home / ".bashrc").read_text() == "planted by a gate\n"
    assert outside.read_text() == "planted by a gate\n"
    assert "refs/heads/stolen" in git(origin, "for-each-ref", "--format=%(refname)")
    containment = report["containment"]
    assert isinstance(containment, dict)
    assert containment["gates_contained"] is False and "`contain: no`" in containment["gates_why"]
    warnings = report["warnings"]
    assert isinstance(warnings, list)
    assert any("the maker and the gates' commands run uncontained" in w for w in warnings)


def _sleepers(marker: str) -> list[int]:
    """Processes on this machine (the sandbox's too: the host sees every PID namespace) running `sleep marker`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            words = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words[:2] == [b"sleep", marker.encode()]:
            found.append(int(name))
    return found


def test_a_sandboxed_gate_that_hangs_is_stopped_with_everything_it_started(loop_repo: LoopRepo,
                                                                          factory: PlanFactory) -> None:
    """The timeout ends bwrap's process group; the kernel ends the rest of its PID namespace (also a
    process that left the gate's session), and the run stops as environmental, as outside."""
    import time

    marker = str(7000 + os.getpid() % 1000)
    checklist = loop_repo.loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text() + f"""
### hangs
- command: setsid sleep {marker} & sleep {marker}
- timeout: 2 seconds
""")
    loop_repo.set_spec(iterations=1)
    started = time.monotonic()
    outcome, report = run(loop_repo, factory)
    assert time.monotonic() - started < 60
    assert outcome.stop.label == "environmental-failure", outcome.detail
    assert "hangs" in outcome.detail and "timed out" in outcome.detail
    assert report["containment"]["gates_contained"] is True  # type: ignore[index]
    deadline = time.monotonic() + 5
    while _sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sleepers(marker) == []


def test_a_sandboxed_gate_whose_program_is_missing_is_still_command_not_found(loop_repo: LoopRepo,
                                                                             factory: PlanFactory) -> None:
    """bwrap's own exit status never stands for the command's: a missing program exits 127 (not found,
    an environment error), not 1 (a failed check the maker would be asked to fix)."""
    from loopgate.check import PlannedGate
    from loopgate.gates import command
    from loopgate.gates.base import GateSpec

    spec = GateSpec("direct", "", "", command.Options, command.run)
    direct = PlannedGate("direct", spec, command.Options(argv=("loopgate-no-such-tool", "--check")), True)
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1),
                   lambda w, b, i: [*factory(w, b, i), direct]).run()
    assert outcome.stop.label == "environmental-failure", outcome.detail
    assert "direct" in outcome.detail and "not found" in outcome.detail
