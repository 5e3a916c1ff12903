"""The run loop's less-travelled safety paths, each with a real maker, real gates, a real git
repository and (where the path needs one) the loopback GitHub: the pull-request budget, the
rollout opt-in and readiness audit that guard every mode beyond shadow, and a runtime or cost
budget already spent before an attempt (no maker may start then)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopgate.cli.main import cli
from loopgate.runner.loop import Loop, RunError, RunOutcome, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import READINESS, LoopRepo, PlanFactory, git
from .fake_github import FakeGitHub, Reply, use_github

PULLS = "/repos/octo/docs/pulls"


def run(repo: LoopRepo, factory: PlanFactory, **settings: object) -> RunOutcome:
    return Loop(RunSettings(str(repo.loop), grace=0.5, **settings), factory).run()  # type: ignore[arg-type]


def statuses(repo: LoopRepo) -> dict[str, tuple[str, str]]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    return {i.id: (i.status, i.reason) for i in state.items.values()}


# -- max pull requests per run -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["draft-pr", "pr"])
def test_max_pull_requests_per_run_stops_before_one_too_many(loop_repo: LoopRepo, factory: PlanFactory,
                                                             fake_github: FakeGitHub, mode: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "P" * 36)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, mode, queue_more=True, prs=1)
    outcome = run(loop_repo, factory, max_items=2)
    assert len(fake_github.posts(PULLS)) == 1
    assert [p["draft"] for p in fake_github.posts(PULLS)] == [mode == "draft-pr"]
    assert outcome.stop is Stop.BUDGET and outcome.detail == "max pull requests per run reached"
    state = statuses(loop_repo)
    assert state["DOC-1"][0] == "pr-opened"
    assert state["DOC-5"] == ("drafted", "all required gates passed; max pull requests per run reached")
    report = json.loads(Path(outcome.report_path).read_text())
    assert report["pull_requests_opened"] == 1
    assert report["stop"] == {"reason": "budget-exhausted", "detail": outcome.detail, "exit_code": 4}
    assert "opened_pull_requests: 1" in loop_repo.state()
    # the second item's work is kept on its branch, not pushed: a person opens it later
    record = next(r for r in outcome.records if r.item.id == "DOC-5")
    assert "index.md" in git(loop_repo.root, "show", f"{record.branch}:docs/guide.md")
    assert record.branch not in git(loop_repo.root, "ls-remote", "origin")


def test_the_pull_request_budget_counts_across_items_not_per_item(loop_repo: LoopRepo, factory: PlanFactory,
                                                                  fake_github: FakeGitHub,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "P" * 36)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr", queue_more=True, prs=2)
    fake_github.on("POST", PULLS, Reply(201, {"number": 1, "html_url": "http://example.invalid/1"}),
                   Reply(201, {"number": 2, "html_url": "http://example.invalid/2"}))
    outcome = run(loop_repo, factory, max_items=2)
    assert outcome.stop is Stop.ESCALATIONS  # AUTH-2 and BIG-3 are escalated by selection; no budget stop
    assert len(fake_github.posts(PULLS)) == 2
    assert [statuses(loop_repo)[i][0] for i in ("DOC-1", "DOC-5")] == ["pr-opened", "pr-opened"]


# -- rollout: opt-in and readiness --------------------------------------------------------------------------------

def refused(repo: LoopRepo, *args: str) -> str:
    """The CLI refuses with exit 2, runs no maker and writes nothing."""
    ran = repo.root.parent / "maker-ran"
    result = CliRunner().invoke(cli, ["run", str(repo.loop), "-q", "--maker", f"touch {ran}", *args],
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert not ran.exists()
    assert not (repo.loop / "LOOP_STATE.md").exists() and not (repo.loop / "runs").exists()
    return result.stderr


@pytest.mark.parametrize(("spec_mode", "asked"), [("shadow", "draft-pr"), ("shadow", "pr"), ("draft-pr", "pr")])
def test_a_mode_beyond_the_specs_rollout_needs_its_opt_in(loop_repo: LoopRepo, spec_mode: str, asked: str) -> None:
    loop_repo.set_spec(mode=spec_mode, contain=False)  # uncontained: `refused` looks for its marker outside
    err = refused(loop_repo, "--mode", asked)
    assert f"mode '{asked}' needs explicit opt-in: the spec's ## Rollout allows at most '{spec_mode}'" in err


UNTICKED = READINESS.replace("- [x] the gates run without the agent", "- [ ] the gates run without the agent")
EMPTY = "# Loop Readiness: Docs Repair\n\n## Ready\n"


@pytest.mark.parametrize("mode", ["draft-pr", "pr"])
def test_a_mode_beyond_shadow_needs_a_readiness_audit(loop_repo: LoopRepo, mode: str) -> None:
    (loop_repo.loop / "loop-readiness.md").unlink()
    loop_repo.set_spec(mode=mode, contain=False)  # uncontained: `refused` looks for its marker outside
    err = refused(loop_repo)
    assert f"mode '{mode}' needs a passing readiness audit (every loop-readiness.md item ticked)" in err


@pytest.mark.parametrize("readiness", [UNTICKED, EMPTY])
@pytest.mark.parametrize("mode", ["draft-pr", "pr"])
def test_an_audit_with_an_unticked_item_or_none_is_not_passing(loop_repo: LoopRepo, mode: str,
                                                               readiness: str) -> None:
    (loop_repo.loop / "loop-readiness.md").write_text(readiness)
    loop_repo.set_spec(mode=mode, contain=False)  # uncontained: `refused` looks for its marker outside
    err = refused(loop_repo)
    # `loopgate verify` catches both before the run's own check: LG306 (unticked), LG107 (no checks)
    assert "the loop does not verify" in err
    assert (f"LG306 rollout mode '{mode}' needs every readiness item ticked" in err if readiness == UNTICKED
            else "LG107 checks: is empty" in err), err


def test_shadow_and_a_lower_mode_need_neither(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    """The near misses: the checks bind the mode asked for, not the mode the spec allows."""
    (loop_repo.loop / "loop-readiness.md").unlink()
    loop_repo.set_spec(mode="pr")
    outcome = run(loop_repo, factory, mode="shadow", max_items=1)
    assert statuses(loop_repo)["DOC-1"][0] == "drafted" and outcome.stop is Stop.DONE
    (loop_repo.loop / "loop-readiness.md").write_text(READINESS)
    loop_repo.commit("ready")
    outcome = run(loop_repo, factory, mode="draft-pr", max_items=1)  # the spec allows up to pr; the audit passes
    assert json.loads(Path(outcome.report_path).read_text())["mode"] == "draft-pr"  # the run started
    with pytest.raises(RunError, match="unknown mode 'yolo'"):
        run(loop_repo, factory, mode="yolo")


# -- a budget already spent before an attempt ----------------------------------------------------------------------

def test_a_runtime_budget_spent_before_the_first_attempt_starts_no_maker(loop_repo: LoopRepo, factory: PlanFactory,
                                                                         fake_github: FakeGitHub) -> None:
    """The runtime budget counts from the start of the run: a slow GitHub listing can spend it all."""
    ran = loop_repo.root.parent / "maker-ran"
    loop_repo.set_spec(f"touch {ran}", runtime="1s", contain=False)  # the marker is outside the worktree
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "shadow", inputs="- github label: maintenance")
    fake_github.on("GET", "/repos/octo/docs/issues", Reply(200, [], delay=1.2))
    outcome = run(loop_repo, factory, max_items=1)
    assert outcome.stop is Stop.BUDGET and outcome.detail == "max runtime reached"
    assert not ran.exists()  # the maker never started...
    record = next(r for r in outcome.records if r.item.id == "DOC-1")
    assert record.attempts == []  # ...and no attempt of it is on record
    attempts = loop_repo.root / ".git" / "loopgate"
    assert not list(attempts.glob("*/attempts/DOC-1/*/maker.log"))
    assert statuses(loop_repo)["DOC-1"][0] not in ("drafted", "escalated")  # resumable


COSTLY = """\
printf '{"tool_calls": 1, "cost_usd": 0.05}' > "$LOOPGATE_USAGE_FILE"
echo "attempt $LOOPGATE_ATTEMPT" >> %s
echo 'see also [x](missing.md)' >> docs/guide.md
"""


def test_a_cost_budget_spent_by_one_attempt_starts_no_other(loop_repo: LoopRepo, factory: PlanFactory,
                                                            tmp_path: Path) -> None:
    ran = tmp_path / "attempts.txt"
    maker = tmp_path / "costly.sh"
    maker.write_text(COSTLY % ran)
    loop_repo.set_spec(f"sh {maker}", iterations=3, contain=False)  # the maker counts its runs outside the worktree
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max pull requests per run: 2",
                                             "- max pull requests per run: 2\n- max cost: $0.05"))
    loop_repo.commit("cost budget")
    outcome = run(loop_repo, factory, max_items=1)
    # the first attempt spent exactly the budget (not over it: it ran to the end and was judged)
    assert ran.read_text().splitlines() == ["attempt 1"]  # the second attempt's maker never started
    assert outcome.stop is Stop.BUDGET and outcome.detail == "max cost reached"
    record = next(r for r in outcome.records if r.item.id == "DOC-1")
    assert [a["verdict"] for a in record.attempts] == ["failed"]
    report = json.loads(Path(outcome.report_path).read_text())
    assert report["usage"]["cost_usd"] == pytest.approx(0.05)
    assert statuses(loop_repo)["DOC-1"][0] not in ("drafted", "escalated")  # resumable
