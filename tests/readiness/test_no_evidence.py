"""A criterion with no evidence is not met: a rate over no runs, items or verdicts says "no ... yet"
and neither allows a mode nor adds to the score, whatever the spec's thresholds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from loopgate.readiness.audit import audit

from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
RATES = ("environmental-stops", "escalation-rate", "no-progress-rate", "drafts-accepted", "escalation-rate-pr",
         "no-progress-rate-pr", "drafts-accepted-pr")


def test_with_no_runs_no_rate_is_met_and_none_adds_to_the_score(loop_repo: Path) -> None:
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    by_id = {c.id: c for c in result.criteria}
    for ident in RATES:
        assert not by_id[ident].met, (ident, by_id[ident].detail)
        assert "0 of 0" not in by_id[ident].detail and "yet" in by_id[ident].detail, (ident, by_id[ident].detail)
    stops = by_id["environmental-stops"]
    assert stops.detail == "no runs yet"
    assert stops.fix == "Run the loop in shadow mode to gather evidence (`loopgate run`)."
    assert not [c for c in result.criteria if c.group == "history" and c.met]  # nothing from no history
    # the plan gives the one step once, with every criterion it settles
    steps = dict(result.plan())["draft-pr"]
    gather = [ids for fix, ids in steps if fix == stops.fix]
    assert gather == [["escalation-rate", "no-progress-rate", "environmental-stops"]]


def test_thresholds_of_zero_do_not_turn_no_verdicts_into_acceptance(loop_repo: Path) -> None:
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace(
        "- mode: shadow", "- mode: shadow\n- min reviewed drafts: 0\n- min accepted drafts: 0%\n"
        "- max environmental stops: 100%"), encoding="utf-8")
    by_id = {c.id: c for c in audit(str(loop_repo), run_checks=False, write=False, now=NOW).criteria}
    assert by_id["drafts-reviewed"].met  # a minimum of none is met by none: the team's own word
    for ident in ("drafts-accepted", "drafts-accepted-pr", "environmental-stops"):
        assert not by_id[ident].met and "yet" in by_id[ident].detail, (ident, by_id[ident].detail)


def test_one_run_is_evidence_for_the_environment(loop_repo: Path) -> None:
    write_history(loop_repo, [Week(days=1)])
    by_id = {c.id: c for c in audit(str(loop_repo), run_checks=False, write=False, now=NOW).criteria}
    assert by_id["environmental-stops"].met and by_id["environmental-stops"].detail == "0 of 1 run(s) (0%)"


def test_an_audit_judges_the_artifacts_its_caller_loaded_without_reading_them_again(loop_repo: Path) -> None:
    from loopgate.readiness.artifacts import loop_artifacts
    from loopgate.verify import load_loop_dir

    loaded = loop_artifacts(*load_loop_dir(str(loop_repo)))
    (loop_repo / "LOOP_SPEC.md").write_text("# not a spec any more\n", encoding="utf-8")
    given = audit(str(loop_repo), run_checks=False, write=False, now=NOW, loop=loaded)
    read = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert given.allowed("shadow") and {"artifacts-valid", "maker-resolves"} <= {c.id for c in given.criteria if c.met}
    assert not read.allowed("shadow") and "artifacts-valid" in {c.id for c in read.blocking("shadow")}
