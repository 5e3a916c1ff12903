"""Every finding code of the gates and of `loopgate check` (LG400 and up): a case that produces it,
where it points and what it does to the run (failed: exit 1, or error: exit 2), and a closely
related case that does not produce it.

The gates run in-process, the way `loopgate check` runs them (`module.run(Options(...), GateContext)`),
in a real git repository copied per test from one template, with real files, real subprocesses and,
for the http codes, a real HTTP server on 127.0.0.1. The checker codes run `run_check` over real gates.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loopgate import codes
from loopgate.check import PlannedGate, run_check
from loopgate.cli.check import build_plan, committed_required, plan_entry
from loopgate.cli.gates import EXIT_CODES
from loopgate.findings import Finding, Severity
from loopgate.gates import command, forbidden, generated, links, schema, scope, secrets
from loopgate.gates.base import GateContext, GateResult
from loopgate.gates.registry import all_codes, gates

from .conftest import Repo, git_env, make_repo

PY = sys.executable
AWS = "AKIA" + "IOSFODNN7EXAMPLE"  # the documented example key, split so no scanner flags this file
FAST = {"request_timeout": 0.5, "backoff": 0.05, "retries": 0, "max_retry_wait": 1.0}
SPEC_WITH_SCOPE = "# Loop Spec: Docs\n\n## Scope\n- allowed paths: docs/**\n- forbidden paths: `**/auth/**`\n"
ORIGIN = ("quality-gate-checklist.md", 7, 5)  # where a checklist entry is, for the checker's codes


# -- a world per test: a repository (copied from one template), a server, monkeypatch -------------
class Server:
    """Answers 200 on /ok..., 404 everywhere else."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.send_response(200 if self.path.startswith("/ok") else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@dataclass
