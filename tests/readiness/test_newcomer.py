"""A new user reads `loopgate readiness` and `loopgate report` with nothing else: the output alone
must say what blocks which mode, what each fix is for, and what the report's figures mean. Run
as they would run them: the README's command on the shipped example, `loopgate init` in a fresh
repository, and reports over no runs, one run and hundreds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from loopgate.init_loop import default_name

from .conftest import ENV, ROOT, git
from .history import Week, write_history

MODES = ("shadow", "draft-pr", "pr")


def loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**ENV, "NO_COLOR": "1", "PATH": os.environ["PATH"]})


def criteria_lines(out: str) -> dict[str, tuple[str, set[str], bool]]:
    """id -> (mark, the modes it gates, whether a `next:` line follows) from the text output."""
    found: dict[str, tuple[str, set[str], bool]] = {}
    lines = out.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"  (ok  |FAIL|\?\?  ) ([a-z-]+) \[([a-z, -]+)\]: ", line)
        if match:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            found[match.group(2)] = (match.group(1).strip(), set(match.group(3).split(", ")),
                                     following.startswith("       next: "))
    return found


def assert_self_explaining(out: str, requested: str) -> None:
    """Every blocked mode names its blockers; each is a FAIL/?? line for that mode with a `next:`;
    every blocker of the requested mode and above has a numbered step; the last line names the blockers."""
    criteria = criteria_lines(out)
    plan = out.split("\nwhat to do next:\n", 1)
    steps = plan[1] if len(plan) == 2 else ""
    for mode in MODES:
        verdict = re.search(rf"^{re.escape(mode)} +(allowed|not yet: blocked by (.+?))(   <- asked for)?$", out, re.M)
        assert verdict is not None, (mode, out)
        if verdict.group(1) == "allowed":
            continue
        named = verdict.group(2).split(" and ")[0].split(", ")
        for ident in named:
            mark, modes, has_next = criteria[ident]
            assert mark in ("FAIL", "??") and mode in modes and has_next, (ident, mode)
            if MODES.index(mode) >= MODES.index(requested):
                assert re.search(rf"^    \d+\. .+  \[.*\b{re.escape(ident)}\b.*\]$", steps, re.M), (ident, steps)
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"loopgate: {requested} is ")
    if "not allowed" in last:
        assert "blocked by" in last and steps.startswith(f"  for {requested}:\n")


def test_the_readme_command_on_the_shipped_example_explains_itself() -> None:
    out = loopgate(ROOT, "readiness", "examples/repo-maintenance", "--no-run-checks", "--dry-run")
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr
    assert_self_explaining(out.stdout, "shadow")
    assert "(shadow: drafts stay on local branches, nothing is pushed; draft-pr: opens draft pull requests; " \
           "pr: opens pull requests)" in out.stdout
    # no drafts yet: the step says that a person's verdicts, not more runs alone, are the evidence
    assert "then review each draft it leaves and record it: `loopgate review ITEM accept`" in out.stdout


def test_a_fresh_init_in_a_new_repository_explains_itself(tmp_path: Path) -> None:
    repo = tmp_path / "docs-site"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    made = loopgate(repo, "init", ".loop")
    assert made.returncode == 0, made.stderr
    out = loopgate(repo, "readiness")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert_self_explaining(out.stdout, "shadow")
    # every refusal `loopgate run` would give in shadow, named before the first run is tried
    assert "shadow    not yet: blocked by maker-resolves, git-repository   <- asked for" in out.stdout
    # init wrote the queue the spec names, empty: the run would start and find no work
    assert "ok   work-queue [shadow, draft-pr, pr]: 0 item(s) in .loop/work-queue.md (a run finds no work in it)" \
        in out.stdout
    assert "git-repository [shadow, draft-pr, pr]: no commit yet" in out.stdout
    # nothing committed yet: said so, with the command, not git's "invalid reference"
    assert "default-branch-green [draft-pr, pr]: main has no commits yet" in out.stdout
    assert "`git add -A && git commit`" in out.stdout and "invalid reference" not in out.stdout
    # the budgets step names only what is missing
    assert "Add `- max runtime per iteration: 10 minutes` under `## Budgets` in LOOP_SPEC.md." in out.stdout
    # the loop is named after the repository, not ".Loop"
    assert "# Loop Spec: Docs Site" in (repo / ".loop" / "LOOP_SPEC.md").read_text("utf-8")
    assert default_name("/srv/docs-site/.loop") == "Docs Site" and default_name("loops/docs-link_repair") == \
        "Docs Link Repair"
    md = loopgate(repo, "readiness", "--format", "markdown")
    assert "| shadow (asked for) | drafts stay on local branches, nothing is pushed | not yet | maker-resolves, " \
        "git-repository |" in md.stdout
    assert "**What to do next**" in md.stdout and "For shadow:" in md.stdout


def test_a_requested_mode_is_marked_and_its_steps_come_first() -> None:
    out = loopgate(ROOT, "readiness", "examples/repo-maintenance", "--no-run-checks", "--dry-run", "--mode",
                   "draft-pr")
    assert out.returncode == 1
    assert_self_explaining(out.stdout, "draft-pr")
    assert re.search(r"^draft-pr  not yet: blocked by .+   <- asked for$", out.stdout, re.M)
    assert "\n  then, for pr:\n" in out.stdout and "\n  for shadow:" not in out.stdout


def test_the_report_says_what_it_found_with_no_runs_one_run_and_hundreds(loop_repo: Path, tmp_path: Path) -> None:
    repo = loop_repo.parent
    empty = loopgate(repo, "report", ".loop")
    assert empty.returncode == 0 and "no run reports yet in .loop/runs (`loopgate run` writes one per run)" \
        in empty.stdout
    runs = loop_repo / "runs"
    runs.mkdir()
    (runs / "broken.json").write_text("{", encoding="utf-8")
    for fmt in ("text", "markdown"):
        out = loopgate(repo, "report", ".loop", "--format", fmt)
        assert out.returncode == 0 and "o readable run reports in .loop/runs: 1 could not be read" in out.stdout
        assert "broken.json" in out.stdout and "yet" not in out.stdout
    page = tmp_path / "page.html"
    assert loopgate(repo, "report", ".loop", "--format", "html", "-o", str(page)).returncode == 0
    assert "No readable run reports in .loop/runs: 1 could not be read" in page.read_text("utf-8")
    (runs / "broken.json").unlink()

    write_history(loop_repo, [Week(days=1)])
    one = loopgate(repo, "report", ".loop")
    assert "earned: the highest mode the history up to that row allows" in one.stdout
    assert re.search(r"^  link check: 0% of 2 gate run\(s\)$", one.stdout, re.M)
    assert "--by week" not in one.stdout  # one row needs no advice

    write_history(loop_repo, [Week(days=60), Week(days=7, mode="draft-pr", escalate=0.6),
                              Week(days=70, mode="draft-pr", failing_gate="scope check")])
    text = loopgate(repo, "report", ".loop")
    assert "137 rows: `--by week` gives one a week." in text.stdout
    md = loopgate(repo, "report", ".loop", "--format", "markdown")
    assert "The last 30 of 137 day rows (`--by week` for fewer, `--format json` for every one); **all** counts " \
           "every run." in md.stdout
    assert md.stdout.count("\n| 20") == 30 and "Stop reasons: " in md.stdout
    assert "| gate | gate runs | failure rate |" in md.stdout
    weekly = loopgate(repo, "report", ".loop", "--by", "week", "--format", "markdown")
    assert "The last" not in weekly.stdout  # 20 weeks: every one shown


def test_when_readiness_allows_shadow_on_a_fresh_init_the_run_starts(tmp_path: Path) -> None:
    """What the audit asks for shadow is what `loopgate run` needs to start: a maker, the queue the
    spec names, a commit. A malformed queue is named with the run's own message."""
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    assert loopgate(repo, "init", ".loop").returncode == 0
    spec = repo / ".loop" / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("## Roles\n", "## Roles\n- maker command: sh maker.sh\n"),
                    encoding="utf-8")
    (repo / "maker.sh").write_text("echo maker\n", encoding="utf-8")
    queue = repo / ".loop" / "work-queue.md"
    queue.write_text("# Queue\n\n### Q-1\n- title: one\n\n### q-1\n- title: two\n", encoding="utf-8")
    out = loopgate(repo, "readiness", "--dry-run")
    assert out.returncode == 1 and "shadow    not yet: blocked by work-queue, git-repository" in out.stdout
    assert re.search(r"work-queue \[shadow, draft-pr, pr\]: .*item id \"q-1\" appears twice", out.stdout), out.stdout
    assert "next: Fix .loop/work-queue.md where the message points." in out.stdout
    queue.write_text("# Queue\n\n### Q-1\n- title: one\n- labels: docs\n- expected paths: docs/a.md\n",
                     encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "loop")
    ready = loopgate(repo, "readiness", "--dry-run")
    assert ready.returncode == 0 and "shadow    allowed" in ready.stdout, ready.stdout
    assert "work-queue [shadow, draft-pr, pr]: 1 item(s) in .loop/work-queue.md" in ready.stdout
    assert re.search(r"git-repository \[shadow, draft-pr, pr\]: HEAD at [0-9a-f]{7,}", ready.stdout)
    run = loopgate(repo, "run", ".loop")
    assert run.returncode != 2 and "loopgate: error" not in run.stderr, run.stdout + run.stderr


def test_a_mistyped_loop_directory_is_named_as_such(tmp_path: Path) -> None:
    for command in ("readiness", "report"):
        missing = loopgate(tmp_path, command, "examples/repo-maintenace")
        assert missing.returncode == 2 and "Traceback" not in missing.stderr
        assert missing.stderr == "loopgate: error: examples/repo-maintenace does not exist (give the loop's " \
            "directory, the one with LOOP_SPEC.md)\n"
    empty = loopgate(tmp_path, "review", "X-1", "accept", "--loop", ".")
    assert empty.returncode == 2
    assert empty.stderr == "loopgate: error: no LOOP_SPEC.md in . (`loopgate init .` writes a loop's files there)\n"
