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
from loopgate.runner.github import GitHub, GitHubConfig, GitHubError
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
    assert next_action == "the next run opens the pull request for the commit the gates passed"
    report = json.loads(Path(outcome.report_path).read_text())
    assert report["pull_requests_opened"] == 0
    assert report["stop"]["reason"] == "environmental-failure"
    no_secret_written(repo, outcome)
    passed = next(r for r in outcome.records if r.item.id == "DOC-1").commit
    # once GitHub is fixed, the same item gets its pull request, for the commit the gates passed,
    # without another attempt (its work was judged and paid for)
    fake.script.clear()
    resumed = run(repo, factory)
    assert item_state(repo, "DOC-1")[0] == "pr-opened", resumed.detail
    record = next(r for r in resumed.records if r.item.id == "DOC-1")
    assert record.attempts == [] and record.commit == passed
    assert fake.posts(PULLS)[-1]["head"] == record.branch
    assert passed in git(repo.root, "ls-remote", "origin", record.branch)


def test_401_stops_the_run_and_says_to_fix_the_token(pr_loop: LoopRepo, factory: PlanFactory,
                                                     fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, bad_credentials())
    outcome = run(pr_loop, factory)
    assert len(fake_github.posts(PULLS)) == 1  # a bad token is not retried
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "GitHub rejected the token (HTTP 401 Bad credentials)",
                                       "set a valid token in $GITHUB_TOKEN")


def test_a_failed_pull_request_on_the_last_attempt_is_opened_next_run(loop_repo: LoopRepo, factory: PlanFactory,
                                                                      fake_github: FakeGitHub,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With every attempt used, the next run must not call the item failed: its gates passed."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    loop_repo.set_spec(iterations=1)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr")
    fake_github.on("POST", PULLS, server_error())
    outcome = run(loop_repo, factory)
    assert_environmental_and_resumable(loop_repo, outcome, factory, fake_github, "HTTP 500")


def test_a_branch_moved_since_is_judged_afresh(pr_loop: LoopRepo, factory: PlanFactory,
                                               fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, bad_credentials())
    first = run(pr_loop, factory)
    branch = next(r for r in first.records if r.item.id == "DOC-1").branch
    git(pr_loop.root, "update-ref", f"refs/heads/{branch}", "main")  # reset by someone: the passed commit is gone
    fake_github.script.clear()
    resumed = run(pr_loop, factory)
    record = next(r for r in resumed.records if r.item.id == "DOC-1")
    assert [a["attempt"] for a in record.attempts] == [2]  # a new attempt, judged by the gates again
    assert record.status == "pr-opened"


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
    fake_github.on("POST", PULLS, already_exists("loop/docs-repair/DOC-1"),
                   Reply(201, {"number": 2, "html_url": "http://example.invalid/pull/2"}))
    outcome = run(pr_loop, factory, max_items=2)
    assert outcome.stop is Stop.ESCALATIONS
    records = {r.item.id: r for r in outcome.records}
    assert records["DOC-1"].status == "escalated"
    assert "the pull request was not opened" in records["DOC-1"].reason
    assert ("HTTP 422 Validation Failed: A pull request already exists for octo:loop/docs-repair/DOC-1."
            in records["DOC-1"].reason)
    assert records["DOC-1"].branch in git(pr_loop.root, "ls-remote", "origin")  # pushed: a person can open it
    assert records["DOC-5"].status == "pr-opened" and records["DOC-5"].pr_url == "http://example.invalid/pull/2"
    assert "A pull request already exists" in Path(outcome.summary_path).read_text()
    no_secret_written(pr_loop, outcome)


