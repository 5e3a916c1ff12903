"""A gate that judges a change reads `[tool.loopgate.gates.NAME]` from the change's base, not from the change.

Real repositories, the real CLI: one commit that adds `exclude = ["**"]` for the secrets gate
plus a token must not pass its own secrets check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.config import ConfigError, committed_gate_config, load_config
from loopgate.gates import forbidden, scope

from .conftest import Cli, Repo, git_env

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"  # pragma: allowlist secret
WEAKENED = '[tool.loopgate.gates.secrets]\nexclude = ["**"]\n'


def test_a_change_that_excludes_everything_still_has_its_secret_found_staged(repo: Repo, cli: Cli) -> None:
    repo.write("pyproject.toml", WEAKENED)
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.git("add", "-A")
    done = cli("secrets", "--format", "json", cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"LG421"' in done.stdout and TOKEN not in done.stdout + done.stderr
    assert "read from commit" in done.stderr and "applies once it is committed" in done.stderr


def test_with_base_the_table_comes_from_the_merge_base(repo: Repo, cli: Cli) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("pyproject.toml", WEAKENED)
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.commit("weaken the gate and add a token")
    done = cli("secrets", "--base", "main", cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "src/settings.py:1:" in done.stdout
    # Once the weakening is on main, it is the base's own rule and applies (a reviewed change).
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    repo.write("src/other.py", f'OTHER = "{TOKEN[:-1]}B"\n')
    repo.git("add", "-A")
    assert cli("secrets", cwd=repo.path).returncode == 0


def test_base_set_in_the_committed_table_is_used_to_pick_the_revision(repo: Repo) -> None:
    repo.write("pyproject.toml", '[tool.loopgate.gates.forbidden]\nbase = "main"\nforbid = ["src/**"]\n')
    repo.commit("configure")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("pyproject.toml", '[tool.loopgate.gates.forbidden]\nbase = "main"\nforbid = ["!src/**"]\n')
    repo.commit("take it back on the branch")
    table, note, _ = committed_gate_config("forbidden", "", str(repo.path))
    assert table == {"base": "main", "forbid": ["src/**"]}
    assert "read from commit" in note


def test_the_nearest_committed_file_from_a_subdirectory(repo: Repo) -> None:
    repo.write("pyproject.toml", '[tool.loopgate.gates.forbidden]\nforbid = ["top"]\n')
    repo.write("pkg/pyproject.toml", '[tool.loopgate.gates.forbidden]\nforbid = ["inner"]\n')
    repo.commit("configure")
    repo.write("pkg/pyproject.toml", '[tool.loopgate.gates.forbidden]\nforbid = ["changed"]\n')
    assert committed_gate_config("forbidden", "", str(repo.path / "pkg"))[0] == {"forbid": ["inner"]}
    # A pyproject.toml the commit does not hold at all: the gate's defaults, not the new file's table.
    repo.write("new/pyproject.toml", '[tool.loopgate.gates.forbidden]\nforbid = ["!**"]\n')
    assert committed_gate_config("forbidden", "", str(repo.path / "new"))[0] == {"forbid": ["top"]}


def test_no_commit_yet_and_outside_git_read_the_working_tree(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.loopgate.gates.scope]\nallow = ["a"]\n')
    assert committed_gate_config("scope", "", str(tmp_path)) == ({"allow": ["a"]}, "", {"allow": ["a"]})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, env=git_env(), check=True)
    assert committed_gate_config("scope", "", str(tmp_path)) == ({"allow": ["a"]}, "", {"allow": ["a"]})


def test_a_bad_value_in_the_working_trees_table_is_reported_now(repo: Repo, cli: Cli) -> None:
    repo.write("pyproject.toml", '[tool.loopgate.gates.forbidden]\nforbid = "src/**"\n')
    done = cli("forbidden", "src/app.py", cwd=repo.path)
    assert done.returncode == 2
    assert "forbid: expected a list of strings" in done.stderr


def test_a_misspelt_table_in_the_working_tree_is_reported_now(repo: Repo, cli: Cli) -> None:
    repo.write("pyproject.toml", '[tool.loopgate.gates.forbiden]\nforbid = ["x"]\n')
    done = cli("forbidden", "src/app.py", cwd=repo.path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"loopgate: error: {repo.path / 'pyproject.toml'}: unknown gate [tool.loopgate.gates.forbiden] (known "
        "gates: command, forbidden, generated, links, schema, scope, secrets)"]


@pytest.mark.parametrize("command", [("gate", "forbidden", "x"), ("gate", "command", "--shell", "true"),
                                     ("verify", "."), ("check",)])
def test_deeply_nested_pyproject_is_one_clear_line_in_every_command(repo: Repo, command: tuple[str, ...]) -> None:

    if command == ("check",):  # a loop to check, so that reading the configuration is what fails
        subprocess.run([sys.executable, "-m", "loopgate", "init"], cwd=repo.path, env=git_env(), check=True,
                       capture_output=True, timeout=60)
    repo.write("pyproject.toml", "[tool.loopgate]\nx = " + "[" * 30_000 + "]" * 30_000 + "\n")
    done = subprocess.run([sys.executable, "-m", "loopgate", *command], cwd=repo.path, env=git_env(),
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert "nested too deeply" in done.stderr


def test_a_broken_committed_file_is_a_config_error(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.loopgate\n")
    repo.commit("broken")
    repo.write("pyproject.toml", "")
    with pytest.raises(ConfigError, match=r"pyproject.toml \(at [0-9a-f]{10}\): cannot read"):
        committed_gate_config("secrets", "", str(repo.path))
    assert load_config(str(repo.path)).values == {}


# -- pattern files: read as the change's base holds them ------------------------------------------


def test_a_forbid_file_loosened_in_the_change_keeps_its_committed_rules(repo: Repo) -> None:
    repo.write(".loop-forbidden", "migrations/**\n")
    repo.commit("forbid migrations")
    repo.write(".loop-forbidden", "# nothing forbidden any more\n")
    repo.write("migrations/0001_drop.sql", "drop table users;\n")
    repo.git("add", "-A")
    for options in ({}, {"base": "HEAD"}, {"files": ("migrations/0001_drop.sql",)}):
        result = repo.gate(forbidden, forbid_file=".loop-forbidden", **options)
        assert [(f.path, f.message.replace(" (added)", "")) for f in result.findings] == [
            ("migrations/0001_drop.sql", "migrations/0001_drop.sql is forbidden by 'migrations/**' "
                                         "(.loop-forbidden:1)")], options
    # A pattern file the base does not hold yet is read from the working tree: which file to read came
    # from the command line, not from the change.
    repo.write(".loop-new", "src/**\n")
    assert [f.path for f in repo.gate(forbidden, forbid_file=".loop-new", files=("src/app.py",)).findings] == [
        "src/app.py"]


def test_an_allow_file_widened_on_a_branch_is_read_at_the_merge_base(repo: Repo) -> None:
    repo.write(".loop-scope", "docs/**\n")
    repo.commit("scope: docs")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(".loop-scope", "docs/**\nsrc/**\n")
    repo.write("src/app.py", "print('changed')\n")
    repo.commit("widen the scope and change src")
    result = repo.gate(scope, base="main", allow_file=".loop-scope")
    # src/** on the branch is not applied, and the edit to the scope file is itself out of scope
    assert sorted((f.code, f.path) for f in result.findings) == [("LG401", ".loop-scope"), ("LG401", "src/app.py")]


def _check(repo: Repo) -> subprocess.CompletedProcess[str]:
    env = git_env()
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run([sys.executable, "-m", "loopgate", "check", "--loop", ".loop", "--format", "json"],
                          cwd=repo.path, env=env, capture_output=True, text=True, check=False, timeout=60)
    return done


def test_check_reads_a_change_judging_gates_table_from_the_base_like_gate_does(repo: Repo, cli: Cli) -> None:
    """`check` took `[tool.loopgate.gates.*]` from the change itself: a change could exclude its own secret."""
    repo.write(".loop/quality-gate-checklist.md", "# Quality Gate Checklist: Repo\n\n## Required Gates\n\n"
               "### secrets\n- gate: secrets\n- args: --base main\n\n"
               "### forbidden\n- gate: forbidden\n- args: --base main\n")
    repo.commit("checklist")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("pyproject.toml", WEAKENED + '[tool.loopgate.gates.forbidden]\nforbid = ["!.env*"]\n')
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.write(".env", "A=1\n")
    repo.commit("weaken both gates")
    assert cli("secrets", "--base", "main", cwd=repo.path).returncode == 1
    done = _check(repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr
    found = {(p["code"], p["path"]) for p in __import__("json").loads(done.stdout)["problems"]}
    assert ("LG421", "src/settings.py") in found and any(path == ".env" for _, path in found), found


def test_a_branch_cannot_move_its_own_base_to_head(repo: Repo, cli: Cli) -> None:
    """`base = "HEAD"` set on the branch made both gates judge nothing; the base is read where the branch left main."""
    repo.write("pyproject.toml", '[tool.loopgate.gates.secrets]\nbase = "main"\n'
               '[tool.loopgate.gates.forbidden]\nbase = "main"\n')
    repo.commit("configure")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("pyproject.toml", '[tool.loopgate.gates.secrets]\nbase = "HEAD"\n'
               '[tool.loopgate.gates.forbidden]\nbase = "HEAD"\n')
    repo.write("src/settings.py", f'TOKEN = "{TOKEN}"\n')
    repo.write(".env", "A=1\n")
    repo.commit("move the base")
    secrets = cli("secrets", cwd=repo.path)
    assert secrets.returncode == 1, secrets.stdout + secrets.stderr
    assert "src/settings.py:1:" in secrets.stdout and "base = 'HEAD'" in secrets.stderr
    forbidden_run = cli("forbidden", cwd=repo.path)
    assert forbidden_run.returncode == 1 and ".env" in forbidden_run.stdout, forbidden_run.stdout + forbidden_run.stderr
    # near miss: on main, where the table says main, nothing is judged and nothing noted
    repo.git("checkout", "-q", "main")
    clean = cli("secrets", cwd=repo.path)
    assert clean.returncode == 0 and "ignored" not in clean.stderr, clean.stdout + clean.stderr


@pytest.mark.parametrize(("table", "args"), [
    ('[tool.loopgate.gates.links]\nexclude = ["**"]\n', ["links", "--offline", "docs"]),
    ('[tool.loopgate.gates.schema]\nduplicate-keys = true\n', ["schema", "--schema", "s.json", "docs/d.json"]),
])
def test_a_tree_gates_table_staged_with_the_change_does_not_apply_to_it(repo: Repo, cli: Cli, table: str,
                                                                       args: list[str]) -> None:
    """The links and schema gates judge the tree, but their table too comes from the commit, not the change."""
    repo.write("s.json", '{"type": "object"}')
    repo.commit("schema")
    repo.write("docs/guide.md", "[gone](missing.md)\n")
    repo.write("docs/d.json", '{"a": 1, "a": 2}\n')
    repo.write("pyproject.toml", table)
    repo.git("add", "-A")
    done = cli(*args, cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "read from commit" in done.stderr and "applies once it is committed" in done.stderr
    repo.commit("a reviewed change of the table")
    assert cli(*args, cwd=repo.path).returncode == 0, "once committed, the table is the base's own rule"
