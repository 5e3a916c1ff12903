"""The real pre-commit runs the schema hook from this repository's manifest.

`pre-commit try-repo` installs this checkout into its own virtualenv, exactly as a user's
pre-commit would, and runs the hook in a scratch repository. The schema comes from the scratch
repository's `[tool.loopgate.gates.schema]` (try-repo cannot pass `args:`; a user's
`.pre-commit-config.yaml` would say `args: [--schema, schemas/config.schema.json]`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from loopgate.gates import schema
from loopgate.hooks import manifest

from .conftest import Repo, make_repo, try_repo


def test_hook_declaration() -> None:
    hook = schema.HOOK
    assert hook["id"] == "loopgate-schema"
    assert hook["entry"] == "loopgate gate schema"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["json", "yaml", "toml"]
    generated = {h["id"]: h for h in yaml.safe_load(manifest())}
    written = generated["loopgate-schema"]
    # the manifest adds minimum_pre_commit_version for types_or; everything declared is written as is
    assert {k: written[k] for k in hook} == hook, "`loopgate hooks` writes the hook as declared"
    assert written["minimum_pre_commit_version"] == "2.9.0"


CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["service"],
    "properties": {
        "service": {"type": "string"},
        "port": {"type": "integer", "maximum": 65535},
        "since": {"type": "string", "format": "date"},
    },
}


def scratch_repo(path: Path) -> Repo:
    """Staged: a good JSON file, a bad YAML file, a bad TOML file, the schema itself, and a README."""
    repo = make_repo(path)
    repo.write("pyproject.toml", '[tool.loopgate.gates.schema]\nschema = "schemas/config.schema.json"\n')
    repo.write("README.md", "# scratch\n")
    repo.commit("initial")
    repo.write("schemas/config.schema.json", json.dumps(CONFIG_SCHEMA, indent=2))
    repo.write("config/good.json", '{"service": "api", "port": 8080}\n')
    repo.write("config/bad.yaml", "service: worker\nport: 70000\nsince: 2026-02-30\n")
    repo.write("config/app.toml", 'port = 80\n')
    repo.write("README.md", "# scratch, edited\n")
    repo.git("add", "-A")
    return repo


def check_hook_output(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "config/bad.yaml:2:7: LG451 $.port: 70000 is greater than the maximum of 65535" in out
    assert "config/bad.yaml:3:8: LG451 $.since: '2026-02-30' is not a 'date'" in out
    assert "config/app.toml:1:1: LG451 $: 'service' is a required property" in out
    assert "config/good.json:" not in out
    assert "README.md" not in out
    assert "the schema file schemas/config.schema.json itself not validated" in out


def test_schema_hook_validates_staged_data_files(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = scratch_repo(tmp_path / "scratch")
    check_hook_output(try_repo(repo, "loopgate-schema", pre_commit_home))
