"""The real Codex CLI (`@openai/codex` from npm; .ci/run installs it into .ci/tools) as the maker,
against a local Responses API: token-only usage against a cost budget, and a refused key.
Nothing here reaches the network: the model provider is a server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from loopgate.runner.loop import Loop, RunError, RunSettings, Stop

from .conftest import LoopRepo, PlanFactory
from .fake_openai import USAGE, fake_openai, provider_setup

ROOT = Path(__file__).resolve().parents[2]


def real_codex() -> str | None:
    for candidate in (os.environ.get("LOOPGATE_TEST_CODEX", ""), str(ROOT / ".ci" / "tools" / "node_modules" / ".bin"
                                                                     / "codex"), shutil.which("codex") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
def codex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`codex` on PATH (its own folder: a symlink elsewhere may be hidden from the maker) and an empty home."""
    path = real_codex()
    if path is None:
        message = "the real Codex CLI is missing: bash .ci/run installs @openai/codex into .ci/tools"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    bin_dir = os.path.dirname(path)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return home


def readme_codex_maker() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("loopgate run .loop --maker 'codex "))
    return shlex.split(line)[4]


def budgets(repo: LoopRepo, *lines: str) -> None:
    spec = repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- max pull requests per run: 2",
                                             "\n".join(["- max pull requests per run: 2", *lines])))
    repo.commit("budgets")


def run(repo: LoopRepo, factory: PlanFactory, maker: str) -> tuple[Any, dict[str, Any]]:
    outcome = Loop(RunSettings(str(repo.loop), maker=maker, max_items=1, grace=0.5), factory).run()
    report: dict[str, Any] = json.loads(Path(outcome.report_path).read_text())
    return outcome, next(i for i in report["items"] if i["id"] == "DOC-1")


def with_provider(url: str, command: str) -> str:
    """The provider and key ride on the command line, so they reach the agent whatever environment
    and home loopgate gives the maker."""
    return f"{provider_setup(url)} && OPENAI_API_KEY=sk-test-not-a-key {command}"


def test_real_codex_under_max_cost_without_prices_is_refused_before_it_runs(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    budgets(loop_repo, "- max cost: $5")
    with pytest.raises(RunError, match="codex reports tokens and no price"):
        run(loop_repo, factory, readme_codex_maker())


def test_real_codex_token_only_usage_is_charged_at_the_specs_prices_against_max_cost(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    budgets(loop_repo, "- max cost: $0.001", "- price per million input tokens: $1.25",
            "- price per million cached input tokens: $0.125", "- price per million output tokens: $10")
    with fake_openai() as url:
        outcome, item = run(loop_repo, factory, with_provider(url, readme_codex_maker()))
    [attempt] = item["attempts"]
    usage = attempt["maker"]["usage"]
    # what the real codex printed in its turn.completed, charged at the spec's prices
    cached = USAGE["input_tokens_details"]["cached_tokens"]  # type: ignore[index]
    assert (usage["input_tokens"], usage["cached_input_tokens"], usage["output_tokens"]) == (
        USAGE["input_tokens"], cached, USAGE["output_tokens"])
    assert usage["complete"] is True and usage["priced"] is False
    assert attempt["maker"]["cost_from"] == "prices"
    assert usage["cost_usd"] == pytest.approx((800 * 1.25 + 200 * 0.125 + 50 * 10) / 1e6)  # 0.001525
    assert attempt["maker"]["agent"]["agent"] == "codex" and attempt["maker"]["agent"]["final"] == "turn.completed"
    assert outcome.stop is Stop.BUDGET and "max cost" in outcome.detail


def test_real_codex_with_a_refused_key_stops_the_run_early(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    start = time.monotonic()
    with fake_openai(refuse=True) as url:
        outcome, item = run(loop_repo, factory, with_provider(url, readme_codex_maker()))
    assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
    [attempt] = item["attempts"]
    assert attempt["environment"]["kind"] == "authentication"
    assert re.search(r"401", " ".join(attempt["maker"]["agent"]["messages"]))
    assert attempt["maker"]["stopped"] == "agent-failure"  # two retries of a refused key, not all five
    assert time.monotonic() - start < 30


def test_real_codex_without_workspace_write_is_refused_its_patches_and_the_run_names_the_flag(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    """`codex exec` is read-only unless told otherwise: it rejects its own patches (saying so on
    stderr only) and reports success; loopgate reads the refusals and names the flag."""
    read_only = readme_codex_maker().replace(" --sandbox workspace-write", "")
    with fake_openai(patches=2) as url:
        outcome, item = run(loop_repo, factory, with_provider(url, read_only))
    assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
    assert "`--sandbox workspace-write`" in outcome.detail
    [attempt] = item["attempts"]
    assert attempt["environment"]["kind"] == "permission"
    assert attempt["maker"]["agent"]["permission_denials"] == 2
    assert attempt["maker"]["exit_code"] == 0  # the agent itself calls the turn a success


def test_real_codex_with_workspace_write_edits_or_says_its_sandbox_cannot(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    """The README's command as written: where Codex's own sandbox works, its patch lands and the item
    is drafted; where it cannot write (it needs Landlock, which a container may lack: this machine),
    the run stops as environmental and says that, not to add the flag it already has."""
    with fake_openai(patches=2) as url:
        outcome, item = run(loop_repo, factory, with_provider(url, readme_codex_maker()))
    if outcome.stop is Stop.DONE:
        assert item["status"] == "drafted"
    else:
        assert outcome.stop is Stop.ENVIRONMENT, outcome.detail
        assert "already runs with `--sandbox workspace-write`" in outcome.detail and "Landlock" in outcome.detail


def test_real_codex_contained_by_loopgate_with_its_own_sandbox_off_repairs_the_link(
        codex: Path, loop_repo: LoopRepo, factory: PlanFactory) -> None:
    """Where Codex's sandbox cannot write, loopgate's containment stands in for it (as the README says)."""
    command = readme_codex_maker().replace("--sandbox workspace-write", "--dangerously-bypass-approvals-and-sandbox")
    with fake_openai(patches=1) as url:
        outcome, item = run(loop_repo, factory, with_provider(url, command))
    report = json.loads(Path(outcome.report_path).read_text())
    if not report["contained"]:  # bubblewrap is missing: .ci/run installs it
        message = "loopgate cannot contain the maker here: the agent's own sandbox must not be turned off"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert outcome.stop is Stop.DONE, outcome.detail
    assert item["status"] == "drafted"
    [attempt] = item["attempts"]
    assert attempt["maker"]["usage"]["complete"] and attempt["maker"]["agent"]["final"] == "turn.completed"
