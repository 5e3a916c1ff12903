"""Hostile input and environment on the command line: never a traceback, one clear line, exit 2,
nothing written half-way, and the fast entry (python -m loopgate) saying what click says.

Each test runs real processes in a tmp repository, on both entries where both take the command."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repo-maintenance"
FAST = [sys.executable, "-m", "loopgate"]
CLICK = [sys.executable, "-c", "from loopgate.cli.app import cli; cli(prog_name='loopgate')"]
ENTRIES = pytest.mark.parametrize("entry", [FAST, CLICK], ids=["fast", "click"])


def _env(**extra: str) -> dict[str, str]:
    unset = ("CI", "NO_COLOR", "FORCE_COLOR", "_LOOPGATE_COMPLETE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in unset}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return {**env, **extra}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=_env(), capture_output=True, check=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    shutil.copytree(EXAMPLE, root / "loop")
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# A\n\n[b](b.md)\n", "utf-8")
    (root / "docs" / "b.md").write_text("# B\n", "utf-8")
    return root


def _run(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=kwargs.pop("env", _env()), capture_output=True, text=True,
                          check=False, timeout=120, **kwargs)  # type: ignore[call-overload]


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single `loopgate: error:`-style line of a usage/input error (exit 2), no traceback."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


# -- bug3: --report FORMAT=FILE onto a symlink, a FIFO, /dev/stdout -------------------------------

@ENTRIES
def test_a_report_through_a_symlink_writes_its_target_and_keeps_the_link(repo: Path, entry: list[str]) -> None:
    (repo / "keep").mkdir()
    (repo / "keep" / "real.json").write_text("old", "utf-8")
    (repo / "link.json").symlink_to("keep/real.json")
    (repo / "dangling.json").symlink_to("keep/new.json")
    done = _run([*entry, "verify", "loop", "--report", "json=link.json", "--report", "json=dangling.json"], repo)
    assert done.returncode == 0, done.stderr
    assert (repo / "link.json").is_symlink() and (repo / "dangling.json").is_symlink()
    assert '"ok": true' in (repo / "keep" / "real.json").read_text("utf-8")
    assert '"ok": true' in (repo / "keep" / "new.json").read_text("utf-8")
    assert sorted(p.name for p in (repo / "keep").iterdir()) == ["new.json", "real.json"]  # no temp file left


@ENTRIES
def test_a_report_into_a_fifo_reaches_its_reader_and_the_fifo_stays(repo: Path, entry: list[str]) -> None:
    fifo = repo / "pipe.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = _run([*entry, "verify", "loop", "--report", "json=pipe.json"], repo)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert b'"ok": true' in got[0]


@ENTRIES
def test_a_report_to_dev_stdout_follows_the_text_output(repo: Path, entry: list[str]) -> None:
    out = repo / "out.txt"
    with out.open("wb") as handle:
        done = subprocess.run([*entry, "verify", "loop", "--report", "json=/dev/stdout"], cwd=repo, env=_env(),
                              stdout=handle, stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    text = out.read_text("utf-8")
    assert text.startswith("loopgate: ok") and '"ok": true' in text


@ENTRIES
@pytest.mark.parametrize("spelling", ["link", "//dev/stdout", "fd-folder"])
def test_a_report_reaching_stdout_another_way_still_follows_the_text_output(repo: Path, entry: list[str],
                                                                             spelling: str) -> None:
    # decided by the spelling alone, a symlink to /dev/stdout (or `//dev/stdout`, or a folder linked to
    # /dev/fd) was renamed over the shell's out.txt: loopgate's own text output was lost
    (repo / "tostdout").symlink_to("/dev/stdout")
    (repo / "fds").symlink_to("/dev/fd")
    target = {"link": "tostdout", "//dev/stdout": "//dev/stdout", "fd-folder": "fds/1"}[spelling]
    out = repo / "out.txt"
    with out.open("wb") as handle:
        done = subprocess.run([*entry, "verify", "loop", "--report", f"json={target}"], cwd=repo, env=_env(),
                              stdout=handle, stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    text = out.read_text("utf-8")
    assert text.startswith("loopgate: ok") and '"ok": true' in text, text
    assert (repo / "tostdout").is_symlink()


@ENTRIES
def test_a_report_file_gets_the_mode_a_shell_redirection_gives_it(repo: Path, entry: list[str]) -> None:
    # mkstemp's 0600 stayed on every report: a CI artifact uploader of another user could not read it
    (repo / "kept.json").write_text("{}", "utf-8")
    os.chmod(repo / "kept.json", 0o640)
    done = subprocess.run(["sh", "-c", 'umask 022; exec "$@"', "sh", *entry, "verify", "loop", "--report",
                           "json=new.json", "--report", "json=kept.json"], cwd=repo, env=_env(),
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((repo / "new.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((repo / "kept.json").stat().st_mode) == 0o640


@ENTRIES
def test_a_report_path_ending_in_a_slash_is_refused_not_made_a_file(repo: Path, entry: list[str]) -> None:
    done = _run([*entry, "verify", "loop", "--report", "json=new.json/"], repo)
    assert "cannot write new.json/" in _one_line_error(done)
    assert not (repo / "new.json").exists()


@ENTRIES
def test_a_report_to_a_missing_folder_is_an_input_error(repo: Path, entry: list[str]) -> None:
    done = _run([*entry, "verify", "loop", "--report", "json=nodir/x.json"], repo)
    assert "loopgate: error: cannot write nodir/x.json" in _one_line_error(done)


# -- bug10: a whole-number option past int()'s 4300-digit limit -------------------------------------

def test_a_number_too_long_for_int_is_clicks_invalid_value_on_both_entries(repo: Path) -> None:
    huge = "9" * 4301
    for args in (["gate", "links", "--offline", "--retries", huge, "docs"], ["gate", "scope", f"--max-files={huge}"]):
        fast, click = _run([*FAST, *args], repo), _run([*CLICK, *args], repo)
        assert "Invalid value for" in _one_line_error(fast)
        assert (fast.returncode, fast.stdout, fast.stderr) == (click.returncode, click.stdout, click.stderr)


# -- bug15: --files-from without end -----------------------------------------------------------------

def _endless_stdin(command: list[str], cwd: Path) -> tuple[int, str]:
    """Run `command` with a stdin that never ends (as `< /dev/zero`), fed until the process stops reading."""
    with subprocess.Popen(command, cwd=cwd, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        stdin = process.stdin
        assert stdin is not None and process.stderr is not None

        def feed() -> None:
            chunk = b"\0" * (1 << 20)
            try:
                while True:
                    stdin.write(chunk)
            except (OSError, ValueError):  # the reader stopped (or the pipe was closed): done
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            process.wait(120)
        finally:
            process.kill()
        feeder.join(30)
        err = process.stderr.read().decode()
    return process.returncode, err


@pytest.mark.parametrize("gate", [["forbidden"], ["scope", "--max-files", "3"], ["secrets"]])
def test_a_files_list_without_end_is_refused_past_64_mib(repo: Path, gate: list[str]) -> None:
    status, err = _endless_stdin([*FAST, "gate", *gate, "--files-from", "-"], repo)
    assert status == 2 and "Traceback" not in err
    assert "the list is larger than 64 MiB" in err
    big = repo / "big.list"
    with big.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: no disk, NULs as /dev/zero gives
    done = _run([*CLICK, "gate", *gate, "--files-from", "big.list"], repo)
    assert "the list is larger than 64 MiB" in _one_line_error(done) + done.stdout


# -- bug14: a --remap replacement naming a group its regex lacks ---------------------------------------

@ENTRIES
@pytest.mark.parametrize(("replacement", "said"), [("/$9/", "invalid group reference 9"),
                                                   ("/${x}/", "unknown group name 'x'")])
def test_a_remap_to_a_missing_group_is_a_usage_error(repo: Path, entry: list[str], replacement: str,
                                                     said: str) -> None:
    (repo / "docs" / "a.md").write_text("# A\n\n[x](/a/)\n", "utf-8")
    done = _run([*entry, "gate", "links", "--offline", "--remap", f"^/(a)/ {replacement}", "docs"], repo)
    err = _one_line_error(done)
    assert f"--remap '^/(a)/ {replacement}': the replacement does not fit '^/(a)/': {said}" in err
    (repo / "pyproject.toml").write_text(f'[tool.loopgate.gates.links]\nremap = ["^/(a)/ {replacement}"]\n', "utf-8")
    assert said in _one_line_error(_run([*entry, "gate", "links", "--offline", "docs"], repo))


# -- bug11: a pyproject.toml integer past int()'s 4300-digit limit ------------------------------------

@ENTRIES
def test_a_pyproject_integer_too_long_for_int_is_a_config_error(repo: Path, entry: list[str]) -> None:
    (repo / "pyproject.toml").write_text("[tool.loopgate]\nformat = " + "9" * 4301 + "\n", "utf-8")
    for args in (["verify", "loop"], ["gate", "links", "--offline", "docs"]):
        err = _one_line_error(_run([*entry, *args], repo))
        assert err == (f"loopgate: error: {repo / 'pyproject.toml'}: cannot read [tool.loopgate]: Exceeds the "
                       "limit (4300 digits) for integer string conversion: value has 4301 digits\n")


# -- bug9: output that cannot be written, other than a broken pipe ---------------------------------------

def _to_full_disk(command: list[str], cwd: Path) -> tuple[int, str]:
    """stdout on a device that is always full (every write: ENOSPC); written to, never replaced."""
    with open("/dev/full", "wb") as full:
        done = subprocess.run(command, cwd=cwd, env=_env(), stdout=full, stderr=subprocess.PIPE, text=True,
                              check=False, timeout=120)
    return done.returncode, done.stderr


def test_a_full_stdout_is_one_line_and_exit_2_on_both_entries(repo: Path) -> None:
    for args in (["verify", "loop"], ["gate", "links", "--offline", "docs"]):
        fast = _to_full_disk([*FAST, *args], repo)
        assert fast == (2, "loopgate: error: cannot write to stdout: No space left on device\n")
        assert _to_full_disk([*CLICK, *args], repo) == fast
    assert _to_full_disk([*FAST, "explain", "LG203"], repo) == (
        2, "loopgate: error: cannot write the output: No space left on device\n")


def test_an_stdout_encoding_without_the_reports_characters_is_one_line_and_exit_2(repo: Path) -> None:
    env = _env(PYTHONIOENCODING="latin-1")
    fast = _run([*FAST, "verify", "missing☃"], repo, env=env)
    click = _run([*CLICK, "verify", "missing☃"], repo, env=env)
    assert _one_line_error(fast).startswith("loopgate: error: cannot write to stdout: 'latin-1' codec can't encode")
    assert fast.stdout == ""  # the line that could not be encoded is not written in part
    assert (click.returncode, click.stdout, click.stderr) == (fast.returncode, fast.stdout, fast.stderr)


# -- bug8: a working directory removed under the shell ------------------------------------------------

@pytest.mark.parametrize("args", [["verify"], ["gate", "links", "--offline"], ["check"], ["verify", "--bogus"]])
def test_a_removed_working_directory_is_one_line_and_exit_2_on_both_entries(tmp_path: Path, args: list[str]) -> None:
    def in_removed_directory(entry: list[str]) -> tuple[int, str, str]:
        gone = tmp_path / "gone"
        gone.mkdir()
        # the shell enters it, removes it, then starts loopgate there (as a deleted worktree leaves a terminal)
        done = subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
                               *entry, *args], env=_env(), capture_output=True, text=True, check=False, timeout=120)
        return done.returncode, done.stdout, done.stderr

    fast = in_removed_directory(FAST)
    assert fast == (2, "", "loopgate: error: the current directory cannot be read (No such file or directory): "
                           "it was removed or is out of reach; cd to a directory that exists\n")
    assert in_removed_directory(CLICK) == fast
