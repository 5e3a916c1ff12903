"""Benchmark: the schema gate on GitHub workflow files against GitHub's workflow schema, beside check-jsonschema.

The workflows are the fixtures in tests/example-files/github-workflows/ (every trigger form,
matrices, reusable workflows, services, containers, anchors; some invalid on purpose), copied
`--copies` times under distinct names. The schema is SchemaStore's github-workflow.json (draft 7:
`oneOf` over every job and step shape), the copy in ../shared/schemas/ or else the one
check-jsonschema vendors. Whole-process wall time, files given as arguments the way pre-commit
passes them; both tools must report the same set of invalid files.

check-jsonschema is the one beside this Python (a test dependency), else bench/out/cj (made on
first use, as bench_schema.py does).

Run: `.venv/bin/python bench/bench_schema_workflows.py [--copies 40] [--repeat 3]`.
Inputs go to bench/out/workflows/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "workflows"
FIXTURES = ROOT / "tests" / "example-files" / "github-workflows"
LOOPGATE = [sys.executable, "-m", "loopgate"]


def workflow_schema() -> Path:
    for candidate in (ROOT.parent / "shared" / "schemas", ROOT.parents[1] / "shared" / "schemas"):
        if (candidate / "github-workflows.json").is_file():
            return candidate / "github-workflows.json"
    import check_jsonschema

    return Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"


def check_jsonschema_binary() -> Path:
    beside = Path(sys.executable).parent / "check-jsonschema"
    if beside.exists():
        return beside
    venv = ROOT / "bench" / "out" / "cj"
    if not (venv / "bin" / "check-jsonschema").exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=True)
    return venv / "bin" / "check-jsonschema"


def make_inputs(copies: int) -> tuple[list[str], set[str]]:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "files").mkdir(parents=True)
    shutil.copy(workflow_schema(), OUT / "github-workflows.json")
    names, invalid = [], set()
    for copy in range(copies):
        for fixture in sorted(FIXTURES.glob("*.y*ml")):
            name = f"files/{copy:03d}-{fixture.name}"
            shutil.copy(fixture, OUT / name)
            names.append(name)
            if fixture.name.startswith("invalid-"):
                invalid.add(name)
    return names, invalid


def timed(command: list[str], repeat: int) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    times, done = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=OUT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    assert done is not None
    return times, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names, invalid = make_inputs(args.copies)
    cj = check_jsonschema_binary()
    runs = {
        "loopgate gate schema": (
            [*LOOPGATE, "gate", "schema", "--schema", "github-workflows.json", "--format", "json", *names],
            lambda out: {p["path"] for p in json.loads(out)["problems"]}),
        "check-jsonschema": (
            [str(cj), "--schemafile", "github-workflows.json", "-o", "json", *names],
            lambda out: {e["filename"] for e in json.loads(out)["errors"]}),
    }
    version = subprocess.run([str(cj), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{len(names)} workflow files, {len(invalid)} invalid; {os.cpu_count()} CPUs; "
          f"Python {platform.python_version()}; {version}")
    print("| tool | best | median | runs | invalid files reported |")
    print("|---|---|---|---|---|")
    best: dict[str, float] = {}
    for label, (command, reported) in runs.items():
        times, done = timed(command, args.repeat)
        found = reported(done.stdout)
        same = "the expected ones" if found == invalid else f"DIFFERENT ({len(found ^ invalid)} differ)"
        best[label] = min(times)
        print(f"| {label} | {min(times):.2f} s | {statistics.median(times):.2f} s | "
              f"{', '.join(f'{t:.2f}' for t in times)} | {len(found)} ({same}) |")
    print(f"check-jsonschema / loopgate (best): {best['check-jsonschema'] / best['loopgate gate schema']:.1f}x")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
