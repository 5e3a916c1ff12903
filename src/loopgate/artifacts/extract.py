"""Read a parsed markdown document into plain data (dicts, lists, strings) plus a source map.

The data is what the JSON schema validates; the source map says for every JSON path where in
the markdown it came from, so a schema error on `budgets.max_runtime` points at that bullet.
Values stay strings here; `coerce` types them using the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from loopgate import codes, records
from loopgate.artifacts.kinds import ArtifactKind, SectionSpec, Shape, loop_name
from loopgate.artifacts.values import shown
from loopgate.findings import Finding
from loopgate.markdown.document import Document, Item, ListBlock, Para, Section, normalise_key, without_comments
from loopgate.records import field, record

JsonPath = tuple[str | int, ...]
# One blank after the colon, then everything (DOTALL): `\s+(?P<value>.*)$` let the blanks be
# shared between `\s+` and `.*` and went quadratic on a value holding a newline; the value is
# stripped afterwards anyway.
_KEY_VALUE = re.compile(r"^(?P<key>[^:]{1,80}?)\s*:(?:\s(?P<value>.*))?$", re.DOTALL)


@record(frozen=True)
class Pos:
    line: int
    column: int  # where the key (or the heading text) starts
    value_column: int  # where the value starts; == column when there is no separate value


@record
class Extracted:
    data: dict[str, Any]
    positions: dict[JsonPath, Pos]
    findings: list[Finding] = field(default_factory=list)
    # Paths already reported (e.g. a bad duration), so schema validation does not repeat them.
    reported: set[JsonPath] = field(default_factory=set)

    def position(self, path: JsonPath) -> Pos:
        """The position of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(path[:end])
            if pos is not None:
                return pos
        return Pos(1, 1, 1)


def split_field(text: str) -> tuple[str, str] | None:
    """`max runtime: 30 minutes` -> ("max runtime", "30 minutes"); None when there is no key.

    Markup around the key is dropped (`**reason**: x`); the value is kept as written, so
    `- allowed paths: **/docs/**` keeps its stars. A value wholly in backticks loses them.
    """
    match = _KEY_VALUE.match(text.strip())
    if not match:
        return None
    key = match.group("key").strip().strip("*_`").strip()
    if not key:
        return None
    value = (match.group("value") or "").strip()
    if len(value) > 1 and value.startswith("`") and value.endswith("`") and value.count("`") == 2:
        value = value[1:-1]
    return key, value


def item_field(item: Item) -> tuple[str, str] | None:
    """The `key: value` of a bullet, read from its source text where there is one."""
    return split_field(item.raw or item.text)


