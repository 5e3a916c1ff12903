"""The docs are views of the code registry; these tests keep them from drifting."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from loopgate import codes
from loopgate.artifacts.schema import schema_names
from loopgate.gatedocs import gates_markdown
from loopgate.gates.registry import all_codes
from loopgate.hooks import manifest

ROOT = Path(__file__).resolve().parents[2]


def test_codes_md_is_generated_from_the_registry() -> None:
    on_disk = (ROOT / "docs" / "codes.md").read_text("utf-8")
    expected = codes.codes_markdown(list(all_codes().values()))
    assert on_disk == expected, "regenerate: loopgate explain --format markdown > docs/codes.md"


def test_every_code_has_documentation_and_a_hint() -> None:
    for entry in codes.REGISTRY.values():
        assert re.fullmatch(r"LG\d{3}", entry.code)
        assert entry.summary.endswith(".")
        assert len(entry.explanation) > 40
        assert entry.hint


def test_readme_points_to_every_code_list() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "docs/codes.md" in readme
    assert "loopgate explain" in readme


def test_schemas_are_package_data_and_well_formed() -> None:
    names = schema_names()
    assert names == sorted(["escalation-policy", "loop-readiness", "loop-spec", "loop-state", "quality-gate-checklist",
                            "readiness-audit", "run-report", "run-report-trends"])
    folder = resources.files("loopgate.artifacts").joinpath("schemas")
    for name in names:
        data = json.loads(folder.joinpath(f"{name}.schema.json").read_text("utf-8"))
        assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert data["$id"].endswith(f"/{name}.schema.json")


def test_pre_commit_manifest_is_generated_from_the_registry() -> None:
    assert (ROOT / ".pre-commit-hooks.yaml").read_text("utf-8") == manifest(), "regenerate: loopgate hooks"


def test_gates_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "gates.md").read_text("utf-8") == gates_markdown(), "regenerate: loopgate gates-doc"


def test_the_top_level_schemas_folder_is_an_exact_copy_of_the_package_data() -> None:
    folder = resources.files("loopgate.artifacts").joinpath("schemas")
    shipped = {name: folder.joinpath(f"{name}.schema.json").read_text("utf-8") for name in schema_names()}
    on_disk = {p.name.removesuffix(".schema.json"): p.read_text("utf-8") for p in (ROOT / "schemas").glob("*.json")}
    assert on_disk == shipped, "refresh: cp src/loopgate/artifacts/schemas/*.json schemas/"


def test_the_manifest_states_what_pre_commit_needs() -> None:
    """Keys an old pre-commit does not know come with `minimum_pre_commit_version`; hooks that read
    the staged changes from git take no file list and run even when only deletions are staged."""
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load(manifest())}
    for hook in hooks.values():
        if "types_or" in hook:
            assert hook["minimum_pre_commit_version"] == "2.9.0", hook["id"]
    for hook_id in ("loopgate-forbidden", "loopgate-scope", "loopgate-check"):
        assert hooks[hook_id]["pass_filenames"] is False and hooks[hook_id]["always_run"] is True, hook_id
    assert hooks["loopgate-check"]["entry"] == "loopgate check"
    assert hooks["loopgate-check"]["stages"] == ["manual"]
    # .pre-commit-config.yaml is scanned (a secret in a hook's args is found); the gate itself lets a
    # pinned `rev:` commit id through (tests/gates/test_secrets.py, and the frozen-rev README test)
    assert "exclude" not in hooks["loopgate-secrets"]


def test_the_readme_code_ranges_cover_every_code() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Finding codes"):readme.index("\n## ", readme.index("## Finding codes") + 5)]
    prefixes: list[str] = []
    for label in re.findall(r"^\| (LG[0-9x-]+(?:-LG[0-9x]+)?) \|", section, flags=re.M):
        ends = [p.rstrip("x") for p in label.split("-")]
        if len(ends) == 2:  # LG43x-LG44x: every prefix from the first to the last
            width = len(ends[0])
            prefixes += [f"LG{n:0{width - 2}d}" for n in range(int(ends[0][2:]), int(ends[1][2:]) + 1)]
        else:
            prefixes.append(ends[0])
    assert prefixes
    uncovered = [c for c in all_codes() if not c.startswith(tuple(prefixes))]
    assert not uncovered, f"the README's Finding codes table misses {uncovered}"
