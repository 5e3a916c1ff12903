"""The code table is collected where the gate registry lives, and nothing imports upward to fill it
(issue 9, point 5): `codes.py` imports no gate, no checker, no CLI; the registry imports no checker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "loopgate"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_codes_imports_nothing_above_it() -> None:
    # records is the base layer's dataclass (it imports nothing of loopgate's but its own run-time half,
    # and the memo that keeps its compiled methods, which imports nothing of loopgate's)
    upward = {m for m in _imports(SRC / "codes.py") if m.startswith("loopgate")}
    assert upward == {"loopgate.findings", "loopgate.records"}
    assert {m for m in _imports(SRC / "records.py") | _imports(SRC / "_records.py")
            if m.startswith("loopgate")} == {"loopgate._records", "loopgate._memo"}
    assert {m for m in _imports(SRC / "_memo.py") if m.startswith("loopgate")} == set()


def test_the_gate_registry_does_not_import_the_checker_or_the_cli() -> None:
    upward = {m for m in _imports(SRC / "gates" / "registry.py")
              if m.startswith(("loopgate.check", "loopgate.cli", "loopgate.runner", "loopgate.reporters"))}
    assert upward == set()


def test_every_code_is_collected_without_importing_the_checker() -> None:
    probe = ("import sys\nfrom loopgate.gates.registry import all_codes\ntable = all_codes()\n"
             "print(sorted(m for m in sys.modules if m in ('loopgate.check', 'loopgate.cli.main')), "
             "'LG801' in table, 'LG451' in table, 'LG001' in table, 'LG303' in table)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["[]", "True", "True", "True", "True"]
