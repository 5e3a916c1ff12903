"""Benchmark: the scope gate on 100,000 changed paths against 500 gitignore patterns.

Whole-process wall time (interpreter start, imports, reading the list, matching, rendering),
paths given with `--files-from`, the way a CI job would pipe `git diff --name-only -z` in.
Peers, on the same input:

- `git check-ignore --no-index --stdin -v -n`: git's own matcher (C), with the patterns as a
  `.gitignore`. It is also the reference: the gate must report exactly the paths git does not
  match (or matches only through a `!` pattern).
- pathspec alone: `GitIgnoreSpec.check_file` on every path, no index (what the gate would
  cost without its literal index).
- a naive `fnmatch` loop over all patterns (not gitignore semantics; a lower bound for "just
  loop over the patterns"), timed on 10,000 paths and scaled to 100,000.

Run: `.venv/bin/python bench/bench_scope.py [--paths 100000] [--patterns 500] [--repeat 3]`.
Inputs and outputs go to bench/out/scope/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "scope"
PYTHON = sys.executable


def make_patterns(count: int, rng: random.Random) -> list[str]:
    """A mix like real allow lists: directories, extensions, files, globs, negations, a few with no literal."""
    makers = [
        lambda i: f"pkg{i}/**",
        lambda i: f"*.e{i}",
        lambda i: f"docs/page{i}.md",
        lambda i: f"**/name{i}/",
        lambda i: f"src/*/mod{i}.py",
        lambda i: f"!pkg{i - 5}/private/**",
        lambda i: f"lib{i}/",
        lambda i: f"tests/**/test_{i}*.py",
    ]
    patterns = [makers[i % len(makers)](i) for i in range(count - count // 20)]
    patterns += [f"*tmp{i}*" for i in range(count // 20)]  # no literal to index: checked against every path
    rng.shuffle(patterns)
    return patterns


def make_paths(count: int, rng: random.Random) -> list[str]:
    """`count` files in about count/20 directories (a real tree has ~10-20 files a directory)."""
    tops = [f"pkg{i}" for i in range(0, 560, 8)] + [f"lib{i}" for i in range(6, 560, 8)] + ["src", "docs", "tests"]
    tops += [f"vendor{i}" for i in range(40)]  # matched by no pattern: about one path in ten is out of scope
    middles = ["a", "b", "private", "core", "util", *(f"name{i}" for i in range(3, 500, 8))]
    directories = sorted({"/".join([rng.choice(tops), *rng.sample(middles, rng.randint(0, 4))])
                          for _ in range(max(1, count // 20))})
    names = [f"f{i}" for i in range(400)] + [f"mod{i}" for i in range(4, 500, 8)]
    exts = ["py", "md", "txt", "json", "e1", "e9", "e17"]
    paths: set[str] = set()
    while len(paths) < count:
        paths.add(f"{rng.choice(directories)}/{rng.choice(names)}.{rng.choice(exts)}")
    return sorted(paths)


def timed(command: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[:4]} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed, done.stdout


def best_of(repeat: int, command: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[float, float, bytes]:
    runs = [timed(command, cwd, stdin) for _ in range(repeat)]
    times = [t for t, _ in runs]
    return min(times), statistics.median(times), runs[-1][1]


PATHSPEC_ALONE = """
from pathspec import GitIgnoreSpec
spec = GitIgnoreSpec.from_lines(open("patterns.txt").read().splitlines())
print("\\n".join(p for p in open("paths.txt").read().split("\\n") if p and not spec.check_file(p).include))
"""

FNMATCH_LOOP = """
import fnmatch, sys
patterns = [p for p in open("patterns.txt").read().splitlines() if not p.startswith("!")]
paths = [p for p in open("paths.txt").read().split("\\n") if p][:10000]
bad = sum(1 for p in paths if not any(fnmatch.fnmatchcase(p, pat) for pat in patterns))
print(bad)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--patterns", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-files", action="store_true", help="do not create the files (paths only)")
    args = parser.parse_args()

    rng = random.Random(20260704)
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(OUT)], check=True)  # its own repository root
    patterns = make_patterns(args.patterns, rng)
    paths = make_paths(args.paths, rng)
    (OUT / "patterns.txt").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    (OUT / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    (OUT / ".gitignore").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    if not args.no_files:  # real files, so the gate's symlink checks stat real entries
        for path in paths:
            (OUT / path).parent.mkdir(parents=True, exist_ok=True)
            (OUT / path).touch()

    gate = [PYTHON, "-m", "loopgate", "gate", "scope", "--files-from", "paths.txt", "--allow-file", "patterns.txt",
            "--format", "json"]
    gate_best, gate_median, gate_out = best_of(args.repeat, gate, OUT)
    report = json.loads(gate_out)
    offending = {f["path"] for f in report["problems"] if f["code"] == "LG401"}
    summary = report["gates"][0]["summary"]

    git = ["git", "-c", "core.excludesFile=/dev/null", "check-ignore", "--no-index", "--stdin", "-v", "-n"]
    git_best, git_median, git_out = best_of(args.repeat, git, OUT, "\n".join(paths).encode() + b"\n")
    git_offending = set()
    for line in git_out.decode().splitlines():
        source, _, path = line.partition("\t")
        pattern = source.split(":", 2)[2] if source.count(":") >= 2 else ""
        if not pattern or pattern.startswith("!"):
            git_offending.add(path)
    alone_best, _, alone_out = best_of(1, [PYTHON, "-c", PATHSPEC_ALONE], OUT)
    alone = set(alone_out.decode().split("\n")) - {""}
    same = offending == alone
    # git does not let a `!` pattern act under a directory an earlier pattern matched; pathspec
    # (and so loopgate) decides per path. Every other path must agree.
    git_differs = offending ^ git_offending
    git_same = all("/private/" in p for p in git_differs)
    fn_best, _, _ = best_of(1, [PYTHON, "-c", FNMATCH_LOOP], OUT)
    scale = max(1, len(paths)) / min(10_000, len(paths))

    print(f"{len(paths):,} changed paths, {len(patterns)} patterns ({len(offending):,} out of scope); "
          f"{os.cpu_count()} cores; best and median of {args.repeat} runs unless noted.\n")
    print("| tool | wall time (best) | median | out-of-scope paths |")
    print("|---|---|---|---|")
    print(f"| `loopgate gate scope --files-from` (whole process) | {gate_best:.2f} s | {gate_median:.2f} s | "
          f"{len(offending):,} |")
    print(f"| pathspec `check_file` per path, no index (whole process, 1 run) | {alone_best:.2f} s | - | "
          f"{len(alone):,} ({'the same paths' if same else 'DIFFERENT paths'}) |")
    print(f"| `git check-ignore --no-index --stdin -v -n` (C) | {git_best:.2f} s | {git_median:.2f} s | "
          f"{len(git_offending):,} ({len(git_differs):,} differ, "
          f"{'all under a negated subdirectory' if git_same else 'NOT all explained'}) |")
    print(f"| naive `fnmatch` loop, 10,000 paths x{scale:.0f} (not gitignore semantics, 1 run) | "
          f"{fn_best * scale:.2f} s (est.) | - | - |")
    print(f"\ngate summary: {summary}")
    if not (same and git_same):
        print(f"MISMATCH with pathspec: {sorted(offending ^ alone)[:5]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
