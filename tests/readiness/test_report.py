"""`loopgate report`: trends over generated histories, in every format, and the HTML page in a real
headless Chromium (it renders offline, the charts carry the right number of points, no console
errors, and a screenshot a person can look at)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.history.html import charts
from loopgate.history.metrics import totals
from loopgate.history.render import Report
from loopgate.history.reviews import load_reviews
from loopgate.history.runs import load_history
from loopgate.history.trends import series
from loopgate.readiness.rollout import Thresholds

from .history import Week, write_history

SCREENSHOT = Path(__file__).resolve().parent / "report-screenshot.png"


def loopgate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


MONTH = [Week(), Week(), Week(failing_gate="scope check"), Week(escalate=0.5, accept=0.4, cost=2.5),
         Week(mode="draft-pr")]


def build(loop: Path, period: str = "week") -> Report:
    history = load_history(str(loop))
    reviews = load_reviews(str(loop))
    return Report("loop", period, series(history, reviews, Thresholds(), period), totals(history.runs, reviews),
                  history.unreadable)


def test_the_trends_show_the_bad_week_the_cost_spike_and_the_failing_gate(loop_repo: Path) -> None:
    write_history(loop_repo, MONTH)
    report = build(loop_repo)
    assert len(report.points) == 5 and [p.totals.runs for p in report.points] == [7, 7, 7, 7, 7]
    good, _, gate_week, bad, drafts = (p.totals for p in report.points)
    assert bad.rate(bad.escalated) > 30 > good.rate(good.escalated)
    assert bad.cost_usd > 4 * good.cost_usd  # the cost spike
    assert gate_week.gate_failures["scope check"] == gate_week.items and good.gate_failures["scope check"] == 0
    assert drafts.pull_requests == drafts.produced > 0  # draft-pr runs open pull requests
    daily = [p.earned for p in build(loop_repo, "day").points]
    assert daily[:4] == ["shadow"] * 4  # fewer than 5 shadow runs: too little evidence
    assert daily[4] == "draft-pr"  # the fifth good day earns draft-pr (10 items, drafts reviewed and accepted)


def test_every_format_from_the_cli(loop_repo: Path) -> None:
    write_history(loop_repo, MONTH)
    repo = loop_repo.parent
    text = loopgate(repo, "report", ".loop", "--by", "week")
    assert text.returncode == 0, text.stderr
    assert "2026-W41" in text.stdout and "gate failure rate (all runs):" in text.stdout
    data = json.loads(loopgate(repo, "report", ".loop", "--format", "json", "--by", "day").stdout)
    assert len(data["points"]) == 35 and data["overall"]["runs"] == 35
    assert set(data["overall"]["gate_failure_rates"]) == {"link check", "scope check", "forbidden files"}
    md = loopgate(repo, "report", ".loop", "--format", "markdown", "--by", "week").stdout
    assert md.startswith("## loopgate report") and "| **all** |" in md
    empty = loopgate(repo, "report", ".loop", "--format", "text")
    assert empty.returncode == 0


def test_no_reports_yet_is_said_plainly(loop_repo: Path) -> None:
    out = loopgate(loop_repo.parent, "report", ".loop")
    assert out.returncode == 0 and "no run reports yet" in out.stdout


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def test_the_html_page_renders_offline_with_every_chart_point(loop_repo: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    write_history(loop_repo, MONTH)
    page = tmp_path / "report.html"
    made = loopgate(loop_repo.parent, "report", ".loop", "--format", "html", "--by", "day", "-o", str(page))
    assert made.returncode == 0, made.stderr
    html = page.read_text("utf-8")
    assert "http://" not in html.split("<script>")[0] and 'src="http' not in html and "href=\"http" not in html
    expected = {spec["id"]: sum(1 for ds in spec["datasets"] for v in ds["data"] if v is not None)
                for spec in charts(build(loop_repo, "day"))}
    profile = tmp_path / "profile"
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'data-charts-ready="5"' in dom, dom[:500]
    drawn = dict(re.findall(r'id="chart-([a-z]+)"[^>]*data-drawn-points="(\d+)"', dom))
    assert {k: int(v) for k, v in drawn.items()} == expected
    assert expected["items"] == 4 * 35 and expected["earned"] == 35
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "rror" in line or "Uncaught" in line], console


def test_a_screenshot_a_person_can_look_at(loop_repo: Path, tmp_path: Path) -> None:
    """Kept at tests/readiness/report-screenshot.png (git-ignored) after each run: open it to see the page
    as a phone shows it."""
    chromium = _chromium()
    write_history(loop_repo, MONTH)
    page = tmp_path / "report.html"
    assert loopgate(loop_repo.parent, "report", ".loop", "--format", "html", "--by", "day", "-o",
                    str(page)).returncode == 0
    shot = tmp_path / "shot.png"
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=10000", "--window-size=412,2400", f"--screenshot={shot}",
                           page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page with charts, not a blank one
    shutil.copy(shot, SCREENSHOT)


def test_half_a_year_of_runs_reads_as_the_weeks_that_made_it(loop_repo: Path) -> None:
    """182 runs: a good streak, a gate that starts failing and stays broken, a cost spike, a bad week."""
    weeks = [Week()] * 8 + [Week(failing_gate="forbidden files")] * 6 + [Week(cost=3.0)] + [Week()] * 4 \
        + [Week(escalate=0.7, accept=0.2)] + [Week()] * 6
    write_history(loop_repo, weeks, seed=3)
    report = build(loop_repo)
    assert len(report.points) == 26 and report.overall.runs == 182 and report.overall.items == 364
    costs = [p.totals.cost_usd for p in report.points]
    assert costs.index(max(costs)) == 14  # the spike
    failing = [p.totals.gate_failures["forbidden files"] > 0 for p in report.points]
    assert failing == [False] * 8 + [True] * 6 + [False] * 12  # starts failing, then fixed
    rates = [p.totals.rate(p.totals.escalated) for p in report.points]
    assert rates.index(max(rates)) == 19  # the bad week stands out
    data = json.loads(loopgate(loop_repo.parent, "report", ".loop", "--format", "json", "--by", "run").stdout)
    assert len(data["points"]) == 182
