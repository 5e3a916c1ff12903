"""What the loop does when GitHub fails, against a real HTTP server on 127.0.0.1 answering as
GitHub does: 401, 403 with rate-limit headers, 403 without, 422, 500, and no answer in time; and
a push the remote rejects. The rule: a failure about one item's pull request (422) escalates that
item and the run goes on; a failure of the token, the limit, the service or the network stops the
run as environmental (exit 5), says what to fix, and leaves the item to resume next run."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopgate.cli.main import cli
from loopgate.runner.loop import Loop, RunOutcome, RunSettings, Stop
from loopgate.runner.state import load_state

from .conftest import LoopRepo, PlanFactory, git
from .fake_github import (
    FakeGitHub,
    Reply,
    already_exists,
    bad_credentials,
    forbidden,
    rate_limited,
    server_error,
    use_github,
)

TOKEN = "ghp_" + "S" * 36
PULLS = "/repos/octo/docs/pulls"
ISSUES = "/repos/octo/docs/issues"


def run(repo: LoopRepo, factory: PlanFactory, max_items: int = 1) -> RunOutcome:
    return Loop(RunSettings(str(repo.loop), max_items=max_items, grace=0.5), factory).run()


def item_state(repo: LoopRepo, item_id: str) -> tuple[str, str, str]:
    state, errors = load_state(str(repo.loop / "LOOP_STATE.md"), "x")
    assert errors == []
    item = state.items[item_id]
    return item.status, item.reason, item.next_action


def no_secret_written(repo: LoopRepo, outcome: RunOutcome) -> None:
    for path in [repo.loop / "LOOP_STATE.md", Path(outcome.report_path), Path(outcome.summary_path)]:
        assert TOKEN not in path.read_text()
    assert TOKEN not in outcome.detail


@pytest.fixture
def pr_loop(loop_repo: LoopRepo, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> LoopRepo:
    """The loop in draft-pr mode: work from the queue, pull requests on the fake GitHub."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr", queue_more=True)
    return loop_repo


def assert_environmental_and_resumable(repo: LoopRepo, outcome: RunOutcome, factory: PlanFactory,
                                       fake: FakeGitHub, *said: str) -> None:
    assert outcome.stop is Stop.ENVIRONMENT and outcome.stop.exit_code == 5
    for words in said:
        assert words in outcome.detail
    status, reason, next_action = item_state(repo, "DOC-1")
    assert status == "in-progress" and reason.startswith("gates passed; ")
    assert next_action == "the next run retries the item"
    report = json.loads(Path(outcome.report_path).read_text())
    assert report["pull_requests_opened"] == 0
    assert report["stop"]["reason"] == "environmental-failure"
    no_secret_written(repo, outcome)
    # once GitHub is fixed, the same item resumes and gets its pull request
    fake.script.clear()
    resumed = run(repo, factory)
    assert item_state(repo, "DOC-1")[0] == "pr-opened", resumed.detail


def test_401_stops_the_run_and_says_to_fix_the_token(pr_loop: LoopRepo, factory: PlanFactory,
                                                     fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, bad_credentials())
    outcome = run(pr_loop, factory)
    assert len(fake_github.posts(PULLS)) == 1  # a bad token is not retried
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "GitHub rejected the token (HTTP 401 Bad credentials)",
                                       "set a valid token in $GITHUB_TOKEN")


def test_403_rate_limit_stops_the_run_with_the_reset_time(pr_loop: LoopRepo, factory: PlanFactory,
                                                          fake_github: FakeGitHub) -> None:
    reply = rate_limited(reset_in=3600)
    fake_github.on("POST", PULLS, reply)
    started = time.monotonic()
    outcome = run(pr_loop, factory)
    assert time.monotonic() - started < 30  # an hour's wait is not waited for
    reset = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(reply.headers["X-RateLimit-Reset"])))
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "GitHub's rate limit is used up (HTTP 403)", f"it resets at {reset}")


def test_403_without_a_rate_limit_says_the_token_lacks_the_permission(pr_loop: LoopRepo, factory: PlanFactory,
                                                                     fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, forbidden())
    outcome = run(pr_loop, factory)
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "the token in $GITHUB_TOKEN may not do this (HTTP 403 Resource not "
                                       "accessible by personal access token)", "pull requests")


def test_422_escalates_that_item_and_the_run_goes_on(pr_loop: LoopRepo, factory: PlanFactory,
                                                     fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, already_exists("loop/DOC-1"),
                   Reply(201, {"number": 2, "html_url": "http://example.invalid/pull/2"}))
    outcome = run(pr_loop, factory, max_items=2)
    assert outcome.stop is Stop.ESCALATIONS
    records = {r.item.id: r for r in outcome.records}
    assert records["DOC-1"].status == "escalated"
    assert "the pull request was not opened" in records["DOC-1"].reason
    assert "HTTP 422 Validation Failed: A pull request already exists for octo:loop/DOC-1." in records["DOC-1"].reason
    assert records["DOC-1"].branch in git(pr_loop.root, "ls-remote", "origin")  # pushed: a person can open it
    assert records["DOC-5"].status == "pr-opened" and records["DOC-5"].pr_url == "http://example.invalid/pull/2"
    assert "A pull request already exists" in Path(outcome.summary_path).read_text()
    no_secret_written(pr_loop, outcome)


