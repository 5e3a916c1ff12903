"""What we ship: `python -m build` makes the sdist and then the wheel *from the sdist* (so the
sdist is complete enough to build), `twine check --strict` accepts both, the wheel carries the
package data and the metadata PyPI shows, and the sdist carries the tests."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

from loopgate import __version__
from loopgate.artifacts.kinds import KINDS
from loopgate.artifacts.schema import schema_names
from loopgate.project import HOMEPAGE

ROOT = Path(__file__).resolve().parents[2]
DIST = "loopgate-cli"  # `loopgate` on PyPI is somebody else's project


def _wheel(dist: Path) -> zipfile.ZipFile:
    (wheel,) = dist.glob("loopgate_cli-*.whl")
    return zipfile.ZipFile(wheel)


def _metadata(dist: Path) -> Message:
    wheel = _wheel(dist)
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return email.message_from_bytes(wheel.read(name))


def test_wheel_contains_schemas_and_templates(dist: Path) -> None:
    wheel = _wheel(dist)
    names = set(wheel.namelist())
    for schema in schema_names():
        assert f"loopgate/artifacts/schemas/{schema}.schema.json" in names
    for kind in KINDS:
        assert f"loopgate/templates/{kind.filename}" in names
    assert "loopgate/py.typed" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "loopgate = loopgate.cli.main:main" in wheel.read(entry_points).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_metadata_names_the_free_distribution_and_a_spdx_license(dist: Path) -> None:
    meta = _metadata(dist)
    assert meta["Name"] == DIST
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT"  # PEP 639
    assert meta["License"] is None  # the old free-text field would contradict nothing, but is deprecated
    assert float(meta["Metadata-Version"]) >= 2.4
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639 forbids both
    # every Python version the classifiers promise is allowed by Requires-Python, and 3.10 is the floor
    python = r"Programming Language :: Python :: 3\.\d+"
    versions = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(python, c)]
    assert versions[0] == "3.10" and meta["Requires-Python"] == ">=3.10"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Changelog", "Issues"} <= set(urls)
    assert urls["Homepage"] == HOMEPAGE  # SARIF's informationUri and helpUri point there too


def test_the_sdist_carries_the_tests_and_what_they_read(dist: Path) -> None:
    (sdist,) = dist.glob("loopgate_cli-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", ".pre-commit-hooks.yaml", "action.yml",
                   "tests/conftest.py", "tests/acceptance/test_packaging.py",
                   "examples/repo-maintenance/LOOP_SPEC.md", "docs/codes.md", "schemas/loop-spec.schema.json"):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)
    # what .ci/run downloads for the tests (node_modules) is not ours to ship: it made a 164 MB sdist
    assert ".ci/run" in names and not any(n.startswith(".ci/tools") for n in names)
    assert sdist.stat().st_size < 5_000_000, sdist.stat().st_size


def test_twine_accepts_both_files(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir())
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_every_install_line_names_the_distribution() -> None:
    """`pip install loopgate` would install the unrelated project: no doc may say it."""
    for path in (ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "action.yml"):
        text = path.read_text("utf-8")
        for command in re.findall(r"pip install ([^\n`;&|]*)", text):
            wrong = [w for w in command.split() if re.fullmatch(r"(.*/)?loopgate([\[=<>~!].*)?", w)]
            assert not wrong, (path.name, command)
    readme = (ROOT / "README.md").read_text("utf-8")
    assert f"pip install {DIST}" in readme
