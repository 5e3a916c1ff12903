"""A demotion in LOOP_STATE.md: read it, and record it (or its lift) without touching anything else.

The demotion lives as bullets of `## Current Run` (`demoted_to`, `demoted_from`, `demoted_at`,
`demoted_because`; `last_demoted_at` once lifted). Recording it edits those bullets only: the rest
of the file (prose, comments, a `## Notes` section people wrote) stays byte for byte. It is never
written while `loopgate run` holds the loop's lock (the run would write its own state over it, and
an uncontained maker would be blamed for the change), and never into a file that is not a regular
file (a FIFO would hang the audit).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat

from loopgate.artifacts.kinds import STATE
from loopgate.history.runs import FUTURE_SKEW
from loopgate.history.times import parse_stamp, stamp
from loopgate.readiness.artifacts import LoopArtifacts
from loopgate.readiness.rollout import MODES
from loopgate.records import record
from loopgate.runner.atomic import write_atomic
from loopgate.runner.lock import held_unless_busy
from loopgate.runner.state import from_data, load_state, state_bullet

KEYS = ("demoted_to", "demoted_from", "demoted_at", "demoted_because", "last_demoted_at")
MAX_BYTES = 16 * 1024 * 1024
_CURRENT = re.compile(r"^##[ \t]+current[ \t_-]*run[ \t]*#*[ \t]*$", re.I)
_BULLET = re.compile(r"^[-*+][ \t]+([^:\n]+?)[ \t]*:")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


@record(frozen=True)
class Demotion:
    to: str
    at: str  # ISO 8601 UTC
    because: str
    from_mode: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"to": self.to, "from": self.from_mode, "at": self.at, "because": self.because}


def state_path(loop_dir: str) -> str:
    return os.path.join(loop_dir, STATE.filename)


def _regular(path: str) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_BYTES


def read_demotion(loop_dir: str, problems: list[str], now: dt.datetime,
                  loop: LoopArtifacts | None = None) -> tuple[Demotion | None, str, bool]:
    """The demotion in force (if any), when the loop was last demoted (kept after a lift), and
    whether a time had to be taken as `now` (and should be recorded so: see `_when`). `loop`: the
    artifacts the audit already read (LOOP_STATE.md is then not parsed a second time)."""
    path = state_path(loop_dir)
    if not os.path.lexists(path):
        return None, "", False
    if not _regular(path):
        problems.append("LOOP_STATE.md is not a regular file (or is larger than 16 MiB): no demotion in it was read")
        return None, "", False
    name = os.path.basename(os.path.abspath(loop_dir))
    if loop is None:
        state, errors = load_state(path, name)
    else:
        state = from_data(loop.of(STATE), name)
        errors = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in loop.errors_in(STATE)]
    if errors:
        problems.append(f"LOOP_STATE.md does not verify, so no demotion in it was read: {errors[0]}")
        return None, "", False
    extra = state.run_extra
    last, fixed = extra.get("last_demoted_at", ""), False
    if last:
        last, fixed = _when("last_demoted_at", last, now, problems)
    written = extra.get("demoted_to", "")
    to = written.strip().lower()  # a person's `Shadow` means shadow
    if not written:
        return None, last, fixed
    if to not in MODES:
        problems.append(f"LOOP_STATE.md's demoted_to {written[:40]!r} is not shadow, draft-pr or pr: the "
                        "demotion recorded there was not understood (fix or remove the demoted_* bullets)")
        return None, last, fixed
    at, fixed = _when("demoted_at", extra.get("demoted_at", ""), now, problems)
    return Demotion(to, at, extra.get("demoted_because", ""), extra.get("demoted_from", "")), at, fixed


def _when(key: str, written: str, now: dt.datetime, problems: list[str]) -> tuple[str, bool]:
    """A demotion time as the audit uses it. One that is not a time, or lies in the future (past the
    clock's skew), would leave the evidence window without a start or frozen until that day (no run
    could lift the demotion, no item cause the next): it is taken as now, said, and recorded so the
    window then stays put. Returns (the time, whether it was taken as now)."""
    when = parse_stamp(written)
    if when is not None and when <= now + FUTURE_SKEW:
        return written, False
    why = "is not a time (YYYY-MM-DDTHH:MM:SSZ)" if when is None else "is in the future (after this machine's clock)"
    problems.append(f"LOOP_STATE.md's {key} {written[:40]!r} {why}: taken as now ({stamp(now)}), and recorded so "
                    "when the audit may write; only what happens from now on counts after it")
    return stamp(now), True


def write_demotion(loop_dir: str, demotion: Demotion | None, problems: list[str], last: str,
                   lock_path: str = "") -> bool:
    """Record the demotion in force (or its lift) in LOOP_STATE.md; False (and a problem) if it could
    not be. `lock_path`: the run lock of this loop (`loopgate run` holds it while it runs)."""
    path = state_path(loop_dir)
    if not _regular(path):
        problems.append("the demotion was not recorded: LOOP_STATE.md is missing or not a regular file")
        return False
    bullets: list[tuple[str, str]] = []
    if demotion is not None:
        bullets = [("demoted_to", demotion.to), ("demoted_from", demotion.from_mode), ("demoted_at", demotion.at),
                   ("demoted_because", demotion.because)]
    elif last:
        bullets = [("last_demoted_at", last)]  # the next rollback looks only at what came after
    with held_unless_busy(lock_path) as free:
        if not free:
            problems.append("the demotion was not recorded: `loopgate run` is running this loop (it holds the "
                            "loop's lock and writes LOOP_STATE.md); the next audit, or the next run's, records it")
            return False
        return _edit(path, os.path.basename(os.path.abspath(loop_dir)), bullets, problems)


def _edit(path: str, name: str, bullets: list[tuple[str, str]], problems: list[str]) -> bool:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        problems.append(f"the demotion was not recorded: LOOP_STATE.md cannot be read ({err})")
        return False
    _, errors = load_state(path, name)
    if errors:
        problems.append(f"the demotion was not recorded: LOOP_STATE.md does not verify ({errors[0]})")
        return False
    edited = replace_bullets(text, bullets)
    if edited is None:
        problems.append("the demotion was not recorded: LOOP_STATE.md has no `## Current Run` section")
        return False
    try:
        write_atomic(os.path.realpath(path), edited)
    except Exception as err:
        problems.append(f"the demotion was not recorded: {err}")
        return False
    return True


def replace_bullets(text: str, bullets: list[tuple[str, str]]) -> str | None:
    """`text` with the demotion bullets of `## Current Run` replaced by `bullets` (after its last
    bullet); every other line as it was. None when there is no such section.

    Lines a reader never sees as markdown (an HTML comment, a fenced code block) are neither read
    nor written: a `<!-- - demoted_to: shadow -->` a person commented out stays as it was, and the
    new bullets never land inside a comment, where no run would read them."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    hidden = hidden_lines(lines)
    start = next((i for i, line in enumerate(lines) if not hidden[i] and _CURRENT.match(line.rstrip("\r\n"))),
                 None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if not hidden[i] and lines[i].startswith("#")), len(lines))
    kept: list[str] = []
    insert = 1  # after the heading, when the section has no bullet
    dropping = in_bullet = False
    for index in range(start + 1, end):
        line = lines[index]
        nested = line[:1] in (" ", "\t") and line.strip() != ""  # a bullet's own sub-bullets go with it
        if hidden[index]:
            kept.append(line)  # a comment is kept whole, even under a bullet that is replaced
            if not nested:
                dropping = in_bullet = False  # at the margin, it ends the list item above it
            continue
        match = _BULLET.match(line)
        if match:
            dropping = re.sub(r"[\s-]+", "_", match.group(1).strip().lower()) in KEYS
            in_bullet = True
        elif not nested:
            dropping = in_bullet = False
        if dropping:
            continue
        kept.append(line)
        if match or (nested and in_bullet):
            insert = len(kept) + 1
    new = [state_bullet(key, value) + newline for key, value in bullets]
    if insert > 1 and not kept[insert - 2].endswith(("\n", "\r")):
        kept[insert - 2] += newline  # the last bullet ended the file without a newline
    section = [lines[start], *kept[:insert - 1], *new, *kept[insert - 1:]]
    return "".join([*lines[:start], *section, *lines[end:]])


def hidden_lines(lines: list[str]) -> list[bool]:
    """Per line, whether it is inside an HTML comment block or a fenced code block, as CommonMark
    reads them: a comment block runs from a line that starts with `<!--` to the line holding the
    `-->` that closes it (the whole of both lines is the comment); a fence from ``` or ~~~ to a
    closing fence of the same character, at least as long."""
    out: list[bool] = []
    comment = False
    fence = ""
    for line in lines:
        body = line.rstrip("\r\n")
        if comment:
            out.append(True)
            comment = "-->" not in body
            continue
        opening = _FENCE.match(body)
        if fence:
            out.append(True)
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                    and not body[opening.end():].strip(" \t"):
                fence = ""
            continue
        lead = body.lstrip(" \t")
        if lead.startswith("<!--"):
            out.append(True)
            comment = "-->" not in lead[4:]
        elif opening:
            out.append(True)
            fence = opening.group(1)
        else:
            out.append(False)
    return out
