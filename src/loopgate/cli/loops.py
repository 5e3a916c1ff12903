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
    if given and not os.path.isdir(given):  # a mistyped path is not a loop without a spec
        why = "is not a directory" if os.path.exists(given) else "does not exist"
        click.echo(f"loopgate: error: {given} {why} (give the loop's directory, the one with {SPEC.filename})",
                   err=True)
    else:
        click.echo(f"loopgate: error: no {SPEC.filename} in {given or '. or ./.loop'} (`loopgate init "
                   f"{given or '.loop'}` writes a loop's files there)", err=True)
    sys.exit(2)
