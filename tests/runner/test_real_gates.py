"""The run loop with the real gate plan: quality-gate-checklist.md parsed by `loopgate check`'s
planner, the real `command` and `scope` gates, and `loopgate run` / `loopgate status` as real
processes. The other runner tests inject gates; these prove the pieces fit as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from loopgate.artifacts.schema import load_schema
from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, git

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

REAL_CHECKLIST = f"""\
# Quality Gate Checklist: Docs Repair

## Required Gates

### links
- command: {PY} check_links.py
- timeout: 30 seconds

### scope
- gate: scope
"""


def _use_real_checklist(repo: LoopRepo, extra: str = "") -> None:
    (repo.loop / "quality-gate-checklist.md").write_text(REAL_CHECKLIST + extra)
    repo.commit("real checklist")


def _run(repo: LoopRepo) -> object:
    loop = Loop(RunSettings(str(repo.loop), grace=0.5), plan_factory(str(repo.loop)))
    return loop.run()


def _statuses(repo: LoopRepo) -> dict[str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return {i.id: i.status for i in state.items.values()}


def _report(outcome: object) -> dict[str, object]:
    report: dict[str, object] = json.loads(Path(outcome.report_path).read_text())  # type: ignore[attr-defined]
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    return report


def _item(report: dict[str, object], item_id: str) -> dict[str, object]:
    return next(i for i in report["items"] if i["id"] == item_id)  # type: ignore[union-attr, index, return-value]


def test_the_checklists_real_gates_judge_each_attempt(loop_repo: LoopRepo) -> None:
    _use_real_checklist(loop_repo)
    outcome = _run(loop_repo)
    assert outcome.stop is Stop.ESCALATIONS  # type: ignore[attr-defined]
    assert _statuses(loop_repo)["DOC-1"] == "drafted"
    attempt = _item(_report(outcome), "DOC-1")["attempts"][0]  # type: ignore[index]
    gates = {g["gate"]: g for g in attempt["gates"]}
    assert {name: g["status"] for name, g in gates.items()} == {"links": "passed", "scope": "passed"}
    assert "links ok" in gates["links"]["output_tail"]  # the command really ran in the worktree
    warnings = _report(outcome)["warnings"]
    assert any("the maker reports no usage" in w for w in warnings)  # a sed script reports nothing
    assert "docs/guide.md" in gates["scope"]["summary"] or "1 changed file" in gates["scope"]["summary"]


def test_a_real_scope_gate_failure_feeds_back_and_ends_in_no_progress(loop_repo: LoopRepo) -> None:
    loop_repo.set_spec(maker="outside")
    _use_real_checklist(loop_repo)
    outcome = _run(loop_repo)
    assert _statuses(loop_repo)["DOC-1"] == "escalated"
    doc = _item(_report(outcome), "DOC-1")
    attempts = doc["attempts"]  # type: ignore[index]
    assert len(attempts) == 2  # the same failure twice: no progress, not a third try
    scope = next(g for g in attempts[0]["gates"] if g["gate"] == "scope")
    assert scope["status"] == "failed"
    assert any(f["code"] == "LG401" and f["path"] == "src/app.py" for f in scope["findings"])
    assert "no progress across 2 consecutive attempts" in str(doc["reason"])
    prompt = next((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-2/prompt.md")).read_text()
    assert "src/app.py" in prompt  # the second attempt was told what the checker found


BASELINE_RULE = "- required tests are missing or failing before the change starts\n"


def _with_baseline(repo: LoopRepo) -> None:
    spec = repo.loop / "LOOP_SPEC.md"
    text = spec.read_text().replace("- the same item failed twice before\n",
                                    "- the same item failed twice before\n" + BASELINE_RULE)
    spec.write_text(text)
    repo.commit("baseline rule")


def test_a_baseline_failure_in_the_items_own_files_is_its_work_not_a_reason_to_escalate(
        loop_repo: LoopRepo) -> None:
    _with_baseline(loop_repo)
    _use_real_checklist(loop_repo)  # check_links.py fails at docs/guide.md, DOC-1's expected path
    _run(loop_repo)
    assert _statuses(loop_repo)["DOC-1"] == "drafted"


def test_a_baseline_failure_elsewhere_escalates_before_the_maker_runs(loop_repo: LoopRepo) -> None:
    _with_baseline(loop_repo)
    (loop_repo.root / "tests.py").write_text("import sys\nprint('src/login.py:1:1: test_login failed')\nsys.exit(1)\n")
    _use_real_checklist(loop_repo, f"\n### unit tests\n- command: {PY} tests.py\n")
    outcome = _run(loop_repo)
    assert _statuses(loop_repo)["DOC-1"] == "escalated"
    doc = _item(_report(outcome), "DOC-1")
    assert doc["attempts"] == []  # the maker never ran
    assert "required gates fail before any change: unit tests" in str(doc["reason"])


def test_a_gate_that_cannot_run_stops_the_run_as_environmental(loop_repo: LoopRepo) -> None:
    _use_real_checklist(loop_repo, "\n### lint\n- command: loopgate-no-such-linter --check\n")
    outcome = _run(loop_repo)
    assert outcome.stop is Stop.ENVIRONMENT  # type: ignore[attr-defined]
    assert "lint" in outcome.detail  # type: ignore[attr-defined]
    assert _report(outcome)["stop"]["exit_code"] == 5  # type: ignore[index]


def _loopgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LOOPGATE_"))}
    return subprocess.run([PY, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=120)


def test_loopgate_run_and_status_as_a_user_runs_them(loop_repo: LoopRepo) -> None:
    _use_real_checklist(loop_repo)
    done = _loopgate("run", ".loop", cwd=loop_repo.root)
    assert done.returncode == 3, done.stderr  # escalations pending
    assert "item DOC-1: attempt 1: running the maker" in done.stderr
    assert "item DOC-1: gate links: passed" in done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr  # a pipe (CI, logs) gets plain lines only
    lines = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[:4]}
    assert lines == {"DOC-1": "drafted", "AUTH-2": "escalated", "BIG-3": "escalated", "CHORE-4": "skipped"}
    assert "stopped: escalations-pending" in done.stdout
    status = _loopgate("status", ".loop", cwd=loop_repo.root)
    assert status.returncode == 0
    assert status.stdout.splitlines()[1].split()[:2] == ["ITEM", "STATUS"]
    assert any(line.startswith("DOC-1") and "drafted" in line for line in status.stdout.splitlines())
    as_json = json.loads(_loopgate("status", ".loop", "--format", "json", cwd=loop_repo.root).stdout)
    assert as_json["counters"]["escalations"] == 2
    # a second run has nothing left to do and says so
    again = _loopgate("run", ".loop", "--format", "json", cwd=loop_repo.root)
    assert json.loads(again.stdout)["items"] == []
    assert len(list((loop_repo.loop / "runs").glob("*Z.json"))) == 2  # quick runs never share a report
    assert "index.md" in git(loop_repo.root, "show", "loop/docs-repair/DOC-1:docs/guide.md")


def test_the_shipped_shadow_example_runs_from_the_readme_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LOOPGATE_"))}
    env.update(PATH=f"{Path(PY).parent}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(tmp_path))
    done = subprocess.run(["sh", str(ROOT / "examples" / "shadow-loop" / "try.sh")], env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    work = next(tmp_path.glob("loopgate-shadow.*"))
    state, errors = load_state(str(work / ".loop" / "LOOP_STATE.md"), "x")
    assert errors == []
    assert {i.id: i.status for i in state.items.values()} == {"DOC-1": "drafted", "INFRA-2": "escalated",
                                                              "AUTH-3": "escalated"}
    assert "questions.md" in git(work, "show", "loop/docs-link-repair/DOC-1:docs/guide.md")
    report = json.loads(next((work / ".loop" / "runs").glob("*.json")).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(report)
    assert report["usage"]["tool_calls"] == 2
    assert report["warnings"] == []  # its maker reports usage, and the loop checks each of its rules
    assert report["rules_not_enforced"] == []
    assert state.items["DOC-1"].gates == {"links": "passed", "scope": "passed", "item_scope": "passed"}
    # what the run wrote is a valid loop: it verifies, and the next run starts (nothing left to do)
    assert _loopgate("verify", ".loop", cwd=work).returncode == 0
    again = _loopgate("run", ".loop", cwd=work)
    assert again.returncode == 0, again.stderr


def test_on_a_terminal_a_slow_maker_shows_a_live_line(loop_repo: LoopRepo) -> None:
    import pty

    _use_real_checklist(loop_repo)
    args = ["run", ".loop", "--max-items", "1", "--maker", "sleep 2.5; " + MAKERS_GOOD]
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LOOPGATE_"))}
    proc = subprocess.Popen([PY, "-m", "loopgate", *args], cwd=loop_repo.root, env=env, stdout=subprocess.DEVNULL,
                            stderr=secondary, stdin=subprocess.DEVNULL)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closes when the run ends
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(primary)
    text = seen.decode("utf-8", "replace")
    assert "item DOC-1: attempt 1: maker running (1s)" in text
    assert "\x1b[K" in text


MAKERS_GOOD = "sed -i 's/missing.md/index.md/' docs/guide.md"


def _shadow_example(tmp_path: Path, contain: bool = True) -> Path:
    """A copy of examples/shadow-loop/repo as its own git repository; `contain=False` adds
    `contain: no` to its spec (the path where no sandbox is available, whose tamper checks
    are what those tests prove)."""
    import shutil

    work = tmp_path / "shadow"
    shutil.copytree(ROOT / "examples" / "shadow-loop" / "repo", work)
    if not contain:
        spec = work / ".loop" / "LOOP_SPEC.md"
        spec.write_text(spec.read_text() + "\n## Sandbox\n- contain: no\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "example"]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    return work


def test_inside_the_spec_scope_but_outside_the_items_paths_is_not_drafted(tmp_path: Path) -> None:
    work = _shadow_example(tmp_path)
    maker = "sed -i 's/(faq.md)/(questions.md)/' docs/guide.md; echo 'rewritten by the agent' > docs/index.md"
    loop = Loop(RunSettings(str(work / ".loop"), maker=maker, max_items=1, grace=0.5),
                plan_factory(str(work / ".loop")))
    outcome = loop.run()
    state, _ = load_state(str(work / ".loop" / "LOOP_STATE.md"), "x")
    assert state.items["DOC-1"].status == "escalated"  # docs/** allows index.md; DOC-1 does not
    attempt = _item(_report(outcome), "DOC-1")["attempts"][0]  # type: ignore[index]
    gates = {g["gate"]: g for g in attempt["gates"]}
    assert gates["scope"]["status"] == "passed"  # the spec's bounds hold
    assert gates["item scope"]["status"] == "failed"
    assert [(f["code"], f["path"]) for f in gates["item scope"]["findings"]] == [("LG401", "docs/index.md")]


def _run_example(work: Path, maker: str) -> tuple[str, str]:
    Loop(RunSettings(str(work / ".loop"), maker=maker, max_items=1, grace=0.5), plan_factory(str(work / ".loop"))).run()
    state, _ = load_state(str(work / ".loop" / "LOOP_STATE.md"), "x")
    return state.items["DOC-1"].status, state.items["DOC-1"].reason


def test_a_suppression_the_maker_adds_is_escalated_not_obeyed(tmp_path: Path) -> None:
    work = _shadow_example(tmp_path)
    status, reason = _run_example(work, "sed -i '1i <!-- loopgate: disable links -->' docs/guide.md")
    assert status == "escalated"
    assert "the maker added a gate suppression: docs/guide.md:1: <!-- loopgate: disable links -->" in reason


def test_a_maker_rewriting_the_links_ignore_file_edits_the_checker(tmp_path: Path) -> None:
    work = _shadow_example(tmp_path)
    status, reason = _run_example(work, "echo 'faq' > .loopgate-links-ignore")
    assert status == "escalated"
    assert "edited control files: .loopgate-links-ignore (in the item's worktree)" in reason


def test_a_maker_poisoning_the_links_cache_edits_the_checker(tmp_path: Path, monkeypatch: object) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))  # type: ignore[attr-defined]
    work = _shadow_example(tmp_path, contain=False)  # contained, the cache (in your home) is out of reach
    poison = f"mkdir -p {cache}/loopgate && echo '{{}}' > {cache}/loopgate/links.json && " \
             "sed -i 's/(faq.md)/(questions.md)/' docs/guide.md"
    status, reason = _run_example(work, poison)
    assert status == "escalated"
    assert f"{cache}/loopgate/links.json" in reason


def test_a_loop_with_no_required_gate_refuses_to_run(loop_repo: LoopRepo) -> None:
    (loop_repo.loop / "quality-gate-checklist.md").write_text(
        "# Quality Gate Checklist: Docs Repair\n\n## Advisory Gates\n\n### reviewer\n- command: true\n")
    loop_repo.commit("advisory only")
    done = _loopgate("run", ".loop", cwd=loop_repo.root)
    assert done.returncode == 2
    assert "no required gates" in done.stderr and "Traceback" not in done.stderr
    assert _loopgate("run", ".loop", "--dry-run", cwd=loop_repo.root).returncode == 0  # selecting is harmless


def test_a_fresh_init_says_how_to_give_the_loop_work(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    assert _loopgate("init", ".loop", "--name", "Docs Links", cwd=tmp_path).returncode == 0
    early = _loopgate("run", ".loop", "--maker", "true", cwd=tmp_path)
    assert early.returncode == 2 and "the repository has no commit yet: commit the loop's files" in early.stderr
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "loop"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    bad_base = _loopgate("run", ".loop", "--maker", "true", "--base", "no-such-branch", cwd=tmp_path)
    assert bad_base.returncode == 2 and "--base no-such-branch does not name a commit" in bad_base.stderr
    # init wrote the queue the spec names, empty: the run starts, finds no work, and says so
    empty = _loopgate("run", ".loop", "--maker", "true", "--dry-run", cwd=tmp_path)
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert "Traceback" not in empty.stderr
    # without it, the run says how to give the loop work, and starts nothing
    git(tmp_path, "rm", "-q", ".loop/work-queue.md")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "no queue")
    done = _loopgate("run", ".loop", "--maker", "true", cwd=tmp_path)
    assert done.returncode == 2
    assert "work-queue.md: the queue file does not exist" in done.stderr
    assert "create it with one `### ITEM-ID` entry per work item" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".loop" / "runs").exists()  # no report claims a run that never started
    assert git(tmp_path, "status", "--porcelain") == ""  # and the state was not rewritten


FIX = "sed -i 's/(faq.md)/(questions.md)/' docs/guide.md"


@pytest.mark.parametrize(("maker", "reason"), [
    # a self-hiding .gitignore and the file it hides: the gates must judge what the commit holds
    ("printf '.gitignore\\nfaq.md\\n' > docs/.gitignore; echo '# FAQ' > docs/faq.md; echo >> docs/guide.md",
     "no progress"),
    ("echo 'docs/faq.md' >> \"$(git rev-parse --git-common-dir)/info/exclude\"; echo '# FAQ' > docs/faq.md",
     "edited control files: .git/info"),
    (f"git checkout -q --ignore-other-worktrees main && {FIX}", "HEAD is refs/heads/main"),
    (f"{FIX} && git -c user.name=a -c user.email=a@b commit -qam wip", "the repository's branches or tags"),
    ("mkdir -p \"$(git rev-parse --git-common-dir)/hooks\" && printf '#!/bin/sh\\necho x >> src/login.py\\n' > "
     f"\"$(git rev-parse --git-common-dir)/hooks/post-commit\" && {FIX}", "edited control files: .git/hooks"),
    (f"git config color.diff always && {FIX}", "edited control files: .git/config"),
    ("printf '<!-- loopgate:\\n disable links -->\\n' >> docs/guide.md", "the maker added a gate suppression"),
    (f"echo '<!-- pragma: whitelist secret -->' >> docs/guide.md && {FIX}", "the maker added a gate suppression"),
    # your other files are yours: only the loop's control files in your checkout are judged (and restored)
    (f"echo tampered >> \"$LOOPGATE_WORKTREE/../../../../.loop/LOOP_SPEC.md\" && {FIX}",
     "edited control files: .loop/LOOP_SPEC.md"),
    (f"echo '- labels: maintenance' >> \"$LOOPGATE_WORKTREE/../../../../.loop/work-queue.md\" && {FIX}",
     "edited control files: .loop/work-queue.md"),
])
def test_a_maker_cannot_talk_its_way_past_the_checker(tmp_path: Path, maker: str, reason: str) -> None:
    work = _shadow_example(tmp_path, contain=False)  # test_containment.py: contained, most cannot even write
    status, why = _run_example(work, maker)
    assert status == "escalated", why
    assert reason in why


def test_the_commit_holds_what_the_gates_judged_whatever_the_index_said(tmp_path: Path) -> None:
    # staged content and a skip-worktree flag would keep the fix on disk out of the commit
    work = _shadow_example(tmp_path)
    maker = ("echo >> docs/guide.md && git add docs/guide.md && git update-index --skip-worktree docs/guide.md && "
             "git checkout -- . 2>/dev/null; " + FIX)
    status, _ = _run_example(work, maker)
    assert status == "drafted"
    state, _ = load_state(str(work / ".loop" / "LOOP_STATE.md"), "x")
    commit = state.items["DOC-1"].extra["commit"]
    assert git(work, "rev-parse", "loop/docs-link-repair/DOC-1").strip() == commit
    assert "(questions.md)" in git(work, "show", f"{commit}:docs/guide.md")


def test_a_gate_that_hangs_cannot_outlast_the_runtime_budget(loop_repo: LoopRepo) -> None:
    import time

    from loopgate.check import PlannedGate
    from loopgate.gates.base import GateResult, GateSpec, GateStatus

    def hangs(options: object, context: object) -> GateResult:  # a gate stuck on pathological input
        time.sleep(60)
        return GateResult("hang", GateStatus.PASSED)

    loop_repo.set_spec(runtime="3s")
    _use_real_checklist(loop_repo)
    real = plan_factory(str(loop_repo.loop))
    hang = GateSpec("hang", "", "", object, hangs)
    started = time.monotonic()
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5),
                   lambda w, b, i: [*real(w, b, i), PlannedGate("hang", hang, None, True)]).run()
    assert time.monotonic() - started < 30
    assert outcome.stop is Stop.BUDGET  # type: ignore[attr-defined]
    assert outcome.detail == "max runtime reached while the gates ran"  # type: ignore[attr-defined]
    assert _statuses(loop_repo)["DOC-1"] == "stopped"  # resumable
