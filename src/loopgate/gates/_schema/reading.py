"""A data file's bytes to documents: JSON, YAML or TOML by extension, or a syntax problem as a value."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, NamedTuple

import yaml

from loopgate.gates._schema.expansion import alias_expansion

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLoader(_YamlBase):  # type: ignore[misc]
    """The safe loader (libyaml when present), with dates left as strings: JSON Schema has no date type,
    and `format: date` expects the text."""



YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _YamlBase.yaml_implicit_resolvers.items()
}


class Raw(NamedTuple):
    """A problem found in a file, as plain data a worker process can send back."""

    kind: str  # "syntax", "schema", "ref" or "expansion"
    path: str
    line: int
    column: int
    message: str



def kind_of(path: str) -> str | None:
    return KINDS.get(os.path.splitext(path)[1].lower())



def parse(kind: str | None, data: bytes, shown: str) -> tuple[list[Any], str] | Raw:
    """(documents, text) or a syntax problem. `text` is "" for JSON: decoded later, only if needed."""
    try:
        if kind == "json":
            return [json.loads(data)], ""
        text = data.decode("utf-8-sig")
        if kind == "yaml":
            expansion = alias_expansion(text, YamlLoader)
            if expansion is not None:
                return Raw("expansion", shown, *expansion)
            return list(yaml.load_all(text, Loader=YamlLoader)) or [None], text
        return [_plain(tomllib.loads(text))], text
    except json.JSONDecodeError as err:
        return Raw("syntax", shown, err.lineno, err.colno, f"invalid JSON: {err.msg}")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return Raw("syntax", shown, line, 1, f"not UTF-8 text (byte {err.start})")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return Raw("syntax", shown, line, column, f"invalid YAML: {problem}")
    except tomllib.TOMLDecodeError as err:
        found = _TOML_AT.search(str(err))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        return Raw("syntax", shown, line, column, f"invalid TOML: {_TOML_AT.sub('', str(err)).strip()}")
    except RecursionError:
        return Raw("syntax", shown, 1, 1, "nested too deeply to parse")



def _plain(value: Any) -> Any:
    """TOML dates and times as the ISO strings JSON Schema's `format` expects."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value
