"""Benchmark: the pre-commit hook path, `loopgate verify examples/repo-maintenance`, against a bare
`python -c pass` of the same interpreter (the issue's bar: within 10x).

CPU time (user + system) of each whole process is measured as well as wall time: on a shared
machine wall time swings with the load, CPU time much less. With `--against SRC`, the same verify
(the same console script) runs with another checkout's `src/` first on PYTHONPATH (e.g. the
integration branch) for a before/after in the same run. Both checkouts should have their bytecode
written (`python -m compileall -q src`) when PYTHONDONTWRITEBYTECODE is set, as on this machine:
otherwise every run compiles every module it imports, which a pip-installed wheel never does.

Run: `.venv/bin/python bench/bench_hook_path.py [--runs 15] [--against /path/to/other/src]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "repo-maintenance")


def measure(command: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(best CPU ms, median CPU ms, best wall ms) over `runs` whole processes."""
    cpu, wall = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=False)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(cpu) * 1000, statistics.median(cpu) * 1000, min(wall) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", "--repeat", type=int, default=15)
    parser.add_argument("--against", help="another checkout's src/ directory, measured the same way")
    args = parser.parse_args()
    script = Path(sys.executable).with_name("loopgate")
    verify = [str(script) if script.exists() else sys.executable, *([] if script.exists() else ["-m", "loopgate"]),
              "verify", EXAMPLE]
    rows = [("`python -c pass`", measure([sys.executable, "-c", "pass"], args.runs))]
    rows.append(("`loopgate verify examples/repo-maintenance`", measure(verify, args.runs)))
    if args.against:  # the same command (the console script when there is one), the other checkout's code
        env = {**os.environ, "PYTHONPATH": args.against}
        rows.append((f"the same, {args.against}", measure(verify, args.runs, env)))
    floor = rows[0][1][0]
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| command | CPU best | CPU median | x `python -c pass` (CPU best) | wall best |")
    print("|---|---|---|---|---|")
    for name, (best, median, wall) in rows:
        print(f"| {name} | {best:.1f} ms | {median:.1f} ms | {best / floor:.1f}x | {wall:.0f} ms |")


if __name__ == "__main__":
    main()
