"""A person's verdict on a drafted item: `loopgate review ITEM accept|reject`.

The run loop can tell that its gates passed; only a person can tell that the draft was worth
having. These verdicts are the evidence promotion needs most ("at least 80% of drafts accepted"),
so they live in one small JSON file beside the run reports (`.loop/reviews.json`), written
atomically, the latest verdict for an item winning.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any

from loopgate.history.runs import runs_dir
from loopgate.runner.atomic import WriteError, write_atomic

VERDICTS = ("accept", "reject")
MAX_NOTE = 500


class ReviewError(Exception):
    """The reviews file cannot be read or written; nothing was changed."""


@dataclass(frozen=True)
class Review:
    item: str
    verdict: str  # accept | reject
    at: str  # ISO 8601, UTC
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "verdict": self.verdict, "at": self.at, "note": self.note}


def reviews_path(loop_dir: str) -> str:
    return os.path.join(os.path.dirname(runs_dir(loop_dir)), "reviews.json")


def load_reviews(loop_dir: str) -> dict[str, Review]:
    """The latest verdict per item id; no file means no reviews yet."""
    path = reviews_path(loop_dir)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReviewError(f"{path} does not parse ({err}); fix or remove it") from err
    rows = data.get("reviews") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ReviewError(f"{path} is not a reviews file (no \"reviews\" list)")
    latest: dict[str, Review] = {}
    for row in rows:
        review = _review(row)
        if review is not None:
            latest[review.item] = review
    return latest


def record_review(loop_dir: str, item: str, verdict: str, note: str = "",
                  now: dt.datetime | None = None) -> Review:
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be accept or reject, not '{verdict}'")
    if not item.strip() or len(item) > 200 or any(ord(c) < 32 for c in item):
        raise ReviewError("the item id must be a single line of at most 200 characters")
    when = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    review = Review(item.strip(), verdict, when, " ".join(note.split())[:MAX_NOTE])
    path = reviews_path(loop_dir)
    existing: list[Any] = []
    if os.path.exists(path):
        load_reviews(loop_dir)  # refuse to rewrite a file we could not read (nothing of the user's lost)
        with open(path, encoding="utf-8") as handle:
            existing = json.load(handle)["reviews"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    body = {"reviews": [*existing, review.as_dict()]}
    try:
        write_atomic(path, json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    except WriteError as err:
        raise ReviewError(str(err)) from err
    return review


def _review(row: Any) -> Review | None:
    if not isinstance(row, dict):
        return None
    item, verdict = row.get("item"), row.get("verdict")
    if not isinstance(item, str) or verdict not in VERDICTS:
        return None
    at, note = row.get("at"), row.get("note")
    return Review(item, str(verdict), at if isinstance(at, str) else "", note if isinstance(note, str) else "")
