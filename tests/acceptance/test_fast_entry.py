"""The fast entry (cli/fast.py) against the click command line (cli/app.py), issues 9 and 10.

`loopgate verify` and `loopgate gate NAME` start without click when their arguments are plain;
everything else goes to click. Whichever way a command line goes, what the user sees must be the
same: these tests run each argument vector both ways, as real processes in a real repository, and
compare stdout, stderr, the exit status and any `--report` file byte for byte. A second test holds
the fast parser to click's own parse of a few thousand generated vectors for every gate.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import pytest

from loopgate.cli import fast
from loopgate.cli.app import verify
from loopgate.cli.gates import command_for
from loopgate.gates.base import GateContext, GateResult, GateSpec, opt
from loopgate.gates.registry import gates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repo-maintenance"
FAST = [sys.executable, "-m", "loopgate"]
CLICK = [sys.executable, "-c", "from loopgate.cli.app import cli; cli(prog_name='loopgate')"]


def _git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)


def _env(extra: dict[str, str]) -> dict[str, str]:
    unset = ("CI", "NO_COLOR", "FORCE_COLOR", "_LOOPGATE_COMPLETE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_")) and k not in unset}
    return {**env, **extra}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed repository: a clean loop, a loop with findings, markdown with one broken link, JSON
    data and a schema, a pyproject.toml with a gate table; one file staged on top."""
    root = tmp_path_factory.mktemp("fast") / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "t")
    _git(root, "config", "user.email", "t@example.invalid")
    shutil.copytree(EXAMPLE, root / "loop")
    shutil.copytree(EXAMPLE, root / "broken")
    state = root / "broken" / "LOOP_STATE.md"
    state.write_text(state.read_text("utf-8").replace("- status:", "- statuss:", 1), "utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# A\n\n[b](b.md) [gone](gone.md) [anchor](b.md#nope) "
                                        "[web](https://example.invalid/x)\n", "utf-8")
    (root / "docs" / "b.md").write_text("# B\n\nback to [a](a.md#a)\n", "utf-8")
    (root / "data.json").write_text('{"n": 1}\n', "utf-8")
    (root / "bad.json").write_text('{"n": "one"}\n', "utf-8")
    (root / "schema.json").write_text('{"type": "object", "properties": {"n": {"type": "integer"}}}\n', "utf-8")
    (root / "pyproject.toml").write_text('[tool.loopgate.gates.links]\nignore = ["^mailto:"]\n', "utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "start")
    (root / "notes.md").write_text("# Notes\n\n[a](docs/a.md)\n", "utf-8")
    _git(root, "add", "notes.md")
    return root


# A gate's run time is the one thing two runs print differently (json "duration", text "(0.01s)",
# junit time="...", markdown's table): blanked alike in both.
_TIMES = re.compile(rb'("duration": ?)[0-9.e-]+|(time=")[0-9.]+"|\b[0-9]+\.[0-9]+s\b')


def _run(command: list[str], cwd: Path, env: dict[str, str], stdin: bytes) -> tuple[int, bytes, bytes, bytes]:
    """(exit status, stdout, stderr, the --report file's bytes or b"") of one whole process, times blanked."""
    report = cwd / "report.out"
    report.unlink(missing_ok=True)
    done = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, check=False, timeout=120)
    written = report.read_bytes() if report.exists() else b""
    report.unlink(missing_ok=True)
    return done.returncode, _untimed(done.stdout), _untimed(done.stderr), _untimed(written)


def _untimed(data: bytes) -> bytes:
    return _TIMES.sub(lambda m: (m.group(1) or m.group(2) or b"") + b"T", data)


# (argument vector, extra environment, stdin, whether the fast entry takes it)
Vector = tuple[tuple[str, ...], dict[str, str], bytes, bool]
FORMATS = ["text", "json", "github", "sarif", "junit", "markdown"]


