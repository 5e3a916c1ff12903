"""Where a value sits in a JSON, YAML or TOML file, given its path of keys and indexes.

Parsers hand back plain data without positions, so a schema error knows `$.items[3].status`
but not the line. These passes recover it, and they only run for files that have errors:
a valid file never pays for them.

- JSON: a small scanner records where every value starts (exact).
- YAML: PyYAML's composed nodes carry marks (exact; lines counted from the mark's offset, see
  `_schema/yaml12.py`).
- TOML: the standard parser keeps no positions; the line is found by searching for the key
  (best effort: the first `key =` or `[table.key]` line that matches, else line 1).

Lines end at `\n` (and `\r\n`); `\x85`, `\u2028` and `\u2029` inside a string are not line breaks
in JSON, TOML or YAML 1.2, nor in the editors users open the file in.
"""

from __future__ import annotations

import bisect
import contextlib
import json.decoder
import re
from collections.abc import Callable, Sequence

import yaml

from loopgate.gates._schema.yaml12 import Lines, YamlLoader, key_text, mark_position

_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


class _JsonScanner:
    """Records the start offset of every value, keyed by its path. Assumes text that json.loads accepted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: dict[Path, int] = {}
        self.constants: list[tuple[int, str]] = []  # (offset, NaN / Infinity / -Infinity)
        self.duplicates: list[tuple[int, str]] = []  # (offset, key) of a key given again in its object

    def value(self, index: int, path: Path) -> int:
        text = self.text
        index = _WS.match(text, index).end()  # type: ignore[union-attr]
        self.starts[path] = index
        char = text[index]
        if char == "{":
            return self._object(index + 1, path)
        if char == "[":
            return self._array(index + 1, path)
        if char == '"':
            return int(_scanstring(text, index + 1)[1])
        match = _SCALAR.match(text, index)
        if match is not None and match.group()[-1] in "yN":
            self.constants.append((index, match.group()))
        return match.end() if match else index + 1

    def _object(self, index: int, path: Path) -> int:
        text = self.text
        index = _WS.match(text, index).end()  # type: ignore[union-attr]
        if text[index] == "}":
            return index + 1
        seen: set[str] = set()
        while True:
            index = _WS.match(text, index).end()  # type: ignore[union-attr]
            start = index
            key, index = _scanstring(text, index + 1)
            if key in seen:
                self.duplicates.append((start, key))
            seen.add(key)
            index = _WS.match(text, index).end() + 1  # type: ignore[union-attr]  # past the colon
            index = self.value(index, (*path, key))
            index = _WS.match(text, index).end()  # type: ignore[union-attr]
            if text[index] == "}":
                return index + 1
            index += 1  # past the comma

    def _array(self, index: int, path: Path) -> int:
        text = self.text
        index = _WS.match(text, index).end()  # type: ignore[union-attr]
        if text[index] == "]":
            return index + 1
        position = 0
        while True:
            index = self.value(index, (*path, position))
            index = _WS.match(text, index).end()  # type: ignore[union-attr]
            if text[index] == "]":
                return index + 1
            index += 1
            position += 1


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def _deepest(found: dict[Path, Position], path: Path) -> Position:
    """The position of the path, or of its longest prefix that exists (a missing key: its object)."""
    for end in range(len(path), -1, -1):
        if path[:end] in found:
            return found[path[:end]]
    return (1, 1)


def json_positions(text: str, paths: Sequence[Path]) -> list[Position]:
    scanner = _JsonScanner(text)
    # On a surprise keep what was found; the rest falls back to the nearest parent or line 1.
    with contextlib.suppress(IndexError, ValueError, RecursionError):
        scanner.value(0, ())
    lines = _Lines(text)
    found = {path: lines.position(offset) for path, offset in scanner.starts.items()}
    return [_deepest(found, path) for path in paths]


def json_marks(text: str) -> tuple[list[tuple[Position, str]], list[tuple[Position, str]]]:
    """(where and which NaN / Infinity values, where and which duplicate keys) in JSON text."""
    scanner = _JsonScanner(text)
    with contextlib.suppress(IndexError, ValueError, RecursionError):
        scanner.value(0, ())
    lines = _Lines(text)
    return ([(lines.position(offset), name) for offset, name in scanner.constants],
            [(lines.position(offset), key) for offset, key in scanner.duplicates])


def yaml_positions(text: str, document: int, paths: Sequence[Path]) -> list[Position]:
    loader = YamlLoader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
    except (yaml.YAMLError, RecursionError):
        return [(1, 1)] * len(paths)
    finally:
        loader.dispose()
    if document >= len(nodes) or nodes[document] is None:
        return [(1, 1)] * len(paths)
    lines = Lines(text)
    return [mark_position(lines, _yaml_walk(loader, nodes[document], path).start_mark) for path in paths]


def _yaml_walk(loader: YamlLoader, node: yaml.Node, path: Path) -> yaml.Node:
    for step in path:
        child = _yaml_child(loader, node, step)
        if child is None:
            break
        node = child
    return node


def _yaml_child(loader: YamlLoader, node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child: yaml.Node = node.value[step]
        return child
    if isinstance(node, yaml.MappingNode):
        found: yaml.Node | None = None
        for key, value in node.value:  # the last match: a repeated key's last value is the one loaded
            if isinstance(key, yaml.ScalarNode) and (key.value == step or _key(loader, key) == step):
                found = value
        if found is None:  # a key brought in by a merge (`<<: *defaults`): the first merged mapping wins
            merged = [value for key, value in node.value if key.tag.endswith(":merge")]
            sources = [m for v in merged for m in (v.value if isinstance(v, yaml.SequenceNode) else [v])]
            for source in sources:
                found = _yaml_child(loader, source, step) if isinstance(source, yaml.MappingNode) else None
                if found is not None:
                    break
        return found
    return None


def _key(loader: YamlLoader, key: yaml.ScalarNode) -> str | None:
    """A non-string key as the document holds it (`1.5`, `null`), as the loader constructs it."""
    if key.tag.endswith(":str"):
        return None
    try:
        return key_text(loader.construct_object(key))
    except (yaml.YAMLError, ValueError):
        return None


def toml_positions(text: str, paths: Sequence[Path]) -> list[Position]:
    lines = text.split("\n")  # not splitlines(): U+2028 or U+0085 in a string does not end a line
    found: dict[tuple[str, bool], Position | None] = {}  # one pass over the lines a key, however many errors
    return [_toml_find(lines, path, found) for path in paths]


def _toml_find(lines: list[str], path: Path, found: dict[tuple[str, bool], Position | None]) -> Position:
    keys = [step for step in path if isinstance(step, str)]
    if not keys:
        return (1, 1)
    for header in (False, True):
        if (keys[-1], header) not in found:
            found[keys[-1], header] = _toml_line(lines, keys[-1], header)
        at = found[keys[-1], header]
        if at is not None:
            return at
    return _toml_find(lines, path[:-1], found) if len(path) > 1 else (1, 1)


# The characters of a dotted key's leading parts (`a.b."c d".KEY`). Matched by hand, not by a regular
# expression: `^\s*(?:[\w.\-"' ]*\.)?\s*KEY` let three runs share the blanks of a line, cubic on a
# line of spaces (4,000 took 0.2 s for each key looked up, on every such line).
_KEY_PREFIX = frozenset("_.-\"' \t")


def _ends_with_key(text: str, key: str) -> bool:
    """`text` (a dotted key) is `key`, `"key"` or `'key'`, or ends with `.` and one of them."""
    text = text.rstrip(" \t")
    for quote in ("", '"', "'"):
        written = f"{quote}{key}{quote}"
        if text.endswith(written):
            rest = text[:len(text) - len(written)].rstrip(" \t")
            if not rest or (rest.endswith(".") and all(c.isalnum() or c in _KEY_PREFIX for c in rest)):
                return True
    return False


def _toml_line(lines: list[str], key: str, header: bool) -> Position | None:
    """The first `key =` line (or, `header`, `[..key]` / `[[..key]]` line) and its first column."""
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(" \t\r\f\v")
        if header:
            if not stripped.startswith("["):
                continue
            inner = stripped[1:].removeprefix("[")
            candidate, closed, _ = inner.partition("]")
            if not closed:
                continue
        else:
            candidate, assigned, _ = stripped.partition("=")
            if not assigned:
                continue
        if _ends_with_key(candidate.lstrip(" \t"), key):
            return number, len(line) - len(stripped) + 1
    return None
