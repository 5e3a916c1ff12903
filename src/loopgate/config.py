"""`[tool.loopgate]` in pyproject.toml: defaults for command options.

Looked up from the current directory upwards, like ruff and pytest do. Command-line options
always win over the file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """pyproject.toml exists but cannot be used; a usage error (exit 2)."""


@dataclass(frozen=True)
class Config:
    path: str | None
    values: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """`[tool.loopgate.NAME]` merged over the top-level `[tool.loopgate]` scalars."""
        base = {k: v for k, v in self.values.items() if not isinstance(v, dict)}
        sub = self.values.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{self.path}: [tool.loopgate.{name}] must be a table")
        base.update(sub)
        return base


def find_pyproject(start: str) -> str | None:
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load_config(start: str = ".") -> Config:
    path = find_pyproject(start)
    if path is None:
        return Config(None, {})
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:  # tomllib decodes bytes itself
        raise ConfigError(f"{path}: cannot read [tool.loopgate]: {err}") from err
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table ([tool.NAME] sections), not {tool!r}")
    values = tool.get("loopgate", {})
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [tool.loopgate] must be a table")
    _check_known(path, values)
    return Config(path, values)


# What [tool.loopgate] may hold. A misspelt key is an error, not a silently ignored setting: a
# `stict = true` that nobody notices is a gate nobody enforces.
SECTIONS = {"verify": {"strict", "format"}, "gates": None}  # gates: one table a gate, checked by the gate CLI
TOP_LEVEL = {"strict", "format"}


def _check_known(path: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise ConfigError(f"{path}: unknown section [tool.loopgate.{key}] (known: "
                                  f"{', '.join(f'[tool.loopgate.{k}]' for k in SECTIONS)})")
            allowed = SECTIONS[key]
            for sub, sub_value in value.items():
                if allowed is None:
                    if not isinstance(sub_value, dict):
                        raise ConfigError(f"{path}: [tool.loopgate.{key}] {sub} must be a table "
                                          f"([tool.loopgate.{key}.{sub}])")
                elif sub not in allowed:
                    raise ConfigError(f"{path}: unknown key '{sub}' in [tool.loopgate.{key}] "
                                      f"(known: {', '.join(sorted(allowed))})")
        elif key in SECTIONS:
            raise ConfigError(f"{path}: [tool.loopgate.{key}] must be a table, not {value!r}")
        elif key not in TOP_LEVEL:
            raise ConfigError(f"{path}: unknown key '{key}' in [tool.loopgate] (known: {', '.join(sorted(TOP_LEVEL))}, "
                              f"and the sections {', '.join(f'[tool.loopgate.{k}]' for k in SECTIONS)})")
