"""`loopgate report` as a text table, JSON and markdown; html.py draws the page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loopgate.history.metrics import Totals
from loopgate.history.text import cell, plain
from loopgate.history.trends import Point


@dataclass(frozen=True)
class Report:
    loop: str
    period: str
    points: list[Point]
    overall: Totals
    unreadable: list[tuple[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"loop": self.loop, "period": self.period, "overall": self.overall.as_dict(),
                "points": [p.as_dict() for p in self.points],
                "unreadable_reports": [{"path": p, "why": w} for p, w in self.unreadable]}


COLUMNS = (("period", 20), ("runs", 4), ("items", 5), ("drafted", 7), ("PRs", 3), ("escal.", 6), ("failed", 6),
           ("att/item", 8), ("gate pass", 9), ("cost $", 8), ("$/item", 7), ("min/run", 7), ("earned", 8))


def _row(p_label: str, t: Totals, earned: str) -> list[str]:
    per_item = t.cost_per_produced
    return [p_label, str(t.runs), str(t.items), str(t.produced - t.pull_requests), str(t.pull_requests),
            str(t.escalated), str(t.failed), f"{t.attempts / t.items:.1f}" if t.items else "-",
            f"{t.gate_pass_rate:.0f}%" if t.gate_runs else "-", f"{t.cost_usd:.2f}",
            f"{per_item:.2f}" if per_item is not None else "-",
            f"{t.duration / t.runs / 60:.1f}" if t.runs else "-", earned]


def render_text(r: Report) -> str:
    if not r.points:
        return f"loopgate report: {plain(r.loop)}: no run reports yet (run `loopgate run` to make some)\n"
    widths = [w for _, w in COLUMNS]
    rows = [[name for name, _ in COLUMNS]] + [_row(p.label, p.totals, p.earned) for p in r.points]
    rows.append(_row("all", r.overall, r.points[-1].earned))
    lines = [f"loopgate report: {plain(r.loop)} ({len(r.points)} {r.period} point(s), {r.overall.runs} run(s))", ""]
    for row in rows:
        cells = enumerate(zip(row, widths, strict=True))
        lines.append("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in cells))
    t = r.overall
    if t.gate_runs:
        lines += ["", "gate failure rate (all runs):"]
        lines += [f"  {plain(gate)}: {100.0 * t.gate_failures[gate] / n:.0f}% of {n}"
                  for gate, n in sorted(t.gate_runs.items())]
    if t.stops:
        lines += ["", "stop reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(t.stops.items()))]
    if r.unreadable:
        shown = "; ".join(plain(p) for p, _ in r.unreadable[:5])
        lines += ["", f"{len(r.unreadable)} report(s) could not be read: {shown}"]
    return "\n".join(lines) + "\n"


def render_json(r: Report) -> str:
    return json.dumps(r.as_dict(), indent=2, ensure_ascii=False) + "\n"


def render_markdown(r: Report) -> str:
    if not r.points:
        return f"## loopgate report: {cell(r.loop)}\n\nNo run reports yet.\n"
    names = [name for name, _ in COLUMNS]
    lines = [f"## loopgate report: {cell(r.loop)}", "", "| " + " | ".join(names) + " |",
             "|" + "---|" * len(names)]
    for p in r.points[-30:]:  # a job summary stays readable; the JSON has every point
        lines.append("| " + " | ".join(_row(p.label, p.totals, p.earned)) + " |")
    lines.append("| **all** | " + " | ".join(_row("", r.overall, r.points[-1].earned)[1:]) + " |")
    t = r.overall
    if t.gate_runs:
        lines += ["", "| gate | runs | failure rate |", "|---|---|---|"]
        lines += [f"| {cell(g)} | {n} | {100.0 * t.gate_failures[g] / n:.0f}% |"
                  for g, n in sorted(t.gate_runs.items())]
    return "\n".join(lines) + "\n"
