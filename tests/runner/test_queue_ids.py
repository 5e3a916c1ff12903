"""The work queue: the JSON format, and item ids, which become git branch names (`loop/<id>`),
worktree folders and attempt folders. A bad id is refused before anything runs (exit 2, the
message names the item and its line); whatever id is accepted is one git takes as a branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopgate.cli.main import cli
from loopgate.runner.loop import Loop, RunSettings, Stop
from loopgate.runner.queue import QueueError, id_problem, read_queue

from .conftest import LoopRepo, PlanFactory, git

# the ids the issue names, and their relatives: each would be a path outside the worktree folder,
# an option to a command, another ref, or a branch name git refuses
BAD_IN_MARKDOWN = ["../x", "-rf", "refs/heads/main", "x" * 300, "a..b", "x.lock", "two words", "café", "x.",
                   ".hidden", "a/b", "a~1", "a^b", "a:b", "a@{1}", "a\\b", "a*"]
BAD_IN_JSON = [*BAD_IN_MARKDOWN, "a\nb", "DOC-1\n", "tab\there", "", "nul\x00x", "\u202eevil"]


def use_queue(repo: LoopRepo, name: str, text: str) -> Path:
    path = repo.loop / name
    path.write_text(text, encoding="utf-8")
    spec = repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text().replace("- queue: work-queue.md", f"- queue: {name}"))
    repo.commit("queue")
    return path


def run_cli(repo: LoopRepo) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", str(repo.loop), "-q"], catch_exceptions=False)
    return result.exit_code, result.stderr


def nothing_written(repo: LoopRepo) -> None:
    """A refused run leaves no state, no report, no branch and no worktree behind."""
    assert not (repo.loop / "LOOP_STATE.md").exists()
    assert not (repo.loop / "runs").exists()
    assert git(repo.root, "branch", "--list", "loop/*").strip() == ""
    assert not (repo.root / ".git" / "loopgate-worktrees").exists()


@pytest.mark.parametrize("item_id", BAD_IN_MARKDOWN)
def test_a_bad_id_in_the_markdown_queue_is_refused_naming_the_item_and_line(loop_repo: LoopRepo,
                                                                              item_id: str) -> None:
    text = (loop_repo.loop / "work-queue.md").read_text()
    text += f"\n### {item_id}\n- title: hostile\n- labels: maintenance\n- expected paths: docs/guide.md\n"
    line = text.splitlines().index(f"### {item_id}") + 1
    use_queue(loop_repo, "work-queue.md", text)
    code, err = run_cli(loop_repo)
    assert code == 2, err
    shown = json.dumps(item_id, ensure_ascii=False)
    assert f"work-queue.md:{line}: item id {shown[:40]}" in err
    assert "Traceback" not in err
    nothing_written(loop_repo)


@pytest.mark.parametrize("item_id", BAD_IN_JSON)
def test_a_bad_id_in_the_json_queue_is_refused_naming_the_item_and_line(loop_repo: LoopRepo, item_id: str) -> None:
    entries = [{"id": "DOC-1", "title": "fine", "labels": ["maintenance"]}, {"id": item_id, "title": "hostile"}]
    text = "[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n"  # one item a line: the second is line 3
    use_queue(loop_repo, "work-queue.json", text)
    code, err = run_cli(loop_repo)
    assert code == 2, err
    assert "work-queue.json:3: item 1: item id " + json.dumps(item_id, ensure_ascii=False)[:40] in err
    assert "\x00" not in err and "\nb" not in err.replace("\\n", "")  # escapes shown, never raw
    nothing_written(loop_repo)


@pytest.mark.parametrize(("entry", "message"), [
    ({"title": "no id"}, 'item 0 needs an "id"'),
    ({"id": True}, "item 0: the id must be a string (or a whole number), not true"),
    ({"id": ["a"]}, 'item 0: the id must be a string (or a whole number), not ["a"]'),
    ({"id": None}, "item 0: the id must be a string (or a whole number), not null"),
])
def test_a_json_item_without_a_usable_id_is_refused(loop_repo: LoopRepo, entry: dict[str, object],
                                                    message: str) -> None:
    use_queue(loop_repo, "work-queue.json", "\n\n[" + json.dumps(entry) + "]")
    code, err = run_cli(loop_repo)
    assert code == 2
    assert f"work-queue.json:3: {message}" in err
    nothing_written(loop_repo)


def test_invalid_json_and_a_duplicate_id_are_refused_with_their_lines(loop_repo: LoopRepo) -> None:
    use_queue(loop_repo, "work-queue.json", '[\n  {"id": "A-1"},\n  {"id": "A-2",}\n]')
    code, err = run_cli(loop_repo)
    assert code == 2 and "work-queue.json: not valid JSON" in err and "line 3" in err
    use_queue(loop_repo, "work-queue.json", '{"items": [\n  {"id": 12},\n  {"id": "B"},\n  {"id": "12"}\n]}')
    code, err = run_cli(loop_repo)
    assert code == 2
    assert 'work-queue.json:4: item id "12" appears twice (first at line 2)' in err
    use_queue(loop_repo, "work-queue.json", '[\n  {"id": "DOC-1"},\n  {"id": "doc-1"}\n]')
    code, err = run_cli(loop_repo)
    assert code == 2  # one branch and one folder on a case-insensitive file system
    assert 'work-queue.json:3: item id "doc-1" appears twice (first at line 2 as "DOC-1")' in err
    nothing_written(loop_repo)


def test_the_real_cli_exits_2_for_a_bad_id(loop_repo: LoopRepo) -> None:
    use_queue(loop_repo, "work-queue.json", json.dumps([{"id": "../../../etc"}]))
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop), "-q"], cwd=loop_repo.root,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("loopgate: error: ") and 'item id "../../../etc"' in done.stderr
    assert done.stdout == ""


CANDIDATES = [*BAD_IN_JSON, "DOC-1", "GH-7", "a.b", "a_b", "A", "9", "x" * 64, "x" * 65, "v1.2.3", "a-", "a_",
              "a.lock.b", "lock", "HEAD", "a.", "a.b.", "a--b", "a__b", "release-2024.01"]


def test_every_accepted_id_is_a_branch_name_git_accepts() -> None:
    """git's own check-ref-format is the peer: loopgate may be stricter, never looser."""
    accepted = [c for c in CANDIDATES if not id_problem(c)]
    assert {"DOC-1", "GH-7", "a.b", "x" * 64, "v1.2.3", "release-2024.01"} <= set(accepted)
    for item_id in accepted:
        done = subprocess.run(["git", "check-ref-format", "--branch", f"loop/{item_id}"], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, (item_id, done.stderr)
    for item_id in BAD_IN_JSON:
        assert id_problem(item_id), item_id


def test_the_json_queue_feeds_the_run(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    """Both JSON shapes, labels and paths as lists or as comma text, extra keys kept, a number as id."""
    items = [
        {"id": "DOC-1", "title": "Fix the broken link in the guide", "labels": ["maintenance"],
         "expected_paths": ["docs/guide.md"], "priority": "high"},
        {"id": 42, "title": "Update the login authentication redirect", "labels": "maintenance",
         "paths": "src/login.py"},
        {"id": "BIG-3", "title": "Reorganise", "labels": ["maintenance"],
         "expected paths": "docs/a.md, docs/b.md, docs/c.md"},
        {"id": "CHORE-4", "title": "Bump a version", "labels": ["chore"]},
    ]
    text = json.dumps({"items": items}, indent=2)
    path = use_queue(loop_repo, "work-queue.json", text)
    queued = read_queue(str(path))
    assert [(i.id, i.labels, i.expected_paths) for i in queued] == [
        ("DOC-1", ("maintenance",), ("docs/guide.md",)), ("42", ("maintenance",), ("src/login.py",)),
        ("BIG-3", ("maintenance",), ("docs/a.md", "docs/b.md", "docs/c.md")), ("CHORE-4", ("chore",), ())]
    assert queued[0].extra == {"priority": "high"}
    assert [i.line for i in queued] == [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]
    assert json.loads(path.read_text())["items"][0]["id"] == "DOC-1"  # the bare-list form reads the same
    path.write_text(json.dumps(items))
    assert [i.id for i in read_queue(str(path))] == ["DOC-1", "42", "BIG-3", "CHORE-4"]
    path.write_text(json.dumps({"items": items}, indent=2))
    outcome = Loop(RunSettings(str(loop_repo.loop), grace=0.5), factory).run()
    assert outcome.stop is Stop.ESCALATIONS
    assert {r.item.id: r.status for r in outcome.records} == {"DOC-1": "drafted", "42": "escalated",
                                                              "BIG-3": "escalated", "CHORE-4": "skipped"}
    assert "index.md" in git(loop_repo.root, "show", "loop/docs-repair/DOC-1:docs/guide.md")


def test_a_json_queue_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"item": []}')
    with pytest.raises(QueueError, match=r'expected a list of items \(or \{"items": \[\.\.\.\]\}\)'):
        read_queue(str(path))


def test_a_json_queue_nested_past_the_recursion_limit_is_refused(loop_repo: LoopRepo) -> None:
    use_queue(loop_repo, "work-queue.json", "[" * 100_000 + "]" * 100_000)
    code, err = run_cli(loop_repo)
    assert code == 2, err
    assert "Traceback" not in err and "nested too deeply to be a work queue" in err, err
    nothing_written(loop_repo)
