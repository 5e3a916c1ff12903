"""Read `.loop/runs/<run_id>.json` back into small typed records.

Reports are written by `loopgate run` (schemas/run-report.schema.json). Reading is tolerant on
purpose: a report from an older loopgate may lack fields added later, and one that does not parse
at all (a disk that filled up, a hand edit) is listed as unreadable rather than stopping the
audit; the audit says how many it could not read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

# Statuses that mean the item's change is ready for a person: drafted (shadow keeps the branch),
# or a pull request was opened (draft or not).
PRODUCED = frozenset({"drafted", "pr-opened", "done"})
_RUN_ID = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z")
# Reports are small; anything past this is not a report loopgate wrote, and reading it whole
# would let one stray file take the audit's memory.
MAX_REPORT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class GateResult:
    gate: str
    required: bool
    status: str  # passed, failed, error, skipped


@dataclass(frozen=True)
class ItemRecord:
    id: str
    status: str
    reason: str
    attempts: int
    gates: tuple[GateResult, ...]  # every gate result of every attempt
    cost_usd: float
    no_progress: bool
    environmental: bool

    @property
    def produced(self) -> bool:
        return self.status in PRODUCED


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started: dt.datetime
    mode: str
    duration: float
    cost_usd: float
    stop: str
    items: tuple[ItemRecord, ...]
    path: str

    @property
    def environmental(self) -> bool:
        return self.stop == "environmental-failure"


@dataclass
class History:
    runs_dir: str
    runs: list[RunRecord] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def items(self, mode: str | None = None) -> list[tuple[RunRecord, ItemRecord]]:
        """Every item of every run, oldest first; an item attempted in several runs counts once
        per run (each run is a separate try the audit weighs)."""
        return [(run, item) for run in self.runs if mode is None or run.mode == mode for item in run.items]


def runs_dir(loop_dir: str) -> str:
    """Where `loopgate run` writes its reports for this loop directory."""
    if os.path.basename(os.path.normpath(loop_dir)) == ".loop":
        return os.path.join(loop_dir, "runs")
    return os.path.join(loop_dir, ".loop", "runs")


def started_at(run_id: str) -> dt.datetime | None:
    match = _RUN_ID.match(run_id)
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def load_history(loop_dir: str) -> History:
    directory = runs_dir(loop_dir)
    history = History(directory)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except (FileNotFoundError, NotADirectoryError):
        return history
    except OSError as err:
        history.unreadable.append((directory, err.strerror or str(err)))
        return history
    seen: set[str] = set()
    for name in names:
        path = os.path.join(directory, name)
        record = _read(path)
        if isinstance(record, RunRecord) and record.run_id in seen:
            history.unreadable.append((path, f"run {record.run_id} is reported twice (a copy?): counted once"))
        elif isinstance(record, RunRecord):
            seen.add(record.run_id)
            history.runs.append(record)
        else:
            history.unreadable.append((path, record))
    history.runs.sort(key=lambda r: (r.started, r.run_id))
    return history


def _read(path: str) -> RunRecord | str:
    try:
        if not os.path.isfile(path):
            return "not a regular file"
        if os.path.getsize(path) > MAX_REPORT_BYTES:
            return f"larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB"
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        return f"does not parse: {err}"[:200]
    if not isinstance(data, dict):
        return "not a run report (not a JSON object)"
    run_id = _str(data.get("run_id")) or os.path.basename(path)[:-5]
    started = started_at(run_id)
    if started is None:
        return f"run_id '{run_id[:40]}' is not a run time (YYYY-MM-DDTHHMMSSZ)"
    items = tuple(_item(raw) for raw in _list(data.get("items")) if isinstance(raw, dict))
    stop = data.get("stop")
    return RunRecord(
        run_id=run_id, started=started, mode=_str(data.get("mode")) or "shadow",
        duration=_num(data.get("duration")), cost_usd=_num(_dict(data.get("usage")).get("cost_usd")),
        stop=_str(_dict(stop).get("reason")), items=items, path=path,
    )


def _item(raw: dict[str, Any]) -> ItemRecord:
    attempts = [a for a in _list(raw.get("attempts")) if isinstance(a, dict)]
    gates: list[GateResult] = []
    cost = 0.0
    environmental = False
    for attempt in attempts:
        for gate in _list(attempt.get("gates")):
            if isinstance(gate, dict) and _str(gate.get("gate")):
                gates.append(GateResult(_str(gate.get("gate")), bool(gate.get("required", True)),
                                        _str(gate.get("status"))))
        maker = _dict(attempt.get("maker"))
        cost += _num(_dict(maker.get("usage")).get("cost_usd"))
        environmental = environmental or bool(attempt.get("environment"))
    reason = _str(raw.get("reason"))
    return ItemRecord(
        id=_str(raw.get("id")) or "?", status=_str(raw.get("status")) or "pending", reason=reason,
        attempts=len(attempts), gates=tuple(gates), cost_usd=cost,
        no_progress=reason.lower().startswith("no progress"), environmental=environmental,
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    # a hand-edited report with a negative or infinite figure must not poison every average
    return number if 0 <= number < 1e12 else 0.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