class World:
    root: Path  # the repository: README.md, docs/guide.md, src/app.py, committed on main
    tmp: Path  # a directory outside it
    server: Server
    monkeypatch: pytest.MonkeyPatch

    def write(self, rel: str, text: str = "x\n") -> Path:
        return Repo(self.root).write(rel, text)

    def commit(self) -> None:
        Repo(self.root).commit()

    def git(self, *args: str) -> str:
        return Repo(self.root).git(*args)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository every test copies: README.md, docs/guide.md, src/app.py, committed on main."""
    repo = make_repo(tmp_path_factory.mktemp("template") / "repo")
    for rel, text in (("README.md", "# demo\n"), ("docs/guide.md", "guide\n"), ("src/app.py", "print('hi')\n")):
        repo.write(rel, text)
    repo.commit("initial")
    return repo.path


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    made = Server()
    thread = threading.Thread(target=made.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield made
    made.httpd.shutdown()
    made.httpd.server_close()


@pytest.fixture
def world(template: Path, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    (tmp_path / "outside").mkdir()
    return World(root, tmp_path / "outside", server, monkeypatch)


# -- how a case runs, and what it gives back ------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    findings: list[Finding]
    exit_code: int  # what the CLI would exit with: 0 passed/skipped, 1 failed, 2 error
    status: str


def outcome(result: GateResult) -> Outcome:
    # the CLI's own status -> exit mapping (`loopgate gate NAME` exits with it), not a copy:
    # changing what a skipped gate exits with must change what these cases see
    return Outcome(result.findings, EXIT_CODES[result.status], result.status.value)


def gate(w: World, module: Any, cwd: Path | None = None, env: dict[str, str] | None = None,
         **options: Any) -> Outcome:
    context = GateContext(cwd=str(cwd or w.root), env=git_env() if env is None else env)
    return outcome(module.run(module.Options(**options), context))


def check(w: World, plan: list[PlannedGate]) -> Outcome:
    result = run_check(plan, context=GateContext(cwd=str(w.root), env=git_env()))
    exit_code = result.exit_code()
    return Outcome(result.findings, exit_code, {0: "passed", 1: "failed", 2: "error"}[exit_code])


Runner = Callable[[World], Outcome]


@dataclass(frozen=True)
class Case:
    code: str
    run: Runner
    exit_code: int  # positive: 1 (failed) or 2 (error); negative: what the near miss exits with
    where: tuple[str, int, int] | None = None  # positive only: path, line, column of the finding
    # the other codes the run gives: for a positive case besides `code` (the checked gate's own), for a
    # near miss all of them (what the closest input is reported as instead)
    also: tuple[str, ...] = ()


# -- scope, and the changed-files machinery it shares with forbidden and secrets ----------------
def last(*steps: Any) -> Any:
    """The value of the last step: `lambda w: last(w.write(...), gate(...))` runs them in order."""
    return steps[-1]


def _spec(w: World, text: str = SPEC_WITH_SCOPE) -> Path:
    spec = w.write("LOOP_SPEC.md", text)
    w.commit()
    return spec


def _no_git_path(w: World, with_git: bool) -> Outcome:
    """PATH is one directory: empty, or holding only a link to the real git."""
    folder = w.tmp / "bin"
    folder.mkdir()
    if with_git:
        real = shutil.which("git")
        assert real
        (folder / "git").symlink_to(real)
    w.write("docs/new.md")
    return gate(w, scope, env={**git_env(), "PATH": str(folder)}, base="HEAD", allow=("docs/**",))


def _allow_file(w: World, name: str) -> Outcome:
    w.write("scope.txt", "# the loop may touch\ndocs/**\nscope.txt\n")
    return gate(w, scope, base="HEAD", allow_file=name)


def _symlink_out(w: World, target: Path) -> Outcome:
    (w.root / "docs/ext").symlink_to(target, target_is_directory=True)
    return gate(w, scope, files=("docs/ext/x.md",), allow=("docs/**",))


def _inside_link(w: World) -> Outcome:
    (w.root / "docs/more").mkdir()
    return _symlink_out(w, w.root / "docs/more")


SCOPE_POSITIVE = [
    Case("LG401", lambda w: last(w.write("src/app.py", "changed\n"), gate(w, scope, base="HEAD", allow=("docs/**",))),
         1, ("src/app.py", 1, 1)),
    Case("LG402", lambda w: last(w.write("docs/a.md"), w.write("docs/b.md"),
                                 gate(w, scope, base="HEAD", allow=("docs/**",), max_files=1)), 1, (".", 1, 1)),
    Case("LG403", lambda w: last(_spec(w), w.write("docs/auth/tokens.md"),
                                 gate(w, scope, base="HEAD", spec="LOOP_SPEC.md")), 1, ("docs/auth/tokens.md", 1, 1)),
    Case("LG404", lambda w: gate(w, scope, base="HEAD"), 2, (".", 1, 1)),
    Case("LG405", lambda w: last(_spec(w, "# Loop Spec: Docs\n\n## Purpose\nDocs.\n"),
                                 gate(w, scope, base="HEAD", spec="LOOP_SPEC.md")), 2, ("LOOP_SPEC.md", 1, 1)),
    Case("LG431", lambda w: _no_git_path(w, with_git=False), 2, (".", 1, 1)),
    Case("LG432", lambda w: gate(w, scope, cwd=w.tmp, allow=("docs/**",)), 2, (".", 1, 1)),
    Case("LG433", lambda w: gate(w, scope, base="no-such-branch", allow=("docs/**",)), 2, (".", 1, 1)),
    Case("LG434", lambda w: last((w.root / ".git/index").write_bytes(b"not an index"),
                                 gate(w, scope, allow=("docs/**",))), 2, (".", 1, 1)),
    Case("LG435", lambda w: gate(w, scope, files_from="no-such-list.txt", allow=("docs/**",)), 2,
         ("no-such-list.txt", 1, 1)),
    Case("LG436", lambda w: _symlink_out(w, w.tmp), 1, ("docs/ext/x.md", 1, 1)),
    Case("LG437", lambda w: gate(w, scope, base="HEAD", files=("docs/guide.md",), allow=("docs/**",)), 2,
         (".", 1, 1)),
    Case("LG438", lambda w: gate(w, scope, base="HEAD", allow=("docs/[z-a]",)), 2, (".", 1, 1)),
    Case("LG439", lambda w: _allow_file(w, "no-such-file"), 2, ("no-such-file", 1, 1)),
]

SCOPE_NEGATIVE = [
    Case("LG401", lambda w: last(w.write("docs/guide.md", "changed\n"),
                                 gate(w, scope, base="HEAD", allow=("docs/**",))), 0),
    Case("LG402", lambda w: last(w.write("docs/a.md"), w.write("docs/b.md"),
                                 gate(w, scope, base="HEAD", allow=("docs/**",), max_files=2)), 0),
    Case("LG403", lambda w: last(_spec(w), w.write("docs/authors/tokens.md"),
                                 gate(w, scope, base="HEAD", spec="LOOP_SPEC.md")), 0),
    Case("LG404", lambda w: gate(w, scope, base="HEAD", max_files=5), 0),  # a limit alone is a rule
    Case("LG405", lambda w: last(_spec(w), gate(w, scope, base="HEAD", spec="LOOP_SPEC.md")), 0),
    Case("LG431", lambda w: _no_git_path(w, with_git=True), 0),
    Case("LG432", lambda w: gate(w, scope, cwd=w.tmp, files=("docs/a.md",), allow=("docs/**",)), 0),  # a list
    Case("LG433", lambda w: gate(w, scope, base="main", allow=("docs/**",)), 0),
    Case("LG434", lambda w: last((w.root / ".git/index").write_bytes(b"not an index"),  # a list needs no index
                                 gate(w, scope, files=("docs/guide.md",), allow=("docs/**",))), 0),
    Case("LG435", lambda w: last((w.root / "list.txt").write_text("docs/guide.md\n"),
                                 gate(w, scope, files_from="list.txt", allow=("docs/**",))), 0),
    Case("LG436", _inside_link, 0),  # a directory link that stays inside the repository
    Case("LG436", lambda w: gate(w, scope, files=("docs/../docs/guide.md",), allow=("docs/**",)), 0),
    Case("LG437", lambda w: gate(w, scope, files=("docs/guide.md",), allow=("docs/**",)), 0),
    Case("LG438", lambda w: gate(w, scope, base="HEAD", allow=("docs/[a-z]*",)), 0),
    Case("LG439", lambda w: _allow_file(w, "scope.txt"), 0),
]

# -- forbidden and secrets ------------------------------------------------------------------------
HOOKS = ("repos:\n  - repo: https://github.com/loopgate-cli/loopgate\n    rev: v1\n    hooks:\n"
         "      - id: loopgate-secrets\n")


def _hook_edit(w: World, old: str, new: str) -> Outcome:
    """A committed .pre-commit-config.yaml, then a staged edit of it."""
    w.write(".pre-commit-config.yaml", HOOKS)
    w.commit()
    w.write(".pre-commit-config.yaml", HOOKS.replace(old, new))
    w.git("add", ".pre-commit-config.yaml")
    return gate(w, forbidden)


FORBIDDEN_POSITIVE = [
    Case("LG411", lambda w: gate(w, forbidden, files=("secrets/prod.key",)), 1, ("secrets/prod.key", 1, 1)),
    Case("LG413", lambda w: _hook_edit(w, "loopgate-secrets\n", "loopgate-secrets\n        exclude: .*\n"), 1,
         (".pre-commit-config.yaml", 5, 1)),
    Case("LG412", lambda w: gate(w, forbidden, files=(".env",), defaults=False), 2, (".", 1, 1)),
]
FORBIDDEN_NEGATIVE = [
    Case("LG411", lambda w: gate(w, forbidden, files=("src/keyboard.py",)), 0),
    Case("LG413", lambda w: _hook_edit(w, "rev: v1", "rev: v2"), 0),  # pre-commit autoupdate
    Case("LG412", lambda w: gate(w, forbidden, files=(".env",), defaults=False, forbid=("src/**",)), 0),
]

PRAGMA_LINE = f'KEY = "{AWS}"  # pragma: allowlist secret\n'
BIG = "row\n" * 600_000  # 2.4 MB: over the 2 MiB limit

SECRETS_POSITIVE = [
    Case("LG421", lambda w: last(w.write("a.py", f'KEY = "{AWS}"\n'), gate(w, secrets, files=("a.py",))), 1,
         ("a.py", 1, 8)),
    Case("LG422", lambda w: gate(w, secrets, files=("nope.py",)), 2, ("nope.py", 1, 1)),
    Case("LG423", lambda w: last(w.write("a.py", PRAGMA_LINE), w.git("add", "a.py"), gate(w, secrets)), 1,
         ("a.py", 1, 8)),
    # a warning: the gate passes, and says it did not look
    Case("LG424", lambda w: last(w.write("big.txt", BIG), gate(w, secrets, files=("big.txt",))), 0,
         ("big.txt", 1, 1)),
]
SECRETS_NEGATIVE = [
    Case("LG421", lambda w: last(w.write("a.py", f'KEY = "{AWS.lower()}"\n'), gate(w, secrets, files=("a.py",))), 0),
    Case("LG422", lambda w: last(w.write("nope.py", "NAME = 'demo'\n"), gate(w, secrets, files=("nope.py",))), 0),
    # the same pragma once committed (a reviewed change) is obeyed
    Case("LG423", lambda w: last(w.write("a.py", PRAGMA_LINE), w.commit(), gate(w, secrets, files=("a.py",))), 0),
    Case("LG424", lambda w: last(w.write("big.txt", BIG), gate(w, secrets, files=("big.txt",),
                                                                exclude=("*.txt",))), 0),
]


# -- links ----------------------------------------------------------------------------------------
def _links(w: World, text: str, **options: Any) -> Outcome:
    w.write("docs/a.md", text)
    merged = {"offline": True, "cache_file": str(w.tmp / "cache.json"), **FAST, **options}
    return gate(w, links, paths=("docs",), **merged)


def _offline_world(w: World) -> None:
    """No host name resolves, as on a machine without a network; 127.0.0.1 still answers.

    Only the resolver is replaced: a real failing lookup would send DNS traffic off this machine."""
    real = socket.getaddrinfo

    def resolve(host: object, *args: object, **kwargs: object) -> object:
        if host != "127.0.0.1":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    w.monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _network_down(w: World, also_local_server: bool) -> Outcome:
    _offline_world(w)
    text = "# A\n\n[a](https://docs.example/a)\n"
    if also_local_server:  # one URL that answers shows the network works: the other is a broken link
        text += f"[b]({w.server.base}/ok)\n"
    return _links(w, text, offline=False)


LINKS_POSITIVE = [
    Case("LG441", lambda w: _links(w, "# A\n\n[x](gone.md)\n"), 1, ("docs/a.md", 3, 5)),
    Case("LG442", lambda w: _links(w, "# A\n\n[x](#b)\n"), 1, ("docs/a.md", 3, 5)),
    Case("LG443", lambda w: _links(w, f"# A\n\n[x]({w.server.base}/missing)\n", offline=False), 1,
         ("docs/a.md", 3, 5)),
    Case("LG444", lambda w: gate(w, links, paths=("nope",), offline=True), 2, ("nope", 1, 1)),
    Case("LG445", lambda w: last((w.root / "docs/bad.md").write_bytes(b"\xff\xfe[x](y.md)\n"), _links(w, "# A\n")),
         1, ("docs/bad.md", 1, 1)),
    Case("LG446", lambda w: _links(w, "# A\n", request_timeout=0.0), 2, (".", 1, 1)),
    Case("LG447", lambda w: _network_down(w, also_local_server=False), 2, ("docs/a.md", 3, 5)),
    Case("LG448", lambda w: last((w.tmp / "x.md").write_text("x\n"), _links(w, "# A\n\n[x](../../outside/x.md)\n")),
         1, ("docs/a.md", 3, 5)),
    Case("LG449", lambda w: last((w.tmp / "x.md").write_text("x\n"), os.symlink(w.tmp / "x.md", w.root / "docs/x.md"),
                                 _links(w, "# A\n")), 1, ("docs/x.md", 1, 1)),
    Case("LG482", lambda w: last(w.write("mkdocs.yml", "site_name: Docs\n"),
                                 _links(w, "# A\n\n[x]({{config.site_url}}a/)\n")), 0, ("docs/a.md", 3, 5)),
    Case("LG483", lambda w: last(w.write("mkdocs.yml", "site_name: [unclosed\n"), _links(w, "# A\n")), 2, (".", 1, 1)),
    # a symlink where the cache should be: not followed, a warning, and the run still passes
    Case("LG484", lambda w: last(os.symlink(w.root / "README.md", w.root / "links-cache.json"),
                                 _links(w, f"# A\n\n[x]({w.server.base}/ok)\n", offline=False,
                                        cache_file="links-cache.json")), 0, ("links-cache.json", 1, 1)),
]
LINKS_NEGATIVE = [
    Case("LG441", lambda w: _links(w, "# A\n\n[x](guide.md)\n"), 0),
    Case("LG442", lambda w: _links(w, "# A\n\n[x](#a)\n"), 0),
    Case("LG443", lambda w: _links(w, f"# A\n\n[x]({w.server.base}/ok)\n", offline=False), 0),
    Case("LG443", lambda w: _links(w, f"# A\n\n[x]({w.server.base}/missing)\n"), 0),  # --offline: not asked
    Case("LG444", lambda w: gate(w, links, paths=("docs",), offline=True), 0),
    Case("LG445", lambda w: last((w.root / "docs/ok.md").write_bytes("\ufeffcafé [x](guide.md)\n".encode()),
                                 _links(w, "# A\n")), 0),
    Case("LG446", lambda w: _links(w, "# A\n", request_timeout=0.5), 0),
    Case("LG447", lambda w: _network_down(w, also_local_server=True), 1, also=("LG443",)),
    Case("LG448", lambda w: _links(w, "# A\n\n[x](../README.md)\n"), 0),
    Case("LG449", lambda w: last(os.symlink(w.root / "README.md", w.root / "docs/x.md"), _links(w, "# A\n")), 0),
    # --site none: the same link is checked as written, a file that is not there
    Case("LG482", lambda w: last(w.write("mkdocs.yml", "site_name: Docs\n"),
                                 _links(w, "# A\n\n[x]({{config.site_url}}a/)\n", site="none")), 1, also=("LG441",)),
    # tags only MkDocs' own loader builds are read as opaque values, not an error
    Case("LG483", lambda w: last(w.write("mkdocs.yml", "site_name: Docs\nx: !!python/name:mod.fn\ny: !ENV [A, b]\n"),
                                 _links(w, "# A\n")), 0),
    # a cache the gate wrote itself, read again: no warning
    Case("LG484", lambda w: last(_links(w, f"# A\n\n[x]({w.server.base}/ok)\n", offline=False),
                                 _links(w, f"# A\n\n[x]({w.server.base}/ok)\n", offline=False)), 0),
]


# -- schema ---------------------------------------------------------------------------------------
def _schema(w: World, name: str, text: str | None,
            schema_text: str = '{"type": "object", "properties": {"n": {"type": "integer"}}}') -> Outcome:
    w.write("schema.json", schema_text)
    if text is not None:
        w.write(name, text)
    return gate(w, schema, files=(name,), schema="schema.json")


SCHEMA_POSITIVE = [
    Case("LG451", lambda w: _schema(w, "a.json", '{"n": "x"}'), 1, ("a.json", 1, 7)),
    Case("LG452", lambda w: _schema(w, "a.json", '{\n  "n": 1,,\n}'), 1, ("a.json", 2, 10)),
    Case("LG453", lambda w: _schema(w, "notes.txt", "n: 1\n"), 2, ("notes.txt", 1, 1)),
    Case("LG454", lambda w: _schema(w, "a.json", "{}", '{"type": "nonsense"}'), 2, ("schema.json", 1, 10)),
    Case("LG455", lambda w: _schema(w, "gone.json", None), 2, ("gone.json", 1, 1)),
    Case("LG456", lambda w: _schema(w, "loop.yaml", "a: &a [1, *a]\n", "{}"), 1, ("loop.yaml", 1, 11)),
    Case("LG457", lambda w: _schema(w, "a.json", '{"n": 1,\n "m": -Infinity}', "{}"), 1, ("a.json", 2, 7)),
    Case("LG458", lambda w: _schema(w, "a.yaml", "n: 1\nm: {k: 1, k: 2}\n", "{}"), 1, ("a.yaml", 2, 11)),
    Case("LG459", lambda w: _schema(w, "a.yaml", "n: 1\n? [a, b]\n: 2\n", "{}"), 1, ("a.yaml", 2, 3)),
    Case("LG460", lambda w: _schema(w, "a.json", '{"n": ' + "7" * 5000 + "}", "{}"), 1, ("a.json", 1, 7)),
]
SCHEMA_NEGATIVE = [
    Case("LG451", lambda w: _schema(w, "a.json", '{"n": 1}'), 0),
    Case("LG452", lambda w: _schema(w, "a.json", '{\n  "n": 1\n}'), 0),
    Case("LG453", lambda w: _schema(w, "notes.yaml", "n: 1\n"), 0),
    Case("LG454", lambda w: _schema(w, "a.json", "{}", '{"type": "object"}'), 0),
    Case("LG455", lambda w: _schema(w, "gone.json", "{}"), 0),
    Case("LG456", lambda w: _schema(w, "loop.yaml", "a: &a [1]\nb: *a\n", "{}"), 0),  # an alias, not a loop
    Case("LG457", lambda w: _schema(w, "a.json", '{"n": 1e400, "m": "NaN"}', "{}"), 0),  # JSON numbers, a string
    Case("LG458", lambda w: _schema(w, "a.yaml", "n: 1\nm: {n: 2}\nd: &d {k: 1}\ne: {<<: *d, k: 2}\n", "{}"), 0),
    Case("LG459", lambda w: _schema(w, "a.yaml", "1.5: a\nnull: b\ntrue: c\n", "{}"), 0),  # scalar keys: read as text
    Case("LG460", lambda w: _schema(w, "a.json", '{"n": ' + "7" * 4000 + "}", "{}"), 0),
]


# -- command --------------------------------------------------------------------------------------
def _script(w: World, mode: int) -> Outcome:
    script = w.write("run-tests.sh", "#!/bin/sh\nexit 0\n")
    script.chmod(mode)
    return gate(w, command, argv=(str(script),))


NETWORK_LINE = "echo 'connect: Network is unreachable' >&2; exit 1"
COMMAND_POSITIVE = [
    Case("LG461", lambda w: gate(w, command, shell="echo 'FAILED: 2 tests'; exit 3"), 1, (".", 1, 1)),
    Case("LG462", lambda w: gate(w, command, shell="echo 'src/app.py:1:7: F821 undefined'; exit 1"), 1,
         ("src/app.py", 1, 7)),
    Case("LG463", lambda w: gate(w, command, shell="   "), 2, (".", 1, 1)),
    Case("LG464", lambda w: gate(w, command, argv=("no-such-tool-xyz", "--version")), 2, (".", 1, 1)),
    Case("LG465", lambda w: _script(w, 0o644), 2, (".", 1, 1)),
    Case("LG466", lambda w: gate(w, command, argv=(PY, "-c", "import time; time.sleep(60)"), timeout=0.5), 2,
         (".", 1, 1)),
    Case("LG467", lambda w: gate(w, command, shell="kill -9 $$"), 2, (".", 1, 1)),
    Case("LG468", lambda w: gate(w, command, shell=NETWORK_LINE), 2, (".", 1, 1)),
    Case("LG469", lambda w: gate(w, command, shell="true", timeout=-1.0), 2, (".", 1, 1)),
]
COMMAND_NEGATIVE = [
    Case("LG461", lambda w: gate(w, command, shell="echo 'FAILED: 2 tests'; exit 0"), 0),
    Case("LG462", lambda w: gate(w, command, shell="echo 'src/app.py:1:7: F821 undefined'; exit 0"), 0),
    Case("LG463", lambda w: gate(w, command, shell=" true "), 0),
    Case("LG464", lambda w: gate(w, command, argv=("true", "--version")), 0),
    Case("LG465", lambda w: _script(w, 0o755), 0),
    Case("LG466", lambda w: gate(w, command, argv=(PY, "-c", "pass"), timeout=30.0), 0),
    Case("LG467", lambda w: gate(w, command, shell="kill -0 $$"), 0),  # signal 0 only asks whether it lives
    Case("LG468", lambda w: gate(w, command, shell=NETWORK_LINE, network_errors=False), 1, also=("LG461",)),
    Case("LG469", lambda w: gate(w, command, shell="true", timeout=0.0), 0),  # 0: no limit
]


# -- generated ------------------------------------------------------------------------------------
def _turned_into_a_directory(w: World, work_in_progress: bool) -> Outcome:
    """A generator turns README.md into a directory of ignored files: edits to it cannot be written back."""
    if work_in_progress:
        w.write("README.md", "work in progress\n")
    return gate(w, generated, shell="rm README.md && mkdir -p README.md/sub && echo '*' > README.md/.gitignore && "
                                    "echo x > README.md/sub/f")


def _interrupted(w: World, signal_the_gate: str) -> Outcome:
    """`loopgate gate generated` as its own process: the generator signals it ($PPID is the gate).

    In-process this would signal the test runner itself, so this one code goes through the CLI."""
    done = subprocess.run([PY, "-m", "loopgate", "gate", "generated", "--format", "json", "--shell",
                           f"echo changed > docs/guide.md; {signal_the_gate}"],
                          cwd=w.root, env=git_env(), capture_output=True, text=True, check=False, timeout=60)
    report = json.loads(done.stdout)
    found = [Finding(p["path"], p["line"], p["column"], p["code"], codes.REGISTRY[p["code"]].severity,
                     p["message"], p.get("hint", "")) for p in report["problems"]]
    assert (w.root / "docs/guide.md").read_text() == "guide\n", "the tree is put back"
    return Outcome(found, done.returncode, report["gates"][0]["status"])


def _backup_folder(w: World, leftover: bool) -> Outcome:
    folder = w.root / ".git/loopgate/generated-backup"
    folder.mkdir(parents=True)
    if leftover:
        (folder / "4242" / "tree").mkdir(parents=True)
    return gate(w, generated, shell="true")


def _submodule(w: World, dirty: bool) -> Outcome:
    library = make_repo(w.tmp / "library")
    library.write("lib.txt", "library\n")
    library.commit()
    w.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "vendor/lib")
    w.commit()
    if dirty:
        w.write("vendor/lib/lib.txt", "unsaved\n")
    return gate(w, generated, shell="true")


GENERATED_POSITIVE = [
    Case("LG470", lambda w: gate(w, generated, shell="git commit -q --allow-empty -m generated"), 1, (".", 1, 1)),
    Case("LG479", lambda w: _submodule(w, dirty=True), 2, ("vendor/lib", 1, 1)),
    Case("LG471", lambda w: gate(w, generated, shell="echo more >> docs/guide.md"), 1, ("docs/guide.md", 2, 1)),
    Case("LG472", lambda w: gate(w, generated, shell="echo x > new.txt"), 1, ("new.txt", 1, 1)),
    Case("LG473", lambda w: gate(w, generated, shell="rm docs/guide.md"), 1, ("docs/guide.md", 1, 1)),
    Case("LG474", lambda w: gate(w, generated, shell="echo 'template error' >&2; exit 4"), 1, (".", 1, 1)),
    Case("LG475", lambda w: gate(w, generated, cwd=w.tmp, shell="true"), 2, (".", 1, 1)),
    Case("LG476", lambda w: _turned_into_a_directory(w, work_in_progress=True), 2, (".", 1, 1)),
    Case("LG477", lambda w: _interrupted(w, "kill -INT $PPID; sleep 30"), 2, (".", 1, 1)),
    Case("LG478", lambda w: _backup_folder(w, leftover=True), 2, (".", 1, 1)),
]
GENERATED_NEGATIVE = [
    Case("LG470", lambda w: gate(w, generated, shell="git tag scratch && git tag -d scratch"), 0),  # back as it was
    Case("LG479", lambda w: _submodule(w, dirty=False), 0),
    Case("LG471", lambda w: gate(w, generated, shell="printf 'guide\\n' > docs/guide.md"), 0),  # same bytes
    Case("LG472", lambda w: gate(w, generated, shell="echo x > new.txt && rm new.txt"), 0),
    Case("LG473", lambda w: gate(w, generated, shell="mv docs/guide.md g.tmp && mv g.tmp docs/guide.md"), 0),
    Case("LG474", lambda w: gate(w, generated, shell="echo 'template warning' >&2; exit 0"), 0),
    Case("LG475", lambda w: gate(w, generated, cwd=w.root / "docs", shell="true"), 0),  # a subdirectory
    # without work in progress git puts README.md back, and the change is judged
    Case("LG476", lambda w: _turned_into_a_directory(w, work_in_progress=False), 1, also=("LG471",)),
    # signal 0 sends nothing: the generator's change is judged
    Case("LG477", lambda w: _interrupted(w, "kill -0 $PPID"), 1, also=("LG471",)),
    Case("LG478", lambda w: _backup_folder(w, leftover=False), 0),  # an empty backup folder is no backup
]


# -- loopgate check -------------------------------------------------------------------------------
def _planned(name: str, shell: str, required: bool = True) -> PlannedGate:
    return PlannedGate(name, gates()["command"], command.Options(shell=shell), required, ORIGIN)


def _entry(w: World, args: str) -> Outcome:
    planned = plan_entry("link check", {"gate": "links", "args": args}, True, ORIGIN, str(w.root), {})
    return check(w, [planned])


def _in_ci(w: World, base_ref: str) -> Outcome:
    # a pull request's CI names its base by a variable; `HEAD` would judge the change against itself
    w.monkeypatch.setenv("CI", "true")
    w.monkeypatch.setenv("GITHUB_ACTIONS", "true")
    w.monkeypatch.setenv("GITHUB_BASE_REF", base_ref)
    planned = plan_entry("no secrets", {"gate": "forbidden"}, True, ORIGIN, str(w.root), {}, str(w.root), ci=True)
    return check(w, [planned])


def _data_gate(w: World, *files: str) -> PlannedGate:
    w.write("schema.json", '{"type": "object"}')
    w.write("a.json", "{}")
    return PlannedGate("data", gates()["schema"], schema.Options(files=files, schema="schema.json"), True, ORIGIN)


CHECKLIST = ("# Quality Gate Checklist: demo\n\n## Required Gates\n\n### tests\n- command: {command}\n"
             "- description: {what}\n")


def _checklist_changed(w: World, command_now: str, what_now: str) -> Outcome:
    """`loopgate check`'s plan for a checklist whose committed version runs `true` as its required `tests`."""
    w.write(".loop/quality-gate-checklist.md", CHECKLIST.format(command="true", what="the tests pass"))
    w.commit()
    w.write(".loop/quality-gate-checklist.md", CHECKLIST.format(command=command_now, what=what_now))
    w.monkeypatch.chdir(w.root)  # as the CLI runs: paths from the repository's top
    plan = build_plan(".loop", (), (), ".", ci=True)
    kept, weakened = committed_required(".loop", ".", (), (), plan)
    got = check(w, plan + kept)
    return Outcome([*got.findings, *weakened], got.exit_code, got.status)


