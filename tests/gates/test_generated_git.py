"""The generated gate and what a generator can change besides files: it commits (HEAD and a branch
move), tags, stages over the user's staged version, or writes inside a submodule. Real repositories,
real submodules, real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from loopgate.gates import generated
from loopgate.gates.base import GateStatus

from .conftest import Cli, Repo, git_env, make_repo


def _refs(repo: Repo) -> tuple[str, str, str]:
    return (repo.git("symbolic-ref", "-q", "HEAD", check=False).strip(), repo.git("rev-parse", "HEAD").strip(),
            repo.git("for-each-ref", "--format=%(refname) %(objectname)"))


@pytest.mark.parametrize("keep", [False, True])
def test_a_generator_that_commits_its_output_fails_and_the_commit_is_undone(repo: Repo, keep: bool) -> None:
    before = _refs(repo)
    result = repo.gate(generated, keep=keep, shell="echo regenerated > docs/guide.md && git add -A && "
                                                   "git -c user.name=g -c user.email=g@x commit -qm gen")
    assert result.status is GateStatus.FAILED
    codes = sorted((f.code, f.path) for f in result.findings)
    assert codes == [("LG470", "."), ("LG471", "docs/guide.md")], result.findings
    moved = next(f for f in result.findings if f.code == "LG470")
    assert f"HEAD moved from {before[1][:10]} to " in moved.message and "refs/heads/main moved from" in moved.message
    assert _refs(repo) == before  # the commit is no longer on any ref
    if keep:  # --keep leaves the regenerated file, unstaged, over the original commit
        assert (repo.path / "docs/guide.md").read_text() == "regenerated\n"
        assert repo.git("status", "--porcelain") == " M docs/guide.md\n"
    else:
        assert (repo.path / "docs/guide.md").read_text() == "guide\n"
        assert repo.git("status", "--porcelain") == ""


def test_tags_branches_and_a_detached_head_are_put_back(repo: Repo) -> None:
    repo.git("tag", "old")
    repo.git("checkout", "-q", "--detach")
    before = _refs(repo)
    result = repo.gate(generated, shell="git tag new && git branch -q side && git tag -d old >/dev/null && "
                                        "git checkout -q main")
    assert [f.code for f in result.findings] == ["LG470"]
    message = result.findings[0].message
    for said in ("HEAD switched from a detached commit to refs/heads/main", "refs/tags/new created",
                 "refs/heads/side created", "refs/tags/old deleted"):
        assert said in message
    assert _refs(repo) == before


def test_the_users_staged_version_survives_a_generator_that_runs_git_add(repo: Repo) -> None:
    repo.write("docs/guide.md", "staged version\n")
    repo.git("add", "docs/guide.md")
    repo.write("docs/guide.md", "working version\n")
    status = repo.git("status", "--porcelain")
    result = repo.gate(generated, shell="echo generated > docs/guide.md && git add docs/guide.md")
    assert [(f.code, f.path) for f in result.findings] == [("LG471", "docs/guide.md")]
    assert repo.git("show", ":docs/guide.md") == "staged version\n"
    assert (repo.path / "docs/guide.md").read_text() == "working version\n"
    assert repo.git("status", "--porcelain") == status == "MM docs/guide.md\n"


def test_a_generator_that_only_stages_passes_and_the_index_is_put_back(repo: Repo) -> None:
    repo.write("notes.txt", "untracked\n")
    result = repo.gate(generated, shell="git add notes.txt")
    assert result.status is GateStatus.PASSED, result.findings
    assert repo.git("status", "--porcelain") == "?? notes.txt\n"


# -- submodules -----------------------------------------------------------------------------------


@pytest.fixture
def with_submodule(repo: Repo, tmp_path: Path) -> Repo:
    library = make_repo(tmp_path / "library")
    library.write("lib.txt", "library\n")
    library.commit("library")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "vendor/lib")
    repo.commit("add the submodule")
    sub = Repo(repo.path / "vendor/lib")
    sub.git("config", "user.name", "t")
    sub.git("config", "user.email", "t@example.invalid")
    return repo


def test_a_generator_that_edits_a_clean_submodule_is_reported_and_the_submodule_reset(with_submodule: Repo) -> None:
    repo = with_submodule
    sub = Repo(repo.path / "vendor/lib")
    head = sub.git("rev-parse", "HEAD")
    result = repo.gate(generated, shell="echo generated >> vendor/lib/lib.txt && echo new > vendor/lib/new.txt && "
                                        "git -C vendor/lib add -A && git -C vendor/lib commit -qm gen")
    assert result.status is GateStatus.FAILED
    (finding,) = result.findings
    assert (finding.code, finding.path) == ("LG471", "vendor/lib")
    assert finding.message.startswith("regenerating changes submodule vendor/lib: HEAD moved from ")
    assert finding.message.endswith("(reset to its commit)")
    assert sub.git("rev-parse", "HEAD") == head
    assert (repo.path / "vendor/lib/lib.txt").read_text() == "library\n"
    assert not (repo.path / "vendor/lib/new.txt").exists()
    assert sub.git("status", "--porcelain") == "" and repo.git("status", "--porcelain") == ""


def test_a_dirty_submodule_is_refused_and_nothing_runs(with_submodule: Repo, cli: Cli) -> None:
    repo = with_submodule
    (repo.path / "vendor/lib/lib.txt").write_text("unsaved work\n")
    (repo.path / "vendor/lib/draft.txt").write_text("draft\n")
    done = cli("generated", "--shell", "touch ran.txt; echo x > vendor/lib/lib.txt", cwd=repo.path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "vendor/lib:1:1: LG479 submodule vendor/lib has 2 uncommitted changes" in done.stdout
    assert not (repo.path / "ran.txt").exists()
    assert (repo.path / "vendor/lib/lib.txt").read_text() == "unsaved work\n"
    assert (repo.path / "vendor/lib/draft.txt").read_text() == "draft\n"


def test_a_submodule_left_as_is_with_keep(with_submodule: Repo) -> None:
    repo = with_submodule
    result = repo.gate(generated, keep=True, shell="echo generated > vendor/lib/lib.txt")
    assert [f.message.endswith("(left in place (--keep))") for f in result.findings] == [True]
    assert (repo.path / "vendor/lib/lib.txt").read_text() == "generated\n"
    subprocess.run(["git", "-C", "vendor/lib", "checkout", "-q", "--", "."], cwd=repo.path, env=git_env(), check=True)


def test_a_directory_swapped_for_a_symlink_outside_is_put_back_without_writing_through_it(
        repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo.write("docs/other.md", "other\n")
    repo.commit("two docs")
    repo.write("docs/guide.md", "changed\n")  # work in progress: modified
    repo.write("docs/wip.md", "wip\n")  # and untracked
    status = repo.git("status", "--porcelain")
    result = repo.gate(generated, shell=f"mv docs {outside}/docs && ln -s {outside}/docs docs && "
                                        "echo generated > docs/wip.md")
    assert result.status is GateStatus.FAILED
    assert sorted((f.code, f.path) for f in result.findings) == [
        ("LG472", "docs"), ("LG473", "docs/guide.md"), ("LG473", "docs/other.md"), ("LG473", "docs/wip.md")]
    assert not (repo.path / "docs").is_symlink()
    assert [(repo.path / "docs" / n).read_text() for n in ("guide.md", "other.md", "wip.md")] == [
        "changed\n", "other\n", "wip\n"]
    assert repo.git("status", "--porcelain") == status
    # outside holds only what the generator itself moved and wrote there
    assert (outside / "docs/wip.md").read_text() == "generated\n"
    assert (outside / "docs/guide.md").read_text() == "changed\n"


def test_work_in_progress_1200_directories_deep_is_backed_up_and_kept(repo: Repo) -> None:
    deep = "/".join(["d"] * 1200)
    subprocess.run(["mkdir", "-p", deep], cwd=repo.path, check=True)  # os.makedirs would recurse per level
    try:
        (repo.path / deep / "wip.txt").write_text("work in progress\n")
        result = repo.gate(generated, shell=f"echo generated > {deep}/wip.txt && echo new > {deep}/new.txt")
        assert sorted((f.code, f.path.rsplit("/", 1)[-1]) for f in result.findings) == [
            ("LG471", "wip.txt"), ("LG472", "new.txt")]
        assert (repo.path / deep / "wip.txt").read_text() == "work in progress\n"
        assert not (repo.path / deep / "new.txt").exists()
    finally:  # pytest's own clean-up (shutil.rmtree) recurses per level: leave no deep tree behind
        subprocess.run(["rm", "-rf", "d"], cwd=repo.path, check=True)


def test_a_generator_that_removes_a_submodules_git_file_never_touches_the_parent(
        with_submodule: Repo, cli: Cli) -> None:
    """`rm -f sub/.git` made git in sub/ resolve to the PARENT: the restore moved the parent's branch
    and detached its HEAD. Every restore call is pinned to the submodule's own repository."""
    repo = with_submodule
    sub = Repo(repo.path / "vendor/lib")
    sub.git("checkout", "-q", "--detach")
    before, sub_head = _refs(repo), sub.git("rev-parse", "HEAD")
    gitfile = (repo.path / "vendor/lib/.git").read_bytes()
    (repo.path / "README.md").write_text("my work in progress\n")
    done = cli("generated", "--shell", "rm -f vendor/lib/.git", cwd=repo.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LG471 regenerating changes submodule vendor/lib: its .git file was removed or changed" in done.stdout
    assert _refs(repo) == before  # the parent's branch, HEAD and tags where they were
    assert (repo.path / "README.md").read_text() == "my work in progress\n"
    assert (repo.path / "vendor/lib/.git").read_bytes() == gitfile
    assert sub.git("rev-parse", "HEAD") == sub_head and sub.git("status", "--porcelain") == ""
    # near miss: a generator that leaves the submodule alone passes and changes nothing there
    repo.git("checkout", "-q", "--", "README.md")
    assert cli("generated", "--shell", "true", cwd=repo.path).returncode == 0


def test_a_generator_that_clears_the_stash_gets_every_stash_back(repo: Repo, cli: Cli) -> None:
    """`git stash clear` lost the older stashes (they live only in refs/stash's reflog) while the gate
    said "all put back": the reflog is put back too."""
    for text in ("first\n", "second\n"):
        (repo.path / "README.md").write_text(text)
        repo.git("stash", "-q")
    before = repo.git("stash", "list", "--format=%H")
    done = cli("generated", "--shell", "git stash clear", cwd=repo.path)
    assert done.returncode == 1 and "the stash list changed" in done.stdout, done.stdout + done.stderr
    assert repo.git("stash", "list", "--format=%H") == before and len(before.split()) == 2
    # near miss: a generator that leaves the stash alone passes
    assert cli("generated", "--shell", "true", cwd=repo.path).returncode == 0


def test_skip_worktree_and_assume_unchanged_set_by_the_generator_are_cleared(repo: Repo) -> None:
    """The flags hide later edits from `git status` and the gates; `ls-files -s` never showed them."""
    before = repo.git("ls-files", "-v")
    repo.gate(generated, shell="git update-index --skip-worktree README.md && "
                               "git ls-files -z | xargs -0 git update-index --assume-unchanged")
    assert repo.git("ls-files", "-v") == before


def test_git_settings_changed_by_the_generator_are_put_back(repo: Repo, cli: Cli) -> None:
    """`core.hooksPath` (code that runs on the next commit) and .git/info/exclude outlived the gate."""
    exclude = repo.path / ".git/info/exclude"
    before = exclude.read_bytes() if exclude.exists() else None
    done = cli("generated", "--shell", "git config core.hooksPath /tmp/elsewhere; echo '*.py' >> .git/info/exclude",
               cwd=repo.path)
    assert done.returncode == 1 and ".git/config changed" in done.stdout, done.stdout + done.stderr
    assert repo.git("config", "--get", "core.hooksPath", check=False) == ""
    assert (exclude.read_bytes() if exclude.exists() else None) == before