def _vectors() -> Iterator[Vector]:
    def v(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"", fast: bool = True) -> Vector:
        return args, env or {}, stdin, fast

    # verify: every format, flags both ways, paths of every kind
    yield v("verify", "loop")
    yield v("verify", "broken")
    yield v("verify")  # no loop in the repository's root: an input error
    for fmt in ["auto", *FORMATS]:
        yield v("verify", "--format", fmt, "broken")
        yield v("verify", f"--format={fmt}", "loop", "broken")
    yield v("verify", "broken", "--strict")
    yield v("verify", "--no-strict", "--strict", "--no-strict", "broken")
    yield v("verify", "--color", "broken")
    yield v("verify", "--no-color", "--format", "text", "broken")
    yield v("verify", "--report", "json=report.out", "broken")
    yield v("verify", "--report=sarif=report.out", "--format", "junit", "loop")
    yield v("verify", "missing/path")
    yield v("verify", "loop/LOOP_STATE.md")
    yield v("verify", "-")
    yield v("verify", "--", "--strict")
    yield v("verify", "loop", "--", "broken")
    yield v("verify", "broken", env={"GITHUB_ACTIONS": "true"})
    yield v("verify", "broken", env={"FORCE_COLOR": "1"})
    yield v("verify", "broken", env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    yield v("verify", "broken", "--format", "json", env={"PYTHONIOENCODING": "ascii"})  # click rewraps stdout
    yield v("verify", "broken", env={"PYTHONIOENCODING": "latin-1", "FORCE_COLOR": "1"})
    yield v("verify", "broken", "missing\udcff/é")  # a path that is not UTF-8, and one that is not ASCII
    yield v("verify", "--report", "json=no-such-dir/report.json", "broken")  # cannot write: exit 2
    # verify: what click answers (help, usage errors)
    for args in (["-h"], ["--help"], ["loop", "--help"], ["--bogus"], ["-x"], ["--strict=yes"], ["--format"],
                 ["--format", "JSON"], ["--format="], ["--report", "bogus"], ["--report=xml=f"], ["--report"],
                 ["--color=1"], ["--stric"]):
        yield v("verify", *args, fast=False)
    yield v("verify", "loop", env={"_LOOPGATE_COMPLETE": "bash_complete", "COMP_WORDS": "loopgate ver",
                                   "COMP_CWORD": "1"}, fast=False)
    # gate NAME: every format, options of every kind
    for fmt in FORMATS:
        yield v("gate", "links", "--offline", "--format", fmt, "docs")
    yield v("gate", "links", "--offline", "docs", "notes.md")
    yield v("gate", "links", "--offline", "--exclude", "docs/b.md", "--ignore", "gone", "--ignore=nope", ".")
    yield v("gate", "links", "--offline", "--retries", "5", "--request-timeout=2.5", "--backoff", "0", "docs")
    yield v("gate", "links", "--no-offline", "--offline", "--color", "docs")
    yield v("gate", "links", "--offline", "--report", "markdown=report.out", "docs")
    yield v("gate", "links", "--offline", "missing.md")
    yield v("gate", "links", "--offline", "missing\udcff.md", env={"PYTHONIOENCODING": "ascii"})
    yield v("gate", "links", "--offline", "--", "docs")
    yield v("gate", "schema", "--schema", "schema.json", "data.json", "bad.json")
    yield v("gate", "schema", "--schema=missing.json", "data.json")
    yield v("gate", "schema", "--builtin", "nosuch", "data.json")
    yield v("gate", "schema", "--schema", "schema.json", "--jobs", "1", "--format", "sarif", "bad.json")
    yield v("gate", "secrets")
    yield v("gate", "secrets", "--files-from", "-", stdin=b"notes.md\n")
    yield v("gate", "forbidden", "--base", "HEAD", "--format", "json")
    yield v("gate", "forbidden", "--base", "no-such-ref")
    yield v("gate", "scope", "--allow", "docs/**", "--max-files", "3")
    yield v("gate", "scope", "--spec", "loop/LOOP_SPEC.md", "--format", "github")
    yield v("gate", "command", "--shell", "echo out; echo err >&2; exit 3")
    yield v("gate", "command", "--timeout", "30", "--", "true")
    yield v("gate", "command", "--", "sh", "-c", "exit 0", "--format", "json")
    yield v("gate", "command", "--shell", "true", "--cwd", "missing-dir")
    yield v("gate", "links", "--offline", "docs", env={"GITHUB_ACTIONS": "true"})
    yield v("gate", "links", "--offline", "docs", env={"FORCE_COLOR": "1"})
    yield v("gate", "secrets", env={"CI": "true"})
    yield v("gate", "links", "--offline", "--format", "json", "docs", env={"CI": "true"})
    yield v("verify", "loop", "broken", env={"CI": "true"})
    # gate NAME: what click answers
    for args in (["gate"], ["gate", "--help"], ["gate", "-h", "links"], ["gate", "nosuch"], ["gate", "Links"],
                 ["gate", "links", "--help"], ["gate", "links", "-h"], ["gate", "links", "--offline=1"],
                 ["gate", "links", "--retries", "-1"], ["gate", "links", "--retries", "abc"],
                 ["gate", "links", "--retries=1000"], ["gate", "links", "--request-timeout", "nan"],
                 ["gate", "links", "--request-timeout", "1e3"], ["gate", "links", "--exclude"],
                 ["gate", "links", "--format", "xml"], ["gate", "links", "--bogus"], ["gate", "links", "-o"],
                 ["gate", "secrets", "--allow-new-pragmas=no"], ["gate", "scope", "--max-files", " 3"],
                 ["gate", "command", "--timeout", "-5", "--", "true"], ["gate", "links", "--report", "json"],
                 ["--no-color", "gate", "links"], ["--version"], ["-h"], []):
        yield v(*args, fast=False)


VECTORS = list(_vectors())


@pytest.mark.parametrize(("args", "env", "stdin", "takes"), VECTORS,
                         ids=[" ".join(a) or "(none)" for a, *_ in VECTORS])
def test_the_fast_entry_and_click_print_the_same(repo: Path, args: tuple[str, ...], env: dict[str, str],
                                                 stdin: bytes, takes: bool) -> None:
    # which way the vector goes (a vector click must answer may not be taken by the fast entry)
    taken = fast.command(list(args)) is not None if "_LOOPGATE_COMPLETE" not in env else False
    assert taken == takes
    fast_run = _run([*FAST, *args], repo, _env(env), stdin)
    click_run = _run([*CLICK, *args], repo, _env(env), stdin)
    assert fast_run == click_run
    assert b"Traceback" not in fast_run[2]


def test_every_exit_status_and_format_is_covered() -> None:
    """The vectors above are not all one kind: they reach 0, 1 and 2 and every output format."""
    wanted = {("verify", f) for f in FORMATS} | {("gate", f) for f in FORMATS}
    seen = {(a[0], a[a.index("--format") + 1]) for a, _, _, takes in VECTORS if takes and "--format" in a}
    assert wanted <= seen


def test_the_vectors_reach_every_exit_status(repo: Path) -> None:
    statuses = set()
    for args in (("verify", "loop"), ("verify", "broken"), ("verify", "missing/path"), ("gate", "links", "--offline",
                 "docs")):
        assert fast.command(list(args)) is not None
        statuses.add(_run([*FAST, *args], repo, _env({}), b"")[0])
    assert statuses == {0, 1, 2}


def test_click_is_not_imported_on_the_fast_entry(repo: Path) -> None:
    # the fast entry ends with os._exit (no teardown): the probe looks at the modules as it ends
    probe = ("import os, sys\nfrom loopgate.cli.main import main\nsys.argv = ['loopgate', *sys.argv[1:]]\n"
             "def told(code):\n    print('click' in sys.modules, file=sys.stderr)\n    sys.stderr.flush()\n"
             "    real(code)\nreal, os._exit = os._exit, told\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\nprint('click' in sys.modules, file=sys.stderr)\n")
    for args in (["verify", "loop"], ["gate", "links", "--offline", "--format", "json", "docs"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], cwd=repo, env=_env({}), capture_output=True,
                              text=True, check=False, timeout=120)
        assert done.stderr.splitlines()[-1] == "False", done.stderr
    done = subprocess.run([sys.executable, "-c", probe, "verify", "--help"], cwd=repo, env=_env({}),
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.stderr.splitlines()[-1] == "True"


def _interrupted(command: list[str], cwd: Path) -> tuple[int, bytes, bytes]:
    """Run `command` reading a stdin nobody writes to; interrupt it (SIGINT) once it waits there."""
    proc = subprocess.Popen(command, cwd=cwd, env=_env({}), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            waiting = "pipe_read" in Path(f"/proc/{proc.pid}/wchan").read_text()
        except OSError:
            waiting = False
        if waiting:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_an_interrupt_ends_both_alike(repo: Path) -> None:
    """^C while `gate secrets --files-from -` waits for its list: click's blank line, "Aborted!", exit 1."""
    args = ["gate", "secrets", "--files-from", "-"]
    assert fast.command(args) is not None
    fast_run = _interrupted([*FAST, *args], repo)
    assert fast_run == (1, b"", b"\nAborted!\n")
    assert _interrupted([*CLICK, *args], repo) == fast_run


def test_a_reader_that_went_away_ends_both_alike(repo: Path) -> None:
    """stdout is a pipe whose reader has closed (`loopgate verify | head -0`): exit 1, nothing on stderr."""
    def broken_pipe(command: list[str]) -> tuple[int, bytes]:
        read, write = os.pipe()
        os.close(read)
        try:
            done = subprocess.run(command, cwd=repo, env=_env({}), stdout=write, stderr=subprocess.PIPE,
                                  check=False, timeout=120)
        finally:
            os.close(write)
        return done.returncode, done.stderr

    for args in (["verify", "broken"], ["gate", "links", "--offline", "docs"]):
        fast_run = broken_pipe([*FAST, *args])
        assert fast_run == (1, b"")
        assert broken_pipe([*CLICK, *args]) == fast_run


# -- the parser against click's own parse ----------------------------------------------------------

STRINGS = ["x", "", "-", "--", "--offline", "a=b", "-h"]
WHOLE = ["0", "3", "007", "-1", "x", "1e2", "1_0", " 4", "10000000000000000000000", "", "٣",
         "9" * 4301]  # past int()'s 4300-digit limit: ValueError, not a number
DECIMAL = ["0", "1.5", "1e3", "nan", "inf", "-0.5", ".5", "5.", " 2", "3600", "3601", "", "1_000"]
REPORTS = ["json=a.json", "sarif=x", "json=", "=x", "xml=f", "json", "markdown=a=b"]


def _values(param: click.Parameter) -> list[str]:
    if param.name == "reports":
        return REPORTS
    if isinstance(param.type, click.Choice):
        return [*map(str, param.type.choices), "JSON", "xml", ""]
    return {"integer": WHOLE, "float": DECIMAL}.get(param.type.name, STRINGS)


def _generated(command: click.Command) -> Iterator[list[str]]:
    """Argument vectors over every option of `command`: each form, each kind of value, mixed with paths."""
    yield from ([], ["-h"], ["--help"], ["--bogus"], ["-x"], ["a", "b"], ["--", "--help"], ["-"], ["a", "--", "-h"],
                ["a", "--format"], ["--=x"], ["--no-such"], ["---x"])
    for param in command.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        name, negative = param.opts[0], (param.secondary_opts or [""])[0]
        if param.is_flag:
            yield from ([name], [negative], [f"{name}=1"], [name, negative, "p"], ["p", negative, name],
                        [f"{negative}="])
            continue
        for value in _values(param):
            yield from ([name, value], [f"{name}={value}"], ["p", name, value, "q"], [name, value, name, "x"])
        yield from ([name], ["p", name], [name, "--", "p"], [f"{name}"[:-1], "x"])
    options = [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    for first, second in itertools.combinations(options, 2):  # two options together, both given
        yield [first.opts[0], *([] if first.is_flag else [_values(first)[0]]),
               second.opts[0], *([] if second.is_flag else [_values(second)[0]]), "p"]


def _click_parse(command: click.Command, name: str, args: Sequence[str]) -> dict[str, Any] | None:
    """The values click hands the command's callback; None when click refuses the vector (or shows help)."""
    try:
        with command.make_context(name, list(args)) as ctx:
            return dict(ctx.params)
    except (click.exceptions.Exit, click.ClickException):
        return None


def _fast_parse(params: fast._Params, args: Sequence[str]) -> dict[str, Any] | None:
    try:
        return fast.parse(params, args)
    except fast.Unsure:
        return None


def test_the_parser_agrees_with_click_on_every_gate(capsys: pytest.CaptureFixture[str]) -> None:
    """For every vector the fast parser takes, click takes it too and hands the callback the same values;
    every vector click refuses, the fast parser leaves to click."""
    taken = 0
    commands = [(verify, "verify", fast.verify_params())]
    commands += [(command_for(spec), name, fast.gate_params(spec)) for name, spec in gates().items()]
    for command, name, params in commands:
        for args in _generated(command):
            ours = _fast_parse(params, args)
            if ours is None:
                continue  # left to click, which parses it (or words the error) itself
            theirs = _click_parse(command, name, args)
            assert theirs == ours, (name, args)
            taken += 1
    capsys.readouterr()  # the help click printed
    assert taken > 1000  # the parser takes the plain vectors, not only a handful


def test_what_click_refuses_the_parser_leaves_to_click(capsys: pytest.CaptureFixture[str]) -> None:
    refused = 0
    commands = [(verify, "verify", fast.verify_params())]
    commands += [(command_for(spec), name, fast.gate_params(spec)) for name, spec in gates().items()]
    for command, name, params in commands:
        for args in _generated(command):
            if _click_parse(command, name, args) is None:
                refused += 1
                assert _fast_parse(params, args) is None, (name, args)
    capsys.readouterr()
    assert refused > 300


# Options shapes no gate has today, which click would read otherwise than the fast parser would:
# a gate declaring one is left to click whole.
@dataclasses.dataclass
class _HelpField:
    help: bool = dataclasses.field(default=False, metadata=opt("clashes with click's --help"))


@dataclasses.dataclass
class _NegativeClash:
    offline: bool = dataclasses.field(default=False, metadata=opt("--offline / --no-offline"))
    no_offline: str = dataclasses.field(default="", metadata=opt("--no-offline again"))


@dataclasses.dataclass
class _ShortFlag:
    level: int = dataclasses.field(default=1, metadata=opt("a short name", flag="-l"))


@dataclasses.dataclass
class _SlashFlag:
    mode: str = dataclasses.field(default="", metadata=opt("a slash in the name", flag="--mode/--other"))


@dataclasses.dataclass
class _TwoArguments:
    first: tuple[str, ...] = dataclasses.field(default=(), metadata=opt("one", argument=True))
    second: tuple[str, ...] = dataclasses.field(default=(), metadata=opt("two", argument=True))


@dataclasses.dataclass
class _NumberArguments:
    numbers: tuple[int, ...] = dataclasses.field(default=(), metadata=opt("numbers", argument=True))


@dataclasses.dataclass
class _FormatField:
    format: str = dataclasses.field(default="", metadata=opt("clashes with --format"))


@pytest.mark.parametrize("options", [_HelpField, _NegativeClash, _ShortFlag, _SlashFlag, _TwoArguments,
                                     _NumberArguments, _FormatField])
def test_a_gate_whose_options_click_would_read_otherwise_is_left_to_click(options: type[Any]) -> None:
    spec = GateSpec(name="odd", summary="odd", doc="odd", options=options, run=_never)
    with pytest.raises(fast.Unsure):
        fast.gate_params(spec)


def _never(options: Any, context: GateContext) -> GateResult:
    raise AssertionError("not run: only its options are read")
