"""Benchmark: the schema gate on 10,000 small JSON files against one schema, beside check-jsonschema.

Whole-process wall time (interpreter start, imports, compiling the schema, reading, parsing and
validating every file, rendering), the files given as arguments the way pre-commit passes them.
Both tools get the same files and the same schema in the same run, and both must report the same
set of invalid files.

check-jsonschema lives in its own virtualenv (bench/out/cj), made on first use:
`python3 -m venv bench/out/cj && bench/out/cj/bin/pip install check-jsonschema`.

Run: `.venv/bin/python bench/bench_schema.py [--files 10000] [--invalid-every 50] [--repeat 3]`.
Inputs and outputs go to bench/out/schema/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "schema"
CJ_VENV = ROOT / "bench" / "out" / "cj"
LOOPGATE = [sys.executable, "-m", "loopgate"]

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "status", "created", "owner", "tags"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "status": {"enum": ["open", "in-progress", "done", "escalated"]},
        "created": {"type": "string", "format": "date"},
        "owner": {"type": "string", "format": "email"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 4},
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}, "uniqueItems": True},
        "links": {"type": "array", "items": {"$ref": "#/$defs/link"}},
    },
    "$defs": {
        "link": {
            "type": "object",
            "required": ["href"],
            "properties": {"href": {"type": "string", "minLength": 1}, "title": {"type": "string"}},
        },
    },
}


def make_document(index: int, rng: random.Random, invalid: bool) -> dict[str, object]:
    document: dict[str, object] = {
        "id": index + 1,
        "name": f"work item {index}",
        "status": rng.choice(["open", "in-progress", "done", "escalated"]),
        "created": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "owner": f"person{rng.randint(1, 50)}@example.org",
        "priority": rng.randint(0, 4),
        "tags": sorted(rng.sample(["docs", "ci", "deps", "flaky-test", "lint", "security"], rng.randint(0, 3))),
        "links": [{"href": f"https://example.org/issues/{index}", "title": "issue"}] * rng.randint(0, 2),
    }
    if invalid:
        breakage = index % 4
        if breakage == 0:
            document["status"] = "finished"
        elif breakage == 1:
            document["created"] = "2026-02-30"
        elif breakage == 2:
            del document["owner"]
        else:
            document["links"] = [{"title": "no href"}]
    return document


def make_inputs(count: int, invalid_every: int) -> tuple[Path, list[str], set[str]]:
    rng = random.Random(20261126)
    files = OUT / "files"
    files.mkdir(parents=True, exist_ok=True)
    for old in files.glob("*.json"):
        old.unlink()
    (OUT / "schema.json").write_text(json.dumps(SCHEMA, indent=2), encoding="utf-8")
    # The same rules plus a keyword the gate's fast path does not cover (`if`; `not` was used until the fast
    # path learnt it): jsonschema alone judges.
    slow = {**SCHEMA, "if": {"required": ["zz-unused"]}, "then": False}
    (OUT / "schema-slow.json").write_text(json.dumps(slow, indent=2), encoding="utf-8")
    names, invalid = [], set()
    for index in range(count):
        name = f"files/item{index:05d}.json"
        bad = invalid_every > 0 and index % invalid_every == invalid_every - 1
        (OUT / name).write_text(json.dumps(make_document(index, rng, bad), indent=2) + "\n", encoding="utf-8")
        names.append(name)
        if bad:
            invalid.add(name)
    return OUT / "schema.json", names, invalid


def ensure_check_jsonschema() -> Path:
    binary = CJ_VENV / "bin" / "check-jsonschema"
    if not binary.exists():
        subprocess.run(["python3", "-m", "venv", str(CJ_VENV)], check=True)
        subprocess.run([str(CJ_VENV / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=True)
    return binary


def timed(command: list[str], repeat: int) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    times, done = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=OUT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    assert done is not None
    return times, done


def loopgate_invalid(done: subprocess.CompletedProcess[str]) -> set[str]:
    return {problem["path"] for problem in json.loads(done.stdout)["problems"]}


def cj_invalid(done: subprocess.CompletedProcess[str]) -> set[str]:
    return {error["filename"] for error in json.loads(done.stdout)["errors"]}


def version(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--invalid-every", type=int, default=50, help="every Nth file is invalid (0: none)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    schema, names, invalid = make_inputs(args.files, args.invalid_every)
    cj = ensure_check_jsonschema()
    runs = {
        "loopgate (files as arguments)": (
            [*LOOPGATE, "gate", "schema", "--schema", schema.name, "--format", "json", *names], loopgate_invalid),
        "loopgate --jobs 2 (a worker process)": (
            [*LOOPGATE, "gate", "schema", "--schema", schema.name, "--jobs", "2", "--format", "json", *names],
            loopgate_invalid),
        "loopgate, schema without the fast path (`if` added)": (
            [*LOOPGATE, "gate", "schema", "--schema", "schema-slow.json", "--format", "json", *names],
            loopgate_invalid),
        "loopgate, schema without the fast path, --jobs 1": (
            [*LOOPGATE, "gate", "schema", "--schema", "schema-slow.json", "--jobs", "1", "--format", "json", *names],
            loopgate_invalid),
        "check-jsonschema": ([str(cj), "--schemafile", schema.name, "-o", "json", *names], cj_invalid),
        "check-jsonschema, schema with `if` added": (
            [str(cj), "--schemafile", "schema-slow.json", "-o", "json", *names], cj_invalid),
    }
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{len(names)} files, {len(invalid)} invalid; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
          f"{version([str(cj), '--version'])}; jsonschema {_jsonschema_version()}")
    print("| tool | best | median | runs | invalid files reported |")
    print("|---|---|---|---|---|")
    for label, (command, reported) in runs.items():
        times, done = timed(command, args.repeat)
        found = reported(done)
        same = "same as expected" if found == invalid else f"DIFFERENT ({len(found ^ invalid)} differ)"
        print(f"| {label} | {min(times):.2f} s | {statistics.median(times):.2f} s | "
              f"{', '.join(f'{t:.2f}' for t in times)} | {len(found)} ({same}) |")
    help_times, _ = timed([*LOOPGATE, "gate", "schema", "--help"], args.repeat)
    print(f"`loopgate gate schema --help` alone: {min(help_times):.2f} s")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _jsonschema_version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("jsonschema")


if __name__ == "__main__":
    main()
