"""`loopgate report` as a text table, JSON and markdown; html.py draws the page."""

from __future__ import annotations

import json
from typing import Any

from loopgate.history.metrics import Totals
from loopgate.history.text import data_cell, listing, markdown, plain
from loopgate.history.trends import Point
from loopgate.records import record


@record(frozen=True)
class Report:
    loop: str
    period: str
    points: list[Point]
    overall: Totals
    unreadable: list[tuple[str, str]]
    runs_dir: str = ""  # where the run reports were looked for, for "no run reports yet"
    uncounted_verdicts: int = 0  # recorded verdicts on no draft of this history (Reviews.unattributed)

    def as_dict(self) -> dict[str, Any]:
        return {"loop": self.loop, "period": self.period, "overall": self.overall.as_dict(),
                "points": [p.as_dict() for p in self.points],
                "unreadable_reports": [{"path": p, "why": w} for p, w in self.unreadable],
                "uncounted_verdicts": self.uncounted_verdicts}


def uncounted_line(r: Report) -> str:
    """Verdicts are evidence promotion weighs most: one left out is said, never lost quietly."""
    if not r.uncounted_verdicts:
        return ""
    return (f"{r.uncounted_verdicts} verdict(s) in reviews.json not counted: no readable run report shows the "
            "draft they judge (its report was removed or could not be read, or a verdict without its run is "
            "dated before any draft of its item, in the future, or not YYYY-MM-DDTHH:MM:SSZ)")


COLUMNS = (("period", 20), ("runs", 4), ("items", 5), ("drafted", 7), ("PRs", 3), ("escal.", 6), ("failed", 6),
           ("att/item", 8), ("gate pass", 9), ("cost $", 8), ("$/item", 7), ("min/run", 7), ("earned", 8),
           ("rollback", 8))


def _row(p_label: str, t: Totals, earned: str, rollback: str = "") -> list[str]:
    per_item = t.cost_per_produced
    return [p_label, str(t.runs), str(t.items), str(t.produced - t.pull_requests), str(t.pull_requests),
            str(t.escalated), str(t.failed), f"{t.attempts / t.items:.1f}" if t.items else "-",
            f"{t.gate_pass_rate:.0f}%" if t.gate_runs else "-", f"{t.cost_usd:.2f}",
            f"{per_item:.2f}" if per_item is not None else "-",
            f"{t.duration / t.runs / 60:.1f}" if t.runs else "-", earned, rollback or "-"]


# What the columns mean, under the table: a reader who has not read the README gets it from the output.
LEGEND = ("items: items the loop took on (skipped ones are not counted); drafted / PRs: left as a draft branch / "
          "a pull request",
          "att/item: attempts per item; gate pass: share of gate runs that passed; $/item: cost per drafted or PR "
          "item; min/run: minutes per run",
          "earned: the highest mode the history up to that row allows (by the history criteria of `loopgate "
          "readiness`, which also judges the artifacts and the repository as they are now), held down by a rollback",
          "rollback: demoted (the last items of the mode the loop ran in crossed a rollback limit there), held (a "
          "demotion in force), lifted (the evidence since the demotion earned the next mode back there)")


def rollback_lines(r: Report) -> list[str]:
    """Each demotion and lift, with its point and why: what the earned column shows, in words."""
    out = []
    for p in r.points:
        if p.rollback == "demoted":
            out.append(f"{p.label}: demoted to {p.earned}: {p.why}")
        elif p.rollback == "lifted":
            out.append(f"{p.label}: demotion lifted, back to {p.earned}")
    return out
MARKDOWN_ROWS = 30  # a job summary stays readable; the JSON has every point
LONG = 60  # past this many rows, the text table says how to get fewer


def empty_message(r: Report) -> str:
    where = f" in {r.runs_dir}" if r.runs_dir else ""
    if r.unreadable:
        shown = listing([f"{p}: {w}" for p, w in r.unreadable])
        return f"no readable run reports{where}: {len(r.unreadable)} could not be read ({shown})"
    return f"no run reports yet{where} (`loopgate run` writes one per run)"


def left_out(r: Report) -> list[str]:
    """What the report did not count, in lines for stderr: said where a reader of a file or a job
    summary sees it, not only inside the output."""
    lines = [plain(uncounted_line(r))] if r.uncounted_verdicts else []
    if r.unreadable:
        lines.append(f"{len(r.unreadable)} run report(s) left out: "
                     + plain(listing([f"{p}: {w}" for p, w in r.unreadable])))
    return lines


