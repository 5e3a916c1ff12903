"""A person's verdict on a drafted item: `loopgate review ITEM accept|reject`.

The run loop can tell that its gates passed; only a person can tell that the draft was worth
having. These verdicts are the evidence promotion needs most ("at least 80% of drafts accepted"),
so they live in one small JSON file beside the run reports (`.loop/reviews.json`).

A verdict is about one draft: the run that produced it is recorded with it (the latest run whose
report shows the item drafted or opened as a pull request), so a verdict on a shadow draft never
counts for the same item drafted again later in draft-pr mode. Writers take an exclusive lock and
merge, so people recording verdicts at once lose none; the file is replaced atomically, keeps keys
it does not know, and is written where a symlink points rather than over the link.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from typing import Any

from loopgate.flockwait import flock_within
from loopgate.history.runs import History, RunRecord, load_history, runs_dir
from loopgate.history.text import clean
from loopgate.history.times import parse_stamp, stamp
from loopgate.records import field, record
from loopgate.runner.atomic import WriteError, write_atomic
from loopgate.runner.lock import held_unless_busy
from loopgate.smallfile import NotRegular, TooLarge, read_small

VERDICTS = ("accept", "reject")
MAX_NOTE = 500
MAX_BYTES = 16 * 1024 * 1024  # as for run reports: a verdict file is small, and reading one is never a hang


class ReviewError(Exception):
    """The reviews file cannot be read or written, or the verdict names no draft; nothing was changed."""


@record(frozen=True)
class Review:
    item: str
    verdict: str  # accept | reject
    at: str  # ISO 8601, UTC
    note: str = ""
    run: str = ""  # the run whose draft was judged; "" in files written before runs were recorded

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "verdict": self.verdict, "at": self.at, "note": self.note, "run": self.run}


@record
class Reviews:
    """Every verdict, by item; a draft's verdict is the latest one (by its time) recorded for its run."""

    by_item: dict[str, list[Review]] = field(default_factory=dict)
    ignored: int = 0  # verdicts without a run that could not be tied to one draft (see `bound`)

    def for_draft(self, item: str, run: RunRecord) -> Review | None:
        """The latest verdict on the draft by its `at` (as the report replays them); of two at the same
        time, the later in the file. File order alone is no clock: files merged from two checkouts
        append an older verdict after a newer one."""
        found = None
        for review in self.by_item.get(item, ()):
            if review.run == run.run_id and (found is None or review.at >= found.at):
                found = review
        return found

    def bound(self, history: History, now: dt.datetime | None = None) -> Reviews:
        """Each verdict tied to one draft. A verdict without its run (a file written before runs were
        recorded, or by hand) judges the latest draft of its item made before it, that one only: never
        every earlier draft, and never across modes. One whose time is not an ISO UTC time, is in the
        future, or comes before any draft of its item is ignored (and counted in `ignored`)."""
        latest = _stamp(now or dt.datetime.now(dt.timezone.utc))
        drafts: dict[str, list[tuple[str, str]]] = {}  # item -> [(started, run id)], oldest first
        for run in history.runs:
            for entry in run.items:
                if entry.produced:
                    drafts.setdefault(entry.id, []).append((_stamp(run.started), run.run_id))
        out = Reviews(ignored=self.ignored)
        for item, rows in self.by_item.items():
            for row in rows:
                review = row
                if not row.run:
                    valid = parse_stamp(row.at) is not None and row.at <= latest
                    before = [run for started, run in drafts.get(item, []) if started <= row.at] if valid else []
                    if not before:
                        out.ignored += 1
                        continue
                    review = Review(row.item, row.verdict, row.at, row.note, before[-1])
                out.by_item.setdefault(item, []).append(review)
        return out

    def unattributed(self, history: History) -> int:
        """How many recorded verdicts no figure counts (call on bound verdicts): the ones `bound`
        ignored, and those naming a draft no readable run report here shows (the run's report was
        removed or could not be read, or it does not show the item drafted)."""
        drafts = {(run.run_id, item.id) for run in history.runs for item in run.items if item.produced}
        return self.ignored + sum((r.run, r.item) not in drafts for rows in self.by_item.values() for r in rows)

    def known_at(self, moment: str) -> Reviews:
        """The verdicts recorded by `moment` (what a report point could have known)."""
        return Reviews({k: [r for r in v if not r.at or r.at <= moment] for k, v in self.by_item.items()})

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_item.values())


def _stamp(when: dt.datetime) -> str:
    return stamp(when)


