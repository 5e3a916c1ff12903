"""Every finding code in the registry is produced by at least one test.

A code is a promise to users (they select, ignore and look codes up), so a code no test ever
produces is a promise nobody checks. The core codes have their own positive/negative table
(test_codes_core.py); this holds the gates' and the checker's codes to the same bar: each code's
string appears in some test that asserts on findings.
"""

from __future__ import annotations

from pathlib import Path

from loopgate.gates.registry import all_codes

TESTS = Path(__file__).resolve().parents[1]


def test_every_registered_code_appears_in_a_test() -> None:
    text = "\n".join(p.read_text("utf-8") for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)
    missing = [code for code in all_codes() if code not in text]
    assert missing == [], f"no test produces {missing}"