def render_text(r: Report) -> str:
    if not r.points:
        return f"loopgate report: {plain(r.loop)}: {plain(empty_message(r))}\n"
    widths = [w for _, w in COLUMNS]
    rows = [[name for name, _ in COLUMNS]] + [_row(plain(p.label), p.totals, p.earned, p.rollback)
                                              for p in r.points]
    rows.append(_row("all", r.overall, r.points[-1].earned))
    lines = [f"loopgate report: {plain(r.loop)} ({len(r.points)} {r.period} point(s), {r.overall.runs} run(s))", ""]
    for row in rows:
        cells = enumerate(zip(row, widths, strict=True))
        lines.append("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in cells))
    lines += ["", *LEGEND]
    if rollback_lines(r):
        lines += ["", "rollback:", *(f"  {plain(line)}" for line in rollback_lines(r))]
    if len(r.points) > LONG and r.period != "week":
        lines.append(f"{len(r.points)} rows: `--by week` gives one a week.")
    t = r.overall
    if t.gate_runs:
        lines += ["", "gate failure rate (all runs):"]
        lines += [f"  {plain(gate)}: {100.0 * t.gate_failures[gate] / n:.0f}% of {n} gate run(s)"
                  for gate, n in sorted(t.gate_runs.items())]
    if t.stops:
        lines += ["", "stop reasons: " + ", ".join(f"{plain(k)} {v}" for k, v in sorted(t.stops.items()))]
    if t.skipped:
        lines.append(f"{t.skipped} item(s) skipped by the work selection rules (or left waiting): not counted")
    if t.escalated_at_selection:
        lines.append(f"{t.escalated_at_selection} item(s) escalated by the policy at selection, before any attempt: "
                     "not counted as items or escalations")
    if r.uncounted_verdicts:
        lines.append(uncounted_line(r))
    if r.unreadable:
        shown = listing([plain(p) for p, _ in r.unreadable])
        lines += ["", f"{len(r.unreadable)} report(s) could not be read and were left out: {shown}"]
    return "\n".join(lines) + "\n"


def render_json(r: Report) -> str:
    return json.dumps(r.as_dict(), indent=2, ensure_ascii=False) + "\n"


def render_markdown(r: Report) -> str:
    if not r.points:
        said = data_cell(empty_message(r))
        return f"## loopgate report: {data_cell(r.loop)}\n\n{said[:1].upper()}{said[1:]}.\n"
    names = [name for name, _ in COLUMNS]
    lines = [f"## loopgate report: {data_cell(r.loop)}", ""]
    shown = r.points[-MARKDOWN_ROWS:]
    if len(shown) < len(r.points):
        lines += [f"The last {len(shown)} of {len(r.points)} {r.period} rows (`--by week` for fewer, `--format json` "
                  "for every one); **all** counts every run.", ""]
    lines += ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for p in shown:
        lines.append("| " + " | ".join(_row(data_cell(p.label), p.totals, p.earned, p.rollback)) + " |")
    lines.append("| **all** | " + " | ".join(_row("", r.overall, r.points[-1].earned)[1:]) + " |")
    lines += ["", markdown(". ".join(LEGEND), table=False) + "."]
    if rollback_lines(r):
        lines += ["", "**Rollback**", "", *(f"- {data_cell(line)}" for line in rollback_lines(r))]
    t = r.overall
    if t.gate_runs:
        lines += ["", "| gate | gate runs | failure rate |", "|---|---|---|"]
        lines += [f"| {data_cell(g)} | {n} | {100.0 * t.gate_failures[g] / n:.0f}% |"
                  for g, n in sorted(t.gate_runs.items())]
    if t.stops:
        lines += ["", "Stop reasons: " + ", ".join(f"{data_cell(k)} {v}" for k, v in sorted(t.stops.items())) + "."]
    if t.skipped:
        lines += ["", f"{t.skipped} item(s) skipped by the work selection rules (or left waiting): not counted."]
    if t.escalated_at_selection:
        lines += ["", f"{t.escalated_at_selection} item(s) escalated by the policy at selection, before any "
                  "attempt: not counted as items or escalations."]
    if r.uncounted_verdicts:
        lines += ["", uncounted_line(r) + "."]
    if r.unreadable:
        lines += ["", f"{len(r.unreadable)} report(s) could not be read and were left out: "
                  + listing([data_cell(p) for p, _ in r.unreadable])]
    return "\n".join(lines) + "\n"
