"""Where work comes from: a local queue file (markdown or JSON) or GitHub issues by label.

Every source yields WorkItem values; reading never raises for bad input, it returns the
problems so the run can refuse to start with a clear message.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from loopgate.artifacts.extract import item_field
from loopgate.artifacts.values import parse_list
from loopgate.markdown.document import normalise_key, parse_document


@dataclass(frozen=True)
class WorkItem:
    id: str
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    expected_paths: tuple[str, ...] = ()
    source: str = "queue"
    url: str = ""
    number: int | None = None  # GitHub issue number, when the item came from GitHub
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "body": self.body, "labels": list(self.labels),
                "expected_paths": list(self.expected_paths), "source": self.source, "url": self.url}


class QueueError(Exception):
    """The queue cannot be read; the message says where and why."""


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _item_from_fields(item_id: str, fields: dict[str, Any], where: str) -> WorkItem:
    if not _ID.match(item_id):
        raise QueueError(f"{where}: item id '{item_id}' must be letters, digits, '.', '_' or '-' (it names a branch)")

    def as_list(value: Any) -> tuple[str, ...]:
        if isinstance(value, list):
            return tuple(str(v).strip() for v in value if str(v).strip())
        return tuple(parse_list(str(value or "")))

    known = {"title", "body", "labels", "expected_paths", "paths", "id"}
    return WorkItem(
        id=item_id,
        title=str(fields.get("title", "")),
        body=str(fields.get("body", "")),
        labels=as_list(fields.get("labels")),
        expected_paths=as_list(fields.get("expected_paths", fields.get("paths"))),
        extra={k: str(v) for k, v in fields.items() if k not in known},
    )


def _from_markdown(text: str, path: str) -> list[WorkItem]:
    """`### ID` entries (at any level below the title) with `- key: value` bullets; prose is the body."""
    document = parse_document(text)
    sections = list(document.stray)
    for section in document.sections:
        sections.extend(section.children if section.children else [section])
    items: list[WorkItem] = []
    for section in sections:
        fields: dict[str, Any] = {}
        body: list[str] = []
        for block in section.blocks:
            if hasattr(block, "items"):
                for entry in block.items:
                    pair = item_field(entry)
                    if pair is None:
                        body.append(entry.text)
                        continue
                    key, value = normalise_key(pair[0]), pair[1]
                    fields[key] = [c.text for c in entry.children] if not value and entry.children else value
            else:
                body.append(block.text)
        if body and "body" not in fields:
            fields["body"] = "\n".join(body)
        items.append(_item_from_fields(section.title.strip(), fields, f"{path}:{section.line}"))
    return items


def _from_json(text: str, path: str) -> list[WorkItem]:
    try:
        loaded = json.loads(text)
    except ValueError as err:
        raise QueueError(f"{path}: not valid JSON: {err}") from err
    entries = loaded.get("items", loaded) if isinstance(loaded, dict) else loaded
    if not isinstance(entries, list):
        raise QueueError(f"{path}: expected a list of items (or {{\"items\": [...]}})")
    items = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry:
            raise QueueError(f"{path}: item {index} needs an \"id\"")
        fields = {normalise_key(str(k)): v for k, v in entry.items()}
        items.append(_item_from_fields(str(entry["id"]), fields, f"{path}: item {index}"))
    return items


def read_queue(path: str) -> list[WorkItem]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError as err:
        raise QueueError(f"{path}: the queue file does not exist (the spec's `- queue:` under ## Inputs names "
                         "it): create it with one `### ITEM-ID` entry a work item, each with `- title:`, "
                         "`- labels:` and `- expected paths:`, or drop the `- queue:` line") from err
    except (OSError, UnicodeDecodeError) as err:
        raise QueueError(f"{path}: cannot read the queue: {err}") from err
    items = _from_json(text, path) if path.endswith(".json") else _from_markdown(text, path)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise QueueError(f"{path}: item id '{item.id}' appears twice")
        seen.add(item.id)
    return items


def queue_path(loop_dir: str, inputs: dict[str, Any]) -> str | None:
    value = inputs.get("queue")
    if not value:
        return None
    path = str(value).strip().strip("`")
    return path if os.path.isabs(path) else os.path.join(loop_dir, path)
