"""The scope gate on real git repositories: sources of changed files, rules, limits, escapes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopgate.gates import scope
from loopgate.gates._patterns import Rule, RuleSet
from loopgate.gates.base import GateStatus

from .conftest import Cli, Repo


def _codes(result: scope.GateResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def _by_path(result: scope.GateResult) -> dict[str, str]:
    return {f.path: f.message for f in result.findings}


# -- where the changed files come from ----------------------------------------------------------


def test_base_sees_committed_staged_unstaged_and_untracked(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.write("docs/committed.md")
    repo.commit()
    repo.write("docs/staged.md")
    repo.git("add", "docs/staged.md")
    repo.write("docs/guide.md", "changed, not staged\n")
    repo.write("docs/untracked.md")
    repo.write("src/stray.py")
    result = repo.gate(scope, base=base, allow=("docs/**",))
    assert result.status is GateStatus.FAILED
    assert _by_path(result) == {"src/stray.py": "src/stray.py (untracked) is outside the allowed paths: "
                                                "matched no allow pattern"}
    assert result.summary.startswith("5 changed files since ")


def test_ignored_files_are_not_changes(repo: Repo) -> None:
    repo.write(".gitignore", "build/\n")
    repo.commit()
    repo.write("build/out.bin")
    result = repo.gate(scope, base="HEAD", allow=("docs/**",))
    assert result.status is GateStatus.PASSED, result.findings
    assert result.summary.startswith("0 changed files")


def test_base_diffs_against_the_merge_base(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("docs/new.md")
    repo.commit()
    repo.git("checkout", "-q", "main")
    repo.write("src/main_moved_on.py")
    repo.commit()
    repo.git("checkout", "-q", "feature")
    result = repo.gate(scope, base="main", allow=("docs/**",))
    assert result.status is GateStatus.PASSED, result.findings
    assert "merge base" in result.summary


def test_default_is_the_staged_changes(repo: Repo) -> None:
    repo.write("src/staged.py")
    repo.git("add", "src/staged.py")
    repo.write("src/unstaged_untracked.py")
    repo.write("README.md", "edited, not staged\n")
    result = repo.gate(scope, allow=("docs/**",))
    assert list(_by_path(result)) == ["src/staged.py"]
    assert "unstaged and untracked files not checked" in result.summary


def test_staged_in_a_repository_without_commits(new_repo: object) -> None:
    fresh = new_repo("fresh")  # type: ignore[operator]
    fresh.write("docs/a.md")
    fresh.write("src/b.py")
    fresh.git("add", "-A")
    result = fresh.gate(scope, allow=("docs/**",))
    assert list(_by_path(result)) == ["src/b.py"]


def test_renames_count_on_both_sides_and_deletions_count(repo: Repo) -> None:
    repo.git("mv", "docs/guide.md", "docs/handbook.md")
    repo.git("rm", "-q", "README.md")
    result = repo.gate(scope, allow=("docs/**",), max_files=2)
    assert _codes(result) == ["LG401", "LG402"]
    assert _by_path(result)["README.md"] == "README.md (deleted) is outside the allowed paths: matched no allow pattern"
    too_many = next(f for f in result.findings if f.code == "LG402")
    assert too_many.message.startswith("3 files changed staged, over the limit of 2")
    assert repo.gate(scope, allow=("docs/**", "README.md"), max_files=3).status is GateStatus.PASSED


def test_unstaged_rename_counts_both_sides_against_base(repo: Repo) -> None:
    os.rename(repo.path / "docs/guide.md", repo.path / "src/guide.md")
    result = repo.gate(scope, base="HEAD", allow=("docs/**",))
    assert _by_path(result) == {"src/guide.md": "src/guide.md (untracked) is outside the allowed paths: "
                                                "matched no allow pattern"}
    assert result.summary.startswith("2 changed files")


def test_spaces_quotes_and_unicode_in_names(repo: Repo) -> None:
    repo.write("docs/ünï cödé.md")
    repo.write('src/we"ird\tname.py')
    result = repo.gate(scope, base="HEAD", allow=("docs/**",))
    assert list(_by_path(result)) == ['src/we"ird\tname.py']


def test_nested_directories_and_unanchored_patterns(repo: Repo) -> None:
    repo.write("docs/a/b/c/deep.md")
    repo.write("src/pkg/notes.md")
    repo.write("src/pkg/mod.py")
    result = repo.gate(scope, base="HEAD", allow=("docs/", "*.md"))
    assert list(_by_path(result)) == ["src/pkg/mod.py"]


def test_negation_reports_the_rule_that_excluded(repo: Repo) -> None:
    repo.write("docs/private/plan.md")
    repo.write("docs/public.md")
    result = repo.gate(scope, base="HEAD", allow=("docs/**", "!docs/private/**"))
    assert _by_path(result) == {"docs/private/plan.md": "docs/private/plan.md (untracked) is outside the "
                                "allowed paths: excluded by '!docs/private/**' (--allow)"}


def test_gate_run_from_a_subdirectory_reports_paths_relative_to_it(repo: Repo) -> None:
    repo.write("src/new.py")
    result = repo.gate(scope, cwd=repo.path / "docs", base="HEAD", allow=("docs/**",))
    assert list(_by_path(result)) == ["../src/new.py"]


# -- symlinks and paths that leave the repository ------------------------------------------------


def test_symlink_inside_the_repository_is_judged_by_its_own_path(repo: Repo) -> None:
    (repo.path / "docs/link.py").symlink_to("../src/app.py")
    assert repo.gate(scope, base="HEAD", allow=("docs/**",)).status is GateStatus.PASSED


def test_symlink_pointing_outside_always_fails(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.txt").write_text("outside\n")
    (repo.path / "docs/escape.md").symlink_to(tmp_path / "elsewhere.txt")
    repo.commit("add a symlink")
    result = repo.gate(scope, base="HEAD~1", allow=("docs/**",))
    assert _codes(result) == ["LG436"]
    assert "is a symbolic link to" in result.findings[0].message


def test_given_paths_through_a_symlinked_directory_are_judged_where_they_land(repo: Repo) -> None:
    (repo.path / "docs/code").symlink_to("../src", target_is_directory=True)
    result = repo.gate(scope, files=("docs/code/app.py", "docs/guide.md"), allow=("docs/**",))
    assert _by_path(result) == {"docs/code/app.py": "docs/code/app.py (really src/app.py) is outside the "
                                                    "allowed paths: matched no allow pattern"}


def test_given_paths_through_a_directory_symlink_to_outside_fail(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (repo.path / "docs/ext").symlink_to(tmp_path / "outside", target_is_directory=True)
    result = repo.gate(scope, files=("docs/ext/x.md",), allow=("docs/**",))
    assert _codes(result) == ["LG436"]


def test_dotdot_and_absolute_paths(repo: Repo, tmp_path: Path) -> None:
    given = ("../outside.md", "docs/../src/app.py", str(tmp_path / "abs.md"), str(repo.path / "docs/guide.md"))
    result = repo.gate(scope, files=given, allow=("docs/**",))
    messages = _by_path(result)
    assert messages["../outside.md"] == "../outside.md leads outside the repository through '..'"
    assert messages[str(tmp_path / "abs.md")].endswith("is an absolute path outside the repository")
    assert messages["src/app.py"].endswith("matched no allow pattern")  # `docs/../` does not sneak past docs/**
    assert len(messages) == 3  # the absolute path inside the repository is fine


# -- allow rules from a file, the spec, pyproject ------------------------------------------------

SPEC_INLINE = """\
# Loop Spec: Docs

