"""Where work comes from: a local queue file (markdown or JSON) or GitHub issues by label.

Every source yields WorkItem values; reading never raises for bad input, it returns the
problems so the run can refuse to start with a clear message.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from typing import Any

from loopgate.artifacts.extract import item_field
from loopgate.artifacts.values import parse_list
from loopgate.markdown.document import normalise_key, parse_document
from loopgate.records import field, record
from loopgate.smallfile import NotRegular, TooLarge, read_small


@record(frozen=True)
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
    line: int = field(default=0, compare=False)  # where a queue file defines it (0: not from a file)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "body": self.body, "labels": list(self.labels),
                "expected_paths": list(self.expected_paths), "source": self.source, "url": self.url}


class QueueError(Exception):
    """The queue cannot be read; the message says where and why."""


# An id names the item's git branch (`loop/<id>`), its worktree and its attempt folder: one path
# component that git accepts as a branch name (see git-check-ref-format) and no shell reads as an
# option. Letters, digits, '.', '_' and '-', a letter or digit first, at most 64 characters, no
# '..' and no trailing '.' or '.lock' (git refuses both in a ref name).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_ID = 64


def id_problem(item_id: str) -> str:
    """Why `item_id` cannot name a branch and a folder, or "" when it can."""
    if not item_id:
        return "is empty"
    if len(item_id) > MAX_ID:
        return f"is {len(item_id)} characters long (at most {MAX_ID})"
    if not _ID.fullmatch(item_id):
        return ("must be ASCII letters, digits, '.', '_' or '-', starting with a letter or digit "
                "(no '/', spaces, line breaks or a leading '-' or '.')")
    if ".." in item_id:
        return "may not contain '..' (git reads it as a range of commits)"
    if item_id.endswith((".", ".lock")):
        return "may not end with '.' or '.lock' (git refuses such a branch name)"
    return ""


def shown_id(item_id: str) -> str:
    """The id as a message can show it: quoted, escapes visible, long ones cut."""
    text = json.dumps(item_id, ensure_ascii=False)
    return text if len(text) <= 50 else text[:40] + "...\""


def _item_from_fields(item_id: str, fields: dict[str, Any], where: str, line: int = 0) -> WorkItem:
    problem = id_problem(item_id)
    if problem:
        raise QueueError(f"{where}: item id {shown_id(item_id)} {problem}: the id names the item's git branch "
                         "and folders")

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
        line=line,
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
        items.append(_item_from_fields(section.title.strip(), fields, f"{path}:{section.line}", section.line))
    return items


class _Located(dict[str, Any]):
    """A JSON object that knows the line it starts on."""

    line = 0


def _decoder(text: str) -> json.JSONDecoder:
    """A decoder whose objects carry their line: the pure-Python scanner calls `parse_object`
    with the position of each `{`, which the C scanner does not expose."""
    decoder = json.JSONDecoder()
    breaks = [i for i, char in enumerate(text) if char == "\n"]

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        found, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        located = _Located(found)
        located.line = bisect.bisect_left(breaks, s_and_end[1]) + 1
        return located, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def _from_json(text: str, path: str) -> list[WorkItem]:
    """`[{"id": ..., "title": ..., "labels": [...], "expected_paths": [...]}, ...]`, or the same
    list under `{"items": [...]}`; any other key is kept in the item's extra fields."""
    try:
        loaded = _decoder(text).decode(text)
    except ValueError as err:
        raise QueueError(f"{path}: not valid JSON: {err}") from err
    except RecursionError as err:  # the pure-Python scanner recurses once a level
        raise QueueError(f"{path}: nested too deeply to be a work queue") from err
    entries = loaded.get("items", loaded) if isinstance(loaded, dict) else loaded
    if not isinstance(entries, list):
        raise QueueError(f"{path}: expected a list of items (or {{\"items\": [...]}})")
    items = []
    for index, entry in enumerate(entries):
        where = f"{path}:{entry.line}: item {index}" if isinstance(entry, _Located) else f"{path}: item {index}"
        if not isinstance(entry, dict) or "id" not in entry:
            raise QueueError(f"{where} needs an \"id\"")
        raw = entry["id"]
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise QueueError(f"{where}: the id must be a string (or a whole number), not {json.dumps(raw)}")
        fields = {normalise_key(str(k)): v for k, v in entry.items()}
        items.append(_item_from_fields(str(raw), fields, where, getattr(entry, "line", 0)))
    return items


MAX_QUEUE_BYTES = 16 * 1024 * 1024  # as for run reports and verdicts: a queue is small, reading one never a hang


def _read_regular(path: str) -> str:
    """The queue's text: only a regular file of at most MAX_QUEUE_BYTES (runner/smallfile.py says why)."""
    try:
        raw = read_small(path, MAX_QUEUE_BYTES)
    except NotRegular:
        raise QueueError(f"{path}: the queue is not a regular file (a FIFO, a device or a directory is "
                         "never read): make it a markdown or JSON file") from None
    except TooLarge:
        raise QueueError(f"{path}: the queue is larger than {MAX_QUEUE_BYTES // (1024 * 1024)} MiB: "
                         "split it, or take work from GitHub issues") from None
    return raw.decode("utf-8")


def read_queue(path: str) -> list[WorkItem]:
    try:
        text = _read_regular(path)
    except FileNotFoundError as err:
        raise QueueError(f"{path}: the queue file does not exist (the spec's `- queue:` under ## Inputs names "
                         "it): create it with one `### ITEM-ID` entry per work item, each with `- title:`, "
                         "`- labels:` and `- expected paths:`, or drop the `- queue:` line") from err
    except (OSError, UnicodeDecodeError) as err:
        raise QueueError(f"{path}: cannot read the queue: {err}") from err
    items = _from_json(text, path) if path.endswith(".json") else _from_markdown(text, path)
    # case-blind: on macOS and Windows `loop/DOC-1` and `loop/doc-1` are one branch and one folder
    seen: dict[str, WorkItem] = {}
    for item in items:
        first = seen.setdefault(item.id.lower(), item)
        if first is not item:
            also = "" if first.id == item.id else f" as {shown_id(first.id)}"
            raise QueueError(f"{path}:{item.line}: item id {shown_id(item.id)} appears twice (first at line "
                             f"{first.line}{also}): each id names one branch")
    return items


def queue_path(loop_dir: str, inputs: dict[str, Any]) -> str | None:
    value = inputs.get("queue")
    if not value:
        return None
    path = str(value).strip().strip("`")
    return path if os.path.isabs(path) else os.path.join(loop_dir, path)
