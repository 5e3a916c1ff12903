"""Containment (issue 7, section 1): hostile makers under the real bubblewrap sandbox.

Each maker is a real shell script committed to a real repository; it reports what it could
see and do into its attempt directory (the one place outside its worktree it may write), and
the test checks the repository, the user's checkout, a local bare `origin` and a fake home
full of credentials from outside. Without bwrap these tests skip on a laptop and FAIL in CI.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopgate.runner.loop import RunError, RunOutcome, Stop
from loopgate.runner.sandbox import maker_env

from .conftest import LoopRepo, PlanFactory, git, path_without, require_bwrap
from .conftest import run_one as run
from .conftest import seen_by_maker as seen

FIX = "sed -i 's/missing.md/index.md/' docs/guide.md"
SECRET = "s3cr3t-value-0123456789"


@pytest.fixture(autouse=True)
def bwrap_here() -> None:
    require_bwrap("the containment tests")


def hostile(repo: LoopRepo, script: str, *, contain: bool = True, sandbox: str = "") -> None:
    """Commit `script` as tools/hostile.sh and make it the maker (it also applies the good fix,
    so the only thing wrong with its attempt is what it tried besides)."""
    (repo.root / "tools").mkdir(exist_ok=True)
    (repo.root / "tools" / "hostile.sh").write_text(
        'seen="$LOOPGATE_ATTEMPT_DIR/seen.txt"\n' + script + "\n" + FIX + "\n")
    repo.set_spec("sh tools/hostile.sh", iterations=1, contain=contain)
    if sandbox:
        spec = repo.loop / "LOOP_SPEC.md"
        spec.write_text(spec.read_text() + sandbox)
    repo.commit("hostile maker")




def report(outcome: RunOutcome) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(Path(outcome.report_path).read_text())
    return loaded


def status(repo: LoopRepo) -> tuple[str, str]:
    text = repo.state()
    block = text[text.index("### DOC-1"):]
    lines = dict(line[2:].split(": ", 1) for line in block.splitlines() if line.startswith("- ") and ": " in line)
    return lines.get("status", ""), lines.get("reason", "")



@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY----- {SECRET}\n")
    (home / ".git-credentials").write_text(f"https://user:{SECRET}@github.com\n")
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text(f"github.com:\n  oauth_token: {SECRET}\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {SECRET}\n")
    monkeypatch.setenv("HOME", str(home))
    return home


PUSH = 'git push -q origin HEAD:refs/heads/pushed-by-maker >> "$seen" 2>&1; echo "push exit $?" >> "$seen"'


def test_a_contained_maker_cannot_push_to_a_local_origin(loop_repo: LoopRepo, factory: PlanFactory,
                                                         origin: Path) -> None:
    before = git(origin, "for-each-ref")
    hostile(loop_repo, PUSH)
    outcome = run(loop_repo, factory)
    assert "push exit 0" not in seen(loop_repo)
    assert git(origin, "for-each-ref") == before  # nothing landed
    assert status(loop_repo)[0] == "drafted"  # the push failed; the fix itself is good
    assert report(outcome)["contained"] is True


def test_an_uncontained_push_escalates_the_item_as_a_push_attempt(loop_repo: LoopRepo, factory: PlanFactory,
                                                                  origin: Path) -> None:
    hostile(loop_repo, PUSH, contain=False)
    outcome = run(loop_repo, factory)
    assert "push exit 0" in seen(loop_repo)
    assert "refs/heads/pushed-by-maker" in git(origin, "for-each-ref")  # it landed: nothing stopped it...
    state, reason = status(loop_repo)
    assert state == "escalated"  # ...but the loop saw it
    assert reason.startswith("push attempt: the maker changed the branches or tags of remote 'origin'")
    assert report(outcome)["contained"] is False
    assert "`contain: no`" in report(outcome)["containment"]["why"]  # type: ignore[index]
    assert any("uncontained" in w for w in report(outcome)["warnings"])  # type: ignore[attr-defined]


READ_SECRETS = "\n".join([
    'env >> "$seen"',
    'for f in {home}/.ssh/id_rsa {home}/.git-credentials {home}/.config/gh/hosts.yml {home}/.aws/credentials '
    '"$HOME/.ssh/id_rsa"; do cat "$f" >> "$seen" 2>&1 || echo "unreadable $f" >> "$seen"; done',
])


def test_a_contained_maker_sees_no_token_and_no_credential_file(loop_repo: LoopRepo, factory: PlanFactory,
                                                                fake_home: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "SSH_AUTH_SOCK"):
        monkeypatch.setenv(name, SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "named-key-value")
    hostile(loop_repo, READ_SECRETS.format(home=fake_home), sandbox="- environment: ANTHROPIC_API_KEY\n")
    run(loop_repo, factory)
    text = seen(loop_repo)
    assert SECRET not in text
    assert text.count("unreadable") == 5
    assert "ANTHROPIC_API_KEY=named-key-value" in text  # what the spec names gets through
    assert f"HOME={fake_home}" not in text and "PATH=" in text and "LOOPGATE_ITEM_ID=DOC-1" in text
    assert status(loop_repo)[0] == "drafted"


def test_uncontained_the_environment_is_still_an_allowlist(loop_repo: LoopRepo, factory: PlanFactory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_SERVICE_PASSWORD", "LOOPGATE_STALE"):
        monkeypatch.setenv(name, SECRET)
    hostile(loop_repo, 'env >> "$seen"', contain=False)
    run(loop_repo, factory)
    text = seen(loop_repo)
    assert SECRET not in text
    assert "LOOPGATE_ATTEMPT=1" in text


WRITE_OUTSIDE = "\n".join([
    'top="$LOOPGATE_WORKTREE/../../../.."',
    'for f in "$top/docs/index.md" "$top/.loop/LOOP_SPEC.md" "$top/.git/hooks/pre-commit" "$top/.git/config"; '
    'do (echo planted >> "$f") 2>/dev/null && echo "wrote $f" >> "$seen"; done',
    'echo planted >> "{outside}"  # /tmp is private: this lands in the sandbox\'s own /tmp, not in yours',
    'git update-ref refs/heads/main HEAD~0 2>/dev/null && echo "moved a ref" >> "$seen"',
    'echo done >> "$seen"',
])


def test_a_contained_maker_cannot_write_outside_its_worktree(loop_repo: LoopRepo, factory: PlanFactory,
                                                             tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    hostile(loop_repo, WRITE_OUTSIDE.format(outside=outside))
    checkout = {p: p.read_bytes() for p in (loop_repo.root / "docs").iterdir()}
    run(loop_repo, factory)
    text = seen(loop_repo)
    assert "wrote" not in text and "moved a ref" not in text and "done" in text
    assert outside.read_text() == "mine\n"
    assert {p: p.read_bytes() for p in (loop_repo.root / "docs").iterdir()} == checkout
    assert not (loop_repo.root / ".git" / "hooks" / "pre-commit").exists()
    assert "planted" not in (loop_repo.root / ".git" / "config").read_text()
    assert status(loop_repo)[0] == "drafted"


def test_git_works_inside_the_sandbox_and_its_objects_stay_out_of_the_repository(
        loop_repo: LoopRepo, factory: PlanFactory) -> None:
    objects = sorted(p.name for p in (loop_repo.root / ".git" / "objects").iterdir())
    hostile(loop_repo, f'{FIX}; git add -A >> "$seen" 2>&1 && git status --short >> "$seen" && '
                       'ls "$GIT_OBJECT_DIRECTORY" | grep -c "^[0-9a-f][0-9a-f]$" >> "$seen" && '
                       'echo "objects in $GIT_OBJECT_DIRECTORY" >> "$seen" && echo ok >> "$seen"')
    run(loop_repo, factory)
    said = seen(loop_repo)
    assert "ok" in said
    assert status(loop_repo)[0] == "drafted"
    # the maker's `git add` wrote to its attempt dir (a fan-out folder at least), which is cleared once
    # the attempt is judged; the loop's own commit of the candidate adds objects to the repository
    where = said.split("objects in ", 1)[1].split()[0]
    assert where.endswith("/maker/objects") and "/attempts/DOC-1/" in where, where
    assert int(said.split("objects in ")[0].split()[-1]) >= 1, said
    assert not Path(where).exists()
    assert set(objects) <= {p.name for p in (loop_repo.root / ".git" / "objects").iterdir()}


ESCAPE = ('setsid sh -c \'sleep 1; echo escaped > "$LOOPGATE_ATTEMPT_DIR/escaped.txt"\' '
          '</dev/null >/dev/null 2>&1 &\necho started >> "$seen"')


def test_nothing_a_contained_maker_starts_outlives_the_attempt(loop_repo: LoopRepo, factory: PlanFactory) -> None:
    hostile(loop_repo, ESCAPE)
    run(loop_repo, factory)
    assert "started" in seen(loop_repo)
    import time

    time.sleep(1.5)
    assert not list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker/escaped.txt"))


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello from the host")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


FETCH = ('{python} -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=3).read())" '
         '{url} >> "$seen" 2>&1; echo "fetch exit $?" >> "$seen"')


@pytest.mark.parametrize(("network", "reached"), [("full", True), ("none", False)])
def test_the_makers_network_is_full_or_none(loop_repo: LoopRepo, factory: PlanFactory, server: str,
                                            network: str, reached: bool) -> None:
    import sys

    # the test's Python lives under /root (hidden like every home): `read only` shows it to the maker
    hostile(loop_repo, FETCH.format(python=sys.executable, url=server),
            sandbox=f"- network: {network}\n- read only: {sys.base_prefix}, {os.path.dirname(sys.executable)}\n")
    outcome = run(loop_repo, factory)
    assert ("hello from the host" in seen(loop_repo)) is reached
    assert report(outcome)["containment"]["network"] == network  # type: ignore[index]


def test_pr_mode_refuses_to_run_uncontained_unless_the_spec_opts_out(loop_repo: LoopRepo,
                                                                     factory: PlanFactory) -> None:
    loop_repo.set_spec(mode="pr", contain=False)
    with pytest.raises(RunError, match=r"mode 'pr' runs the maker contained.*allow uncontained: yes"):
        run(loop_repo, factory)
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text() + "- allow uncontained: yes\n")
    loop_repo.commit("opt out")
    outcome = run(loop_repo, factory)  # no GitHub repository here: it drafts; what matters is it ran
    assert outcome.stop in (Stop.DONE, Stop.ESCALATIONS)
    assert report(outcome)["contained"] is False


def test_allowlist_without_srt_says_so(loop_repo: LoopRepo, factory: PlanFactory,
                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # srt may be installed here (`npm -g` puts it in /usr/bin)
    monkeypatch.setenv("PATH", path_without("srt", tmp_path))
    assert shutil.which("srt") is None
    loop_repo.set_spec()
    spec = loop_repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text() + "- network: allowlist\n- allowed hosts: api.anthropic.com\n")
    loop_repo.commit("allowlist")
    with pytest.raises(RunError, match=r"needs Anthropic's sandbox-runtime \(`srt`.*not installed"):
        run(loop_repo, factory)


def test_the_environment_allowlist() -> None:
    source = {"PATH": "/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm", "TZ": "UTC", "HOME": "/root",
              "GITHUB_TOKEN": "t", "GH_HOST": "h", "AWS_SECRET_ACCESS_KEY": "k", "SSH_AUTH_SOCK": "/s",
              "ANTHROPIC_API_KEY": "a", "LOOPGATE_ITEM_ID": "stale", "EDITOR": "vi"}
    env = maker_env(source, ("ANTHROPIC_API_KEY", "GITHUB_TOKEN"), "/maker-home", {"LOOPGATE_ITEM_ID": "X-1"},
                    withheld=("GITHUB_TOKEN",))
    assert env == {"PATH": "/bin", "LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm", "TZ": "UTC",
                   "HOME": "/maker-home", "ANTHROPIC_API_KEY": "a", "LOOPGATE_ITEM_ID": "X-1"}


GIT_VIEW = "\n".join([
    'git config --list --show-origin >> "$seen" 2>&1',
    'git var GIT_AUTHOR_IDENT >> "$seen" 2>&1',
    'printf "protocol=https\\nhost=github.com\\n\\n" | GIT_TERMINAL_PROMPT=0 git credential fill >> "$seen" 2>&1',
    'for f in {home}/.gitconfig {home}/.git-credentials {secret_include} "$HOME/.gitconfig" '
    '"$(git rev-parse --git-common-dir)/config" "$GIT_CONFIG_GLOBAL"; do '
    'cat "$f" >> "$seen" 2>&1 || echo "unreadable $f" >> "$seen"; done',
    'env >> "$seen"',
])


def test_a_contained_makers_git_has_the_users_identity_and_none_of_their_credentials(
        loop_repo: LoopRepo, factory: PlanFactory, fake_home: Path, origin: Path, tmp_path: Path) -> None:
    (fake_home / ".gitconfig").write_text(
        "[user]\n\tname = Real User\n\temail = real@example.com\n[credential]\n\thelper = store\n"
        f"[http]\n\textraHeader = AUTHORIZATION: bearer {SECRET}\n")
    # what a CI checkout leaves in the repository's own config, and worse
    include = tmp_path / "secret.inc"
    include.write_text(f"[http]\n\tproxy = http://u:{SECRET}@proxy.example\n")
    config = loop_repo.root / ".git" / "config"
    config.write_text(config.read_text() + (
        f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {SECRET}\n'
        f'[credential]\n\thelper = "!f() {{ echo password={SECRET}; }}; f"\n'
        f'[url "https://x-access-token:{SECRET}@github.com/"]\n\tinsteadOf = https://github.com/\n'
        f'[remote "upstream"]\n\turl = https://user:{SECRET}@github.com/o/r.git\n'
        f'[core]\n\tsshCommand = ssh -i /keys/{SECRET}\n'
        f"[include]\n\tpath = {include}\n"))
    git(loop_repo.root, "config", "--unset", "user.name")  # the identity comes from the user's ~/.gitconfig
    git(loop_repo.root, "config", "--unset", "user.email")
    hostile(loop_repo, GIT_VIEW.format(home=fake_home, secret_include=include))
    run(loop_repo, factory)
    text = seen(loop_repo)
    assert SECRET not in text, [line for line in text.splitlines() if SECRET in line]
    assert "Real User <real@example.com>" in text  # git var: the maker's git has an identity
    assert "remote.upstream.url=https://github.com/o/r.git" in text  # the remote is there, its password not
    assert "remote.origin.url=" in text and "core.repositoryformatversion=0" in text
    assert status(loop_repo)[0] == "drafted"
    # the user's own files are untouched
    assert SECRET in config.read_text() and "helper = store" in (fake_home / ".gitconfig").read_text()
