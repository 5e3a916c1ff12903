"""`loopgate report --format html`: one self-contained page with charts.

The charts are drawn by Chart.js (vendored in history/vendor, MIT), inlined in the page, so the
file opens offline, from a CI artifact or a mail attachment, with no request to anywhere. A data
table under each chart carries the same figures for readers without JavaScript or a screen reader.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from loopgate.history.render import Report, empty_message, uncounted_line
from loopgate.history.text import listing

_PALETTE = {"drafted": "#2f80ed", "PRs": "#27ae60", "escalated": "#eb5757", "failed": "#f2994a",
            "cost": "#9b51e0", "per item": "#333333"}
_GATE_COLOURS = ("#2f80ed", "#eb5757", "#27ae60", "#f2994a", "#9b51e0", "#56ccf2", "#6fcf97", "#bb6bd9")
MODES_AXIS = ["shadow", "draft-pr", "pr"]


def _chart_js() -> str:
    return resources.files("loopgate.history").joinpath("vendor/chart.umd.min.js").read_text("utf-8")


def charts(r: Report) -> list[dict[str, Any]]:
    """The chart definitions (Chart.js config plus a title): the page draws these, tests count them."""
    labels = [p.label for p in r.points]
    t = [p.totals for p in r.points]

    def line(label: str, data: list[Any], colour: str, **extra: Any) -> dict[str, Any]:
        return {"label": label, "data": data, "borderColor": colour, "backgroundColor": colour, "tension": 0.2,
                **extra}

    gates = sorted(r.overall.gate_runs)
    out: list[dict[str, Any]] = [
        {"id": "items", "title": "Items per period: what became of them", "type": "bar", "stacked": True,
         "labels": labels, "datasets": [
             line("drafted", [x.produced - x.pull_requests for x in t], _PALETTE["drafted"]),
             line("PRs", [x.pull_requests for x in t], _PALETTE["PRs"]),
             line("escalated", [x.escalated for x in t], _PALETTE["escalated"]),
             line("failed", [x.failed for x in t], _PALETTE["failed"])]},
        {"id": "cost", "title": "Cost (USD) per period, and per finished item", "type": "bar", "labels": labels,
         "datasets": [line("cost", [round(x.cost_usd, 2) for x in t], _PALETTE["cost"]),
                      line("per finished item", [None if x.cost_per_produced is None else round(x.cost_per_produced, 2)
                                                 for x in t], _PALETTE["per item"], type="line")]},
        {"id": "gates", "title": "Gate failure rate (%) by gate", "type": "line", "labels": labels,
         "datasets": [line(g, [round(100.0 * x.gate_failures[g] / x.gate_runs[g], 1) if x.gate_runs[g] else None
                               for x in t], _GATE_COLOURS[i % len(_GATE_COLOURS)], spanGaps=True)
                      for i, g in enumerate(gates)]},
        {"id": "effort", "title": "Attempts per item, and minutes per run", "type": "line", "labels": labels,
         "datasets": [line("attempts per item", [round(x.attempts / x.items, 2) if x.items else None for x in t],
                           "#2f80ed", spanGaps=True),
                      line("minutes per run", [round(x.duration / x.runs / 60, 2) if x.runs else None for x in t],
                           "#f2994a", spanGaps=True)]},
        {"id": "earned", "title": "Mode earned (after rollbacks)", "type": "line", "labels": labels, "modes": True,
         "datasets": [line("earned mode", [MODES_AXIS.index(p.earned) for p in r.points], "#27ae60", stepped=True)]},
    ]
    return out


def points(chart: dict[str, Any]) -> int:
    """How many data points a chart shows (null gaps excluded): what the browser test checks."""
    return sum(1 for ds in chart["datasets"] for v in ds["data"] if v is not None)


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#f7f7f8}
header{padding:16px 20px;background:#1f2937;color:#fff}header h1{font-size:20px;margin:0 0 4px}
main{padding:12px;display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(320px,1fr))}
.tiles{display:grid;gap:8px;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));padding:12px 12px 0}
.tile{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0001}
.tile b{display:block;font-size:22px}.tile span{color:#555;font-size:13px}
section{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px #0001;min-width:0}
section h2{font-size:15px;margin:0 0 8px}.chart{position:relative;height:260px}
details{margin-top:8px;font-size:13px}table{border-collapse:collapse;width:100%;overflow-x:auto;display:block}
td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
footer{padding:12px 20px;color:#666;font-size:12px}
"""

