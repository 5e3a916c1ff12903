"""What keeps the links gate's cold start within 2x of lychee's (bench/bench_links_cold.py), held
here as behaviour, not time: a gate run imports neither `typing` nor `subprocess`; options are typed
without `typing` exactly as with it; HEAD is asked of git once, started before the imports; the
generated record methods, gitignore regexes and pyproject tables are kept between processes, and a
bad memo file is ignored."""

from __future__ import annotations

import binascii
import builtins
import marshal
import os
import subprocess
import sys
import time
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from loopgate import _memo, _records
from loopgate.cli.gaterun import option_types, unwrap
from loopgate.gates import _patterns, registry

PROBE = """import os, sys
sys.argv = ['loopgate', 'gate', 'links', '--offline', '.']
real = os._exit
def end(code):
    sys.stderr.write('\\nloaded=' + ','.join(m for m in ('typing', 'subprocess') if m in sys.modules) + '\\n')
    sys.stderr.flush()
    real(code)
os._exit = end
from loopgate.cli.main import main
main()
"""


def _repository(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "a.md").write_text("# A\n\n[b](b.md) [here](#a)\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_a_links_gate_run_imports_neither_typing_nor_subprocess(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=_repository(tmp_path), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1 and "b.md" in done.stdout, done.stdout + done.stderr  # the gate ran, with git
    assert "loaded=\n" in done.stderr, done.stderr


def _git_first_on_path(tmp_path: Path, script: str) -> dict[str, str]:
    """An environment whose PATH finds a `git` running `script` (sh) first."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "git").write_text("#!/bin/sh\n" + script, encoding="utf-8")
    (folder / "git").chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_head_is_asked_of_git_once_the_look_ahead_is_used(tmp_path: Path) -> None:
    # a `git` on PATH that logs each call and hands over to the real one
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    log = tmp_path / "calls"
    env = _git_first_on_path(tmp_path, f'echo "$*" >> {log}\nexec {real_git} "$@"\n')
    repo = _repository(tmp_path / "repo")
    done = subprocess.run([sys.executable, "-m", "loopgate", "gate", "links", "--offline", "."], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert sum("rev-parse --show-toplevel" in c for c in calls) == 1, calls
    assert "ls-files" in calls[-1], calls


def test_option_types_without_typing_are_what_typing_reads() -> None:
    for name, spec in registry.gates().items():
        expected = {n: unwrap(h) for n, h in typing.get_type_hints(spec.options).items()}
        assert option_types(spec.options) == expected, name


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(_memo, "FOLDER", str(tmp_path / "__pycache__"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return lambda: _memo.DiskMemo("test", "1", lambda value: isinstance(value, types.CodeType))


def test_the_methods_are_compiled_once_across_processes(memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_records, "_METHODS", memo())
    source = "def f(x):\n    return x + 1\n"
    first = _records._code_for(source)
    monkeypatch.setattr(_records, "_METHODS", memo())  # as a new process

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("compiled again")

    monkeypatch.setattr(builtins, "compile", refuse)
    again = _records._code_for(source)
    names: dict[str, Any] = {}
    exec(again, names)
    assert again == first and names["f"](1) == 2


def _framed(made: Any, payload: bytes) -> bytes:
    return made.head + b" %d\n" % binascii.crc32(payload) + payload


@pytest.mark.parametrize("content", [b"", b"garbage", b"loopgate-memo test 1 0 0\n" + marshal.dumps({"k": 1}),
                                     b"HEAD\n" + marshal.dumps({})])
def test_a_memo_file_that_does_not_read_back_is_ignored(memo: Any, content: bytes) -> None:
    made = memo()
    os.makedirs(os.path.dirname(made.path))
    with open(made.path, "wb") as handle:
        handle.write(content.replace(b"HEAD\n", made.head + b" 0\n"))
    assert made.get("k") is None
    # an entry of the wrong kind under the right head and checksum is dropped, not handed out
    with open(made.path, "wb") as handle:
        handle.write(_framed(made, marshal.dumps({"k": "not code"})))
    assert memo().get("k") is None


def test_a_damaged_memo_is_ignored_not_run(memo: Any) -> None:
    # marshal reads damaged code into code that crashes the interpreter when run (a hostile review's
    # byte flips: SystemError, "unknown opcode", SIGSEGV): the checksum keeps it from being used
    made = memo()
    made.put("k", compile("def f(x):\n    return [x, x * 2, {'a': x}]\n", "<t>", "exec"))
    made.flush()
    with open(made.path, "rb") as handle:
        good = handle.read()
    start = good.index(b"\n") + 1
    for position in range(start, len(good), max(1, (len(good) - start) // 200)):
        damaged = bytearray(good)
        damaged[position] ^= 0xFF
        with open(made.path, "wb") as handle:
            handle.write(bytes(damaged))
        assert memo().get("k") is None, position
    with open(made.path, "wb") as handle:
        handle.write(good[:-3])  # cut short
    assert memo().get("k") is None


def test_many_new_entries_are_one_write(memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    made = memo()
    writes: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (writes.append(str(b)), real(a, b)))
    for number in range(1000):
        made.put(str(number), compile(str(number), "<t>", "eval"))
    made.flush()
    made.flush()  # nothing new: nothing written
    assert writes == [made.path] and len(memo()._read()) == 1000


def test_nothing_is_written_where_python_writes_no_bytecode(memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    made = memo()
    made.put("k", compile("1", "<t>", "eval"))
    made.flush()
    assert made.get("k") is not None and not os.path.exists(made.path)


def test_gitignore_regexes_are_kept_with_pathspecs_answers(memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathspec import GitIgnoreSpec

    monkeypatch.setattr(_patterns, "_MADE", None)
    texts = ["docs/**", "*.md", "!keep.md", "a\\ b", "x/**/y/", "[", "/root.txt"]
    first = [_patterns.gitignore_regex(t) for t in texts]
    assert _patterns._MADE is not None
    _patterns._MADE.flush()  # as RuleSet does once it has made its patterns
    for text, made in zip(texts, first, strict=True):
        (pattern,) = GitIgnoreSpec.from_lines([text]).patterns
        assert made == ("ok", pattern.regex.pattern if pattern.regex is not None else None, pattern.include)
    monkeypatch.setattr(_patterns, "_MADE", None)  # as a new process: read back, not made again
    monkeypatch.setattr(GitIgnoreSpec, "from_lines", None)
    assert [_patterns.gitignore_regex(t) for t in texts] == first


def test_a_configured_links_run_imports_no_pathspec_nor_tomllib_once_they_are_kept(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    (repo / "pyproject.toml").write_text(f'[project]\nname = "t{os.getpid()}"\n\n[tool.loopgate.gates.links]\n'
                                         'exclude = ["vendor/**"]\n', encoding="utf-8")  # a text not seen before
    probe = PROBE.replace("('typing', 'subprocess')", "('pathspec', 'inspect', 'tomllib', 'typing')")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = [subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=False,
                           env=env) for _ in range(2)]
    assert all(run.returncode == 1 and "b.md" in run.stdout for run in runs), runs
    assert "tomllib" in runs[0].stderr and "loaded=\n" in runs[1].stderr, (runs[0].stderr, runs[1].stderr)


def test_a_kept_pyproject_table_is_still_checked_and_never_shared(memo: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from loopgate import config

    monkeypatch.setattr(config, "_PARSED", _memo.DiskMemo("tables", "1", lambda value: isinstance(value, dict)))
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.loopgate.gates.links]\nexclude = ["a/**"]\n', encoding="utf-8")
    first = config.load_config(str(folder))
    first.values["gates"]["links"]["exclude"].append("changed by a caller")
    monkeypatch.setattr(config, "_PARSED", _memo.DiskMemo("tables", "1", lambda value: isinstance(value, dict)))
    parser = config._tomllib
    monkeypatch.setattr(config, "_tomllib", None)  # as a new process: read back, not parsed again
    assert config.load_config(str(folder)).values == {"gates": {"links": {"exclude": ["a/**"]}}}
    # what the table says is checked on every read, kept or not
    (folder / "pyproject.toml").write_text('[tool.loopgate.gates.linx]\nexclude = []\n', encoding="utf-8")
    monkeypatch.setattr(config, "_tomllib", parser)
    for _ in range(2):
        with pytest.raises(config.ConfigError, match="unknown gate"):
            config.load_config(str(folder))


@pytest.mark.parametrize("args", [["gate", "links", "--help"], ["gate", "links", "--jobs", "x"], ["verify", "--nope"]])
def test_a_look_ahead_git_not_asked_for_does_not_outlive_loopgate(tmp_path: Path, args: list[str]) -> None:
    pid_file = tmp_path / "pid"
    env = _git_first_on_path(tmp_path, f"echo $$ > {pid_file}\nexec sleep 60\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=_repository(tmp_path / "repo"), env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode in (0, 2) and time.monotonic() - started < 30, done.stdout + done.stderr
    deadline = time.monotonic() + 5
    while not pid_file.exists() and time.monotonic() < deadline:  # (the shell may not have written it yet)
        time.sleep(0.05)
    if pid_file.exists():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
