"""The audit as text (terminals), JSON (tools; schemas/readiness-audit.schema.json) and markdown (a CI
job summary). All three are views of the same Audit."""

from __future__ import annotations

import json

from loopgate.history.text import code, markdown, plain
from loopgate.readiness.audit import Audit
from loopgate.readiness.rollout import MODES

_MARK = {True: "ok  ", False: "FAIL", None: "??  "}
# What each mode lets the loop do, said beside its verdict (README: `loopgate run`).
MEANS = {"shadow": "drafts stay on local branches, nothing is pushed", "draft-pr": "opens draft pull requests",
         "pr": "opens pull requests"}
_SHOWN_IDS = 6


def blocked_by(ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return shown + (f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else "")


def render_text(a: Audit) -> str:
    lines = [f"loopgate readiness: {a.loop_dir}",
             f"mode: {a.mode}" + (f" (the spec says {a.configured_mode})" if a.mode != a.configured_mode
                                  else " (the mode the loop runs in: `## Rollout` in LOOP_SPEC.md)"),
             f"score: {a.score}/100 (evidence met, weighted; the verdicts below decide)", ""]
    lines += _demotion_lines(a)
    for mode in MODES:
        ids = [c.id for c in a.blocking(mode)]
        verdict = "allowed" if a.allowed(mode) else f"not yet: blocked by {blocked_by(ids)}"
        lines.append(f"{mode:9} {verdict}" + ("   <- asked for" if mode == a.requested else ""))
    lines.append("(" + "; ".join(f"{m}: {MEANS[m]}" for m in MODES) + ")")
    lines += ["", "Each criterion: ok, FAIL, or ?? (could not be judged here: counts as not met), its id, "
              "[the modes it must hold for]: what was found."]
    for group in ("artifacts", "repository", "history"):
        rows = [c for c in a.criteria if c.group == group]
        if not rows:
            continue
        lines += ["", f"{group}:"]
        for c in rows:
            gates = ", ".join(c.modes)
            lines.append(f"  {_MARK[c.ok]} {c.id} [{gates}]: {c.detail}")
            if not c.met and c.fix:
                lines.append(f"       next: {c.fix}")
    lines += ["", "evidence (for people to weigh; no criterion judges it):"]
    lines += [f"  {line}" for line in a.evidence_lines()]
    if a.unreadable:
        lines += ["", f"{len(a.unreadable)} run report(s) could not be read and were left out:"]
        lines += [f"  {path}: {why}" for path, why in a.unreadable[:10]]
        if len(a.unreadable) > 10:
            lines.append(f"  and {len(a.unreadable) - 10} more (`--format json` lists every one)")
    for problem in a.problems:
        lines.append(f"warning: {problem}")
    lines += _plan_lines(a)
    blocking = [c.id for c in a.blocking(a.requested)]
    lines += ["", f"loopgate: {a.requested} is " + ("allowed" if not blocking else
                                                     f"not allowed yet (blocked by {blocked_by(blocking)})")]
    return _shown(lines)


def _shown(lines: list[str]) -> str:
    """Every line through `plain`, whatever it carries: the loop's path, the state's demoted_from,
    a spec's gate names and commands, a run report's text all come from files anyone can write,
    and one escape sequence missed would rewrite the reader's terminal (`plain` leaves text that
    is already printable as it was, so a line made of our own words is unchanged)."""
    return "\n".join(plain(line) for line in lines) + "\n"


def _plan_lines(a: Audit) -> list[str]:
    plan = a.plan()
    if not plan:
        return []
    lines = ["", "what to do next:"]
    number = 0
    for index, (mode, steps) in enumerate(plan):
        lines.append(f"  {'for' if index == 0 else 'then, for'} {mode}:")
        for fix, ids in steps:
            number += 1
            lines.append(f"    {number}. {fix}  [{', '.join(ids)}]")
    return lines


def _demotion_lines(a: Audit) -> list[str]:
    if a.demotion is None and a.replayed is not None and a.lifted_now:
        r = a.replayed
        return [f"rollback: demoted to {r.to} at {r.at} (where the items crossed a limit: {r.because}), and "
                "lifted: the evidence since allows the spec's mode", ""]
    if a.demotion is None:
        return ["the demotion recorded earlier was lifted: the evidence since allows the spec's mode", ""] \
            if a.lifted_now else []
    d = a.demotion
    verb = "demoted now" if a.demoted_now else f"demoted at {d.at}"
    if a.waived:
        where = "  (the spec turns the audit off: `loopgate run` does not use this demotion, and it is not recorded)"
    elif not a.demoted_now or a.recorded:
        where = "  (recorded in LOOP_STATE.md; the next run uses the lower mode)"
    else:
        where = "  (NOT recorded in LOOP_STATE.md: --dry-run, or see the warning below)"
    return [f"rollback: {verb} from {d.from_mode or a.configured_mode} to {d.to}: {d.because}", where, ""]


def render_json(a: Audit) -> str:
    return json.dumps(a.as_dict(), indent=2, ensure_ascii=False) + "\n"


def render_markdown(a: Audit) -> str:
    lines = [f"## loopgate readiness: {code(plain(a.loop_dir))}", "",
             f"Mode **{a.mode}**, score **{a.score}/100**.", ""]
    if a.demotion is not None:
        saved = "" if not a.demoted_now or a.recorded else " (not recorded in LOOP_STATE.md)"
        lines += [f"> Rolled back to **{a.demotion.to}**{saved}: {markdown(a.demotion.because, table=False)}", ""]
    lines += [f"> warning: {markdown(p, table=False)}" for p in a.problems] + ([""] if a.problems else [])
    lines += ["| mode | what it does | verdict | unmet |", "|---|---|---|---|"]
    for mode in MODES:
        blocking = a.blocking(mode)
        lines.append(f"| {mode}{' (asked for)' if mode == a.requested else ''} | {MEANS[mode]} | "
                     f"{'allowed' if a.allowed(mode) else 'not yet'} | {', '.join(c.id for c in blocking) or '-'} |")
    plan = a.plan()
    if plan:
        lines += ["", "**What to do next**", ""]
        number = 0
        for index, (mode, steps) in enumerate(plan):
            lines.append(f"{'For' if index == 0 else 'Then, for'} {mode}:")
            lines.append("")
            for fix, ids in steps:
                number += 1
                lines.append(f"{number}. {markdown(fix, table=False)} ({', '.join(ids)})")
            lines.append("")
    lines += ["", "| | criterion | modes | found | next |", "|---|---|---|---|---|"]
    for c in a.criteria:
        icon = {True: "✅", False: "❌", None: "❔"}[c.ok]
        fix = "" if c.met else c.fix
        lines.append(f"| {icon} | {c.id} | {', '.join(c.modes)} | {markdown(c.detail)} | {markdown(fix)} |")
    lines += ["", "**Evidence** (for people to weigh; no criterion judges it):", ""]
    lines += [f"- {line}" for line in a.evidence_lines()]
    return _shown(lines)  # `markdown` made each datum one printable line; this holds every other line to it


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
