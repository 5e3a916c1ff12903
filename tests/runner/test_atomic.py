"""Crash-safe writes keep the file's mode: LOOP_STATE.md stays as readable as the user made it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from loopgate.runner.atomic import write_atomic


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    state = tmp_path / "LOOP_STATE.md"
    state.write_text("old\n")
    state.chmod(0o644)
    write_atomic(str(state), "new\n")
    assert state.read_text() == "new\n"
    assert stat.S_IMODE(state.stat().st_mode) == 0o644


def test_a_new_file_gets_the_mode_the_umask_gives_any_new_file(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(str(tmp_path / "report.json"), "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left behind
