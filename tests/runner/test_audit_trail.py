"""Issue 7, section 7: the audit trail in the run report, and maker.log's cap. Real makers,
a real repository, the real report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema

from loopgate.artifacts.schema import load_schema
from loopgate.runner.loop import Loop, RunSettings
from loopgate.runner.maker import LOG_CAP, MakerLimits, run_maker

from .conftest import LoopRepo, PlanFactory, git

WRONG = "echo 'see also [x](missing.md)' >> docs/guide.md"


def report(loop_repo: LoopRepo, factory: PlanFactory) -> dict[str, Any]:
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5, max_items=1), factory).run()
    loaded: dict[str, Any] = json.loads(Path(outcome.report_path).read_text())
    jsonschema.Draft202012Validator(load_schema("run-report")).validate(loaded)
    return loaded


def doc(loaded: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in loaded["items"] if i["id"] == "DOC-1")
    return found


def test_each_attempt_says_where_its_log_is_how_it_ended_and_what_was_judged(loop_repo: LoopRepo,
                                                                             factory: PlanFactory) -> None:
    claude_result = ('{"type":"result","subtype":"success","is_error":false,"num_turns":2,'
                     '"total_cost_usd":0.01,"usage":{"input_tokens":10,"output_tokens":5}}')
    loop_repo.set_spec(f"for i in $(seq 1 30); do echo line $i; done; echo '{claude_result}'; "
                       "sed -i 's/missing.md/index.md/' docs/guide.md")
    [attempt] = doc(report(loop_repo, factory))["attempts"]
    maker = attempt["maker"]
    assert os.path.isfile(maker["log"]) and "line 1\n" in Path(maker["log"]).read_text()
    tail = maker["output_tail"].splitlines()
    assert len(tail) == 20 and tail[0] == "line 12" and tail[-1].startswith('{"type":"result"')
    assert maker["agent"]["agent"] == "claude" and maker["agent"]["final"] == "success"
    assert maker["usage_complete"] is True
    commit = attempt["commit"]
    assert attempt["judged"]["tree"] == git(loop_repo.root, "rev-parse", f"{commit}^{{tree}}").strip()
    assert attempt["judged"]["base"] == git(loop_repo.root, "rev-parse", "main").strip()


def test_the_no_progress_signal_that_matched_is_recorded(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec(WRONG, iterations=3)
    item = doc(report(loop_repo, factory))
    assert [a["no_progress"] for a in item["attempts"]] == ["", "same failures"]
    assert [a["maker"]["usage_complete"] for a in item["attempts"]] == [False, False]  # it reports nothing
    assert item["reason"].startswith("no progress across 2 consecutive attempts (same failures): ")


def test_maker_log_is_capped_and_keeps_the_latest_output(tmp_path: Path) -> None:
    log = tmp_path / "maker.log"
    # about 3 x LOG_CAP of output, then the line an auditor needs most: how it ended
    lines = 3 * LOG_CAP // 1024
    command = (f"python3 -c \"import sys; [sys.stdout.write('x' * 1023 + chr(10)) for _ in range({lines})]\"; "
               "echo the last line")
    made = run_maker(command, str(tmp_path), dict(os.environ), MakerLimits(timeout=60, grace=0.5), str(log))
    assert made.exit_code == 0
    assert log.stat().st_size <= LOG_CAP + 1024
    text = log.read_text()
    assert "bytes of the maker's output cut here; maker.log is capped at" in text
    assert text.endswith("the last line\n") and made.output_tail.endswith("the last line\n")