CHECK_POSITIVE = [
    Case("LG801", lambda w: check(w, [_planned("lint", "no-such-linter-xyz .")]), 2, ORIGIN, ("LG464",)),
    Case("LG802", lambda w: _entry(w, "--offlin"), 2, ORIGIN),
    Case("LG803", lambda w: check(w, [_planned("tests", "exit 1")]), 1, ORIGIN, ("LG461",)),
    Case("LG804", lambda w: check(w, [_data_gate(w), _planned("tests", "true")]), 1, ORIGIN),  # no files: skipped
    Case("LG805", lambda w: check(w, [_planned("tests", "exit 1", required=False)]), 1,
         (ORIGIN[0], 1, 1), ("LG461",)),
    Case("LG805", lambda w: check(w, [_planned("tests", "true", required=False)]), 1, (ORIGIN[0], 1, 1)),
    # the change edits its required gate: the committed `true` still runs (and passes) beside it
    Case("LG806", lambda w: _checklist_changed(w, "echo edited", "the tests pass"), 0,
         (".loop/quality-gate-checklist.md", 5, 5)),
    Case("LG807", lambda w: _in_ci(w, "HEAD"), 2, ORIGIN),  # the CI's base is no branch: not the args' fault
]
CHECK_NEGATIVE = [
    Case("LG801", lambda w: check(w, [_planned("lint", "exit 1")]), 1, also=("LG461", "LG803")),  # ran, failed
    Case("LG802", lambda w: _entry(w, "--offline"), 0),
    Case("LG803", lambda w: check(w, [_planned("lint", "true"), _planned("tests", "exit 1", required=False)]), 0,
         also=("LG461",)),
    Case("LG804", lambda w: check(w, [_data_gate(w, "a.json")]), 0),  # given a file: it decides
    Case("LG805", lambda w: check(w, [_planned("tests", "true"), _planned("style", "true", required=False)]), 0),
    Case("LG806", lambda w: _checklist_changed(w, "true", "a new description only"), 0),  # judges the same
    Case("LG807", lambda w: _in_ci(w, "main"), 0),  # the base branch is there: the change is judged
]

