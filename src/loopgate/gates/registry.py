"""The one registry of gates. The CLI (`loopgate gate NAME`), `loopgate check`, the docs and
`.pre-commit-hooks.yaml` are all generated from this table.

A gate is any module in this package that defines NAME, Options and run(); adding a gate is
adding its module. The table is built on first use, so `loopgate verify` never pays for
importing the gates.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

import loopgate.gates
from loopgate import codes
from loopgate.findings import Severity
from loopgate.gates.base import GateSpec

_NOT_GATES = {"base", "registry"}

# -- codes of running registered gates from a checklist (`loopgate check`, `loopgate run`) ---------
# They live here, below check.py, so that collecting every code (all_codes) never imports upward.
GATE_ERROR = codes.define(
    "LG801", "gate-environment-error", Severity.ERROR, "A gate could not run for an environmental reason.",
    "The gate did not judge the change at all: its command was not found, timed out, was killed, or the "
    "network was unreachable. This is not a verdict on the change, so the run loop stops instead of "
    "asking the maker to try again.",
    "Fix the environment (install the tool, raise the timeout, restore the network) and run again.",
)
BAD_GATE_ARGS = codes.define(
    "LG802", "bad-gate-args", Severity.ERROR, "A checklist entry's options cannot be used.",
    "The `args:` (or `command:`/`timeout:`) of a gate entry in quality-gate-checklist.md do not parse as "
    "options of that gate, so the gate cannot run as written.",
    "Run `loopgate gate NAME --help` and fix the entry's `args:`.",
)
REQUIRED_GATE_FAILED = codes.define(
    "LG803", "required-gate-failed", Severity.ERROR, "A required gate failed.",
    "A gate under `## Required Gates` reported failures. Its own findings say what; this finding marks "
    "the checklist entry so the verdict is traceable to the line that made the gate required.",
    "Fix what the gate's findings report; never move a failing gate to Advisory to make it pass.",
)
REQUIRED_GATE_SKIPPED = codes.define(
    "LG804", "required-gate-skipped", Severity.ERROR, "A required gate was skipped: it decided nothing.",
    "A gate under `## Required Gates` ran but judged nothing (for example the schema gate given no data "
    "files). A requirement that was not checked is not met, so the check does not pass (exit 1).",
    "Give the gate something to check (its `args:` or `paths:`), or remove the entry from Required Gates.",
)
NOTHING_DECIDED = codes.define(
    "LG805", "nothing-decided", Severity.ERROR, "No required gate ran, so nothing decided the verdict.",
    "Only required gates decide; advisory ones are reported as warnings. When none ran (the checklist has "
    "no required gate, or `--only`/`--skip` left none), a green result would mean nothing was checked, "
    "so the check does not pass (exit 1), however the advisory gates did.",
    "Add an entry under `## Required Gates`, or include a required gate in `--only`.",
)
CHECKLIST_WEAKENED = codes.define(
    "LG806", "checklist-required-gate-changed", Severity.WARNING,
    "The change removes, demotes or edits a required gate of the checklist; the base's version still runs.",
    "`loopgate check` reads quality-gate-checklist.md from the tree it judges, so a change could drop the "
    "gate that would fail it. Each required entry of the change's base (the CI's base, `base` of the "
    "judging gates, else HEAD) that the change removes, moves to Advisory Gates or edits (its gate, "
    "args, command, paths or timeout) is run as the base wrote it, as a required gate named "
    "`NAME (as at COMMIT)`, and decides the verdict with the change's own entries.",
    "Make changes to required gates in a reviewed change of their own on the default branch; once there, "
    "they are the base's rule.",
)

NO_CI_BASE = codes.define(
    "LG807", "no-ci-base", Severity.ERROR, "In CI, nothing usable says where the judged change starts.",
    "A gate that judges a change (forbidden, scope, secrets) given no `--base` judges the pull request or "
    "push in CI, from the CI's own variables (`GITHUB_BASE_REF`, the merge request's base, the push's "
    "`before`) or the merge base with the default branch. Here a variable was not a branch name or commit "
    "id (`HEAD`, `main~1` would be evaluated by git and could name the change itself), or nothing said and "
    "the clone holds no default branch. Judging the empty staged changes instead would pass a change the "
    "gate never saw, so the check stops (exit 2).",
    "Fetch the default branch (actions/checkout: `fetch-depth: 0`), fix the CI variable, or give the gate a "
    "base: `--base REF` in the entry's `args:` or `base` in [tool.loopgate.gates.NAME].",
    input_error=True,
)

# A gate module sets EXCLUSIVE = True when it changes the working tree while it runs, and
# RUNS_COMMANDS = True when it runs a command of the user's (which gets the environment as it is).


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
        runs_commands=bool(getattr(module, "RUNS_COMMANDS", False)),
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
    import pkgutil  # noqa: PLC0415  (`loopgate gate NAME` imports its one module by name)

    specs: list[GateSpec] = []
    for info in pkgutil.iter_modules(loopgate.gates.__path__):
        if info.name in _NOT_GATES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"loopgate.gates.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            specs.append(_spec(module))
    return {spec.name: spec for spec in sorted(specs, key=lambda s: s.name)}


def all_codes() -> dict[str, codes.Code]:
    """Every finding code, by code: the core's (`codes.py`), each gate's (its module defines them when
    imported, so every gate is imported here) and those of running gates (above)."""
    gates()
    return dict(sorted(codes.REGISTRY.items()))


def code_for(name: str) -> codes.Code | None:
    """One code by name (`LG203`, any case), wherever it is defined."""
    return all_codes().get(name.strip().upper())
