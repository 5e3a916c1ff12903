"""The secrets gate: detect-secrets on added lines or whole files, and the secret never shown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.gates import secrets
from loopgate.gates._added import added_lines, unquote
from loopgate.gates.base import GateResult, GateStatus

from .conftest import Cli, Repo

# Built at run time so this file itself holds nothing a scanner would flag.
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "x7Rk2Lq9Tz4Wv8Ny3Pb6Hd1Fs5Jm0Cg" + "aQ2eU"


def _where(result: GateResult) -> list[tuple[str, int, int]]:
    return [(f.path, f.line, f.column) for f in result.findings]


def test_base_scans_only_added_lines(repo: Repo) -> None:
    repo.write("src/settings.py", f'OLD = "{AWS}"\n')
    base = repo.commit()
    repo.write("src/settings.py", f'OLD = "{AWS}"\nNAME = "demo"\nTOKEN = "{GITHUB}"\n')
    result = repo.gate(secrets, base=base)
    assert result.status is GateStatus.FAILED
    assert _where(result) == [("src/settings.py", 3, 10)]
    assert result.findings[0].message == "possible secret: GitHub Token (value not shown)"
    assert "unchanged and deleted lines not scanned" in result.summary


def test_base_scans_untracked_files_whole_and_committed_changes(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.write("src/committed.py", f'KEY = "{AWS}"\n')
    repo.commit()
    repo.write("notes/untracked.txt", f"line one\naws: {AWS}\n")
    result = repo.gate(secrets, base=base)
    assert sorted(_where(result)) == [("notes/untracked.txt", 2, 6), ("src/committed.py", 1, 8)]


def test_renamed_file_is_not_rescanned(repo: Repo) -> None:
    repo.write("src/old_name.py", f'KEY = "{AWS}"\n' + "".join(f"x{i} = {i}\n" for i in range(20)))
    base = repo.commit()
    repo.git("mv", "src/old_name.py", "src/new_name.py")
    repo.commit()
    assert repo.gate(secrets, base=base).status is GateStatus.PASSED


def test_given_files_are_scanned_whole(repo: Repo) -> None:
    repo.write("src/settings.py", f'OLD = "{AWS}"\n')
    repo.commit()
    result = repo.gate(secrets, files=("src/settings.py", "README.md"))
    assert _where(result) == [("src/settings.py", 1, 8)]
    assert "2 files given as arguments (whole)" in result.summary


def test_staged_mode_scans_what_the_index_holds(repo: Repo) -> None:
    repo.write("src/staged.py", f'KEY = "{AWS}"\n')
    repo.git("add", "src/staged.py")
    repo.write("src/staged.py", "KEY = None  # fixed in the work tree, not yet staged\n")
    repo.write("src/unstaged.py", f'TOKEN = "{GITHUB}"\n')
    result = repo.gate(secrets)
    assert _where(result) == [("src/staged.py", 1, 8)]
    assert "staged" in result.summary


FIXTURE = f'KEY = "{AWS}"  # pragma: allowlist secret\n# pragma: allowlist nextline secret\nOTHER = "{GITHUB}"\n'


@pytest.mark.parametrize("how", ["base", "staged", "given"])
def test_a_pragma_the_change_adds_is_reported_not_obeyed(repo: Repo, how: str) -> None:
    repo.write("src/fixture.py", FIXTURE)
    repo.git("add", "-A")
    options: dict[str, object] = {"base": "HEAD"} if how == "base" else \
        {"files": ("src/fixture.py",)} if how == "given" else {}
    result = repo.gate(secrets, **options)
    assert result.status is GateStatus.FAILED
    assert [(f.code, f.line, f.column) for f in result.findings] == [("LG423", 1, 8), ("LG423", 3, 10)]
    assert result.findings[1].message == ("possible secret: GitHub Token (value not shown), allowlisted by a "
                                          "pragma this change adds: not obeyed")
    assert AWS not in str(result) and GITHUB not in str(result)
    assert repo.gate(secrets, allow_new_pragmas=True, **options).status is GateStatus.PASSED


def test_a_committed_pragma_is_obeyed(repo: Repo) -> None:
    repo.write("src/fixture.py", FIXTURE)
    repo.commit("reviewed fixture")
    repo.write("src/fixture.py", FIXTURE + "x = 1\n")
    repo.git("add", "-A")
    for options in ({}, {"base": "HEAD~1"}, {"files": ("src/fixture.py",)}):
        result = repo.gate(secrets, **options)
        if options.get("base"):  # since before the fixture: its pragmas are new in the judged change
            assert [f.code for f in result.findings] == ["LG423", "LG423"]
        else:
            assert result.status is GateStatus.PASSED, (options, result.findings)


def test_the_cli_option_and_the_committed_pyproject_key(repo: Repo, cli: Cli) -> None:
    repo.write("src/fixture.py", FIXTURE)
    repo.git("add", "src/fixture.py")
    assert cli("secrets", cwd=repo.path).returncode == 1
    assert cli("secrets", "--allow-new-pragmas", cwd=repo.path).returncode == 0
    repo.write("pyproject.toml", "[tool.loopgate.gates.secrets]\nallow-new-pragmas = true\n")
    repo.git("add", "pyproject.toml")
    assert cli("secrets", cwd=repo.path).returncode == 1  # the change cannot opt itself in
    repo.git("commit", "-q", "-m", "opt in", "--", "pyproject.toml")
    assert cli("secrets", cwd=repo.path).returncode == 0


def test_exclude_patterns(repo: Repo) -> None:
    repo.write("tests/fixtures/keys.py", f'KEY = "{AWS}"\n')
    repo.write("src/real.py", f'KEY = "{AWS}"\n')
    result = repo.gate(secrets, base="HEAD", exclude=("tests/fixtures/**",))
    assert _where(result) == [("src/real.py", 1, 8)]
    assert "1 excluded" in result.summary


def test_names_with_spaces_quotes_and_unicode(repo: Repo) -> None:
    repo.write("docs/ünï cödé.md", "intro\n")
    repo.write('src/we"ird\tname.py', "a = 1\n")
    base = repo.commit()
    repo.write("docs/ünï cödé.md", f"intro\nkey {AWS}\n")
    repo.write('src/we"ird\tname.py', f'a = 1\nb = 2\nTOKEN = "{GITHUB}"\n')
    result = repo.gate(secrets, base=base)
    assert sorted(_where(result)) == [("docs/ünï cödé.md", 2, 5), ('src/we"ird\tname.py', 3, 10)]


def test_binary_non_utf8_symlink_and_missing_files(repo: Repo, tmp_path: Path) -> None:
    repo.write("assets/blob.dat", "")
    (repo.path / "assets/blob.dat").write_bytes(b"\0\1" + AWS.encode())
    (repo.path / "assets/latin1.txt").write_bytes(b"caf\xe9 " + AWS.encode())
    (tmp_path / "outside.py").write_text(f'KEY = "{AWS}"\n')
    (repo.path / "link.py").symlink_to(tmp_path / "outside.py")
    result = repo.gate(secrets, base="HEAD")
    # one Latin-1 byte no longer hides the file: it is scanned with the byte replaced
    assert [(f.code, f.path) for f in result.findings if f.code != "LG424"] == [("LG421", "assets/latin1.txt")]
    # the symlink is not followed (the file it points to holds a key): its target string is what is scanned
    assert "not scanned: 1 binary;" in result.summary and "in 2 files" in result.summary
    missing = repo.gate(secrets, files=("nope.py",))
    assert [(f.code, f.path) for f in missing.findings] == [("LG422", "nope.py")]


def test_not_a_repository_is_an_environment_error(tmp_path: Path) -> None:
    from loopgate.gates.base import GateContext

    result = secrets.run(secrets.Options(), GateContext(cwd=str(tmp_path)))
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG432"]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit"])
def test_the_secret_appears_in_no_output_format(repo: Repo, cli: Cli, fmt: str) -> None:
    repo.write("src/settings.py", f'PASSWORD = "Tr0ub4dor-horse-staple-9"\nKEY = "{AWS}"\nTOKEN = "{GITHUB}"\n')
    done = cli("secrets", "--base", "HEAD", "--format", fmt, cwd=repo.path)
    assert done.returncode == 1, done.stderr
    assert "src/settings.py" in done.stdout
    for value in (AWS, GITHUB, "Tr0ub4dor-horse-staple-9", AWS[4:12], GITHUB[4:16]):
        assert value not in done.stdout + done.stderr
    if fmt == "json":
        kinds = sorted(f["message"] for f in json.loads(done.stdout)["problems"])
        assert kinds == ["possible secret: AWS Access Key (value not shown)",
                         "possible secret: GitHub Token (value not shown)",
                         "possible secret: Secret Keyword (value not shown)"]


def test_cli_files_from_stdin(repo: Repo, cli: Cli) -> None:
    repo.write("a.py", f'KEY = "{AWS}"\n')
    done = cli("secrets", "--files-from", "-", cwd=repo.path, stdin=b"a.py\0README.md\0")
    assert done.returncode == 1
    assert "a.py:1:8: LG421 possible secret: AWS Access Key" in done.stdout


# -- the diff parsing underneath -----------------------------------------------------------------


def test_unquote_undoes_git_quoting() -> None:
    assert unquote(b'"b/\\303\\274n\\303\\257.txt"') == "b/ünï.txt".encode()
    assert unquote(b'"b/tab\\tq\\"uote\\\\.txt"') == b'b/tab\tq"uote\\.txt'
    assert unquote(b"b/with space.txt\t") == b"b/with space.txt"
    assert unquote(b"b/plain.txt") == b"b/plain.txt"


def test_added_lines_are_not_fooled_by_content_that_looks_like_a_header() -> None:
    patch = b"\n".join([
        b"diff --git a/x.py b/x.py", b"index 1..2 100644", b"--- a/x.py", b"+++ b/x.py",
        b"@@ -1,0 +2,2 @@ def f():", b"+++ b/not-a-file", b"+second",
        b"@@ -9 +10 @@", b"-old", b"+new",
        b"diff --git a/gone.py b/gone.py", b"deleted file mode 100644", b"--- a/gone.py", b"+++ /dev/null",
        b"@@ -1 +0,0 @@", b"-bye",
        b"diff --git a/img.png b/img.png", b"Binary files a/img.png and b/img.png differ", b"",
    ])
    added, binary = added_lines(patch)
    assert added == {"x.py": {2, 3, 10}}
    assert binary == 1


def test_scanned_files_are_left_as_they_were(repo: Repo) -> None:
    repo.write("src/staged.py", f'KEY = "{AWS}"\n')
    repo.git("add", "src/staged.py")
    before = sorted(os.listdir(repo.path))
    repo.gate(secrets)
    assert sorted(os.listdir(repo.path)) == before
    assert repo.git("status", "--porcelain") == "A  src/staged.py\n"


def test_a_missing_path_is_an_input_error_like_in_every_gate(repo: Repo, cli: Cli) -> None:
    repo.write("ok.py", 'NAME = "demo"\n')
    result = repo.gate(secrets, files=("ok.py", "nonexist"))
    assert result.status is GateStatus.ERROR
    assert result.reason == "cannot read nonexist: No such file or directory"
    done = cli("secrets", "nonexist", cwd=repo.path)
    assert done.returncode == 2, done
    assert "nonexist:1:1: LG422 cannot read nonexist: No such file or directory" in done.stdout
    assert cli("secrets", "ok.py", cwd=repo.path).returncode == 0


def test_a_fifo_given_by_name_is_an_input_error_and_never_opened(repo: Repo, cli: Cli) -> None:
    repo.write("ok.md", "notes\n")
    os.mkfifo(repo.path / "pipe.md")  # opening it for reading would block until a writer comes
    os.mkdir(repo.path / "folder.md")
    result = repo.gate(secrets, files=("ok.md", "pipe.md", "folder.md", "gone.png"))
    assert result.status is GateStatus.ERROR
    assert [(f.code, f.path, f.message) for f in result.findings] == [
        ("LG422", "pipe.md", "cannot read pipe.md: it is a FIFO (named pipe), not a regular file; not opened, "
                             "as reading it could wait for ever"),
        ("LG422", "folder.md", "cannot read folder.md: it is a directory"),
        ("LG422", "gone.png", "cannot read gone.png: No such file or directory"),
    ]
    assert result.summary.startswith("scanned 1 line in 1 file")
    done = cli("secrets", "pipe.md", cwd=repo.path)  # the fixture's subprocess timeout catches a hang
    assert done.returncode == 2
    assert "pipe.md:1:1: LG422 cannot read pipe.md: it is a FIFO (named pipe)" in done.stdout


# -- secrets detect-secrets reports at another line; files too large or binary -------------------


def _detect_secrets_cli(path: Path) -> list[dict[str, object]]:
    """The real `detect-secrets scan` on one file, as its users run it."""
    program = shutil.which("detect-secrets") or str(Path(sys.executable).parent / "detect-secrets")
    done = subprocess.run([program, "scan", path.name], cwd=path.parent, capture_output=True, text=True,
                          check=True, timeout=60)
    return list(json.loads(done.stdout)["results"].get(path.name, []))


@pytest.mark.parametrize("how", ["staged", "base"])
def test_a_token_added_inside_a_yaml_block_scalar_is_found(repo: Repo, how: str) -> None:
    ci = repo.write("ci.yaml", "ci:\n  token: |\n    placeholder\n")
    repo.commit("ci")
    ci.write_text(f"ci:\n  token: |\n    {GITHUB}\n")
    repo.git("add", "ci.yaml")
    # The real detect-secrets reports the key's line (2), which the change did not touch.
    (reported,) = _detect_secrets_cli(ci)
    assert (reported["type"], reported["line_number"]) == ("GitHub Token", 2)
    result = repo.gate(secrets, **({"base": "HEAD"} if how == "base" else {}))
    assert result.status is GateStatus.FAILED
    assert _where(result) == [("ci.yaml", 3, 5)]  # where the value is: the added line
    assert result.findings[0].message == "possible secret: GitHub Token (value not shown)"


def test_a_known_secret_pasted_again_on_a_new_line_is_found(repo: Repo) -> None:
    repo.write("src/settings.py", f'OLD = "{AWS}"\n')
    repo.commit()
    repo.write("src/settings.py", f'OLD = "{AWS}"\nx = 1\nCOPY = "{AWS}"\n')
    # detect-secrets reports each value once a file, at its first line (1: unchanged).
    assert [r["line_number"] for r in _detect_secrets_cli(repo.path / "src/settings.py")] == [1]
    assert _where(repo.gate(secrets, base="HEAD")) == [("src/settings.py", 3, 9)]


def test_a_file_over_the_size_limit_is_a_warning_and_is_never_read(repo: Repo, cli: Cli) -> None:
    big = repo.write("data/dump.sql", f"-- {AWS}\n" + ("insert into t values (1);\n" * 90_000))
    assert big.stat().st_size > 2 * 1024 * 1024
    repo.write("src/ok.py", "x = 1\n")
    repo.git("add", "-A")
    for options in ({}, {"base": "HEAD"}, {"files": ("data/dump.sql", "src/ok.py")}):
        result = repo.gate(secrets, **options)
        assert result.status is GateStatus.PASSED, options
        (finding,) = result.findings
        assert (finding.code, finding.severity.value, finding.path) == ("LG424", "warning", "data/dump.sql")
        assert finding.message.startswith("data/dump.sql not scanned for secrets: 2,")
        assert "over the 2 MiB limit" in finding.message and "1 over 2 MiB" in result.summary
    done = cli("secrets", "--format", "json", cwd=repo.path)
    assert done.returncode == 0 and '"LG424"' in done.stdout


def test_a_nul_byte_anywhere_makes_a_file_binary_as_in_verify(repo: Repo) -> None:
    repo.write("notes.txt", "text\n" * 3000 + f"KEY = '{AWS}'\n")  # git sees text in its first 8000 bytes
    with open(repo.path / "notes.txt", "ab") as handle:
        handle.write(b"\0tail\n")
    repo.git("add", "-A")
    result = repo.gate(secrets)
    assert [(f.code, f.line) for f in result.findings] == [("LG424", 3002)]
    assert "holds a NUL byte (binary)" in result.findings[0].message


def test_a_given_file_outside_the_repository_is_scanned_without_writing_there(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "keys.py"
    outside.parent.mkdir()
    outside.write_text(f'KEY = "{AWS}"\n')
    before = sorted(p.name for p in outside.parent.iterdir())
    result = repo.gate(secrets, files=(str(outside),))
    assert [f.code for f in result.findings] == ["LG421"]
    assert sorted(p.name for p in outside.parent.iterdir()) == before


def test_a_pinned_hook_revision_in_pre_commit_config_is_not_a_secret(repo: Repo) -> None:
    sha = "2c9f875913ee60ca25ce70243dc24d5b6415598c"
    config = ("repos:\n-   repo: https://github.com/pre-commit/pre-commit-hooks\n"
              f"    rev: {sha}  # frozen: v4.6.0\n    hooks:\n    -   id: trailing-whitespace\n")
    repo.write(".pre-commit-config.yaml", config)
    repo.write("other.yaml", config)  # the same line anywhere else is still flagged
    # the real detect-secrets flags both (the false positive users meet when they pin by commit)
    assert [r["type"] for r in _detect_secrets_cli(repo.path / ".pre-commit-config.yaml")] == [
        "Hex High Entropy String"]
    result = repo.gate(secrets, files=(".pre-commit-config.yaml", "other.yaml"))
    assert _where(result) == [("other.yaml", 3, 10)]
    # and a real secret on a rev: line of the config is still one
    repo.write(".pre-commit-config.yaml", config.replace(sha, f"{sha}  # {AWS}"))
    assert [f.code for f in repo.gate(secrets, files=(".pre-commit-config.yaml",)).findings] == ["LG421"]


def test_unquote_never_raises_on_odd_escapes() -> None:
    assert unquote(b'"a\\777b"') == b"a777b"  # not a byte: kept as the digits
    assert unquote(b'"\\39x"') == b"39x"
    assert unquote(b'"end\\"') == b"end\\"


def test_the_pinned_rev_pattern_is_linear_on_long_blank_runs() -> None:
    """Bounded by a generous subprocess timeout, not a timing assertion: quadratic would take hours."""
    code = ("from loopgate.gates._secretscan import _PINNED_REV\n"
            "for line in (' ' * 200_000 + '-' + ' ' * 200_000 + 'rev: zz', '\\t' * 400_000 + 'x',\n"
            "             'rev: ' + 'a' * 40 + ' ' * 400_000 + 'x'):\n"
            "    assert _PINNED_REV.fullmatch(line) is None\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_staged_path_thousands_of_directories_deep_is_scanned(repo: Repo) -> None:
    (repo.path / "k.py").write_text(f'KEY = "{AWS}"\n')
    blob = repo.git("hash-object", "-w", "k.py").strip()
    (repo.path / "k.py").unlink()
    deep = "/".join(["d"] * 3000) + "/k.py"
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{deep}")
    result = repo.gate(secrets)
    assert [(f.code, f.path, f.line) for f in result.findings] == [("LG421", deep, 1)]


def test_a_new_value_under_an_old_nextline_pragma_is_not_covered(repo: Repo) -> None:
    repo.write("src/fixture.py", f'# pragma: allowlist nextline secret\nOTHER = "{AWS}"\n')
    repo.commit("reviewed fixture")
    repo.write("src/fixture.py", f'# pragma: allowlist nextline secret\nOTHER = "{GITHUB}"\n')
    repo.git("add", "-A")
    result = repo.gate(secrets)
    assert [(f.code, f.line) for f in result.findings] == [("LG423", 2)]
    assert repo.gate(secrets, allow_new_pragmas=True).status is GateStatus.PASSED


def test_a_block_scalar_value_added_under_an_unchanged_key_is_found(repo: Repo, cli: Cli) -> None:
    """`password: |` then the value on the next line: detect-secrets reports the key's line with the
    value and a newline, which no single added line held, so the secret passed."""
    repo.write("c.yaml", "ci:\n  password: |\n    placeholder\n")
    repo.commit("config")
    value = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
    repo.write("c.yaml", f"ci:\n  password: |\n    {value}\n")
    repo.git("add", "c.yaml")
    done = cli("secrets", cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "c.yaml:3:5: LG421 possible secret: Secret Keyword (value not shown)" in done.stdout
    assert value not in done.stdout + done.stderr
    # near miss: a change elsewhere in the file leaves the (unchanged) value unreported
    repo.commit("take it")
    repo.write("c.yaml", f"ci:\n  password: |\n    {value}\nname: demo\n")
    repo.git("add", "c.yaml")
    assert cli("secrets", cwd=repo.path).returncode == 0


def test_the_changes_own_gitattributes_cannot_make_a_file_binary(repo: Repo, cli: Cli) -> None:
    """`a.py binary` / `*.py -diff` added in the same change made git diff it as binary: not scanned."""
    repo.write(".gitattributes", "a.py binary\n*.py -diff\n")
    repo.write("a.py", f'T = "{GITHUB}"\n')
    repo.git("add", "-A")
    done = cli("secrets", "--format", "json", cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [(p["code"], p["path"], p["line"]) for p in json.loads(done.stdout)["problems"]] == [("LG421", "a.py", 1)]
    repo.commit("attributes")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("b.py", f'U = "{GITHUB}"\n')
    repo.commit("on a branch")
    assert cli("secrets", "--base", "main", cwd=repo.path).returncode == 1


def test_a_nul_byte_in_a_staged_file_is_a_warning_not_silence(repo: Repo, cli: Cli) -> None:
    (repo.path / "b.dat").write_bytes(b"x\0y\n")
    repo.git("add", "-A")
    done = cli("secrets", cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "b.dat:1:1: LG424 [warning] b.dat not scanned for secrets: it holds a NUL byte (binary)" in done.stdout


@pytest.mark.parametrize("name", ["theme.css", "logo.svg", "yarn.lock", "app.js.map", "package-lock.json",
                                  "docs/swagger/api.yaml", "go.sum"])
@pytest.mark.parametrize("how", ["staged", "base", "given"])
def test_a_token_in_a_file_detect_secrets_skips_by_name_is_found(repo: Repo, name: str, how: str) -> None:
    repo.write("README.md", "x\n")
    repo.commit("base")
    repo.write(name, f'/* deploy */\nkey: "{GITHUB}"\n')
    # detect-secrets itself (run from the repository root, as its hook is) passes this file: the gate goes
    # further (by the bytes, not the name)
    program = shutil.which("detect-secrets") or str(Path(sys.executable).parent / "detect-secrets")
    done = subprocess.run([program, "scan", name], cwd=repo.path, capture_output=True, text=True, check=True,
                          timeout=60)
    assert json.loads(done.stdout)["results"] == {}
    repo.git("add", "-A")
    result = repo.gate(secrets, **({"base": "HEAD"} if how == "base" else {"files": (name,)} if how == "given"
                                   else {}))
    assert [(f.code, f.path, f.line) for f in result.findings] == [("LG421", name, 2)]
    assert "GitHub Token" in result.findings[0].message


def test_entropy_alone_in_a_lock_file_is_not_a_finding_and_a_binary_image_is_skipped(repo: Repo) -> None:
    repo.write("README.md", "x\n")
    repo.commit("base")
    # an npm integrity hash: high entropy, public by nature (detect-secrets skips lock files for this)
    digest = "q1Xm7Rk2Lq9Tz4Wv8Ny3Pb6Hd1Fs5Jm0CgaQ2eUzP" * 2
    repo.write("package-lock.json", '{"integrity": "sha512-' + digest + '=="}\n')
    (repo.path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + GITHUB.encode())
    repo.git("add", "-A")
    result = repo.gate(secrets)
    assert result.findings == []
    assert "not scanned: 1 binary" in result.summary


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("how", ["staged", "base", "given"])
def test_a_utf16_file_with_a_bom_is_decoded_and_scanned(repo: Repo, codec: str, how: str) -> None:
    bom = {"utf-16-be": "\ufeff"}.get(codec, "")  # utf-16 and utf-32 write their own BOM
    repo.write("settings.ps1", "x\n")
    (repo.path / "settings.ps1").write_bytes((bom + "# settings\n$a = 1\n").encode(codec))
    repo.commit("base")
    (repo.path / "settings.ps1").write_bytes((bom + f'# settings\n$a = 1\n$token = "{GITHUB}"\n').encode(codec))
    assert _detect_secrets_cli(repo.path / "settings.ps1") == []  # detect-secrets reads it as binary
    repo.git("add", "-A")
    result = repo.gate(secrets, **({"base": "HEAD"} if how == "base" else {"files": ("settings.ps1",)}
                                   if how == "given" else {}))
    assert [(f.code, f.line) for f in result.findings] == [("LG421", 3)]


def test_a_utf16_file_whose_unchanged_secret_is_not_reported_again(repo: Repo) -> None:
    repo.write("old.txt", "x\n")
    (repo.path / "old.txt").write_bytes(f'KEY = "{AWS}"\n'.encode("utf-16"))
    repo.commit("base")
    (repo.path / "old.txt").write_bytes(f'KEY = "{AWS}"\nname = "loop"\n'.encode("utf-16"))
    repo.git("add", "-A")
    assert repo.gate(secrets).findings == []


@pytest.mark.parametrize("how", ["staged", "base", "given"])
def test_a_symlink_whose_target_string_is_a_token_is_found(repo: Repo, how: str) -> None:
    repo.write("README.md", "x\n")
    repo.commit("base")
    (repo.path / "creds").symlink_to(GITHUB)  # dangling: the name is the secret, nothing is followed
    (repo.path / "readme-link").symlink_to("README.md")
    repo.git("add", "-A")
    result = repo.gate(secrets, **({"base": "HEAD"} if how == "base" else {"files": ("creds", "readme-link")}
                                   if how == "given" else {}))
    assert [(f.code, f.path, f.line) for f in result.findings] == [("LG421", "creds", 1)]
