"""Where a command finds its loop: the one lookup `run`, `status`, `readiness`, `review` and `report` share."""

from __future__ import annotations

import os
import sys

import click

from loopgate.artifacts.kinds import SPEC


def resolve_loop_dir(given: str | None) -> str:
    """GIVEN, else `.` or `./.loop`: the first that holds LOOP_SPEC.md; a usage error (exit 2) if none does."""
    for candidate in [given] if given else [".", ".loop"]:
        if os.path.isfile(os.path.join(candidate, SPEC.filename)):
            return candidate
    click.echo(f"loopgate: error: no {SPEC.filename} in {given or '. or ./.loop'}", err=True)
    sys.exit(2)