class _Reader:
    def __init__(self, path: str, kind: ArtifactKind) -> None:
        self.path = path
        self.kind = kind
        self.out = Extracted({}, {(): Pos(1, 1, 1)})
        self.entry_lines: dict[str, int] = {}  # `###` entry id -> its line, across the document

    def report(self, code: codes.Code, line: int, column: int, message: str, hint: str | None = None) -> None:
        self.out.findings.append(code.at(self.path, line, column, message, hint))

    def item_pos(self, item: Item, key: str | None = None) -> Pos:
        value_column = item.column
        if key is not None:
            source = item.raw or item.text
            offset = source.find(":")
            if offset >= 0:  # the value starts after the colon and however many spaces follow it
                after = source[offset + 1:]
                value_column = item.column + offset + 1 + len(after) - len(after.lstrip())
        return Pos(item.line, item.column, value_column)

    # -- shapes ---------------------------------------------------------------------------
    def text(self, section: Section) -> str:
        parts: list[str] = []
        for block in section.blocks:
            if isinstance(block, Para):
                parts.append(block.text)
            else:
                parts.extend(f"- {t}" for t in _flatten(block.items))
        return "\n".join(p for p in parts if p.strip())

    def fields(self, items: list[Item], path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in items:
            pair = item_field(item)
            if pair is None:
                self.report(codes.NOT_A_FIELD, item.line, item.column,
                            f"'{shown(item.text)}' is not a `key: value` bullet")
                continue
            raw_key, value = pair
            key = normalise_key(raw_key)
            here = (*path, key)
            if key in result:
                first = self.out.positions[here]
                self.report(codes.DUPLICATE_KEY, item.line, item.column,
                            f"'{raw_key}' is set twice (first on line {first.line})")
                continue
            self.out.positions[here] = self.item_pos(item, key)
            result[key] = self.nested(item, value, here)
        return result

    def nested(self, item: Item, value: str, path: JsonPath) -> Any:
        """A key with an empty value and nested bullets holds an object or a list."""
        if value or not item.children:
            return value
        if all(item_field(child) for child in item.children):
            return self.fields(item.children, path)
        return self.listing(item.children, path, as_written=True)

    def listing(self, items: list[Item], path: JsonPath, *, as_written: bool = False) -> list[Any]:
        """Bullets as a list; `as_written` keeps their source (values such as path patterns)."""
        result: list[Any] = []
        for index, item in enumerate(items):
            here = (*path, index)
            self.out.positions[here] = self.item_pos(item)
            if item.children and all(item_field(c) for c in item.children):
                entry: dict[str, Any] = {"name": item.text}
                entry.update(self.fields(item.children, here))
                result.append(entry)
            elif as_written and item.raw:
                raw = without_comments(item.raw).strip()  # a comment is not part of a path pattern
                result.append(raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == "`" else raw)
            else:
                result.append(item.text)
        return result

    def checklist(self, items: list[Item], path: JsonPath) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in _walk(items):
            self.out.positions[path + (len(result),)] = self.item_pos(item)
            result.append({"text": item.text, "checked": bool(item.checked)})
            if item.checked is None:
                self.report(codes.READINESS_UNDECIDED, item.line, item.column,
                            f"readiness item '{shown(item.text)}' is not a checkbox, so it cannot be decided",
                            "Write it as `- [ ] ...`, and tick it (`- [x]`) when it holds.")
            elif not item.checked:
                self.report(codes.READINESS_UNDECIDED, item.line, item.column,
                            f"readiness item '{shown(item.text)}' is not ticked")
        return result

    def named_lists(self, section: Section, spec: SectionSpec, path: JsonPath) -> dict[str, Any]:
        assert spec.namer is not None
        result: dict[str, Any] = {}
        for name, items, line, column in _named_groups(section, spec.namer):
            if name is None:
                self.report(codes.UNNAMED_LIST, line, column,
                            "this list is neither introduced as what the loop may select nor as what it "
                            "must skip and escalate")
                continue
            here = (*path, name)
            if name in result:
                self.report(codes.DUPLICATE_SECTION, line, column, f"a second '{name.replace('_', ' ')}' list")
                continue
            self.out.positions[here] = Pos(line, column, column)
            result[name] = self.listing(items, here)
        return result

    def entries(self, section: Section, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # the core registry only: the full table (gates.registry.code_for) would import every gate for a LG1xx code
        dup = codes.REGISTRY.get(self.kind.duplicate_entry_code, codes.DUPLICATE_SECTION)
        for child in section.children:
            entry_id = child.title.strip()
            here = (*path, entry_id)
            # Gates are matched by name everywhere (`Link Check` is `link-check`), and one gate in
            # both Required and Advisory would leave open whether it may fail: one name, one entry.
            key = normalise_key(entry_id) if self.kind.entries_by_name else entry_id
            first = self.entry_lines.get(key)
            if first is not None:
                self.report(dup, child.line, child.column, f"'{shown(entry_id)}' appears twice (first on line {first})")
                continue
            self.entry_lines[key] = child.line
            self.out.positions[here] = Pos(child.line, child.column, child.column)
            result[entry_id] = self.fields(_items(child), here)
        for block in section.blocks:
            line = block.line
            self.report(codes.MISPLACED_CONTENT, line, 1,
                        f"content under '{shown(section.title)}' outside any `###` entry is not read",
                        "Put it under a `### <id>` heading, or remove it.")
        return result

    # -- sections ------------------------------------------------------------------------
    def section(self, section: Section, spec: SectionSpec, path: JsonPath) -> Any:
        shape = spec.shape
        if shape is Shape.TEXT:
            return self.text(section)
        if shape is Shape.FIELDS:
            return self.fields(_items(section), path)
        if shape is Shape.LIST:
            return self.listing(_items(section), path)
        if shape is Shape.NAMED_LISTS:
            return self.named_lists(section, spec, path)
        if shape is Shape.ENTRIES:
            return self.entries(section, path)
        return self.checklist(_items(section), path)

    def read(self, document: Document) -> Extracted:
        data = self.out.data
        if document.title is not None:
            data["name"] = loop_name(document.title.text)
            self.out.positions[("name",)] = Pos(document.title.line, document.title.column, document.title.column)
        seen: dict[str, Section] = {}
        for section in document.sections:
            self.one_section(section, seen)
        for stray in document.stray:
            self.report(codes.MISPLACED_CONTENT, stray.line, stray.column,
                        f"'{shown(stray.title)}' is a level-{stray.level} heading before any `##` section",
                        "Make it a `##` section, or move it under one.")
        self.required(document, seen)
        return self.out

    def one_section(self, section: Section, seen: dict[str, Section]) -> None:
        key = section.key
        spec = self.kind.sections_by_key.get(key)
        if key in seen:
            self.report(codes.DUPLICATE_SECTION, section.line, section.column,
                        f"section '{shown(section.title)}' appears twice (first on line {seen[key].line})")
            return
        seen[key] = section
        if spec is None and self.kind.other_sections is not None:
            spec = SectionSpec(key, self.kind.other_sections)
            container: dict[str, Any] = self.out.data.setdefault(self.kind.other_sections_key, {})
            path: JsonPath = (self.kind.other_sections_key, key)
            self.out.positions.setdefault((self.kind.other_sections_key,), Pos(section.line, 1, 1))
        elif spec is None:
            return  # free prose sections are allowed in human-first artifacts
        else:
            container, path = self.out.data, (key,)
        self.out.positions[path] = Pos(section.line, section.column, section.column)
        value = self.section(section, spec, path)
        if _is_empty(value):
            prose = [b for b in section.blocks if isinstance(b, Para)]
            if spec.key == "gates" and prose:
                self.report(codes.GATE_ONLY_IN_PROSE, prose[0].line, prose[0].column,
                            "the spec describes its gates only in prose; nothing can check them",
                            "List each gate as a bullet (`- link check`) with an entry in quality-gate-checklist.md.")
            if not spec.required:
                return  # an optional section left empty (e.g. no items yet) says nothing
            self.report(codes.EMPTY_SECTION, section.line, section.column,
                        f"section '{shown(section.title)}' has no {_shape_words(spec.shape)}")
            self.out.reported.add(path)
        container[str(path[-1])] = value

    def required(self, document: Document, seen: dict[str, Section]) -> None:
        line = document.title.line if document.title else 1
        for spec in self.kind.sections:
            if spec.required and spec.key not in seen:
                title = spec.key.replace("_", " ").title()
                self.report(codes.MISSING_SECTION, line, 1,
                            f"required section '## {title}' is missing",
                            f"Add a `## {title}` section.")
                self.out.reported.add((spec.key,))
        other = self.kind.other_sections_key
        if self.kind.other_sections is not None and other not in self.out.data:
            words = _shape_words(self.kind.other_sections)
            self.report(codes.MISSING_SECTION, line, 1, f"no `##` section of {words}",
                        f"Group the items under `##` headings, e.g. `## The Work` followed by {words}.")
            self.out.reported.add((other,))


Namer = Callable[[str], "str | None"]
_Group = tuple["str | None", list[Item], int, int]


def _named_groups(section: Section, namer: Namer) -> list[_Group]:
    """The section's lists, each with the name its introduction gives it, and its position."""
    groups: list[_Group] = []
    previous: Para | None = None
    for block in section.blocks:
        if isinstance(block, ListBlock):
            name = namer(previous.text) if previous is not None else None
            groups.extend(_split_lazy_intros(block, name, namer))
            previous = None
        else:
            previous = block
    for child in section.children:
        groups.append((namer(child.title), _items(child), child.line, child.column))
    return groups


def _split_lazy_intros(block: ListBlock, name: str | None, namer: Namer) -> list[_Group]:
    """Split a list where a bullet's last line is really the next list's introduction.

    A text copy of the article loses the blank line before `The loop must skip and escalate
    when:`, and CommonMark then reads that line as a lazy continuation of the bullet above it.
    A continuation line at the margin (not indented under the bullet) that ends in `:` and names
    a list is read as the introduction it was written as.
    """
    groups: list[_Group] = []
    current: list[Item] = []
    line, column = block.line, block.items[0].column
    for item in block.items:
        intro = _lazy_intro(item, namer)
        if intro is None:
            current.append(item)
            continue
        kept, intro_line, intro_name = intro
        current.append(kept)
        groups.append((name, current, line, column))
        current, name, line, column = [], intro_name, intro_line, 1
    if current or not groups:
        groups.append((name, current, line, column))
    return groups


def _lazy_intro(item: Item, namer: Namer) -> tuple[Item, int, str] | None:
    if len(item.lines) < 2 or item.children:
        return None
    last = item.lines[-1]
    indent = len(last) - len(last.lstrip())
    name = namer(last) if last.rstrip().endswith(":") and indent < item.column - 1 else None
    if name is None:
        return None
    intro = last.strip()
    text = item.text.removesuffix(intro).rstrip() if item.text.endswith(intro) else item.text
    raw = item.raw.removesuffix(intro).rstrip()
    kept = records.replace(item, text=text, raw=raw, lines=item.lines[:-1])
    return kept, item.line + len(item.lines) - 1, name


def _is_empty(value: Any) -> bool:
    return value in ("", [], {})


def _shape_words(shape: Shape) -> str:
    return {
        Shape.TEXT: "text",
        Shape.FIELDS: "`- key: value` bullets",
        Shape.LIST: "bullets",
        Shape.NAMED_LISTS: "introduced lists",
        Shape.ENTRIES: "`###` entries",
        Shape.CHECKLIST: "`- [ ]` items",
    }[shape]


def _items(section: Section) -> list[Item]:
    return [item for block in section.blocks if isinstance(block, ListBlock) for item in block.items]


def _walk(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    stack = list(reversed(items))
    while stack:  # iterative: nesting depth is the user's to choose
        item = stack.pop()
        out.append(item)
        stack.extend(reversed(item.children))
    return out


def _flatten(items: list[Item]) -> list[str]:
    return [item.text for item in _walk(items)]


def extract(path: str, kind: ArtifactKind, document: Document) -> Extracted:
    return _Reader(path, kind).read(document)
