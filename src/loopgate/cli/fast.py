"""The fast entry: `loopgate verify ...` and `loopgate gate NAME ...` without importing click.

pre-commit starts one of these on every commit, and importing click (with the decorators that
build the command tree) was a sixth of their start-up. This parser takes only argument vectors
it is sure of: the command's own long options, each value valid, no help. Anything else (-h or
--help, a short or unknown option, a missing or invalid value, a path click would refuse, an
unknown gate, shell completion) makes `run_fast` return, and the click command line
(cli/app.py) parses the same vector and says what it says. Both ways end in the same functions
(verifying.verify_command, gaterun.gate_command), and tests/test_fast_entry.py holds the two to
the same stdout, stderr and exit status on a wide set of vectors.

The rules below are click's (8.x) for what the fast entry accepts: `--opt value` and
`--opt=value`; a value is the next word whatever it looks like; the last of a repeated option
wins, a repeatable one collects; a flag takes no `=value`; `--` ends the options; options and
paths mix in any order; `-` alone is a path.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable, Sequence

from loopgate import records
from loopgate.cli.output import report_value, require_cwd

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any, NoReturn, TextIO

    from loopgate.gates.base import GateSpec

    # What a value option's converter does: the value, or Unsure.
    Convert = Callable[[str], Any]


class Unsure(Exception):
    """Not an argument vector the fast entry is sure of: click parses it."""



@records.record
class _Params:
    """One command's options as the fast entry reads them."""

    flags: dict[str, tuple[str, bool]] = records.field(default_factory=dict)  # --x / --no-x -> (dest, value)
    values: dict[str, tuple[str, Convert, bool]] = records.field(default_factory=dict)  # -> (dest, convert, many)
    argument: str = ""  # the variadic positional's dest ("" if the command takes none)
    unset: dict[str, Any] = records.field(default_factory=dict)  # every dest as click passes it when not given

    def declare(self, names: Sequence[str]) -> None:
        """Refuse a command whose option names clash, with each other or with --help, or that click would
        read otherwise (a `/`, a short name): click's behaviour then is not ours to guess."""
        if any(name in self.flags or name in self.values or name in ("--", "--help") or not name.startswith("--")
               or any(c in name for c in "=/ ") for name in names) or len(set(names)) != len(names):
            raise Unsure

    def flag(self, name: str, dest: str) -> None:
        negative = "--no-" + name.removeprefix("--")
        self.declare([name, negative])
        self.flags[name], self.flags[negative] = (dest, True), (dest, False)
        self.unset[dest] = None

    def value(self, name: str, dest: str, convert: Convert, many: bool = False) -> None:
        self.declare([name])
        self.values[name] = (dest, convert, many)
        self.unset[dest] = () if many else None


def parse(params: _Params, args: Sequence[str]) -> dict[str, Any]:
    """`args` as click passes them to the command's callback; Unsure when click should parse them."""
    given = dict(params.unset)
    collected: dict[str, list[Any]] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            positional.extend(args[i:])
            break
        if not token.startswith("-") or token == "-":
            positional.append(token)
        else:
            i = _option(params, token, args, i, given, collected)
    if positional and not params.argument:
        raise Unsure  # click: unexpected extra argument
    if params.argument:
        given[params.argument] = tuple(positional)
    for dest, items in collected.items():
        given[dest] = tuple(items)
    return given


def _option(params: _Params, token: str, args: Sequence[str], i: int, given: dict[str, Any],
            collected: dict[str, list[Any]]) -> int:
    """One option `token` into `given` (or `collected`, when repeatable); where the next word is."""
    if not token.startswith("--"):
        raise Unsure  # -h, and any other short option
    name, eq, explicit = token.partition("=")
    if name in params.flags and not eq:
        dest, on = params.flags[name]
        given[dest] = on
        return i
    if name not in params.values:
        raise Unsure  # unknown, --help, or `--flag=value`
    dest, convert, many = params.values[name]
    if eq:
        raw = explicit
    elif i < len(args):
        raw, i = args[i], i + 1
    else:
        raise Unsure  # the value is missing
    if many:
        collected.setdefault(dest, []).append(convert(raw))
    else:
        given[dest] = convert(raw)
    return i


def _choice(names: Sequence[str]) -> Convert:
    def convert(raw: str) -> str:
        if raw not in names:
            raise Unsure
        return raw
    return convert


def _report(raw: str) -> tuple[str, str]:
    pair = report_value(raw)
    if pair is None:
        raise Unsure
    return pair


def _text(raw: str) -> str:
    return raw


