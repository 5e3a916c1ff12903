"""review11's findings on readiness, review and report (/work/notes/review11-findings.md), one
regression test each: hostile run reports and verdict files, read as the commands read them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from loopgate.history.reviews import load_reviews
from loopgate.history.runs import load_history
from loopgate.readiness.audit import audit

from .conftest import commit
from .history import Week, write_history

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, capture_output=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def set_mode(loop: Path, mode: str) -> None:
    spec = loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: shadow", f"- mode: {mode}"), encoding="utf-8")


def by_id(result: Any) -> dict[str, Any]:
    return {c.id: c for c in result.criteria}


def test_f1_a_huge_integer_in_a_report_is_no_traceback(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=3)])
    edit(paths[0], lambda d: d.update(duration=int("9" * 400)))
    edit(paths[1], lambda d: d["usage"].update(cost_usd=int("9" * 400)))
    edit(paths[2], lambda d: d["items"][0]["attempts"][0]["maker"]["usage"].update(cost_usd=-int("9" * 400)))
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert result.runs == 3 and result.totals.duration < 1e12
    for args in (("readiness", ".loop", "--no-run-checks", "--dry-run"), ("report", ".loop")):
        done = run(loop_repo.parent, *args)
        assert b"Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr


def test_f2_a_run_id_with_a_tail_is_not_a_run_id(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    edit(paths[0], lambda d: d.update(run_id=d["run_id"] + "\x1b]0;pwned\x07<img src=x onerror=alert(1)>|x|"))
    copy = paths[1].with_name("copy.json")
    copy.write_text(paths[1].read_text("utf-8").replace('Z"', 'Zcopy"', 1), encoding="utf-8")
    history = load_history(str(loop_repo))
    assert len(history.runs) == 1 and len(history.unreadable) == 2
    assert all("is not a run time" in why for _, why in history.unreadable)
    text = run(loop_repo.parent, "report", ".loop", "--by", "run")
    md = run(loop_repo.parent, "report", ".loop", "--by", "run", "--format", "markdown")
    for out in (text.stdout, md.stdout):
        assert b"\x1b" not in out and b"\x07" not in out and b"<img" not in out
    assert b"2 report(s) could not be read" in text.stdout


def test_f3_surrogates_and_non_utf8_names_leave_every_output_valid_utf8(loop_repo: Path, tmp_path: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    edit(paths[0], lambda d: d["items"][0]["attempts"][0]["gates"][0].update(gate="\udcff bad"))
    os.close(os.open(os.path.join(os.fsencode(paths[0].parent), b"\xff.json"), os.O_CREAT | os.O_WRONLY))
    repo = loop_repo.parent
    page = tmp_path / "r.html"
    made = run(repo, "report", ".loop", "--format", "html", "-o", str(page))
    assert made.returncode == 0 and b"Traceback" not in made.stderr, made.stderr
    assert "\\udcff bad" in page.read_text("utf-8")
    for args in (("report", ".loop", "--format", "json"), ("report", ".loop"),
                 ("readiness", ".loop", "--no-run-checks", "--dry-run", "--format", "json")):
        done = run(repo, *args)
        assert b"Traceback" not in done.stderr
        done.stdout.decode("utf-8")  # strict: raises on a raw 0xff
        if "json" in args:
            json.loads(done.stdout)


def test_f4_a_report_from_the_future_is_listed_not_counted(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr")
    write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(mode="draft-pr")])
    future = write_history(loop_repo, [Week(days=1, mode="draft-pr", items=6, escalate=1.0)],
                           start=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))[0]
    result = audit(str(loop_repo), run_checks=False, now=NOW)
    assert not result.demoted_now and result.demotion is None and result.mode == "draft-pr"
    assert (str(future).endswith(result.unreadable[0][0].split("/")[-1]) and
            "after the clock of this machine" in result.unreadable[0][1])
    again = audit(str(loop_repo), run_checks=False, now=NOW)
    assert not again.demoted_now  # and so on: never demoted by the same future items


def test_f6_too_few_reviews_is_not_a_rejection(loop_repo: Path) -> None:
    write_history(loop_repo, [Week(days=2, escalate=0.0)])
    c = by_id(audit(str(loop_repo), run_checks=False, write=False, now=NOW))
    reviewed, accepted = c["drafts-reviewed"], c["drafts-accepted"]
    assert reviewed.ok is False and reviewed.detail == "4 reviewed of 4 produced"
    assert "let the loop draft 1 more" in reviewed.fix and "rejected" not in reviewed.fix
    assert accepted.ok is None and "judged once 5 drafts are reviewed" in accepted.detail
    assert accepted.fix == reviewed.fix  # one step settles both


def _skipping(paths: list[Path], count: int) -> None:
    def add(data: dict[str, Any]) -> None:
        data["items"] += [{"id": f"SKIP-{data['run_id']}-{n}", "status": "skipped", "reason": "not labeled",
                           "next_action": "", "attempts": [], "source": "queue"} for n in range(count)]
    for path in paths:
        edit(path, add)


def test_f7_skipped_items_are_not_items_attempted(loop_repo: Path) -> None:
    set_mode(loop_repo, "draft-pr")
    paths = write_history(loop_repo, [Week(), Week(), Week(), Week(), Week(days=7, mode="draft-pr", escalate=1.0)])
    _skipping(paths, 8)
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert result.demoted_now, "every item the loop took on in draft-pr escalated: the skipped ones hide nothing"
    assert result.totals.items == 2 * 35 and result.totals.skipped == 8 * 35
    shadow = by_id(result)["shadow-items"]
    assert shadow.detail == "56 item(s) attempted in 28 shadow run(s); 224 skipped, not counted"
    text = run(loop_repo.parent, "report", ".loop").stdout.decode()
    assert "280 item(s) skipped by the work selection rules (or left waiting): not counted" in text


def test_f10_a_verdict_without_its_run_judges_one_draft(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    drafted = json.loads(paths[0].read_text("utf-8"))["items"][0]["id"]
    later = json.loads(paths[1].read_text("utf-8"))
    later["items"][0]["id"] = drafted  # the same item drafted again, later, in draft-pr
    later.update(mode="draft-pr", run_id="2026-11-20T080000Z")
    paths[1].unlink()
    (paths[1].parent / "2026-11-20T080000Z.json").write_text(json.dumps(later), encoding="utf-8")
    (loop_repo / "reviews.json").write_text(json.dumps({"reviews": [
        {"item": drafted, "verdict": "reject", "at": "2026-11-21T00:00:00Z", "note": "", "run": ""},
        {"item": drafted, "verdict": "accept", "at": "9999-12-31T23:59:59Z", "note": "", "run": ""},
        {"item": drafted, "verdict": "accept", "at": "yesterday", "note": "", "run": ""}]}), encoding="utf-8")
    history = load_history(str(loop_repo))
    bound = load_reviews(str(loop_repo)).bound(history, NOW)
    assert [r.run for r in bound.by_item[drafted]] == ["2026-11-20T080000Z"] and bound.ignored == 2
    result = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    c = by_id(result)
    assert c["drafts-reviewed-pr"].detail.startswith("1 reviewed") and c["drafts-reviewed"].detail.startswith("0 ")
    assert any("2 verdict(s) in reviews.json name no run" in p for p in result.problems)


def test_f12_runs_without_work_and_reports_without_mode_or_items(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=5, items=2)])
    for path in paths[1:]:
        edit(path, lambda d: d.update(items=[]))
    c = by_id(audit(str(loop_repo), run_checks=False, write=False, now=NOW))
    runs = c["shadow-runs"]
    assert runs.ok is False and runs.detail == "1 shadow run(s) with work (4 more took on no item)"
    edit(paths[1], lambda d: d.pop("mode"))
    edit(paths[2], lambda d: d.update(items={"not": "a list"}))
    history = load_history(str(loop_repo))
    whys = dict(history.unreadable)
    assert len(history.runs) == 3 and whys[str(paths[1])] == 'no "mode" (shadow, draft-pr or pr)'
    assert "no \"items\" list" in whys[str(paths[2])]


def test_f13_a_stop_reason_cannot_write_to_the_terminal(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=2)])
    edit(paths[0], lambda d: d["stop"].update(reason="\x1b]0;owned\x07\x1b[31mRED"))
    for fmt in ("text", "markdown"):
        out = run(loop_repo.parent, "report", ".loop", "--format", fmt).stdout
        assert b"\x1b" not in out and b"\x07" not in out and b"RED" in out


def test_f14_a_note_that_is_not_utf8_is_kept_not_a_traceback(loop_repo: Path) -> None:
    paths = write_history(loop_repo, [Week(days=1)])
    item = json.loads(paths[0].read_text("utf-8"))["items"][0]["id"]
    done = subprocess.run([sys.executable, "-m", "loopgate", "review", item, "accept", "--loop", ".loop", "--note",
                           os.fsdecode(b"a\xffb")], cwd=loop_repo.parent, capture_output=True, check=False)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    notes = [r["note"] for r in json.loads((loop_repo / "reviews.json").read_text("utf-8"))["reviews"]]
    assert notes[-1] == "a\\udcffb"


def _bad_draft_week(loop: Path) -> None:
    set_mode(loop, "draft-pr")
    write_history(loop, [Week(), Week(), Week(), Week(), Week(mode="draft-pr", escalate=0.9)])


def test_f5_recording_a_demotion_changes_only_its_bullets(loop_repo: Path) -> None:
    _bad_draft_week(loop_repo)
    state = loop_repo / "LOOP_STATE.md"
    text = state.read_text("utf-8")
    text = text.replace("# Loop State: Repository Maintenance Triage\n", "# Loop State: Repository Maintenance "
                        "Triage\n<!-- owner: docs team -->\nWritten by the loop; notes by people welcome.\n", 1)
    text = text.replace("- escalations: 1\n", "- escalations: 1\n- note: quiet week\n  - see the CDN ticket\n", 1)
    text += "\n## Notes\n- the 2026-11 outage was the CDN\n"
    state.write_text(text, encoding="utf-8")
    assert run(loop_repo.parent, "verify", ".loop").returncode == 0
    result = audit(str(loop_repo), run_checks=False, now=NOW)
    assert result.demoted_now and result.recorded, result.problems
    after = state.read_text("utf-8")
    added = [line for line in after.splitlines() if line not in text.splitlines()]
    assert [line.split(":")[0] for line in added] == ["- demoted_to", "- demoted_from", "- demoted_at",
                                                      "- demoted_because"]
    # the demotion goes after the section's last bullet (and its sub-bullet), nothing else moved
    assert after.replace("".join(f"{line}\n" for line in added), "") == text
    assert "  - see the CDN ticket\n- demoted_to: shadow\n" in after
    assert run(loop_repo.parent, "verify", ".loop").returncode == 0
    # the lift takes the bullets out again and leaves when it was, the rest as people wrote it
    write_history(loop_repo, [Week()] * 3, seed=11, start=dt.datetime(2026, 12, 2, 8, tzinfo=dt.timezone.utc))
    commit(loop_repo.parent, "three good weeks")
    lifted = audit(str(loop_repo), now=dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc))
    assert lifted.lifted_now and lifted.recorded, lifted.problems
    final = state.read_text("utf-8")
    assert "demoted_to" not in final and "- last_demoted_at: " in final
    assert [line for line in final.splitlines() if not line.startswith("- last_demoted_at")] == text.splitlines()


def test_f8_no_demotion_is_written_while_a_run_holds_the_lock(loop_repo: Path) -> None:
    from loopgate.runner.loaded import runtime_dir_of

    _bad_draft_week(loop_repo)
    lock = os.path.join(runtime_dir_of(str(loop_repo.parent), str(loop_repo)), "run.lock")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from loopgate.runner.lock import RunLock; "
                               f"held = RunLock({lock!r}).acquire(); print('held', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = (loop_repo / "LOOP_STATE.md").read_bytes()
        result = audit(str(loop_repo), run_checks=False, now=NOW)
        assert result.demoted_now and not result.recorded
        assert any("`loopgate run` is running this loop" in p for p in result.problems)
        assert (loop_repo / "LOOP_STATE.md").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    held_before = Path(lock).read_text("utf-8")
    assert audit(str(loop_repo), run_checks=False, now=NOW).recorded  # the run is gone: recorded now
    assert Path(lock).read_text("utf-8") == held_before  # the dead run's pid is left for the next run to report


def test_f11_with_the_audit_off_no_demotion_is_recorded_or_promised(loop_repo: Path) -> None:
    _bad_draft_week(loop_repo)
    spec = loop_repo / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8").replace("- mode: draft-pr", "- mode: draft-pr\n- audit: off"),
                    encoding="utf-8")
    before = (loop_repo / "LOOP_STATE.md").read_bytes()
    out = run(loop_repo.parent, "readiness", ".loop", "--no-run-checks").stdout.decode()
    assert "the spec turns the audit off: `loopgate run` does not use this demotion" in out
    assert "the next run uses the lower mode" not in out and "`- audit: off` under ## Rollout" in out
    assert (loop_repo / "LOOP_STATE.md").read_bytes() == before


def test_f15_a_state_that_is_a_fifo_is_never_opened(loop_repo: Path) -> None:
    _bad_draft_week(loop_repo)
    state = loop_repo / "LOOP_STATE.md"
    state.unlink()
    os.mkfifo(state)
    done = subprocess.run([sys.executable, "-m", "loopgate", "readiness", ".loop", "--no-run-checks"],
                          cwd=loop_repo.parent, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert "not a regular file" in done.stdout


SHADOW = Path(__file__).resolve().parents[2] / "examples" / "shadow-loop" / "repo"
FORGE = ('main=$(cd "$(git rev-parse --git-common-dir)/.." && pwd)\n'
         'printf \'{"reviews": [{"item": "%s", "verdict": "accept", "at": "2026-01-01T00:00:00Z", "note": "lgtm", '
         '"run": ""}]}\\n\' "$LOOPGATE_ITEM_ID" > "$main/.loop/reviews.json"\n')


def test_f9_an_uncontained_maker_cannot_forge_a_verdict(tmp_path: Path) -> None:
    import shutil

    from .conftest import ENV

    repo = tmp_path / "repo"
    shutil.copytree(SHADOW, repo)
    maker = repo / ".loop" / "maker.sh"
    maker.write_text(maker.read_text("utf-8").replace('echo "maker: all tests pass"', FORGE + 'echo "done"'),
                     encoding="utf-8")
    spec = repo / ".loop" / "LOOP_SPEC.md"
    spec.write_text(spec.read_text("utf-8") + "\n## Sandbox\n- contain: no\n", encoding="utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", ".loop", "--quiet"], cwd=repo, env=ENV,
                          capture_output=True, text=True, check=False, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert not (repo / ".loop" / "reviews.json").exists(), "the forged verdict was put back (there was none)"
    report = json.loads(next((repo / ".loop" / "runs").glob("*.json")).read_text("utf-8"))
    doc = next(i for i in report["items"] if i["id"] == "DOC-1")
    assert doc["status"] == "escalated" and "reviews.json" in doc["reason"], doc["reason"]


def test_f9_a_verdict_waits_for_the_run_to_finish(loop_repo: Path) -> None:
    from loopgate.runner.loaded import run_lock_path

    paths = write_history(loop_repo, [Week(days=1)])
    item = json.loads(paths[0].read_text("utf-8"))["items"][0]["id"]
    lock = run_lock_path(str(loop_repo))
    holder = subprocess.Popen([sys.executable, "-c", "import time; from loopgate.runner.lock import RunLock; "
                               f"held = RunLock({lock!r}).acquire(); print('held', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = run(loop_repo.parent, "review", item, "accept", "--loop", ".loop")
        assert busy.returncode == 2 and b"`loopgate run` is running this loop" in busy.stderr
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert run(loop_repo.parent, "review", item, "accept", "--loop", ".loop").returncode == 0


def test_f16_markdown_from_report_data_is_shown_not_rendered(loop_repo: Path) -> None:
    import mistune

    paths = write_history(loop_repo, [Week(days=2)])
    bait = "![x](https://attacker.example/p.png?leak=1) [click](https://evil.example) a|b"
    edit(paths[0], lambda d: d["items"][0]["attempts"][0]["gates"][0].update(gate=bait))
    edit(paths[1], lambda d: d["stop"].update(reason="[stop](https://evil.example)"))
    md = run(loop_repo.parent, "report", ".loop", "--format", "markdown").stdout.decode()
    page = str(mistune.create_markdown(plugins=["table"])(md))
    assert "<img" not in page and "<a " not in page and "<table>" in page
    assert "![x](https://attacker.example/p.png?leak=1) [click](https://evil.example) a|b" in page  # as written


def test_f18_a_hand_edited_demotion_is_understood_or_said(loop_repo: Path) -> None:
    _bad_draft_week(loop_repo)
    assert audit(str(loop_repo), run_checks=False, now=NOW).recorded
    state = loop_repo / "LOOP_STATE.md"
    recorded = state.read_text("utf-8")
    state.write_text(recorded.replace("- demoted_to: shadow", "- demoted_to: Shadow"), encoding="utf-8")
    again = audit(str(loop_repo), run_checks=False, now=NOW + dt.timedelta(days=1))
    assert not again.demoted_now and again.demotion is not None and again.demotion.to == "shadow"
    state.write_text(recorded.replace("- demoted_to: shadow", "- demoted_to: sandbox"), encoding="utf-8")
    odd = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert any("demoted_to 'sandbox' is not shadow, draft-pr or pr" in p for p in odd.problems)
    at = next(line for line in recorded.splitlines() if line.startswith("- demoted_at: ")).split(": ", 1)[1]
    lifted = "".join(line + "\n" for line in recorded.splitlines() if not line.startswith("- demoted_"))
    assert at.startswith("2026-11-")  # dated at the run whose items crossed the limit
    # lifted by hand from the audit's day: the bad week's later items are forgiven too
    state.write_text(lifted.replace("## Items", "- last_demoted_at: 2026-12-01T00:00:00Z\n\n## Items", 1),
                     encoding="utf-8")
    by_hand = audit(str(loop_repo), run_checks=False, write=False, now=NOW)
    assert by_hand.demotion is None and not by_hand.demoted_now  # the README's way to lift one by hand
