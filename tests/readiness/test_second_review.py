"""The second hostile review of readiness, review and report (issue 11), one regression test per
finding: real generated run histories under .loop/runs/, read by the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, check=False,
                          text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=300)


def report_json(loop: Path, *args: str) -> dict[str, Any]:
    done = run(loop.parent, "report", ".loop", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _indic(text: str) -> str:
    return "".join(chr(0x660 + int(c)) if c.isdigit() else c for c in text)


def test_f3_a_run_id_in_other_digits_is_no_run_time(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    arabic = _indic("2026-11-01T080000Z")  # Arabic-Indic digits: `\d` took them as a date
    data = json.loads(paths[0].read_text("utf-8"))
    data["run_id"] = arabic
    (paths[0].parent / f"{arabic}.json").write_text(json.dumps(data), encoding="utf-8")
    paths[0].unlink()
    got = report_json(loop_repo, "--by", "run")
    assert [p["label"] for p in got["points"]] == [paths[1].stem]
    assert any("is not a run time" in u["why"] for u in got["unreadable_reports"])
    reviews = loop_repo / "reviews.json"  # a verdict time in other digits is no time either
    rows = json.loads(reviews.read_text("utf-8"))["reviews"]
    rows.append({"item": rows[-1]["item"], "verdict": "reject", "at": _indic("2026-10-06T10:00:00Z"), "note": ""})
    reviews.write_text(json.dumps({"reviews": rows}), encoding="utf-8")
    audit = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "json")
    assert any("1 verdict(s) in reviews.json name no run" in p for p in json.loads(audit.stdout)["problems"])


def test_f4_the_count_of_unread_reports_agrees_with_the_names(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=3)])
    for number in range(6):
        (paths[0].parent / f"broken-{number}.json").write_text("{", encoding="utf-8")
    text = run(loop_repo.parent, "report", ".loop").stdout
    line = next(line for line in text.splitlines() if "could not be read" in line)
    assert line.startswith("6 report(s)") and line.count("broken-") == 5 and "and 1 more" in line
    md = run(loop_repo.parent, "report", ".loop", "--format", "markdown").stdout
    assert "6 report(s) could not be read" in md and "and 1 more" in md
    page = run(loop_repo.parent, "report", ".loop", "--format", "html").stdout
    assert "6 report(s) could not be read" in page and "and 1 more" in page
    for path in paths:
        path.unlink()
    empty = run(loop_repo.parent, "report", ".loop").stdout
    assert "6 could not be read" in empty and empty.count("broken-") == 5 and "and 1 more" in empty


def test_f5_edge_dates_are_listed_or_labelled_in_full(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=3)])
    for stamp in ("0001-01-01T000000Z", "0999-06-01T000000Z", "1999-12-31T235959Z"):
        data = json.loads(paths[0].read_text("utf-8"))
        data["run_id"] = stamp
        (paths[0].parent / f"{stamp}.json").write_text(json.dumps(data), encoding="utf-8")
    for period, count in (("run", 3), ("day", 3), ("week", 1)):
        got = report_json(loop_repo, "--by", period)
        assert len(got["points"]) == count and all(p["label"].startswith("2026-") for p in got["points"])
        assert all(p["end"].startswith("2026-") for p in got["points"])
        assert sum("before 2000" in u["why"] for u in got["unreadable_reports"]) == 3
    # the far end of the calendar: a week label keeps its four-digit ISO year
    from loopgate.history.times import day, stamp, week

    assert (day(dt.datetime(1, 1, 1)), week(dt.datetime(1, 1, 1)), stamp(dt.datetime(9999, 12, 31, 23, 59, 59))) \
        == ("0001-01-01", "0001-W01", "9999-12-31T23:59:59Z")
    shutil.rmtree(paths[0].parent)


def _demoted(loop: Path) -> str:
    """A month of good shadow runs, a bad draft-pr week, and the audit that demotes the loop for it:
    the recorded LOOP_STATE.md."""
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    write_history(loop, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.9)])
    done = run(loop.parent, "readiness", ".loop", "--no-run-checks", "--format", "json")
    data = json.loads(done.stdout)
    assert data["demoted_now"] and data["recorded"] and data["mode"] == "shadow", done.stdout
    return (loop / "LOOP_STATE.md").read_text("utf-8")


def _state(loop: Path) -> dict[str, str]:
    from loopgate.runner.state import load_state

    state, _ = load_state(str(loop / "LOOP_STATE.md"), "x")
    return dict(state.run_extra)


def test_f6_a_demotion_a_person_lifts_as_the_readme_says_is_accepted_by_the_run(loop_repo: Path) -> None:
    from .conftest import commit

    recorded = _demoted(loop_repo)
    # the demotion is dated at the run that crossed the limit: lifted from the day after the bad week,
    # its later items are forgiven too (the README: the `demoted_at` time, or a later one)
    assert "- demoted_at: 2026-11-" in recorded
    at = "2026-11-09T00:00:00Z"
    kept = "".join(line + "\n" for line in recorded.splitlines() if not line.startswith("- demoted_"))
    (loop_repo / "LOOP_STATE.md").write_text(kept.replace("## Items", f"- last_demoted_at: {at}\n\n## Items", 1),
                                             encoding="utf-8")
    commit(loop_repo.parent, "lift the demotion")
    audit = json.loads(run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format",
                           "json").stdout)
    assert audit["mode"] == "draft-pr" and audit["demotion"] is None
    assert audit["modes"]["draft-pr"]["blocking"] == ["default-branch-green"]  # only what --no-run-checks leaves
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", ".loop", "--quiet", "--dry-run", "--format",
                           "json"], cwd=loop_repo.parent, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "draft-pr"
    # the items that caused the demotion do not cause another after the lift
    again = json.loads(run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--format", "json").stdout)
    assert not again["demoted_now"] and _state(loop_repo).get("last_demoted_at") == at


def test_f6_a_demoted_loop_earns_its_mode_back_with_new_evidence_and_the_run_takes_it(loop_repo: Path) -> None:
    from .conftest import commit

    recorded = _demoted(loop_repo)
    at = next(line for line in recorded.splitlines() if line.startswith("- demoted_at: ")).split(": ", 1)[1]
    (loop_repo / "LOOP_STATE.md").write_text(recorded.replace(at, "2026-11-10T00:00:00Z"), encoding="utf-8")
    commit(loop_repo.parent, "the demotion, as if recorded the day after the bad week")
    held = json.loads(run(loop_repo.parent, "readiness", ".loop", "--format", "json").stdout)
    rollback = next(c for c in held["criteria"] if c["id"] == "rollback")
    assert "since then, not yet: shadow-runs (0 shadow run(s) with work)" in rollback["detail"]
    assert held["modes"]["draft-pr"]["blocking"] == ["rollback"]  # the whole record allows it: only the demotion
    write_history(loop_repo, [Week(), Week()], seed=11, start=dt.datetime(2026, 11, 11, 8, tzinfo=dt.timezone.utc))
    lifted = json.loads(run(loop_repo.parent, "readiness", ".loop", "--format", "json").stdout)
    assert lifted["lifted_now"] and lifted["mode"] == "draft-pr" and "demoted_to" not in _state(loop_repo)
    assert _state(loop_repo)["last_demoted_at"] == "2026-11-10T00:00:00Z"
    commit(loop_repo.parent, "lifted by the audit")
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", ".loop", "--quiet", "--dry-run", "--format",
                           "json"], cwd=loop_repo.parent, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0 and json.loads(done.stdout)["mode"] == "draft-pr", done.stderr


def test_f6_a_demotion_above_the_spec_mode_is_said_not_dropped(loop_repo: Path) -> None:
    recorded = _demoted(loop_repo)
    (loop_repo / "LOOP_STATE.md").write_text(recorded.replace("- demoted_to: shadow", "- demoted_to: pr"),
                                             encoding="utf-8")
    done = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run")
    assert "warning: LOOP_STATE.md's demoted_to pr is above the spec's mode draft-pr" in done.stdout


def test_f7_a_demotion_dated_in_the_future_does_not_freeze_the_window(loop_repo: Path) -> None:
    recorded = _demoted(loop_repo)
    at = next(line for line in recorded.splitlines() if line.startswith("- demoted_at: ")).split(": ", 1)[1]
    (loop_repo / "LOOP_STATE.md").write_text(recorded.replace(at, "2999-01-01T00:00:00Z"), encoding="utf-8")
    done = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--format", "json")
    data = json.loads(done.stdout)
    assert any("demoted_at '2999-01-01T00:00:00Z' is in the future" in p and "taken as now" in p
               for p in data["problems"])
    clamped = _state(loop_repo)["demoted_at"]
    assert clamped < "2999" and data["recorded"] and data["mode"] == "shadow"
    # from then on the window stays put
    again = json.loads(run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--format", "json").stdout)
    assert not any("in the future" in p for p in again["problems"]) and _state(loop_repo)["demoted_at"] == clamped


def test_f1_the_report_shows_the_bad_week_demote_the_loop_and_the_lift(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", "- mode: draft-pr"), encoding="utf-8")
    write_history(loop_repo, [Week(), Week(), Week(), Week(mode="draft-pr"), Week(mode="draft-pr", escalate=0.9),
                              Week(), Week()])
    got = report_json(loop_repo, "--by", "week")
    seen = [(p["earned_mode"], p["rollback"]) for p in got["points"]]
    assert seen[2:] == [("draft-pr", None), ("draft-pr", None), ("shadow", "demoted"), ("draft-pr", "lifted"),
                        ("draft-pr", None)], seen
    assert "items escalated (rollback limit 40%)" in got["points"][4]["rollback_because"]
    text = run(loop_repo.parent, "report", ".loop", "--by", "week").stdout
    assert "2026-W45: demoted to shadow:" in text and "2026-W46: demotion lifted, back to draft-pr" in text
    md = run(loop_repo.parent, "report", ".loop", "--by", "week", "--format", "markdown").stdout
    assert "| shadow | demoted |" in md and "| draft-pr | lifted |" in md
    # the audit, never run during those weeks, demotes the loop now for the same items
    audit = json.loads(run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format",
                           "json").stdout)
    assert audit["demoted_now"] and audit["mode"] == "shadow"


BAIT = "ev`il``![i](https://attacker.example/p.png)[l](https://evil.example)"


def _page(md: str) -> str:
    import mistune

    return str(mistune.create_markdown(plugins=["table"])(md))


def test_f2_a_backtick_in_a_command_cannot_break_out_of_its_code_span(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- maker command: python3 maker.py", f"- maker command: {BAIT}"),
                    encoding="utf-8")
    recorded = _demoted(loop_repo)
    state = loop_repo / "LOOP_STATE.md"
    state.write_text(recorded.replace("- demoted_because: ", f"- demoted_because: {BAIT} ", 1), encoding="utf-8")
    md = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "markdown").stdout
    page = _page(md)
    assert "<img" not in page and "<a " not in page and "<table>" in page, page
    assert "<code>ev`il``![i](https://attacker.example/p.png)[l](https://evil.example)</code> is not found from " \
           "the repository root" in page
    assert "not a checked-in marker" not in page
    # a loop directory with a backtick in its name, in the heading
    odd = loop_repo.parent / "lo`op![i](https:h.png)"
    shutil.copytree(loop_repo, odd)
    done = run(loop_repo.parent, "readiness", odd.name, "--no-run-checks", "--dry-run", "--format", "markdown")
    assert done.stdout, done.stderr
    heading = _page(done.stdout)
    assert "<img" not in heading and "<code>lo`op![i](https:h.png)</code>" in heading
    report = _page(run(loop_repo.parent, "report", odd.name, "--format", "markdown").stdout)
    assert "<img" not in report and "<a " not in report, report


def test_one_audit_reads_each_artifact_once(loop_repo: Path, monkeypatch: Any) -> None:
    import builtins
    from collections import Counter

    from loopgate.readiness.audit import audit

    _demoted(loop_repo)
    opened: Counter[str] = Counter()
    real = builtins.open

    def counting(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str) and file.endswith(".md"):
            opened[os.path.basename(file)] += 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert result.demotion is not None and result.demotion.to == "shadow"  # read from the state read once
    assert opened["LOOP_STATE.md"] == 1 and opened["LOOP_SPEC.md"] == 1, opened


def test_the_audit_checks_the_default_branch_the_gates_use(loop_repo: Path) -> None:
    from .conftest import git

    git(loop_repo.parent, "branch", "-m", "main", "develop")  # no main, no origin: init.defaultBranch says
    git(loop_repo.parent, "config", "init.defaultBranch", "develop")
    from loopgate.readiness.audit import audit

    found = {c.id: c for c in audit(str(loop_repo), write=False, now=NOW).criteria}["default-branch-green"]
    assert found.met and found.detail.startswith("develop: "), found.detail