def reviews_path(loop_dir: str) -> str:
    return os.path.join(os.path.dirname(runs_dir(loop_dir)), "reviews.json")


def _read(path: str) -> dict[str, Any] | None:
    """The file's JSON object, None when there is no file; ReviewError when it cannot be one."""
    try:
        raw = read_small(path, MAX_BYTES)
    except FileNotFoundError:
        return None
    except NotRegular as err:
        raise ReviewError(f"{path} is not a regular file (a FIFO or a device is never opened)") from err
    except TooLarge as err:
        raise ReviewError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB: not a reviews file") from err
    except OSError as err:
        raise ReviewError(f"{path}: {err.strerror or err}") from err
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReviewError(f"{path} does not parse ({str(err)[:120]}); fix or remove it") from err
    if not isinstance(data, dict) or not isinstance(data.get("reviews"), list):
        raise ReviewError(f"{path} is not a reviews file (no \"reviews\" list)")
    return data


def load_reviews(loop_dir: str) -> Reviews:
    data = _read(reviews_path(loop_dir))
    reviews = Reviews()
    for row in (data or {}).get("reviews", []):
        review = _review(row)
        if review is not None:
            reviews.by_item.setdefault(review.item, []).append(review)
    return reviews


REVIEW_WAIT = 30.0  # seconds a verdict waits for the others being recorded (each takes milliseconds)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock on `path.lock` for a read-merge-write (flock: released if we die)."""
    try:
        descriptor = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise ReviewError(f"cannot lock {path}: {err.strerror or err}") from err
    try:
        # bounded: a stopped or hung `loopgate review` (^Z, SIGSTOP) must not hang every later one
        if not flock_within(descriptor, REVIEW_WAIT):
            raise ReviewError(f"another `loopgate review` has held {path}.lock for over {REVIEW_WAIT:.0f} s "
                              "(a stopped or hung process?): let it finish or end it, then record the "
                              "verdict again")
        yield
    finally:
        os.close(descriptor)


def _run_lock(loop_dir: str) -> str:
    from loopgate.runner.loaded import run_lock_path  # noqa: PLC0415 - the runner is loaded only to write

    return run_lock_path(loop_dir)


def drafted_in(loop_dir: str, item: str) -> str:
    """The latest run whose report shows `item` drafted or with a pull request opened."""
    for run in reversed(load_history(loop_dir).runs):
        if any(i.id == item and i.produced for i in run.items):
            return run.run_id
    return ""


def record_review(loop_dir: str, item: str, verdict: str, note: str = "",
                  now: dt.datetime | None = None) -> Review:
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be accept or reject, not '{verdict}'")
    item, note = clean(item.strip()), clean(note)  # a byte that is not UTF-8 (a pasted note) is shown, not fatal
    if not item or len(item) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in item):
        raise ReviewError("the item id must be a single line of at most 200 characters")
    _read(os.path.realpath(reviews_path(loop_dir)))  # a file that is no reviews file is said first
    run = drafted_in(loop_dir, item)
    if not run:
        raise ReviewError(f"no run report shows a draft of '{item}' (drafted, or a pull request opened): "
                          "a verdict is on a draft the loop made")
    review = Review(item, verdict, _stamp(now or dt.datetime.now(dt.timezone.utc)),
                    " ".join(note.split())[:MAX_NOTE], run)
    path = os.path.realpath(reviews_path(loop_dir))  # a symlinked file is written where it points
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # verdicts wait for each other on reviews.json's own lock; only a real run refuses one
    with _locked(path), held_unless_busy(_run_lock(loop_dir)) as free:
        if not free:  # reviews.json is a control file of the run: a change mid-attempt escalates the item
            raise ReviewError("`loopgate run` is running this loop; record the verdict when it has finished "
                              "(the run treats reviews.json as evidence its maker must not touch)")
        data = _read(path) or {"reviews": []}
        data["reviews"] = [*data["reviews"], review.as_dict()]
        try:
            write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        except WriteError as err:
            raise ReviewError(str(err)) from err
    return review


def _review(row: Any) -> Review | None:
    if not isinstance(row, dict):
        return None
    item, verdict = row.get("item"), row.get("verdict")
    if not isinstance(item, str) or verdict not in VERDICTS:
        return None

    def text(key: str) -> str:
        value = row.get(key)
        return clean(value) if isinstance(value, str) else ""

    return Review(clean(item), str(verdict), text("at"), text("note"), text("run"))
