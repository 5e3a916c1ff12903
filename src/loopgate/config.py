"""`[tool.loopgate]` in pyproject.toml: defaults for command options.

Looked up from the current directory upwards, like ruff and pytest do. Command-line options
always win over the file.

`load_config(start, revision=REV)` reads the file as a commit holds it instead of the working
tree: the gates that judge a change take their configuration from the change's base, so the
change cannot switch off its own checks (see `committed_gate_config`).
"""

from __future__ import annotations

import os
import re
import sys

from loopgate._memo import DiskMemo
from loopgate.gitquery import ask_git, commit_of, default_branch, head_and_toplevel
from loopgate.records import record

# tomllib, spawn and pkgutil are imported where they are used: `loopgate verify` and
# `loopgate gate NAME` start on every commit, and a directory without a pyproject.toml, or outside
# a git repository, needs none of them.
TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any



class ConfigError(Exception):
    """pyproject.toml exists but cannot be used; a usage error (exit 2)."""


@record(frozen=True)
class Config:
    path: str | None
    values: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """`[tool.loopgate.NAME]` merged over the top-level `[tool.loopgate]` scalars."""
        base = {k: v for k, v in self.values.items() if not isinstance(v, dict)}
        sub = self.values.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{self.path}: [tool.loopgate.{name}] must be a table")
        base.update(sub)
        return base


def find_pyproject(start: str) -> str | None:
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


# A pyproject.toml is a few KiB; anything this big is not one, and tomllib would hold it all in memory.
MAX_BYTES = 4 * 1024 * 1024


def load_config(start: str = ".", revision: str = "", toplevel: bytes | None = None) -> Config:
    """The nearest pyproject.toml's `[tool.loopgate]`; with `revision`, as that commit holds it
    (`toplevel`: the repository's top as `git rev-parse --show-toplevel` printed it, when known)."""
    if revision:
        path, raw = _committed_pyproject(start, revision, toplevel)
    else:
        path = find_pyproject(start)
        raw = None
    if path is None:
        return Config(None, {})
    try:
        if raw is None:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ConfigError(f"{path}: over {MAX_BYTES // (1024 * 1024)} MiB; not a pyproject.toml loopgate reads")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read [tool.loopgate]: {err}") from err
    values = _fresh(_PARSED.get(text)) if len(text) <= _MEMO_BYTES else None
    if values is None:
        values = _parse(path, text)
        if len(text) <= _MEMO_BYTES:
            _PARSED.put(text, _fresh(values))
            _PARSED.flush()
    _check_known(path, values)
    return Config(path, values)


# The [tool.loopgate] table of each pyproject.toml text seen, kept between processes (see
# loopgate._memo): tomllib and the `typing` it imports are 5 ms of every configured gate's start.
# Keyed by the whole text, parsed by this Python's tomllib (the memo's file is per interpreter).
_MEMO_BYTES = 256 * 1024
_PARSED = DiskMemo("pyproject_tables", "1", lambda value: isinstance(value, dict), limit=16)


def _fresh(value: Any) -> Any:
    """A copy of the tables and arrays (the memo's own must not change with a caller's)."""
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


def _parse(path: str, text: str) -> dict[str, Any]:
    """`[tool.loopgate]` of a pyproject.toml's text, or ConfigError."""
    tomllib = _tomllib()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: cannot read [tool.loopgate]: {err}") from err
    except ValueError as err:
        # tomllib lets int()'s own ValueError through for an integer over Python's 4300-digit limit;
        # its advice (sys.set_int_max_str_digits) is the interpreter's, not the user's: left out.
        reason = str(err).partition(";")[0]
        raise ConfigError(f"{path}: cannot read [tool.loopgate]: {reason}") from err
    except RecursionError as err:
        # tomllib recurses once per nesting level: `x = [[[[...` thousands deep ends the interpreter's stack.
        raise ConfigError(f"{path}: cannot read [tool.loopgate]: arrays or tables nested too deeply") from err
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table ([tool.NAME] sections), not {tool!r}")
    values = tool.get("loopgate", {})
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [tool.loopgate] must be a table")
    return values