POSITIVE = (SCOPE_POSITIVE + FORBIDDEN_POSITIVE + SECRETS_POSITIVE + LINKS_POSITIVE + SCHEMA_POSITIVE
            + COMMAND_POSITIVE + GENERATED_POSITIVE + CHECK_POSITIVE)
NEGATIVE = (SCOPE_NEGATIVE + FORBIDDEN_NEGATIVE + SECRETS_NEGATIVE + LINKS_NEGATIVE + SCHEMA_NEGATIVE
            + COMMAND_NEGATIVE + GENERATED_NEGATIVE + CHECK_NEGATIVE)

# Codes that cannot be produced deterministically here, each with why and the test that covers it.
# Spec codes that `loopgate verify` reports (not a gate's): their cases live with the core codes'.
EXEMPT: dict[str, str] = {code: "a verify code of the spec's budgets, tested in tests/unit/test_codes_core.py"
                          for code in ("LG871", "LG872", "LG873")}


def _ids(cases: list[Case]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        seen[case.code] = seen.get(case.code, 0) + 1
        out.append(f"{case.code}-{seen[case.code]}")
    return out


@pytest.mark.parametrize("case", POSITIVE, ids=_ids(POSITIVE))
def test_code_is_produced_where_it_points(case: Case, world: World) -> None:
    got = case.run(world)
    entry = codes.REGISTRY[case.code]
    hits = [f for f in got.findings if f.code == case.code]
    assert {f.code for f in got.findings} == {case.code, *case.also}, [(f.code, f.message) for f in got.findings]
    assert case.where in [(f.path, f.line, f.column) for f in hits], [(f.path, f.line, f.column) for f in hits]
    for hit in hits:
        assert hit.severity is entry.severity
        assert hit.message and hit.hint
    # 0: a warning code, which informs without failing the gate
    assert (got.exit_code, got.status) == (case.exit_code, {0: "passed", 1: "failed", 2: "error"}[case.exit_code])
    assert (case.exit_code == 0) == (entry.severity is not Severity.ERROR)
    if entry.input_error:  # bad input is a usage error, never a verdict on the change
        assert got.exit_code == 2


@pytest.mark.parametrize("case", NEGATIVE, ids=_ids(NEGATIVE))
def test_near_miss_does_not_produce_the_code(case: Case, world: World) -> None:
    got = case.run(world)
    assert case.code not in {f.code for f in got.findings}, [(f.code, f.path, f.message) for f in got.findings]
    assert {f.code for f in got.findings} == set(case.also), [(f.code, f.path, f.message) for f in got.findings]
    assert got.exit_code == case.exit_code, [(f.code, f.path, f.message) for f in got.findings]


def test_every_gate_and_checker_code_has_a_positive_and_a_negative_case() -> None:
    gates()  # the registry fills as gate modules are imported
    ours = {code for code in all_codes() if code >= "LG400"}
    positive = {c.code for c in POSITIVE}
    negative = {c.code for c in NEGATIVE}
    assert ours - positive - set(EXEMPT) == set(), f"no case produces {sorted(ours - positive - set(EXEMPT))}"
    assert ours - negative - set(EXEMPT) == set(), f"no near miss for {sorted(ours - negative - set(EXEMPT))}"
    assert positive | negative | set(EXEMPT) <= ours, "a case names a code that is not registered"
    assert all(reason.strip() for reason in EXEMPT.values())
