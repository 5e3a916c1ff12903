"""The times the history and the audit read and write, in one place.

Every stamp is parsed with ASCII digits only (`\\d` would take `٢٠٢٦`, Arabic-Indic digits, as a
year) and written zero-padded by hand: `strftime("%Y")` writes year 1 as `1` on glibc, and stamps
are compared as strings (a verdict's time against a report point's), so a short year would sort
wrong. A run dated before EARLIEST is no run loopgate wrote (a hand edit, a clock at zero): it is
listed, not counted, as one dated in the future is.
"""

from __future__ import annotations

import datetime as dt
import re

STAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")  # 2026-11-21T09:00:00Z
RUN_ID = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")  # 2026-11-21T090000Z
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def stamp(when: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, four-digit year whatever the year."""
    return f"{day(when)}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z"


def day(when: dt.datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d}"


def week(when: dt.datetime) -> str:
    year, number, _ = when.isocalendar()
    return f"{year:04d}-W{number:02d}"


def _build(match: re.Match[str] | None) -> dt.datetime | None:
    if match is None:
        return None
    year, month, date, hour, minute, second = (int(g) for g in match.groups())
    try:
        return dt.datetime(year, month, date, hour, minute, second, tzinfo=dt.timezone.utc)
    except ValueError:  # month 13, day 0, year 0000
        return None


def parse_stamp(text: str) -> dt.datetime | None:
    """A `YYYY-MM-DDTHH:MM:SSZ` time, or None (not one, or no such date)."""
    return _build(STAMP.fullmatch(text))


def parse_run_id(run_id: str) -> dt.datetime | None:
    """When a run started, from its id (`YYYY-MM-DDTHHMMSSZ`), or None."""
    return _build(RUN_ID.fullmatch(run_id))