def _tomllib() -> Any:
    """tomllib (the tomli backport before 3.11), imported on the first pyproject.toml read."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # noqa: PLC0415
    return tomllib


# What [tool.loopgate] may hold. A misspelt key is an error, not a silently ignored setting: a
# `stict = true` that nobody notices is a gate nobody enforces.
SECTIONS = {"verify": {"strict", "format"}, "gates": None}  # gates: one table a gate, checked by the gate CLI
TOP_LEVEL = {"strict", "format"}


def _check_known(path: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise ConfigError(f"{path}: unknown section [tool.loopgate.{key}] (known: "
                                  f"{', '.join(f'[tool.loopgate.{k}]' for k in SECTIONS)})")
            allowed = SECTIONS[key]
            for sub, sub_value in value.items():
                if allowed is None:
                    if not isinstance(sub_value, dict):
                        raise ConfigError(f"{path}: [tool.loopgate.{key}] {sub} must be a table "
                                          f"([tool.loopgate.{key}.{sub}])")
                    if sub not in gate_names():
                        # A misspelt gate table would configure nothing, silently: `forbiden` keeps the defaults.
                        raise ConfigError(f"{path}: unknown gate [tool.loopgate.{key}.{sub}] (known gates: "
                                          f"{', '.join(sorted(gate_names()))})")
                elif sub not in allowed:
                    raise ConfigError(f"{path}: unknown key '{sub}' in [tool.loopgate.{key}] "
                                      f"(known: {', '.join(sorted(allowed))})")
        elif key in SECTIONS:
            raise ConfigError(f"{path}: [tool.loopgate.{key}] must be a table, not {value!r}")
        elif key not in TOP_LEVEL:
            raise ConfigError(f"{path}: unknown key '{key}' in [tool.loopgate] (known: {', '.join(sorted(TOP_LEVEL))}, "
                              f"and the sections {', '.join(f'[tool.loopgate.{k}]' for k in SECTIONS)})")


def gate_names() -> set[str]:
    """The gates' names without importing them: a gate module is named after its gate (see the registry).

    The folder is listed as pkgutil.iter_modules lists it (a module by any import suffix, a package
    by its __init__), without pkgutil: it imports `inspect` for that, 5 ms of a configured gate's start.
    """
    from importlib.machinery import all_suffixes  # noqa: PLC0415 - frozen, already loaded

    import loopgate.gates  # noqa: PLC0415

    suffixes = sorted(all_suffixes(), key=len, reverse=True)
    found: set[str] = set()
    for folder in loopgate.gates.__path__:
        try:
            entries = os.listdir(folder)
        except OSError:  # not a folder (a zip import): pkgutil knows every kind of place
            import pkgutil  # noqa: PLC0415

            found.update(info.name for info in pkgutil.iter_modules([folder]))
            continue
        for entry in entries:
            suffix = next((s for s in suffixes if entry.endswith(s)), "")
            if suffix:
                found.add(entry[:-len(suffix)])
            elif "." not in entry and os.path.isfile(os.path.join(folder, entry, "__init__.py")):
                found.add(entry)
    return {name for name in found if name.isidentifier() and not name.startswith("_")
            and name not in ("base", "registry")}


# -- configuration as a commit holds it ----------------------------------------------------------

def _committed_pyproject(start: str, revision: str, toplevel: bytes | None = None) -> tuple[str | None, bytes | None]:
    """(name, content) of the pyproject.toml nearest to `start` as `revision` holds it.

    Inside the repository the lookup walks the same directories as `find_pyproject`, but in the
    commit; above the repository (a file the change cannot touch) it reads the file system.
    """
    here = os.path.abspath(start)
    key = (os.path.realpath(here), revision)
    if key in _READ_AT:  # a commit's files never change: one read a process (a gate reads HEAD's twice)
        known_root, known_name, known_raw = _READ_AT[key]
        if known_name is not None:
            return known_name, known_raw
        parent = os.path.dirname(known_root)
        return (find_pyproject(parent) if parent != known_root else None), None
    if toplevel is None:
        top = ask_git(here, "rev-parse", "--show-toplevel")
        if top is None or top.returncode != 0:
            return find_pyproject(start), None
        toplevel = top.stdout.rstrip(b"\n")
    root = os.path.realpath(os.fsdecode(toplevel))
    rel = os.path.relpath(os.path.realpath(here), root)
    parts = [] if rel == "." else rel.split(os.sep)
    candidates = ["/".join([*parts[:depth], "pyproject.toml"]) for depth in range(len(parts), -1, -1)]
    # -l: each entry's size too ("-" for a tree or a submodule), so an oversized file is refused
    # without a `cat-file -s` process of its own
    listed = ask_git(root, "ls-tree", "-z", "-l", "--full-tree", revision, "--", *candidates)
    if listed is None or listed.returncode != 0:
        raise ConfigError(f"cannot read pyproject.toml at {revision}: "
                          f"{(listed.stderr if listed else b'git did not run').decode('utf-8', 'replace').strip()}")
    sizes: dict[str, int] = {}
    for entry in listed.stdout.split(b"\0"):
        described, tab, name = entry.partition(b"\t")  # "MODE TYPE OBJECT SIZE<TAB>NAME"
        if tab:
            size = described.split()[-1]
            sizes[os.fsdecode(name)] = int(size) if size.isdigit() else 0
    for candidate in candidates:
        if candidate in sizes:
            if sizes[candidate] > MAX_BYTES:
                return f"{candidate} (at {revision[:10]})", b" " * (MAX_BYTES + 1)  # refused by size, never read
            blob = ask_git(root, "cat-file", "blob", f"{revision}:{candidate}")
            if blob is None or blob.returncode != 0:
                raise ConfigError(f"cannot read {candidate} at {revision}")
            return _remember(key, root, f"{candidate} (at {revision[:10]})", blob.stdout[:MAX_BYTES + 1])
    _remember(key, root, None, None)
    parent = os.path.dirname(root)
    return (find_pyproject(parent) if parent != root else None), None


# (the start's real path, a commit id) -> (the repository's top, the file's name and content, or None
# when the commit holds none below the top). Only full commit ids are kept: what they name cannot
# change, where a branch name or HEAD can. A few entries: a process reads one or two commits' files.
_READ_AT: dict[tuple[str, str], tuple[str, str | None, bytes | None]] = {}
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _remember(key: tuple[str, str], root: str, name: str | None, raw: bytes | None) -> tuple[str | None, bytes | None]:
    if _COMMIT_ID.fullmatch(key[1]):
        if len(_READ_AT) >= 64:
            _READ_AT.clear()
        _READ_AT[key] = (root, name, raw)
    return name, raw


def config_revision(start: str, base: str) -> str:
    """The commit whose configuration judges a change: the merge base of `base` and HEAD, or HEAD
    (staged changes, given files). "" when there is none: not a repository, or no commit yet."""
    commit = commit_of(start, "HEAD")
    if not commit or not base:
        return commit
    resolved = commit_of(start, base)
    if not resolved:
        return commit  # the gate reports the bad --base itself (exit 2)
    merge = ask_git(start, "merge-base", resolved, commit)
    return merge.stdout.decode().strip() if merge is not None and merge.returncode == 0 else resolved


# (the table that judges, from the change's base; a note for the user, "" if none; the working tree's
# table, for the caller to validate too; the commit the first was read from, "" when none: not a
# repository, or no commit yet). A plain tuple: a NamedTuple class costs a cold start a millisecond.
if TYPE_CHECKING:
    GateTables = tuple[dict[str, Any], str, dict[str, Any], str]


def committed_gate_config(name: str, base: str, start: str = ".") -> tuple[dict[str, Any], str, dict[str, Any]]:
    """`[tool.loopgate.gates.NAME]` for a gate that judges a change, a note and the working tree's
    table: `gate_tables` without the revision."""
    committed, note, working, _ = gate_tables(name, base, start)
    return committed, note, working


def gate_tables(name: str, base: str, start: str = ".", takes_base: bool = True) -> GateTables:
    """`[tool.loopgate.gates.NAME]` for a gate that judges a change, and a note for the user ("" if none).

    The table comes from the change's base (the merge base with `base`; HEAD for staged changes
    and given files), never from the tree being judged: a change that adds `exclude = ["**"]`
    must not pass its own secrets. The working tree's file is still read and validated, so a
    misspelt table there is reported now; if its table differs, the note says it was not applied.
    `base` itself, when not given, is read from the table of the commit where HEAD left the default
    branch (see `_trusted_base`), so a change cannot move its own base; a gate without a `base`
    option (`takes_base=False`: its table cannot hold one) skips that lookup and its git processes.
    """
    working = load_config(start).section("gates").get(name, {})
    head, top = head_and_toplevel(start)
    toplevel: bytes | None = top
    if not head and not top:  # no work tree's top known: not a repository, or one git will not read
        _no_repository_here(start)
    elif not head:  # a branch without a commit (`git checkout --orphan`): the default branch's table
        head = _unborn_branch_base(start)
    if not head:
        return working, "", working, ""  # no commit to trust yet: the files are all there is
    note = ""
    trusted = not base and takes_base
    if trusted:
        base, note = _trusted_base(name, start, head)
    elif base and not takes_base and not commit_of(start, base):
        # a tree gate's table from a base this clone does not hold (a shallow CI checkout): HEAD's would
        # be the change's own; a change gate reports its bad --base itself (LG433, exit 2)
        raise ConfigError(f"{base!r} is not a commit in this clone, so its [tool.loopgate.gates.{name}] cannot be "
                          "read (a shallow clone? fetch it: actions/checkout `fetch-depth: 0`)")
    # (on a branch without a commit there is no merge base: the base's own commit, else the default branch's)
    revision = (config_revision(start, base) or commit_of(start, base) or head) if base else head
    committed = load_config(start, revision, toplevel).section("gates").get(name, {})
    if trusted and isinstance(committed, dict) and committed.get("base") != (base or None):
        # the table's own `base` is the branch's word, which _trusted_base overruled: the trunk's applies
        committed = {**{k: v for k, v in committed.items() if k != "base"}, **({"base": base} if base else {})}
    if committed != working:
        note = (note + "; " if note else "") + (
            f"[tool.loopgate.gates.{name}] read from commit {revision[:10]} (the change's base); the "
            f"working tree's version differs and applies once it is committed")
    return committed, note, working, revision


def _no_repository_here(start: str) -> None:
    """Returns when `start` is in no git repository. A repository git will not read (another user's
    checkout: "dubious ownership"; a broken `.git`) or a start with no work tree (inside `.git`, a bare
    repository) is a ConfigError: the working tree's table must not judge the change there, or a change
    could switch off its own gate by making git fail."""
    found = ask_git(start, "rev-parse", "--git-dir")
    if found is not None and found.returncode == 0:
        if config_revision(start, ""):
            raise ConfigError("no work tree here (inside the git directory, or a bare repository): run "
                              "loopgate in the repository's work tree")
        return  # a git directory without a commit: nothing to trust yet
    if found is not None and b"not a git repository" in found.stderr:
        return  # git's own word (a stray `.git` it does not use, a file system boundary on the way up)
    if _dot_git_above(start):
        said = "git did not run (is it installed, on PATH?)" if found is None else \
            " ".join(found.stderr.decode("utf-8", "replace").split())
        raise ConfigError(f"git cannot read the repository here, so the committed configuration cannot be "
                          f"read: {said[:500]}")


def _dot_git_above(start: str) -> bool:
    """Is there a `.git` in `start` or a folder above it, below GIT_CEILING_DIRECTORIES (as git looks)?"""
    ceilings = {os.path.abspath(c) for c in os.environ.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep) if c}
    folder = os.path.abspath(start)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder or parent in ceilings:
            return False
        folder = parent


def _unborn_branch_base(start: str) -> str:
    """The commit whose table judges a branch that has no commit yet: the default branch's, when the
    repository has one ("" for a repository without any commit: then the files are all there is)."""
    refs = ask_git(start, "for-each-ref", "--count=1", "--format=%(objectname)", "refs/heads", "refs/remotes")
    if refs is None or refs.returncode != 0 or not refs.stdout.strip():
        return ""
    trunk = default_branch(start)
    found = commit_of(start, trunk) if trunk else ""
    if not found:  # commits, but none this branch can be said to start from: no table to trust
        raise ConfigError("this branch has no commit yet and the repository has no default branch (origin's HEAD, "
                          "init.defaultBranch, main or master) to read [tool.loopgate] from: commit first, or "
                          "give --base")
    return found


def _trusted_base(name: str, start: str, head: str) -> tuple[str, str]:
    """The `base` key of `[tool.loopgate.gates.NAME]` and a note ("" if none).

    Read from the commit where HEAD left the default branch (their merge base), not from HEAD: a
    branch that sets `base = "HEAD"` would otherwise judge nothing. Without a default branch
    (a lone branch, a detached clone) HEAD's table is all there is."""
    at_head = load_config(start, head).section("gates").get(name, {})
    claimed = str(at_head.get("base") or "") if isinstance(at_head, dict) else ""
    trunk = default_branch(start)
    if not trunk:
        return claimed, ""
    revision = config_revision(start, trunk)
    table = load_config(start, revision).section("gates").get(name, {})
    trusted = str(table.get("base") or "") if isinstance(table, dict) else ""
    if trusted == claimed:
        return trusted, ""
    return trusted, (f"base = {claimed!r} in [tool.loopgate.gates.{name}] ignored: the base is read from commit "
                     f"{revision[:10]} (where this branch left {trunk.removeprefix('refs/heads/')}), which says "
                     f"{trusted!r}")
