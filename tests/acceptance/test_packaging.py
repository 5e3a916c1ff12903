"""The installed wheel must carry the schemas and the init templates (package data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from loopgate.artifacts.kinds import KINDS
from loopgate.artifacts.schema import schema_names

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_schemas_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("loopgate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in schema_names():
        assert f"loopgate/artifacts/schemas/{schema}.schema.json" in names
    for kind in KINDS:
        assert f"loopgate/templates/{kind.filename}" in names
    assert "loopgate/py.typed" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "loopgate = loopgate.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
