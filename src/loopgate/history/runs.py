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
from typing import Any

from loopgate.history.text import clean, listing
from loopgate.history.times import EARLIEST, parse_run_id
from loopgate.records import field, record
from loopgate.smallfile import NotRegular, TooLarge, read_small

# Statuses that mean the item's change is ready for a person: drafted (shadow keeps the branch),
# or a pull request was opened (draft or not).
PRODUCED = frozenset({"drafted", "pr-opened", "done"})
# Statuses of items the loop never took on: skipped by the work selection rules, or left waiting by
# a run that stopped first. They are not evidence: counted apart, never in items, rates or windows.
UNTOUCHED = frozenset({"skipped", "pending", "selected"})
MODES = ("shadow", "draft-pr", "pr")
# A run dated this far past the audit's clock is not evidence (a wrong clock, a hand edit): it would
# sit "after" every demotion and demote the loop again and again.
FUTURE_SKEW = dt.timedelta(hours=1)
# Reports are small; anything past this is not a report loopgate wrote, and reading it whole
# would let one stray file take the audit's memory.
MAX_REPORT_BYTES = 16 * 1024 * 1024


@record(frozen=True)
class GateResult:
    gate: str
    required: bool
    status: str  # passed, failed, error, skipped


@record(frozen=True)
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

    @property
    def escalated_at_selection(self) -> bool:
        """The escalation policy sent the item to a person before the maker ran (no attempt): the loop
        behaved as asked, and never tried it."""
        return self.status == "escalated" and self.attempts == 0

    @property
    def attempted(self) -> bool:
        """The loop took the item on (it was not skipped, left waiting or escalated at selection)."""
        return self.status not in UNTOUCHED and not self.escalated_at_selection


@record(frozen=True)
class RunRecord:
    run_id: str
    started: dt.datetime
    mode: str
    duration: float
    cost_usd: float
    stop: str
    items: tuple[ItemRecord, ...]
    path: str
    # the run's usage carries a cost: the agent's own figure (`priced`, even $0) or tokens the spec's
    # prices charged (> 0); a run whose maker reported none has a cost_usd of 0 that is no evidence
    cost_reported: bool = False

    @property
    def environmental(self) -> bool:
        return self.stop == "environmental-failure"

    @property
    def attempted(self) -> tuple[ItemRecord, ...]:
        return tuple(item for item in self.items if item.attempted)


@record
class History:
    runs_dir: str
    runs: list[RunRecord] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def items(self, mode: str | None = None) -> list[tuple[RunRecord, ItemRecord]]:
        """Every item the loop took on in every run, oldest first (skipped ones are not); an item
        attempted in several runs counts once per run (each run is a separate try the audit weighs)."""
        return [(run, item) for run in self.runs if mode is None or run.mode == mode for item in run.attempted]


def runs_dir(loop_dir: str) -> str:
    """Where `loopgate run` writes its reports for this loop directory. The name is judged on the
    absolute path, as the runner judges it: `.` (run from inside `.loop/`) or `../.loop` names the
    loop directory itself, and `./.loop/runs` under it would hold no report."""
    if os.path.basename(os.path.abspath(loop_dir)) == ".loop":
        return os.path.join(loop_dir, "runs")
    return os.path.join(loop_dir, ".loop", "runs")


def started_at(run_id: str) -> dt.datetime | None:
    """The whole id, as the run-report schema has it: a stamp with anything after it is not a run id
    (it would reach a table's first column, and two copies of one run would count twice)."""
    return parse_run_id(run_id)


