"""No progress, proven on the cases agents produce: a different diff with the same failure, and the
same failure told with other timings, pids, addresses and line numbers; a failure that really
changes is not "no progress". And a suppression marker that was already in the file is the
user's, not the maker's. Real maker processes, real gate processes, a real git repository."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from loopgate.runner.loop import Loop, RunSettings, normalise_failure
from loopgate.runner.tamper import added_suppressions

from .conftest import CHECKLIST, LoopRepo, PlanFactory, git

# every link in docs/guide.md to a file docs/ lacks, told the way real tools tell it: with the time it
# took, its pid and an object address, none of which says anything about the failure
CHECK_TIMED = """\
import os, pathlib, re, sys, time
start = time.perf_counter()
lines = pathlib.Path("docs/guide.md").read_text().splitlines()
broken = [(n, m.start() + 1, m.group(1)) for n, text in enumerate(lines, 1)
          for m in re.finditer(r"\\]\\(([^)]+)\\)", text) if not pathlib.Path("docs", m.group(1)).exists()]
for n, col, target in broken:
    print(f"docs/guide.md:{n}:{col}: link to {target} is broken")
print(f"checked {len(lines)} lines in {time.perf_counter() - start:.6f}s (pid {os.getpid()}, at {hex(id(lines))})")
sys.exit(1 if broken else 0)
"""

# attempt N puts N note lines above the link: the diff and the failure's line number change each time
NOTES_ABOVE = """\
import os, pathlib
path = pathlib.Path("docs/guide.md")
notes = "".join(f"<!-- note {i} -->\\n" for i in range(int(os.environ["LOOPGATE_ATTEMPT"])))
path.write_text(notes + path.read_text())
"""

# attempt N points the link at a different missing file: a new failure each time
NEW_TARGET = """\
import os, pathlib
path = pathlib.Path("docs/guide.md")
target = ["alpha", "beta", "gamma", "delta"][int(os.environ["LOOPGATE_ATTEMPT"]) - 1]
path.write_text(path.read_text().replace("missing.md", target + ".md"))
"""


def python_maker(tmp_path: Path, name: str, source: str) -> str:
    script = tmp_path / f"{name}.py"  # outside the repository: the maker's own code is not its diff
    script.write_text(source)
    return f"{sys.executable} {script}"


def use_timed_checker(repo: LoopRepo) -> None:
    (repo.root / "check_timed.py").write_text(CHECK_TIMED)
    (repo.loop / "quality-gate-checklist.md").write_text(
        CHECKLIST.format(python=sys.executable).replace("check_links.py", "check_timed.py"))
    repo.commit("a checker that reports timings")


def run_doc(repo: LoopRepo, factory: PlanFactory) -> dict[str, Any]:
    outcome = Loop(RunSettings(str(repo.loop), max_items=1, grace=0.5), factory).run()
    report = json.loads(Path(outcome.report_path).read_text())
    doc: dict[str, Any] = next(i for i in report["items"] if i["id"] == "DOC-1")
    return doc


def test_a_different_diff_with_the_same_failure_is_no_progress(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    loop_repo.set_spec('echo "note from attempt $LOOPGATE_ATTEMPT" >> docs/guide.md', iterations=4)
    doc = run_doc(loop_repo, factory)
    first, second = doc["attempts"]
    assert first["diff_sha256"] != second["diff_sha256"]  # the maker did something different...
    assert first["signature"] == second["signature"]  # ...and the checker saw the same failure
    assert doc["status"] == "escalated"
    assert doc["reason"].startswith("no progress across 2 consecutive attempts")


def test_the_same_failure_apart_from_timings_and_numbers_is_no_progress(loop_repo: LoopRepo, factory: PlanFactory,
                                                                        tmp_path: Path) -> None:
    use_timed_checker(loop_repo)
    loop_repo.set_spec(python_maker(tmp_path, "notes", NOTES_ABOVE), iterations=4)
    doc = run_doc(loop_repo, factory)
    first, second = doc["attempts"]
    tails = [next(g for g in a["gates"] if g["gate"] == "links")["output_tail"] for a in (first, second)]
    assert tails[0] != tails[1]  # other line numbers, timings, pids and addresses in the raw output
    assert "docs/guide.md:4:" in tails[0] and "docs/guide.md:5:" in tails[1]
    assert normalise_failure(tails[0]) == normalise_failure(tails[1])
    assert first["diff_sha256"] != second["diff_sha256"]
    assert doc["status"] == "escalated"
    assert doc["reason"].startswith("no progress across 2 consecutive attempts")


def test_a_failure_that_changes_each_attempt_is_not_no_progress(loop_repo: LoopRepo, factory: PlanFactory,
                                                                tmp_path: Path) -> None:
    use_timed_checker(loop_repo)
    loop_repo.set_spec(python_maker(tmp_path, "targets", NEW_TARGET), iterations=3)
    doc = run_doc(loop_repo, factory)
    assert [a["verdict"] for a in doc["attempts"]] == ["failed", "failed", "failed"]
    assert len({a["signature"] for a in doc["attempts"]}) == 3
    assert "link to beta.md is broken" in doc["attempts"][1]["feedback"]
    assert doc["status"] == "escalated"
    assert doc["reason"].startswith("gates still failing after 3 attempts")


# -- a suppression that was already there ------------------------------------------------------------------------

FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"


@pytest.mark.parametrize("guide", [
    # the marker is a context line of the maker's diff
    "# Guide\n\n<!-- loopgate: disable-next-line links -->\nRead [the index](missing.md).\n",
    # the marker sits on the very line the maker edits, and stays as it was
    "# Guide\n\nRead [the index](missing.md). <!-- loopgate: disable-line links -->\n",
])
def test_a_suppression_already_in_the_file_is_not_the_makers(loop_repo: LoopRepo, factory: PlanFactory,
                                                             guide: str) -> None:
    (loop_repo.root / "docs" / "guide.md").write_text(guide)
    loop_repo.set_spec(FIX)  # also commits the guide: the marker is in the base the maker starts from
    doc = run_doc(loop_repo, factory)
    assert doc["status"] == "drafted", doc["reason"]
    assert "loopgate: disable" in git(loop_repo.root, "show", "loop/docs-repair/DOC-1:docs/guide.md")


@pytest.mark.parametrize("maker", [
    # a copy of the person's marker, now covering the line the maker broke
    "sed -i 's/missing.md/index.md/; $a <!-- loopgate: disable-next-line links -->\\n[x](gone.md)' docs/guide.md",
    # the person's marker moved onto another line
    "sed -i 's/ <!-- loopgate: disable-line links -->//; s/missing.md/index.md/; "
    "$a [x](gone.md) <!-- loopgate: disable-line links -->' docs/guide.md",
])
def test_a_copied_or_moved_marker_is_the_makers(loop_repo: LoopRepo, factory: PlanFactory, maker: str) -> None:
    guide = "# Guide\n\nRead [the index](missing.md). <!-- loopgate: disable-line links -->\n"
    (loop_repo.root / "docs" / "guide.md").write_text(guide)
    loop_repo.set_spec(maker)
    doc = run_doc(loop_repo, factory)
    assert doc["status"] == "escalated"
    assert doc["reason"].startswith("the maker added a gate suppression: docs/guide.md:")


def diff_of(old: str, new: str) -> str:
    removed = "".join(f"-{line}\n" for line in old.splitlines())
    added = "".join(f"+{line}\n" for line in new.splitlines())
    return f"--- a/app.py\n+++ b/app.py\n@@ -1,{len(old.splitlines())} +1,{len(new.splitlines())} @@\n{removed}{added}"


@pytest.mark.parametrize(("old", "new", "flagged"), [
    # an edited line that keeps its pragma: the person's allowlisting, still about the same line
    ('KEY = "a"  # pragma: allowlist secret\n', 'KEY = "b"  # pragma: allowlist secret\n', []),
    ('KEY = "a"  # pragma: allowlist secret\n', 'KEY = "b"  # Pragma:  Allowlist   secret\n', []),
    # the pragma added to a line that had none
    ('KEY = "a"\n', 'KEY = "b"  # pragma: allowlist secret\n', [1]),
    # a line inserted above shifts the pragma'd line: the pragma now sits on another line of the block
    ('KEY = "a"  # pragma: allowlist secret\n', 'OTHER = "x"\nKEY = "a"  # pragma: allowlist secret\n', [2]),
    # two markers where there was one
    ('KEY = "a"  # pragma: allowlist secret\n',
     'KEY = "a"  # pragma: allowlist secret\nTOKEN = "b"  # pragma: allowlist secret\n', [2]),
    # the same words for another gate are another marker
    ("x = 1  # loopgate: disable links\n", "x = 2  # loopgate: disable secrets\n", [1]),
])
def test_a_marker_is_kept_only_on_the_line_it_was_on(old: str, new: str, flagged: list[int]) -> None:
    assert [a.line for a in added_suppressions(diff_of(old, new))] == flagged


# a checker whose complaint changes every time it runs (a flaky gate), whatever the change: gates run
# in a sandbox with nothing of theirs kept between runs, so it draws its word at random (letters
# past f, which the normaliser never takes for an address or a hash)
CHECK_FLAKY = """\
import random, sys
word = "".join(random.choice("ghijklmnopqrstuvwxyz") for _ in range(16))
print("docs/guide.md: the " + word + " check failed")
sys.exit(1)
"""


def test_the_same_diff_with_a_different_failure_is_no_progress(loop_repo: LoopRepo, factory: PlanFactory,
                                                               tmp_path: Path) -> None:
    checker = tmp_path / "check_flaky.py"  # outside the repository, so the maker's change never reaches it
    checker.write_text(CHECK_FLAKY)
    (loop_repo.loop / "quality-gate-checklist.md").write_text(CHECKLIST.format(python=sys.executable).replace(
        "check_links.py", str(checker)))
    loop_repo.commit("a flaky checker")
    # each attempt starts from the base and makes the very same change
    loop_repo.set_spec('echo "a note" >> docs/guide.md', iterations=4)
    doc = run_doc(loop_repo, factory)
    first, second = doc["attempts"]
    assert first["diff_sha256"] == second["diff_sha256"]  # the same change...
    assert first["signature"] != second["signature"]  # ...told as a different failure
    assert second["no_progress"] == "same diff"
    assert doc["status"] == "escalated"
    assert doc["reason"].startswith("no progress across 2 consecutive attempts (same diff)"), doc["reason"]