## Scope
<!-- what a change may touch -->
- allowed paths: docs/**, README.md, `*.txt`, **/notes/**
- forbidden paths: `**/auth/**`
- max files: 2
"""

SPEC_NESTED = """\
# Loop Spec: Docs

## Scope
- allowed paths:
  - docs/**
  - **/notes/**
- max files: 3
"""


def test_spec_scope_section_inline(repo: Repo) -> None:
    repo.write("LOOP_SPEC.md", SPEC_INLINE)
    repo.commit()
    repo.write("docs/auth/tokens.md")
    repo.write("lib/notes/a.md")
    repo.write("x.txt")
    repo.write("src/app.py", "changed\n")
    result = repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md")
    found = {f.code: f for f in result.findings}
    assert sorted(found) == ["LG401", "LG402", "LG403"]
    assert found["LG403"].message == ("docs/auth/tokens.md (untracked) matches forbidden path '**/auth/**' "
                                      "(LOOP_SPEC.md:6)")
    assert found["LG401"].path == "src/app.py"
    assert (found["LG402"].path, found["LG402"].line, found["LG402"].column) == ("LOOP_SPEC.md", 7, 14)
    assert "from LOOP_SPEC.md" in result.summary


def test_spec_scope_section_nested_and_cli_limit_wins(repo: Repo) -> None:
    repo.write("LOOP_SPEC.md", SPEC_NESTED)
    repo.commit()
    for name in ("docs/a.md", "docs/b.md", "x/notes/c.md", "docs/d.md"):
        repo.write(name)
    assert _codes(repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md")) == ["LG402"]
    assert repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md", max_files=4).status is GateStatus.PASSED


SPEC_AS_VERIFY_READS_IT = """\
# Loop Spec: Docs

## Scope
- allowed paths: docs/**, README.md, <!-- the notes: --> **/notes/**,
  src/**
- forbidden paths: `**/auth/**` <!-- never -->
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_spec_is_read_exactly_as_verify_reads_it(repo: Repo, cli: Cli, newline: str) -> None:
    """CR-only endings (an IndexError once), a value continued on the next line (only its first
    line was read) and HTML comments (read as patterns): the gate's rules are verify's values."""
    from loopgate.artifacts.artifact import check_artifact
    from loopgate.artifacts.kinds import SPEC

    text = SPEC_AS_VERIFY_READS_IT.replace("\n", newline)
    (repo.path / "LOOP_SPEC.md").write_bytes(text.encode("utf-8"))
    repo.commit()
    rules = scope.read_spec_scope("LOOP_SPEC.md", text)
    assert not isinstance(rules, scope.Problem)
    allow, forbid, _ = rules
    verified = check_artifact("LOOP_SPEC.md", SPEC, text).data["scope"]
    assert [r.pattern for r in allow] == verified["allowed_paths"] == ["docs/**", "README.md", "**/notes/**", "src/**"]
    assert [r.pattern for r in forbid] == verified["forbidden_paths"] == ["**/auth/**"]
    assert [(r.line, r.column) for r in allow] == [(4, 18), (4, 27), (4, 58), (4, 18)]
    repo.write("src/app.py", "changed\n")
    repo.write("src/auth/key.py", "changed\n")
    done = cli("scope", "--base", "HEAD", "--spec", "LOOP_SPEC.md", "--format", "json", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert [(f["path"], f["code"]) for f in json.loads(done.stdout)["problems"]] == [("src/auth/key.py", "LG403")]


@pytest.mark.parametrize(("section", "expected"), [
    ("", "has no `## Scope` section"),
    ("## Scope\n- allowed paths: docs/**\n- max files: many\n", "max files: 'many' is not a positive whole number"),
    ("## Scope\n- allow: docs/**\n", "unknown key 'allow'"),
])
def test_spec_without_a_usable_scope_is_an_error(repo: Repo, section: str, expected: str) -> None:
    repo.write("LOOP_SPEC.md", "# Loop Spec: Docs\n\n" + section)
    result = repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md")
    assert result.status is GateStatus.ERROR
    assert _codes(result) == ["LG405"]
    assert expected in result.findings[0].message


def test_missing_spec_file(repo: Repo) -> None:
    result = repo.gate(scope, base="HEAD", spec="nope/LOOP_SPEC.md")
    assert result.status is GateStatus.ERROR
    assert _codes(result) == ["LG001"]
    assert result.findings[0].path == "nope/LOOP_SPEC.md"


def test_allow_file_names_its_line(repo: Repo) -> None:
    repo.write(".loop-scope", "# what the loop may touch\ndocs/**\n\n!docs/guide.md\r\n")
    repo.write("docs/guide.md", "changed\n")
    result = repo.gate(scope, base="HEAD", allow_file=".loop-scope")
    assert _by_path(result) == {
        ".loop-scope": ".loop-scope (untracked) is outside the allowed paths: matched no allow pattern",
        "docs/guide.md": "docs/guide.md is outside the allowed paths: excluded by '!docs/guide.md' (.loop-scope:4)",
    }


def test_missing_allow_file_and_bad_pattern_are_input_errors(repo: Repo) -> None:
    missing = repo.gate(scope, base="HEAD", allow_file="no-such-file")
    assert (missing.status, _codes(missing)) == (GateStatus.ERROR, ["LG439"])
    bad = repo.gate(scope, base="HEAD", allow=("docs/[z-a]",))
    assert (bad.status, _codes(bad)) == (GateStatus.ERROR, ["LG438"])
    assert "'docs/[z-a]' (--allow)" in bad.findings[0].message


def test_no_rules_at_all_is_an_error(repo: Repo) -> None:
    result = repo.gate(scope, base="HEAD")
    assert (result.status, _codes(result)) == (GateStatus.ERROR, ["LG404"])


def test_only_a_limit_checks_only_the_count(repo: Repo) -> None:
    repo.write("anything/at/all.py")
    result = repo.gate(scope, base="HEAD", max_files=1)
    assert result.status is GateStatus.PASSED
    assert "paths not checked: no allow patterns" in result.summary
    assert _codes(repo.gate(scope, base="HEAD", max_files=0)) == ["LG402"]


def test_conflicting_sources(repo: Repo) -> None:
    result = repo.gate(scope, base="HEAD", files=("docs/guide.md",), allow=("docs/**",))
    assert (result.status, _codes(result)) == (GateStatus.ERROR, ["LG437"])


def test_list_outside_git_needs_no_git(tmp_path: Path) -> None:
    from loopgate.gates.base import GateContext

    result = scope.run(scope.Options(files=("docs/a.md", "src/b.py"), allow=("docs/**",)),
                       GateContext(cwd=str(tmp_path)))
    assert [f.path for f in result.findings] == ["src/b.py"]


# -- the command line ----------------------------------------------------------------------------


def test_cli_files_from_stdin_lines_and_nul(repo: Repo, cli: Cli) -> None:
    lines = cli("scope", "--files-from", "-", "--allow", "docs/**", "--format", "json", cwd=repo.path,
                stdin="docs/a.md\r\nsrc/b ü.py\n\n".encode())
    assert lines.returncode == 1, lines.stderr
    assert [f["path"] for f in json.loads(lines.stdout)["problems"]] == ["src/b ü.py"]
    nul = cli("scope", "--files-from", "-", "--allow", "docs/**", cwd=repo.path,
              stdin=b"docs/a.md\0docs/new\nline.md\0")
    assert nul.returncode == 0, nul.stdout + nul.stderr


def test_cli_config_in_pyproject(repo: Repo, cli: Cli) -> None:
    repo.write("pyproject.toml", '[tool.loopgate.gates.scope]\nallow = ["docs/**", "pyproject.toml"]\nmax-files = 1\n')
    repo.commit("configure scope")  # the table is read from the change's base, so it must be committed
    repo.write("docs/x.md")
    repo.write("docs/y.md")
    done = cli("scope", "--base", "HEAD", cwd=repo.path)
    assert done.returncode == 1
    assert "LG402 2 files changed since HEAD" in done.stdout


def test_cli_not_a_repository_exits_2(tmp_path: Path, cli: Cli) -> None:
    done = cli("scope", "--allow", "docs/**", cwd=tmp_path)
    assert done.returncode == 2
    assert "LG432" in done.stdout
    assert "is not in a git work tree" in done.stderr


def test_cli_bad_base_exits_2_with_a_clear_message(repo: Repo, cli: Cli) -> None:
    done = cli("scope", "--base", "no-such-branch", "--allow", "docs/**", cwd=repo.path)
    assert done.returncode == 2
    assert "--base 'no-such-branch' is not a commit in this repository" in done.stderr
    assert "LG433" in done.stdout


# -- the pattern index answers exactly as pathspec does ------------------------------------------

_PART = st.sampled_from(["docs", "src", "a", "b.md", "x.py", "notes", "auth", "c.tar.gz", "read me.txt", "ü.md",
                         ".md", ".env", "a."])
_GLOB = st.sampled_from(["*", "**", "*.md", "*.py", "?", "a*", "*.gz", "[ab]", "*.tar.gz", "b.*"])
_PIECE = st.one_of(_PART, _GLOB)


@st.composite
def _pattern(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(_PIECE, min_size=1, max_size=4))
    text = "/".join(pieces)
    text = draw(st.sampled_from(["", "/", "!", "!/", "**/"])) + text + draw(st.sampled_from(["", "/", "/**"]))
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(_pattern(), min_size=1, max_size=12), st.lists(st.lists(_PART, min_size=1, max_size=5),
                                                              min_size=1, max_size=12))
def test_pattern_index_agrees_with_pathspec(patterns: list[str], paths: list[list[str]]) -> None:
    from pathspec import GitIgnoreSpec

    rules = RuleSet([Rule(p, "test") for p in patterns], scope.BAD_PATTERN)
    reference = GitIgnoreSpec.from_lines([r.pattern for r in rules.rules])
    for parts in paths:
        path = "/".join(parts)
        include, rule = rules.match(path)
        expected = reference.check_file(path)
        assert include == expected.include, (patterns, path)
        assert rules.included(path) == expected.include, (patterns, path)
        assert rule == (None if expected.index is None else rules.rules[expected.index]), (patterns, path)


# -- the shared change-source codes --------------------------------------------------------------


def test_git_missing_is_an_environment_error(repo: Repo, tmp_path: Path) -> None:
    from loopgate.gates.base import GateContext

    result = scope.run(scope.Options(base="HEAD", allow=("docs/**",)),
                       GateContext(cwd=str(repo.path), env={"PATH": str(tmp_path)}))
    assert (result.status, _codes(result)) == (GateStatus.ERROR, ["LG431"])
    assert result.reason == "git not found: cannot list the changed files"


def test_git_failing_is_an_environment_error(repo: Repo) -> None:
    (repo.path / ".git" / "index").write_bytes(b"not an index at all")
    result = repo.gate(scope, allow=("docs/**",))
    assert (result.status, _codes(result)) == (GateStatus.ERROR, ["LG434"])
    assert "git diff" in result.reason


def test_unreadable_file_list(repo: Repo) -> None:
    result = repo.gate(scope, files_from="no-such-list.txt", allow=("docs/**",))
    assert (result.status, _codes(result)) == (GateStatus.ERROR, ["LG435"])
    assert result.findings[0].path == "no-such-list.txt"


def test_a_spec_widened_on_the_branch_is_read_as_the_base_holds_it(repo: Repo, cli: Cli) -> None:
    """`allowed paths: **` written into the spec by the change itself made the change pass."""
    repo.write(".loop/LOOP_SPEC.md", "# Loop Spec: Docs\n\n## Scope\n- allowed paths: docs/**\n")
    repo.commit("spec")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(".loop/LOOP_SPEC.md", "# Loop Spec: Docs\n\n## Scope\n- allowed paths: **\n")
    repo.write("src/app.py", "x\n")
    repo.commit("widen my own scope")
    args = ("scope", "--spec", ".loop/LOOP_SPEC.md", "--base", "main", "--format", "json")
    done = cli(*args, cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    found = {(p["path"], p["code"]) for p in json.loads(done.stdout)["problems"]}
    assert found == {("src/app.py", "LG401"), (".loop/LOOP_SPEC.md", "LG401")}, found
    # near miss: once the widening is on main, it is the base's rule (a reviewed change)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    repo.git("checkout", "-q", "-b", "next")
    repo.write("lib/other.py", "x\n")
    repo.commit("anything goes now")
    assert cli(*args, cwd=repo.path).returncode == 0


def test_a_spec_the_change_turns_into_a_symlink_is_still_read_as_the_base_holds_it(repo: Repo) -> None:
    # the change points LOOP_SPEC.md (inside the repository) at a spec of its own that allows everything
    repo.write("LOOP_SPEC.md", SPEC_NESTED)
    repo.commit()
    repo.write("wide.md", "# Loop Spec: Docs\n\n## Scope\n- allowed paths: `**`\n- max files: 9\n")
    assert repo.gate(scope, base="HEAD", spec="wide.md").status is GateStatus.PASSED  # as wide as it says
    (repo.path / "LOOP_SPEC.md").unlink()
    (repo.path / "LOOP_SPEC.md").symlink_to("wide.md")
    repo.write("src/app.py", "changed\n")
    assert "src/app.py" in _by_path(repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md"))


def test_a_spec_the_base_holds_as_a_symlink_is_read_where_it_points(repo: Repo) -> None:
    repo.write("specs/real.md", SPEC_NESTED)
    (repo.path / "LOOP_SPEC.md").symlink_to("specs/real.md")  # the blob is 'specs/real.md', not a spec
    repo.commit()
    repo.write("docs/a.md")
    assert repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md").status is GateStatus.PASSED
    repo.write("src/app.py", "changed\n")
    assert "src/app.py" in _by_path(repo.gate(scope, base="HEAD", spec="LOOP_SPEC.md"))
