"""Benchmark: `loopgate verify` as a whole process, on the shipped example and on generated monorepos.

Each timing is a fresh process (interpreter start, imports, reading, parsing, validating,
rendering), the way a pre-commit hook or a CI step runs it. Floors on the same machine:
`python -c pass` (the interpreter alone) and `loopgate --help` (interpreter, click and the
CLI's imports, no work).

Monorepos: N loop directories `loops/loop-NNNN/`, each a copy of examples/repo-maintenance
with its own loop name and budgets, plus unrelated files (a src/ tree beside the loops) that
the walk must pass over. `loopgate verify ROOT` finds them by walking for LOOP_SPEC.md.

Run: `.venv/bin/python bench/bench_verify.py [--runs 10] [--loops 250,500,1000] [--profile]`.
Inputs go to bench/out/verify/ (git-ignored).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "verify"
EXAMPLE = ROOT / "examples" / "repo-maintenance"


def loopgate_command() -> list[str]:
    script = Path(sys.executable).with_name("loopgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "loopgate"]


def timed(command: list[str], runs: int, expect: int = 0) -> tuple[float, float]:
    """(best, median) wall seconds over `runs` fresh processes; the exit status is checked each time."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout.decode()[-2000:]}")
    return min(times), statistics.median(times)


def make_monorepo(count: int) -> Path:
    root = OUT / f"mono-{count}"
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    texts = {p.name: p.read_text("utf-8") for p in EXAMPLE.iterdir()}
    for index in range(count):
        loop = root / "loops" / f"team-{index % 25:02d}" / f"loop-{index:04d}"
        loop.mkdir(parents=True)
        for name, original in texts.items():
            text = original.replace("Repository Maintenance Triage", f"Loop {index}")
            if name == "LOOP_SPEC.md":
                text = text.replace("- max iterations: 3", f"- max iterations: {3 + index % 5}")
            (loop / name).write_text(text, encoding="utf-8")
        src = root / "src" / f"pkg{index}"
        src.mkdir(parents=True)
        (src / "module.py").write_text("x = 1\n", encoding="utf-8")
    (root / "done").write_text("", encoding="utf-8")
    return root


def profile(root: Path) -> None:
    from loopgate.verify import VerifySettings, run_verify

    profiler = cProfile.Profile()
    profiler.enable()
    result = run_verify(VerifySettings((str(root),)))
    profiler.disable()
    print(f"\nin-process run_verify over {result.loops_checked} loops, {len(result.findings)} findings:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu or platform.processor() or 'unknown CPU'}), "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per small command (default 10)")
    parser.add_argument("--big-runs", type=int, default=3, help="fresh processes per monorepo (default 3)")
    parser.add_argument("--loops", default="250,500,1000", help="monorepo sizes (default 250,500,1000)")
    parser.add_argument("--profile", action="store_true", help="cProfile run_verify on the largest monorepo")
    args = parser.parse_args()
    lg = loopgate_command()
    print(f"machine: {machine()}\n")
    print("| command | best | median |\n|---|---|---|")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"], 0),
        ("loopgate --help", [*lg, "--help"], 0),
        ("loopgate verify examples/repo-maintenance", [*lg, "verify", "examples/repo-maintenance"], 0),
    ]
    # What the verify command needs (click, config, the core, the reporters) without the CLI's
    # other commands: the floor a lazily loading CLI would have.
    core_only = ("import sys, click; from loopgate.config import load_config; "
                 "from loopgate.reporters import REPORTER_BY_NAME, Report; "
                 "from loopgate.verify import VerifySettings, run_verify; "
                 "r = run_verify(VerifySettings(('examples/repo-maintenance',))); "
                 "click.echo(REPORTER_BY_NAME['text']().render(Report(r.findings, True, r.files_checked)), nl=False); "
                 "sys.exit(r.exit_code(False))")
    rows.append(("the same, only the modules verify needs (python -c)", [sys.executable, "-c", core_only], 0))
    for label, command, expect in rows:
        best, median = timed(command, args.runs, expect)
        print(f"| `{label}` | {best * 1000:.0f} ms | {median * 1000:.0f} ms |")
    sizes = [int(n) for n in args.loops.split(",") if n]
    per_loop = []
    for count in sizes:
        root = make_monorepo(count)
        best, median = timed([*lg, "verify", str(root.relative_to(ROOT))], args.big_runs)
        per_loop.append((count, best))
        print(f"| `loopgate verify` monorepo of {count:,} loops ({count * 5:,} files) | {best:.2f} s | "
              f"{median:.2f} s |")
    serial_per_loop = []
    for count in sizes:
        # The same work in one process (no worker processes): shows the growth is linear, and
        # what the second core adds.
        root = make_monorepo(count)
        serial = ("from loopgate.verify import VerifySettings, run_verify; "
                  f"raise SystemExit(run_verify(VerifySettings(({str(root)!r},), jobs=1)).exit_code(False))")
        best, median = timed([sys.executable, "-c", serial], args.big_runs)
        serial_per_loop.append((count, best))
        print(f"| the {count:,} loops in one process (`run_verify(..., jobs=1)`, no CLI) | {best:.2f} s | "
              f"{median:.2f} s |")
    if serial_per_loop:
        print("\nper loop, one process (best): " +
              ", ".join(f"{n:,}: {t / n * 1000:.2f} ms" for n, t in serial_per_loop))
    if len(per_loop) > 1:
        print("per loop, loopgate verify (best): " + ", ".join(f"{n:,}: {t / n * 1000:.2f} ms" for n, t in per_loop))
    if args.profile and sizes:
        profile(make_monorepo(max(sizes)))


if __name__ == "__main__":
    main()