def test_500_is_retried_then_stops_the_run(pr_loop: LoopRepo, factory: PlanFactory,
                                           fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, server_error())
    outcome = run(pr_loop, factory)
    assert len(fake_github.posts(PULLS)) == 3
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "GitHub failed 3 times (HTTP 500 Server Error)", "run again later")


def test_a_500_that_passes_is_retried_through(pr_loop: LoopRepo, factory: PlanFactory,
                                              fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, server_error(), Reply(201, {"number": 3, "html_url": "http://example.invalid/3"}))
    outcome = run(pr_loop, factory)
    assert len(fake_github.posts(PULLS)) == 2
    assert item_state(pr_loop, "DOC-1")[0] == "pr-opened", outcome.detail


def test_no_answer_in_time_stops_the_run(loop_repo: LoopRepo, factory: PlanFactory, fake_github: FakeGitHub,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr", inputs="- github timeout: 1s")
    fake_github.on("POST", PULLS, Reply(201, {"number": 1, "html_url": "http://example.invalid/1"}, delay=30))
    started = time.monotonic()
    outcome = run(loop_repo, factory)
    assert time.monotonic() - started < 15
    assert_environmental_and_resumable(loop_repo, outcome, factory, fake_github,
                                       "GitHub did not answer within 1s", "github timeout")


def test_a_push_the_remote_rejects_stops_the_run_before_any_pull_request(
        loop_repo: LoopRepo, factory: PlanFactory, fake_github: FakeGitHub, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected: this repository takes no pushes' >&2\nexit 1\n")
    hook.chmod(0o755)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr", origin=origin)
    outcome = run(loop_repo, factory)
    assert fake_github.posts(PULLS) == []  # no pull request for a branch that is not there
    assert git(loop_repo.root, "ls-remote", "origin").strip() == ""
    hook.unlink()
    assert_environmental_and_resumable(loop_repo, outcome, factory, fake_github,
                                       "cannot push loop/DOC-1 to origin", "protected: this repository takes no pushes")


# -- reading the work and the kill switch ----------------------------------------------------------------------

def test_401_while_reading_the_issues_refuses_to_start_with_exit_5(
        loop_repo: LoopRepo, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "shadow", inputs="- github label: maintenance")
    fake_github.on("GET", ISSUES, bad_credentials())
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["run", str(loop_repo.loop), "-q"], catch_exceptions=False)
    assert result.exit_code == 5
    assert "cannot read work from GitHub" in result.stderr
    assert "$GITHUB_TOKEN is not set: set it to a token" in result.stderr
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = CliRunner().invoke(cli, ["run", str(loop_repo.loop), "-q"], catch_exceptions=False)
    assert result.exit_code == 5 and "set a valid token in $GITHUB_TOKEN" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    assert not (loop_repo.loop / "LOOP_STATE.md").exists()  # nothing written: the run never started


def test_a_wrong_repository_is_a_usage_error(loop_repo: LoopRepo, fake_github: FakeGitHub) -> None:
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "shadow", inputs="- github label: maintenance")
    fake_github.on("GET", ISSUES, Reply(404, {"message": "Not Found"}))
    result = CliRunner().invoke(cli, ["run", str(loop_repo.loop), "-q"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "GitHub has no such repository or the token cannot see it (HTTP 404 Not Found)" in result.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more: a connection is refused


def test_an_unreadable_pause_label_pauses_before_any_work(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    ran = loop_repo.root.parent / "maker-ran"
    loop_repo.set_spec(f"touch {ran}")
    use_github(loop_repo.root, loop_repo.loop, f"http://127.0.0.1:{closed_port()}", "shadow",
               inputs="- pause label: loop-paused")
    outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.PAUSED
    assert outcome.detail.startswith("kill switch unknown, so the run pauses: cannot read the pause label: ")
    assert "cannot reach GitHub" in outcome.detail
    assert outcome.records == [] and not ran.exists()


def test_a_pause_label_that_becomes_unreadable_pauses_between_items(loop_repo: LoopRepo, factory: PlanFactory,
                                                                     fake_github: FakeGitHub) -> None:
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "shadow", inputs="- pause label: loop-paused",
               queue_more=True)
    # read at the start, before DOC-1, before DOC-5: the third read fails (and its retries)
    fake_github.on("GET", ISSUES, Reply(200, []), Reply(200, []), server_error())
    outcome = run(loop_repo, factory, max_items=2)
    assert outcome.stop is Stop.PAUSED and "HTTP 500" in outcome.detail
    assert {r.item.id: r.status for r in outcome.records if r.item.id.startswith("DOC")} == {
        "DOC-1": "drafted", "DOC-5": "selected"}
