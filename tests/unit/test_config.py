"""`[tool.loopgate]` in pyproject.toml: found upwards, merged per command, broken files refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopgate.config import Config, ConfigError, find_pyproject, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_found_from_a_subdirectory_upwards(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[tool.loopgate.verify]\nstrict = true\n")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_pyproject(str(deep)) == str(pyproject)
    config = load_config(str(deep))
    assert config.path == str(pyproject)
    assert config.section("verify") == {"strict": True}


def test_the_nearest_file_wins_even_without_a_loopgate_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.loopgate]\nformat = \"json\"\n")
    inner = write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = \"pkg\"\n")
    config = load_config(str(inner.parent))
    assert config.path == str(inner)
    assert config.section("verify") == {}


def test_no_file_at_all_is_an_empty_config(tmp_path: Path) -> None:
    config = Config(None, {})
    assert config.section("verify") == {}
    assert find_pyproject(str(tmp_path)) in (None, *(str(p / "pyproject.toml") for p in tmp_path.parents))


def test_top_level_scalars_under_the_command_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.loopgate]\nformat = "github"\nstrict = false\n\n'
                                       '[tool.loopgate.verify]\nstrict = true\n\n[tool.loopgate.gates.scope]\n'
                                       'allow = ["docs/**"]\n')
    config = load_config(str(tmp_path))
    assert config.section("verify") == {"format": "github", "strict": True}
    assert config.section("gates") == {"format": "github", "strict": False, "scope": {"allow": ["docs/**"]}}


@pytest.mark.parametrize(("text", "message"), [
    ("[tool.loopgate\nstrict = true\n", "cannot read"),
    ("[tool]\nloopgate = 3\n", "must be a table"),
])
def test_a_broken_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path))


def test_a_command_entry_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.loopgate]\nverify = "strict"\n')
    with pytest.raises(ConfigError, match=r"\[tool.loopgate.verify\] must be a table"):
        load_config(str(tmp_path)).section("verify")


def test_a_directory_named_pyproject_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.loopgate.verify]\nstrict = true\n")
    (tmp_path / "sub" / "pyproject.toml").mkdir(parents=True)
    assert load_config(str(tmp_path / "sub")).section("verify") == {"strict": True}


def test_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.loopgate]\nname = \"caf\xe9\"\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path))


@pytest.mark.parametrize("text", [
    "[tool.loopgate]\nx = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "a = " + "{b=" * 20_000 + "1" + "}" * 20_000 + "\n",
])
def test_deep_nesting_is_a_config_error_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(str(tmp_path))


def test_an_oversized_file_is_refused_without_parsing_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    with pytest.raises(ConfigError, match="over 4 MiB"):
        load_config(str(tmp_path))


@pytest.mark.parametrize(("table", "ok"), [("forbiden", False), ("Forbidden", False), ("forbidden", True),
                                           ("secrets", True), ("base", False), ("registry", False)])
def test_a_misspelt_gate_table_is_a_config_error(tmp_path: Path, table: str, ok: bool) -> None:
    write(tmp_path / "pyproject.toml", f'[tool.loopgate.gates.{table}]\nforbid = ["x"]\n')
    if ok:
        assert load_config(str(tmp_path)).section("gates")[table] == {"forbid": ["x"]}
    else:
        with pytest.raises(ConfigError, match=rf"unknown gate \[tool.loopgate.gates.{table}\] \(known gates: "
                                              r"command, forbidden, generated, links, schema, scope, secrets\)"):
            load_config(str(tmp_path))
