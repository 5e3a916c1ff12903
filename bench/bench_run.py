"""The run loop's own overhead per attempt: everything but the maker and the gates' commands.

A throwaway git repository with a queue of N items (default 200), a maker that writes one file
(a tiny shell command), and one required gate that runs `true`. The loop's overhead is the wall
time of the run minus the time spent inside the maker and the gate commands, divided by the
number of attempts. It covers selection, worktree creation and reset, prompt rendering,
control-file hashing, diffing, committing, and the atomic state write after every transition.

    .venv/bin/python bench/bench_run.py [--items 200] [--repeat 3] [--contain yes|no|both]

The maker runs inside the sandbox (bubblewrap) by default, so the sandbox's own cost is part of
the time "inside the maker"; `--contain both` runs both ways and prints what containment adds
to each attempt (wall time of the run per attempt, contained minus uncontained).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """# Loop Spec: Bench

## Purpose
Measure the loop.

## Trigger
By hand.

## Inputs
- queue: work-queue.md

## Work Selection Rules
The loop may select work only when:
- the item is labeled bench

The loop must skip and escalate when:
- the same item failed twice before

## Roles
- maker command: echo "$LOOPGATE_ITEM_ID" > "docs/$LOOPGATE_ITEM_ID.md"

## Budgets
- max iterations: 2
- max tool calls per iteration: 20
- max runtime: 2 hours
- max pull requests per run: 1

## Stop Conditions
- all selected work items are completed or escalated
"""
CHECKLIST = """# Quality Gate Checklist: Bench

## Required Gates

### noop
- command: true
"""


def make_repo(root: Path, items: int, contain: bool = True) -> Path:
    loop = root / ".loop"
    (root / "docs").mkdir(parents=True)
    loop.mkdir()
    (root / "docs" / "index.md").write_text("# Index\n")
    (loop / "LOOP_SPEC.md").write_text(SPEC + ("" if contain else "\n## Sandbox\n- contain: no\n"))
    (loop / "quality-gate-checklist.md").write_text(CHECKLIST)
    queue = ["# Work Queue", ""]
    for n in range(items):
        queue += [f"### B-{n}", "- labels: bench", f"- expected paths: docs/B-{n}.md", ""]
    (loop / "work-queue.md").write_text("\n".join(queue))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@localhost", "commit", "-qm", "bench"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return loop


def one_run(items: int, contain: bool = True) -> dict[str, float]:
    """One whole `loopgate run` in a fresh repository; the seconds spent where."""
    loopgate = str(Path(sys.executable).with_name("loopgate"))
    with tempfile.TemporaryDirectory() as tmp:
        loop = make_repo(Path(tmp), items, contain)
        start = time.perf_counter()
        done = subprocess.run([loopgate, "run", str(loop), "--quiet", "--format", "json"], capture_output=True,
                              text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode not in (0, 3):
            raise SystemExit(f"loopgate run failed ({done.returncode}): {done.stderr}")
        report = json.loads(done.stdout)
    if report.get("contained", False) is not contain:
        raise SystemExit(f"asked for contain={contain}, the run reports {report.get('containment')}")
    attempts = [a for item in report["items"] for a in item["attempts"]]
    maker = sum(a["maker"]["duration"] for a in attempts)
    gates = sum(g["duration"] for a in attempts for g in a.get("gates", []))
    drafted = sum(1 for item in report["items"] if item["status"] == "drafted")
    per = max(len(attempts), 1)
    return {"items": len(report["items"]), "attempts": len(attempts), "drafted": drafted, "wall": wall,
            "maker": maker, "gates": gates, "overhead_ms": (wall - maker - gates) / per * 1000,
            "maker_ms": maker / per * 1000, "wall_ms": wall / per * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="whole runs; best and median are reported")
    parser.add_argument("--contain", choices=["yes", "no", "both"], default="yes")
    args = parser.parse_args()
    if args.contain == "both":
        return _both(args.items, args.repeat)
    runs = sorted((one_run(args.items, args.contain == "yes") for _ in range(args.repeat)),
                  key=lambda r: r["overhead_ms"])
    best, median = runs[0], runs[len(runs) // 2]
    rows = [
        ("items / attempts / drafted", *(f"{r['items']:.0f} / {r['attempts']:.0f} / {r['drafted']:.0f}"
                                         for r in (best, median))),
        ("wall time of `loopgate run` (whole process)", f"{best['wall']:.2f} s", f"{median['wall']:.2f} s"),
        ("inside the maker (sum)", f"{best['maker']:.2f} s", f"{median['maker']:.2f} s"),
        ("inside the maker per attempt", f"{best['maker_ms']:.1f} ms", f"{median['maker_ms']:.1f} ms"),
        ("inside the gates (sum)", f"{best['gates']:.2f} s", f"{median['gates']:.2f} s"),
        ("loop overhead per attempt", f"{best['overhead_ms']:.1f} ms", f"{median['overhead_ms']:.1f} ms"),
    ]
    print(f"loopgate run overhead, {args.items} items, {args.repeat} runs, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}\n")
    print("| measure | best run | median run |\n|---|---|---|")
    for name, *values in rows:
        print(f"| {name} | {' | '.join(values)} |")
    return 0


def _both(items: int, repeat: int) -> int:
    """Contained and uncontained runs, interleaved (so load on a shared machine hits both alike)."""
    on, off = [], []
    for _ in range(repeat):
        off.append(one_run(items, contain=False))
        on.append(one_run(items, contain=True))

    def median(runs: list[dict[str, float]], key: str) -> float:
        return sorted(r[key] for r in runs)[len(runs) // 2]

    print(f"the sandbox's cost per attempt, {items} items, {repeat} runs each way, {os.cpu_count()} CPUs\n")
    print("| measure (median run) | uncontained | contained (bwrap) | difference |\n|---|---|---|---|")
    for name, key in (("wall time per attempt", "wall_ms"), ("inside the maker per attempt", "maker_ms"),
                      ("loop overhead per attempt", "overhead_ms")):
        a, b = median(off, key), median(on, key)
        print(f"| {name} | {a:.1f} ms | {b:.1f} ms | {b - a:+.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