# Nothing may load from anywhere: the page is whole in itself (and a report cannot phone home).
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

_SCRIPT = """
(function(){
  var specs = JSON.parse(document.getElementById('lg-data').textContent);
  var modes = ['shadow','draft-pr','pr'];
  specs.forEach(function(s){
    var canvas = document.getElementById('chart-' + s.id);
    var options = {responsive:true, maintainAspectRatio:false, animation:false,
      plugins:{legend:{position:'bottom'}},
      scales:{x:{stacked:!!s.stacked}, y:{stacked:!!s.stacked, beginAtZero:true}}};
    if (s.modes) { options.scales.y = {min:0, max:2, ticks:{stepSize:1, callback:function(v){return modes[v];}}}; }
    var chart = new Chart(canvas, {type:s.type, data:{labels:s.labels, datasets:s.datasets}, options:options});
    var shown = 0;
    chart.data.datasets.forEach(function(ds, i){
      chart.getDatasetMeta(i).data.forEach(function(el, j){ if (ds.data[j] !== null) shown++; });
    });
    canvas.setAttribute('data-drawn-points', String(shown));
  });
  document.body.setAttribute('data-charts-ready', String(specs.length));
})();
"""


def _table(chart: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(str(ds['label']))}</th>" for ds in chart["datasets"])
    rows = []
    for i, label in enumerate(chart["labels"]):
        cells = "".join(f"<td>{'' if ds['data'][i] is None else html.escape(str(ds['data'][i]))}</td>"
                        for ds in chart["datasets"])
        rows.append(f"<tr><td>{html.escape(str(label))}</td>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def render_html(r: Report) -> str:
    specs = charts(r)
    t = r.overall
    tiles = [(str(t.runs), "runs"), (str(t.items), "items attempted"), (str(t.produced), "drafts and PRs"),
             (f"{t.rate(t.escalated):.0f}%", "escalated"), (f"{t.accepted_rate:.0f}%" if t.reviewed else "-",
                                                             f"accepted of {t.reviewed} reviewed"),
             (f"${t.cost_usd:.2f}", "spent"), (r.points[-1].earned if r.points else "shadow", "earned mode")]
    sections = []
    for spec in specs:
        sections.append(
            f'<section><h2>{html.escape(spec["title"])}</h2><div class="chart">'
            f'<canvas id="chart-{spec["id"]}" role="img" aria-label="{html.escape(spec["title"])}" '
            f'data-points="{points(spec)}"></canvas></div>'
            f"<details><summary>the figures</summary>{_table(spec)}</details></section>")
    tiles_html = "".join(f'<div class="tile"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
                         for v, k in tiles)
    # no `<` at all in the data: neither `</script` nor `<!--` can change how the page parses
    data = json.dumps(specs).replace("<", "\\u003c")
    said = empty_message(r)
    empty = "" if r.points else f"<p style='padding:0 20px'>{html.escape(said[:1].upper() + said[1:])}.</p>"
    if r.points and r.unreadable:
        left = f"{len(r.unreadable)} report(s) could not be read and were left out: " + listing(
            [p for p, _ in r.unreadable])
        empty = f"<p style='padding:0 20px'>{html.escape(left)}</p>"
    if r.points and r.uncounted_verdicts:
        empty += f"<p style='padding:0 20px'>{html.escape(uncounted_line(r))}.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>loopgate report: {html.escape(r.loop)}</title><style>{_CSS}</style></head>
<body><header><h1>loopgate report: {html.escape(r.loop)}</h1>
<div>{len(r.points)} {html.escape(r.period)} point(s) from {t.runs} run(s)</div></header>
<div class="tiles">{tiles_html}</div>
{empty}<main>{''.join(sections)}</main>
<footer>Made by loopgate from .loop/runs/*.json. Charts: Chart.js (MIT), inlined.</footer>
<script type="application/json" id="lg-data">{data}</script>
<script>{_chart_js()}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