def test_404_creating_the_pull_request_stops_the_run_rather_than_blame_each_item(
        pr_loop: LoopRepo, factory: PlanFactory, fake_github: FakeGitHub) -> None:
    fake_github.on("POST", PULLS, Reply(404, {"message": "Not Found"}))
    outcome = run(pr_loop, factory, max_items=2)
    assert len(fake_github.posts(PULLS)) == 1  # DOC-5 was not tried: it would fail the same way
    assert_environmental_and_resumable(pr_loop, outcome, factory, fake_github,
                                       "GitHub has no such repository or the token cannot see it (HTTP 404 "
                                       "Not Found)", "github repo: octo/docs")


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
                                       "cannot push loop/docs-repair/DOC-1 to origin",
                                       "protected: this repository takes no pushes")


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
    loop_repo.set_spec(f"touch {ran}", contain=False)  # the marker is outside the worktree
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


def test_a_comment_github_cannot_take_is_a_warning_in_the_report(loop_repo: LoopRepo, factory: PlanFactory,
                                                                 fake_github: FakeGitHub,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "draft-pr", inputs="- github label: maintenance")
    (loop_repo.loop / "work-queue.md").write_text("# Work Queue\n")
    loop_repo.commit("issues only")
    fake_github.issues = [{"number": 8, "title": "Rotate production secrets", "body": "",
                           "labels": [{"name": "maintenance"}], "html_url": "http://example.invalid/8"}]
    fake_github.on("POST", "/repos/octo/docs/issues/8/comments", forbidden())
    outcome = run(loop_repo, factory)
    assert outcome.stop is Stop.ESCALATIONS  # the escalation stands; only telling the issue failed
    assert [(r.item.id, r.status) for r in outcome.records] == [("GH-8", "escalated")]
    warnings = json.loads(Path(outcome.report_path).read_text())["warnings"]
    assert [w for w in warnings if w.startswith("could not comment on #8: ") and "HTTP 403" in w]


def test_a_timeout_that_is_not_a_duration_is_a_usage_error(loop_repo: LoopRepo, fake_github: FakeGitHub) -> None:
    use_github(loop_repo.root, loop_repo.loop, fake_github.url, "shadow", inputs="- github timeout: soon")
    result = CliRunner().invoke(cli, ["run", str(loop_repo.loop), "-q"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "LOOP_SPEC.md: `github timeout`: 'soon' is not a duration" in result.stderr
    assert fake_github.requests == []


@pytest.mark.parametrize(("reply", "said"), [
    (Reply(403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "120"}),
     "GitHub's rate limit is used up (HTTP 403); it resets at "),
    (Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "600"}), "(in 600s, longer than loopgate waits)"),
])
def test_a_long_retry_after_is_not_waited_for(fake_github: FakeGitHub, reply: Reply, said: str) -> None:
    fake_github.on("GET", ISSUES, reply)
    client = GitHub(GitHubConfig("octo/docs", api=fake_github.url, token=TOKEN), sleep=pytest.fail)
    with pytest.raises(GitHubError) as caught:
        client.issues("maintenance")
    assert caught.value.kind == "rate-limit" and caught.value.environmental
    assert said in str(caught.value) and TOKEN not in str(caught.value)


def test_a_short_retry_after_is_waited_for_then_retried(fake_github: FakeGitHub) -> None:
    fake_github.on("GET", ISSUES, Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "1"}),
                   Reply(200, []))
    slept: list[float] = []
    client = GitHub(GitHubConfig("octo/docs", api=fake_github.url), sleep=slept.append)
    assert client.issues("maintenance") == []
    assert slept == [1.0] and client.requests_made == 2


def test_a_limit_that_outlasts_three_short_waits_stops(fake_github: FakeGitHub) -> None:
    fake_github.on("GET", ISSUES, Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "2"}))
    slept: list[float] = []
    client = GitHub(GitHubConfig("octo/docs", api=fake_github.url), sleep=slept.append)
    with pytest.raises(GitHubError, match=r"\(in 2s, still limited after loopgate waited 3 times\)"):
        client.issues("maintenance")
    assert slept == [2.0, 2.0, 2.0] and client.requests_made == 4
