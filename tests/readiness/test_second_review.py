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
