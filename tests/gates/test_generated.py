"""The generated gate on real git repositories: up-to-date and stale artifacts, new and deleted
files, work in progress that must survive (modified, staged, untracked), --keep, failing and
missing generators, and a linked git worktree."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loopgate.gates import generated
from loopgate.gates.base import GateContext, GateStatus

from .conftest import Cli, Repo, git_env

PY = sys.executable

# A generator like a docs or code generator: out/ is made from the files in src/.
GENERATOR = textwrap.dedent("""\
    import pathlib
    root = pathlib.Path(__file__).resolve().parent
    out = root / "out"
    out.mkdir(exist_ok=True)
    for source in sorted((root / "src").glob("*.py")):
        (out / (source.stem + ".txt")).write_text("generated from " + source.name + "\\n"
                                                  + source.read_text(), encoding="utf-8")
    """)


def _tree(repo: Repo) -> dict[str, bytes]:
    """Every file in the work tree except .git, with its content: what "exactly as before" means."""
    found = {}
    for directory, subdirs, names in os.walk(repo.path):
        subdirs[:] = [d for d in subdirs if d != ".git"]
        for name in names:
            full = Path(directory, name)
            found[str(full.relative_to(repo.path))] = full.read_bytes()
    return found


@pytest.fixture
def gen_repo(repo: Repo) -> Repo:
    repo.write("gen.py", GENERATOR)
    repo.write("src/lib.py", "def lib():\n    return 1\n")
    repo.commit("generator")
    _run(repo)  # make out/ and commit it: the artifacts are up to date
    repo.git("add", "-A")
    repo.commit("generated output")
    return repo


def _run(repo: Repo) -> None:
    generated.run(generated.Options(argv=(PY, "gen.py"), keep=True),
                  GateContext(cwd=str(repo.path), env=None))


def test_up_to_date_artifacts_pass(gen_repo: Repo) -> None:
    result = gen_repo.gate(generated, argv=(PY, "gen.py"))
    assert result.status is GateStatus.PASSED, result.findings
    assert "changed nothing: the generated files are up to date" in result.summary
    assert gen_repo.git("status", "--porcelain") == ""


def test_stale_artifact_is_reported_at_the_first_changed_line_and_put_back(gen_repo: Repo) -> None:
    gen_repo.write("src/app.py", "print('hi')\nprint('more')\n")
    gen_repo.commit("source changed, out/ not regenerated")
    before = _tree(gen_repo)
    result = gen_repo.gate(generated, argv=(PY, "gen.py"))
    assert result.status is GateStatus.FAILED
    assert [(f.path, f.line, f.code) for f in result.findings] == [("out/app.txt", 3, "LG471")]
    assert result.findings[0].message == "regenerating changes out/app.txt (first difference at line 3)"
    assert _tree(gen_repo) == before
    assert gen_repo.git("status", "--porcelain") == ""


def test_new_and_deleted_files(gen_repo: Repo) -> None:
    gen_repo.write("src/extra.py", "x = 1\n")
    gen_repo.write("out/orphan.txt", "made from a source that is gone\n")
    gen_repo.commit("a new source, and an artifact whose source was removed")
    before = _tree(gen_repo)
    generator = "import os, runpy; runpy.run_path('gen.py'); os.remove('out/orphan.txt')"
    result = gen_repo.gate(generated, argv=(PY, "-c", generator))
    assert result.status is GateStatus.FAILED
    assert sorted((f.path, f.code) for f in result.findings) == [("out/extra.txt", "LG472"),
                                                                 ("out/orphan.txt", "LG473")]
    assert _tree(gen_repo) == before


def test_new_directories_are_removed_again(repo: Repo) -> None:
    result = repo.gate(generated, shell="mkdir -p build/deep/er && echo x > build/deep/er/out.txt")
    assert [(f.path, f.code) for f in result.findings] == [("build/deep/er/out.txt", "LG472")]
    assert not (repo.path / "build").exists()


def test_work_in_progress_is_neither_reported_nor_lost(gen_repo: Repo) -> None:
    # Before the generator runs: a modified tracked file, a staged one, an untracked one, a deleted one.
    gen_repo.write("README.md", "# demo, edited\n")
    gen_repo.write("docs/guide.md", "guide, staged\n")
    gen_repo.git("add", "docs/guide.md")
    gen_repo.write("notes.txt", "my untracked notes\n")
    (gen_repo.path / "src" / "app.py").unlink()
    status_before = gen_repo.git("status", "--porcelain")
    before = _tree(gen_repo)
    # An up-to-date generator that also rewrites the untracked notes with the same bytes: nothing to report.
    same = ("import pathlib, runpy; runpy.run_path('gen.py'); "
            "p = pathlib.Path('notes.txt'); p.write_bytes(p.read_bytes())")
    result = gen_repo.gate(generated, argv=(PY, "-c", same))
    assert result.status is GateStatus.PASSED, result.findings
    # A generator that touches the work in progress: each change is judged against the file's own earlier state.
    meddle = ("import pathlib; pathlib.Path('notes.txt').write_text('overwritten\\n'); "
              "pathlib.Path('README.md').unlink()")
    result = gen_repo.gate(generated, argv=(PY, "-c", meddle))
    assert result.status is GateStatus.FAILED
    assert sorted((f.path, f.code, f.line) for f in result.findings) == [("README.md", "LG473", 1),
                                                                        ("notes.txt", "LG471", 1)]
    assert _tree(gen_repo) == before
    assert gen_repo.git("status", "--porcelain") == status_before


def test_generator_reverting_a_local_edit_counts(gen_repo: Repo) -> None:
    gen_repo.write("out/lib.txt", "hand-edited generated file\n")
    result = gen_repo.gate(generated, argv=(PY, "gen.py"))
    assert [(f.path, f.code) for f in result.findings] == [("out/lib.txt", "LG471")]
    assert (gen_repo.path / "out" / "lib.txt").read_text() == "hand-edited generated file\n"


def test_keep_leaves_the_regenerated_files(gen_repo: Repo) -> None:
    gen_repo.write("src/app.py", "print('changed')\n")
    gen_repo.commit("source changed")
    result = gen_repo.gate(generated, argv=(PY, "gen.py"), keep=True)
    assert result.status is GateStatus.FAILED
    assert "left in place (--keep)" in result.summary
    assert "print('changed')" in (gen_repo.path / "out" / "app.txt").read_text()
    assert gen_repo.git("status", "--porcelain").strip() == "M out/app.txt"


def test_mode_change_is_a_change(gen_repo: Repo) -> None:
    result = gen_repo.gate(generated, shell="chmod +x out/lib.txt")
    assert [(f.path, f.message) for f in result.findings] == [
        ("out/lib.txt", "regenerating makes it executable: out/lib.txt")]
    assert not os.access(gen_repo.path / "out" / "lib.txt", os.X_OK)


def test_failing_generator_fails_and_its_changes_are_put_back(gen_repo: Repo) -> None:
    before = _tree(gen_repo)
    result = gen_repo.gate(generated, shell="echo half > out/lib.txt; echo 'template error' >&2; exit 4")
    assert result.status is GateStatus.FAILED
    assert [f.code for f in result.findings] == ["LG474"]
    assert "template error" in result.findings[0].hint
    assert "1 changed files put back" in result.summary
    assert _tree(gen_repo) == before


def test_missing_generator_is_an_environment_error(gen_repo: Repo) -> None:
    result = gen_repo.gate(generated, argv=("no-such-generator-xyz",))
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG464"]


def test_outside_a_repository_the_generator_is_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = generated.run(generated.Options(shell=f"touch {marker}"), GateContext(cwd=str(tmp_path)))
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG475"]
    assert not marker.exists()


def test_runs_in_a_linked_worktree_from_a_subdirectory(gen_repo: Repo, tmp_path: Path) -> None:
    worktree = tmp_path / "item-7"
    gen_repo.git("worktree", "add", "-q", "-b", "item-7", str(worktree))
    (worktree / "src" / "app.py").write_text("print('in the worktree')\n")
    main_before = _tree(gen_repo)
    result = gen_repo.gate(generated, cwd=worktree / "src", shell="cd .. && python3 gen.py")
    assert result.status is GateStatus.FAILED
    # Paths are relative to where the gate runs (src/ of the worktree).
    assert [(f.path, f.code) for f in result.findings] == [("../out/app.txt", "LG471")]
    assert "in the worktree" not in (worktree / "out" / "app.txt").read_text()
    assert gen_repo.git("-C", str(worktree), "status", "--porcelain").strip() == "M src/app.py"
    assert _tree(gen_repo) == main_before


def test_cli_exit_codes(gen_repo: Repo, cli: Cli) -> None:
    assert cli("generated", "--", PY, "gen.py", cwd=gen_repo.path).returncode == 0
    stale = cli("generated", "--shell", "echo stale >> out/lib.txt", cwd=gen_repo.path)
    assert stale.returncode == 1
    assert "out/lib.txt:4:1: LG471 regenerating changes out/lib.txt (first difference at line 4)" in stale.stdout
    assert cli("generated", cwd=gen_repo.path).returncode == 2
    assert gen_repo.git("status", "--porcelain") == ""


def test_the_gate_is_exclusive() -> None:
    from loopgate.gates.registry import gates

    assert gates()["generated"].exclusive
    assert not gates()["command"].exclusive


def test_a_generator_that_stages_its_output_is_undone_in_the_index_too(gen_repo: Repo) -> None:
    result = gen_repo.gate(generated, shell="echo extra >> out/lib.txt && echo new > out/new.txt && git add -A")
    assert sorted((f.path, f.code) for f in result.findings) == [("out/lib.txt", "LG471"), ("out/new.txt", "LG472")]
    assert gen_repo.git("status", "--porcelain") == ""


def test_paths_that_look_like_patterns_are_restored_literally(gen_repo: Repo) -> None:
    gen_repo.write("out/star*.txt", "literal\n")
    gen_repo.write("out/star-other.txt", "other\n")
    gen_repo.commit("odd names")
    result = gen_repo.gate(generated, shell="echo changed > 'out/star*.txt'")
    assert [f.path for f in result.findings] == ["out/star*.txt"]
    assert (gen_repo.path / "out" / "star*.txt").read_text() == "literal\n"
    assert gen_repo.git("status", "--porcelain") == ""


TO_IGNORED_DIRECTORY = ("rm README.md && mkdir -p README.md/sub && echo '*' > README.md/.gitignore && "
                        "echo x > README.md/sub/f")


def test_a_file_turned_into_a_directory_of_new_files_is_put_back(repo: Repo) -> None:
    repo.write("README.md", "work in progress\n")
    result = repo.gate(generated, shell="rm README.md && mkdir -p README.md/sub && echo x > README.md/sub/f")
    assert sorted((f.code, f.path) for f in result.findings) == [("LG471", "README.md"),
                                                                 ("LG472", "README.md/sub/f")]
    assert (repo.path / "README.md").read_text() == "work in progress\n"
    assert not _backups(repo)


def test_a_tree_that_cannot_be_put_back_is_an_environment_error_naming_the_file(repo: Repo, cli: Cli) -> None:
    # work in progress in a file the generator turns into a directory of ignored files (so not its own
    # changes to undo): the content cannot be written back
    repo.write("README.md", "work in progress\n")
    result = repo.gate(generated, shell=TO_IGNORED_DIRECTORY)
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG476"]
    assert "README.md" in result.findings[0].message
    # The work in progress survives on disk, and the message says where.
    [backup] = _backups(repo)
    assert f"the work in progress is saved in {backup}" in result.findings[0].message
    assert (backup / "tree" / "README.md").read_text() == "work in progress\n"
    shutil.rmtree(backup)
    shutil.rmtree(repo.path / "README.md")
    repo.git("checkout", "--", "README.md")
    repo.write("docs/guide.md", "edited\n")
    done = cli("generated", "--shell", "echo changed > src/app.py && echo junk > .git/index", cwd=repo.path)
    assert done.returncode == 2  # git itself refuses the broken index: the tree was not put back
    assert "LG476" in done.stdout and "Traceback" not in done.stderr


def test_a_negative_or_nan_timeout_is_a_usage_error_and_nothing_runs(gen_repo: Repo, cli: Cli) -> None:
    before = _tree(gen_repo)
    for timeout in ("-1", "nan"):
        done = cli("generated", "--timeout", timeout, "--shell", "echo changed > out/lib.txt", cwd=gen_repo.path)
        assert done.returncode == 2
        assert "LG469" in done.stdout
    assert _tree(gen_repo) == before


def _backups(repo: Repo) -> list[Path]:
    folder = repo.path / ".git" / "loopgate" / "generated-backup"
    return sorted(folder.iterdir()) if folder.exists() else []


def _start(repo: Repo, generator: str) -> tuple[subprocess.Popen[str], int]:
    """`loopgate gate generated` as a real process, once its generator is running: (gate, generator's pid)."""
    gate = subprocess.Popen([PY, "-m", "loopgate", "gate", "generated", "--shell", generator], cwd=repo.path,
                            env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = repo.path / "gen.pid"
    for _ in range(600):  # poll, no fixed sleep: until the generator has written its pid (or 60 s)
        if marker.exists() and marker.read_text().strip():
            return gate, int(marker.read_text())
        time.sleep(0.1)
    gate.kill()
    raise AssertionError(f"the generator never started: {gate.communicate()}")


def _gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


# The generator overwrites the work in progress, says it has started, and hangs; one of them ignores
# SIGTERM (and so does its sleep: an ignored signal stays ignored across exec), so only SIGKILL ends it.
HANGING = "echo gen > a.txt; echo $$ > gen.pid; sleep 60"
STUBBORN = "trap '' TERM; echo gen > a.txt; echo $$ > gen.pid; sleep 60"


@pytest.mark.parametrize(("sig", "generator"), [(signal.SIGTERM, STUBBORN), (signal.SIGINT, HANGING)])
def test_a_signal_stops_the_generator_and_puts_the_work_in_progress_back(repo: Repo, sig: signal.Signals,
                                                                         generator: str) -> None:
    repo.write("a.txt", "base\n")
    repo.commit("a")
    repo.write("a.txt", "USERWORK\n")
    gate, generator_pid = _start(repo, generator)
    # Before the generator ran, the work in progress was saved on disk.
    [backup] = _backups(repo)
    assert (backup / "tree" / "a.txt").read_text() == "USERWORK\n"
    assert json.loads((backup / "manifest.json").read_text())["files"] == [
        {"path": "a.txt", "kind": "file", "executable": False}]
    gate.send_signal(sig)
    out, err = gate.communicate(timeout=60)
    assert gate.returncode == 2, (out, err)
    assert f"LG477 interrupted by {sig.name}: the generator" in out
    assert "LG471" not in out
    assert f"environment error: interrupted by {sig.name}" in err
    assert (repo.path / "a.txt").read_text() == "USERWORK\n"
    assert not (repo.path / "gen.pid").exists()
    assert repo.git("status", "--porcelain") == " M a.txt\n"
    assert _gone(generator_pid), "the generator's process group was stopped"
    assert not (repo.path / ".git" / "loopgate").exists(), "the backup is removed once the tree is back"


def test_after_a_sigkill_the_backup_survives_and_the_next_run_refuses(repo: Repo, cli: Cli) -> None:
    repo.write("a.txt", "base\n")
    repo.commit("a")
    repo.write("a.txt", "USERWORK\n")
    gate, generator_pid = _start(repo, HANGING)
    gate.kill()
    gate.communicate(timeout=60)
    os.killpg(generator_pid, signal.SIGKILL)  # the generator runs in its own session: SIGKILL left it running
    assert (repo.path / "a.txt").read_text() == "gen\n"  # the gate had no chance to put it back
    [backup] = _backups(repo)
    assert (backup / "tree" / "a.txt").read_text() == "USERWORK\n"
    refused = cli("generated", "--shell", "echo again > a.txt", cwd=repo.path)
    assert refused.returncode == 2
    assert f"LG478 a backup of work in progress is still in {backup} (from `{HANGING}`" in refused.stdout
    assert (repo.path / "a.txt").read_text() == "gen\n"  # the generator was not run
    # The recovery the message gives.
    subprocess.run(["cp", "-a", f"{backup}/tree/.", f"{repo.path}/"], check=True)
    shutil.rmtree(backup)
    (repo.path / "gen.pid").unlink()
    assert (repo.path / "a.txt").read_text() == "USERWORK\n"
    assert cli("generated", "--shell", "true", cwd=repo.path).returncode == 0


def test_no_backup_is_left_after_a_normal_run(gen_repo: Repo) -> None:
    gen_repo.write("notes.txt", "work in progress\n")
    result = gen_repo.gate(generated, shell="echo stale >> out/lib.txt")
    assert result.status is GateStatus.FAILED
    assert not (gen_repo.path / ".git" / "loopgate").exists()
