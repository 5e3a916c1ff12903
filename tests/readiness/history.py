"""Seeded run histories in the run report's own format (schemas/run-report.schema.json).

A `Week` says how a stretch of runs goes (how many items per run, how often they escalate, what a
person thinks of the drafts, what they cost, whether a gate starts failing); `write_history`
turns a list of weeks into one report per run under `.loop/runs/` and the reviews beside them,
with a fixed seed so a test sees the same month every time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START = dt.datetime(2026, 10, 5, 8, 0, tzinfo=dt.timezone.utc)  # a Monday: ISO weeks line up
GATES = ("link check", "scope check", "forbidden files")


@dataclass(frozen=True)
class Week:
    days: int = 7
    mode: str = "shadow"
    items: int = 2  # per run, one run a day
    escalate: float = 0.05  # chance an item escalates
    fail: float = 0.0  # chance an item ends failed
    accept: float = 0.95  # chance a person accepts a draft (each draft is reviewed)
    cost: float = 0.40  # USD per attempt
    failing_gate: str = ""  # this gate fails on every first attempt
    environmental: float = 0.0  # chance a run stops for the environment


def _gate(name: str, status: str) -> dict[str, Any]:
    findings = [] if status == "passed" else [{"path": "docs/a.md", "line": 3, "column": 5, "code": "LG441",
                                               "severity": "error", "message": "broken", "hint": "fix it"}]
    return {"gate": name, "required": True, "status": status, "duration": 0.2, "findings": findings}


def _usage(cost: float) -> dict[str, Any]:
    return {"tool_calls": 12, "input_tokens": 20000, "output_tokens": 3000, "cost_usd": round(cost, 4),
            "reported": True}


def _item(rng: random.Random, ident: str, week: Week) -> dict[str, Any]:
    roll = rng.random()
    status = "escalated" if roll < week.escalate else "failed" if roll < week.escalate + week.fail else (
        "drafted" if week.mode == "shadow" else "pr-opened")
    attempts = []
    tries = 2 if week.failing_gate or status in ("escalated", "failed") else 1
    for number in range(1, tries + 1):
        last = number == tries
        gates = [_gate(g, "failed" if (g == week.failing_gate and number == 1) or
                       (status not in {"drafted", "pr-opened"} and g == "link check") else "passed")
                 for g in GATES]
        verdict = "passed" if last and status in ("drafted", "pr-opened") else "failed"
        attempts.append({"attempt": number, "maker": {"exit_code": 0, "stopped": "", "duration": 40.0,
                                                      "usage": _usage(week.cost)},
                         "verdict": verdict, "gates": gates})
    reason = {"escalated": "no progress across 2 consecutive attempts: link check failed",
              "failed": "max iterations reached"}.get(status, "all required gates passed")
    return {"id": ident, "title": f"item {ident}", "source": "queue", "status": status, "reason": reason,
            "next_action": "", "attempts": attempts}


def write_history(loop_dir: Path, weeks: list[Week], seed: int = 7, start: dt.datetime = START) -> list[Path]:
    """One report per day of each week (and every draft reviewed); returns the report paths."""
    rng = random.Random(seed)
    runs = loop_dir / ".loop" / "runs" if loop_dir.name != ".loop" else loop_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    reviews: list[dict[str, str]] = []
    paths: list[Path] = []
    day = 0
    counter = 0
    for week in weeks:
        for _ in range(week.days):
            when = start + dt.timedelta(days=day)
            day += 1
            run_id = when.strftime("%Y-%m-%dT%H%M%SZ")
            items = []
            for _ in range(week.items):
                counter += 1
                items.append(_item(rng, f"MT-{seed}-{counter}", week))
            environmental = rng.random() < week.environmental
            for item in items:
                if item["status"] in ("drafted", "pr-opened"):
                    verdict = "accept" if rng.random() < week.accept else "reject"
                    at = (when + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
                    reviews.append({"item": item["id"], "verdict": verdict, "at": at, "note": "", "run": run_id})
            cost = sum(a["maker"]["usage"]["cost_usd"] for i in items for a in i["attempts"])
            escalated = any(i["status"] == "escalated" for i in items)
            stop = ("environmental-failure", 5) if environmental else (
                ("escalations-pending", 3) if escalated else ("all-done", 0))
            report = {
                "run_id": run_id, "loop": "Repository Maintenance Triage", "mode": week.mode,
                "started_base": "0" * 40, "duration": 60.0 * sum(len(i["attempts"]) for i in items),
                "budgets": {"max_iterations": 3, "max_tool_calls_per_iteration": 20, "max_runtime": 1800,
                            "max_pull_requests_per_run": 2},
                "usage": _usage(cost), "pull_requests_opened": sum(i["status"] == "pr-opened" for i in items),
                "items": items, "approvals": [],
                "stop": {"reason": stop[0], "detail": "generated", "exit_code": stop[1]},
            }
            path = runs / f"{run_id}.json"
            path.write_text(json.dumps(report, indent=2), encoding="utf-8")
            paths.append(path)
    file = runs.parent / "reviews.json"
    earlier = json.loads(file.read_text("utf-8"))["reviews"] if file.exists() else []
    file.write_text(json.dumps({"reviews": earlier + reviews}, indent=2), encoding="utf-8")
    return paths