_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _number(base: type, meta: Any) -> Convert:
    """A plain decimal number within the option's range; anything else (a sign, an exponent, nan,
    spaces, out of range) is left to click, which converts it or words the error."""
    from loopgate.gates.base import out_of_bounds  # noqa: PLC0415

    pattern = _WHOLE if base is int else _DECIMAL

    def convert(raw: str) -> Any:
        if not pattern.fullmatch(raw):
            raise Unsure
        try:
            number = int(raw) if base is int else float(raw)
        except ValueError:  # over Python's 4300-digit limit for int(): click words that error
            raise Unsure from None
        if out_of_bounds(number, meta):
            raise Unsure
        return number
    return convert


def _common(params: _Params, formats: Sequence[str]) -> None:
    """--format, --color/--no-color and --report, as every command on this path declares them."""
    params.value("--format", "output_format", _choice(formats))
    params.flag("--color", "color")
    params.value("--report", "reports", _report, many=True)


def verify_params() -> _Params:
    """`loopgate verify`'s options (cli/app.py declares them for click)."""
    from loopgate.cli.verifying import FORMATS  # noqa: PLC0415

    params = _Params(argument="paths", unset={"paths": ()})
    params.flag("--strict", "strict")
    _common(params, FORMATS)
    return params


def _verify(args: Sequence[str]) -> Callable[[], NoReturn]:
    from loopgate.cli.verifying import verify_command  # noqa: PLC0415

    given = parse(verify_params(), args)
    for path in given["paths"]:
        _click_path(path)
    return lambda: verify_command(given["paths"], given["strict"], given["output_format"], given["color"],
                                  given["reports"])


def _click_path(path: str) -> None:
    """click.Path() refuses an existing path it cannot read; leave that message to click."""
    try:
        os.stat(path)
    except OSError:
        return
    if not os.access(path, os.R_OK):
        raise Unsure


def gate_params(spec: GateSpec) -> _Params:
    """`loopgate gate NAME`'s options, read from the gate's Options as cli/gates.py reads them for click."""
    from loopgate.cli.gaterun import option_types  # noqa: PLC0415
    from loopgate.reporters import FORMAT_NAMES  # noqa: PLC0415

    params = _Params()
    kinds = option_types(spec.options)
    for f in records.fields(spec.options):
        base, _optional, many = kinds[f.name]
        meta = f.metadata
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        if meta.get("argument"):
            if params.argument or base in (int, float):
                raise Unsure  # a second variadic, or numbers as arguments: not a shape the gates use
            params.argument = f.name
            params.unset[f.name] = ()
        elif base is bool:
            params.flag(flag, f.name)
        else:
            params.value(flag, f.name, _number(base, meta) if base in (int, float) else _text, many)
    _common(params, FORMAT_NAMES)
    return params


def _gate(name: str, args: Sequence[str]) -> Callable[[], NoReturn]:
    from loopgate.cli.gaterun import gate_command  # noqa: PLC0415
    from loopgate.gates.registry import gate  # noqa: PLC0415

    spec = gate(name)
    if spec is None:
        raise Unsure
    given = parse(gate_params(spec), args)
    output_format, color, reports = given.pop("output_format"), given.pop("color"), given.pop("reports")
    return lambda: gate_command(spec, output_format, color, reports, given)


def command(argv: Sequence[str]) -> Callable[[], NoReturn] | None:
    """The command `argv` (without the program name) runs, parsed; None when click should parse it."""
    if os.name == "nt" or os.environ.get("_LOOPGATE_COMPLETE"):
        return None  # click expands wildcards on Windows, and answers shell completion
    try:
        if argv[:1] == ["verify"]:
            return _verify(argv[1:])
        if argv[:1] == ["gate"] and len(argv) > 1 and not argv[1].startswith("-"):
            return _gate(argv[1], argv[2:])
    except Unsure:
        return None
    return None


def run_fast(argv: Sequence[str]) -> None:
    """Run `argv` and exit, as the click command line would; return when click should parse it."""
    try:
        # parsing inside the try too: click looks the gate up (importing it) inside its own
        run = command(argv)
        if run is None:
            return
        require_cwd()  # where click's group callback checks it: after parsing, before the command
        run()
    except (EOFError, KeyboardInterrupt):
        # click's main: a blank line after the terminal's ^C, "Aborted!", exit 1
        if sys.stderr is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()
            sys.stderr.write("Aborted!\n")
            sys.stderr.flush()
        sys.exit(1)
    except OSError as err:
        if err.errno != errno.EPIPE:
            raise
        # click's main: a reader that went away (`loopgate verify | head`) ends the run quietly, exit 1
        from typing import cast  # noqa: PLC0415 - a broken pipe only

        sys.stdout = cast("TextIO", _QuietFlush(sys.stdout))
        sys.stderr = cast("TextIO", _QuietFlush(sys.stderr))
        sys.exit(1)


class _QuietFlush:
    """A standard stream whose flush ignores a broken pipe, so the interpreter's last flush at exit
    does not print a second error (click wraps both streams the same way)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as err:
            if err.errno != errno.EPIPE:
                raise

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.wrapped, attr)
