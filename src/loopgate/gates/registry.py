"""The one registry of gates. The CLI (`loopgate gate NAME`), `loopgate check`, the docs and
`.pre-commit-hooks.yaml` are all generated from this table.

A gate is any module in this package that defines NAME, Options and run(); adding a gate is
adding its module. The table is built on first use, so `loopgate verify` never pays for
importing the gates.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

import loopgate.gates
from loopgate.gates.base import GateSpec

_NOT_GATES = {"base", "registry"}
# A gate module sets EXCLUSIVE = True when it changes the working tree while it runs.


def _spec(module: ModuleType) -> GateSpec:
    doc = (module.__doc__ or "").strip()
    return GateSpec(
        name=module.NAME,
        summary=doc.splitlines()[0] if doc else module.NAME,
        doc=doc,
        options=module.Options,
        run=module.run,
        hook=getattr(module, "HOOK", None),
        exclusive=bool(getattr(module, "EXCLUSIVE", False)),
    )


@cache
def gate(name: str) -> GateSpec | None:
    """One gate by name, importing only its module: `loopgate gate NAME` (every pre-commit hook
    run) pays for one gate, not for all of them. Module and gate names are the same by convention;
    anything else falls back to the full table."""
    if name.isidentifier() and not name.startswith("_") and name not in _NOT_GATES:
        try:
            module = importlib.import_module(f"loopgate.gates.{name}")
        except ModuleNotFoundError:
            module = None
        if module is not None and getattr(module, "NAME", None) == name and hasattr(module, "run"):
            return _spec(module)
    return gates().get(name)


@cache
def gates() -> dict[str, GateSpec]:
    specs: list[GateSpec] = []
    for info in pkgutil.iter_modules(loopgate.gates.__path__):
        if info.name in _NOT_GATES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"loopgate.gates.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            specs.append(_spec(module))
    return {spec.name: spec for spec in sorted(specs, key=lambda s: s.name)}
