"""What the gates judged is what loopgate commits (issue 7, containment).

The gates run on the worktree and loopgate commits afterwards. Whatever changes the tree in
between (a maker's process that escaped the attempt, a gate command that rewrites a file)
would put content no gate saw into the commit, and push it. These run a real maker and real
gate commands on a real repository with a local bare origin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings
from loopgate.runner.state import load_state

from .conftest import LoopRepo, git

FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"


def _checklist(repo: LoopRepo, first: str, *, scope: bool = True) -> None:
    (repo.loop / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs Repair\n\n## Required Gates\n\n"
        f"### links\n- command: {first}\n- timeout: 60 seconds\n" + ("\n### scope\n- gate: scope\n" if scope else ""))
    repo.commit("checklist")


def _origin(repo: LoopRepo, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo.root, "remote", "add", "origin", str(bare))
    git(repo.root, "push", "-q", "origin", "main")
    return bare


def _run(repo: LoopRepo) -> tuple[str, str, str]:
    outcome = Loop(RunSettings(str(repo.loop), grace=0.5, max_items=1), plan_factory(str(repo.loop))).run()
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    item = state.items["DOC-1"]
    assert outcome.records, outcome.detail
    return item.status, item.reason, item.extra.get("commit", "")


def test_a_gate_command_that_rewrites_a_file_does_not_get_its_edit_committed(loop_repo: LoopRepo,
                                                                           tmp_path: Path) -> None:
    origin = _origin(loop_repo, tmp_path)
    # a "formatter" gate: it passes, and rewrites the file it judged
    script = tmp_path / "fmt_gate.py"
    script.write_text("import pathlib\np = pathlib.Path('docs/guide.md')\n"
                      "p.write_text(p.read_text() + 'UNJUDGED LINE\\n')\n")
    _checklist(loop_repo, f"{sys.executable} check_links.py && {sys.executable} {script}")
    loop_repo.set_spec(FIX, iterations=1, contain=False)
    status, reason, commit = _run(loop_repo)
    assert status == "escalated", reason
    assert "changed after the gates" in reason and "docs/guide.md" in reason
    branch = git(loop_repo.root, "for-each-ref", "--format=%(refname)", "refs/heads/loop/").strip()
    if branch:  # nothing the gates did not see is on any branch
        assert "UNJUDGED" not in git(loop_repo.root, "show", f"{branch}:docs/guide.md")
    assert commit == ""
    assert git(origin, "for-each-ref", "--format=%(refname)").strip() == "refs/heads/main"


def test_an_escaped_maker_process_editing_after_the_gates_ran_is_caught(loop_repo: LoopRepo,
                                                                         tmp_path: Path) -> None:
    started = tmp_path / "gate-started"
    # the gate says when it runs, and goes on once the escapee has struck (a fixed sleep lost the race
    # under load), at most 30 seconds
    _checklist(loop_repo, f"touch {started} && for i in $(seq 600); do grep -q evil docs/guide.md && break; "
                          f"sleep 0.05; done; {sys.executable} check_links.py")
    # uncontained, a process that drops the attempt's token and leaves the session outlives the attempt
    # The maker waits until the escapee has left its session (setsid done): a runner that ends the attempt's
    # process group before that kills it first, and the test would lose its race (it did, 1 run in 4).
    escaped = tmp_path / "escaped"
    escapee = (f"env -i PATH=/usr/bin:/bin setsid sh -c 'touch {escaped}; while [ ! -e {started} ]; do sleep 0.05; "
               "done; echo \"[evil](http://evil.example)\" >> docs/guide.md' </dev/null >/dev/null 2>&1 & "
               f"while [ ! -e {escaped} ]; do sleep 0.02; done; " + FIX)
    loop_repo.set_spec(escapee, iterations=1, contain=False)
    status, reason, commit = _run(loop_repo)
    assert status == "escalated", reason
    assert "changed after the gates" in reason
    assert commit == ""
    for ref in git(loop_repo.root, "for-each-ref", "--format=%(refname)", "refs/heads/loop/").split():
        assert "evil" not in git(loop_repo.root, "show", f"{ref}:docs/guide.md")


def test_a_file_a_gate_creates_is_left_out_of_the_commit_and_said(loop_repo: LoopRepo, tmp_path: Path) -> None:
    import json

    import jsonschema

    from loopgate.artifacts.schema import load_schema

    # a gate's cache in a repository that ignores none: new, never judged, never committed
    # no scope gate beside it: gates run side by side, and scope would see the cache or not by timing;
    # nor the loop's own check of the item's expected paths (a scope gate too), so the item names none
    _checklist(loop_repo, f"{sys.executable} check_links.py && mkdir -p cache && echo x > cache/gate.bin",
               scope=False)
    queue = loop_repo.loop / "work-queue.md"
    queue.write_text(queue.read_text().replace("- expected paths: docs/guide.md\n", "", 1))
    loop_repo.commit("DOC-1 names no paths")
    loop_repo.set_spec(FIX, iterations=1, contain=False)
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), plan_factory(str(loop_repo.loop))).run()
    status = outcome.records[0].status
    assert status == "drafted", outcome.records[0].reason
    commit = outcome.records[0].commit
    assert git(loop_repo.root, "rev-parse", "loop/docs-repair/DOC-1").strip() == commit
    files = git(loop_repo.root, "ls-tree", "-r", "--name-only", commit).split()
    assert "cache/gate.bin" not in files and "docs/guide.md" in files
    assert "index.md" in git(loop_repo.root, "show", f"{commit}:docs/guide.md")
    report = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    attempt = report["items"][0]["attempts"][0]
    assert attempt["not_committed"] == ["cache/gate.bin"]
    assert git(loop_repo.root, "rev-parse", f"{commit}^{{tree}}").strip() == attempt["judged"]["tree"]