def load_history(loop_dir: str, now: dt.datetime | None = None) -> History:
    """Every readable run report, oldest first; the others listed with why. With `now` (the
    readiness audit's clock) a run dated past it is listed, not counted: as evidence it would sit
    after every demotion. `report` shows the history as written and passes none (`dated_after`
    says which runs the audit would leave out)."""
    directory = runs_dir(loop_dir)
    history = History(directory)
    latest = _later(now, FUTURE_SKEW) if now is not None else None
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except (FileNotFoundError, NotADirectoryError):
        return history
    except OSError as err:
        history.unreadable.append((clean(directory), clean(err.strerror or str(err))))
        return history
    seen: set[str] = set()
    for name in names:
        path = os.path.join(directory, name)
        record = _read(path)
        path = clean(path)  # a non-UTF-8 name is shown, never written raw into JSON or a page
        if isinstance(record, RunRecord) and record.started < EARLIEST:
            history.unreadable.append((path, f"dated {record.run_id}, before {EARLIEST.year}: no run loopgate "
                                             "wrote (a clock at zero or a hand edit); not counted"))
        elif isinstance(record, RunRecord) and latest is not None and record.started > latest:
            history.unreadable.append((path, f"dated {record.run_id}, after the clock of this machine: a wrong "
                                             "clock or a hand edit; not counted"))
        elif isinstance(record, RunRecord) and record.run_id in seen:
            history.unreadable.append((path, f"run {record.run_id} is reported twice (a copy?): counted once"))
        elif isinstance(record, RunRecord):
            seen.add(record.run_id)
            history.runs.append(record)
        else:
            history.unreadable.append((path, clean(record)))
    history.runs.sort(key=lambda r: (r.started, r.run_id))
    return history


def dated_after(history: History, now: dt.datetime) -> list[str]:
    """The runs `load_history(now=now)` would leave out, in a line: `report` charts the history as
    written, so a run dated 9999-12-31 gets its row (bucketed like any other), and the reader is told
    why `readiness` does not count it."""
    latest = _later(now, FUTURE_SKEW)
    late = [run.run_id for run in history.runs if run.started > latest]
    if not late:
        return []
    return [f"{len(late)} run(s) dated after the clock of this machine (a wrong clock or a hand edit), shown as "
            f"written; `loopgate readiness` does not count them: {listing(late)}"]


def _later(when: dt.datetime, by: dt.timedelta) -> dt.datetime:
    """`when + by`, held at the last representable time: a clock (or a test's `now`) at the end of
    year 9999 is no reason for an OverflowError traceback."""
    try:
        return when + by
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=when.tzinfo)


def _read(path: str) -> RunRecord | str:
    try:
        data = json.loads(read_small(path, MAX_REPORT_BYTES).decode("utf-8"))
    except NotRegular:
        return "not a regular file"
    except TooLarge:
        return f"larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB"
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        return f"does not parse: {err}"[:200]
    if not isinstance(data, dict):
        return "not a run report (not a JSON object)"
    run_id = _str(data.get("run_id")) or clean(os.path.basename(path)[:-5])
    started = started_at(run_id)
    if started is None:
        return f"run_id '{run_id[:40]}' is not a run time (YYYY-MM-DDTHHMMSSZ)"
    mode = data.get("mode")
    if mode not in MODES:  # counting a draft-pr run as shadow evidence would be worse than leaving it out
        return "no \"mode\" (shadow, draft-pr or pr)" if mode is None else \
            f"mode {str(mode)[:20]!r} is not shadow, draft-pr or pr"
    if not isinstance(data.get("items"), list):
        return "no \"items\" list: not a run report this loopgate can read"
    items = tuple(_item(raw) for raw in data["items"] if isinstance(raw, dict))
    stop = data.get("stop")
    usage = _dict(data.get("usage"))
    cost = _num(usage.get("cost_usd"))
    return RunRecord(
        run_id=run_id, started=started, mode=str(mode), duration=_num(data.get("duration")), cost_usd=cost,
        stop=_str(_dict(stop).get("reason")), items=items, path=path,
        cost_reported=cost > 0 or usage.get("priced") is True,
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
    return clean(value) if isinstance(value, str) else ""


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    if isinstance(value, int) and not 0 <= value < 10**12:
        return 0.0  # a 400-digit integer does not fit a float: checked before converting
    number = float(value)
    # a hand-edited report with a negative or infinite figure must not poison every average
    return number if 0 <= number < 1e12 else 0.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
