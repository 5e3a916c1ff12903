"""Fail when regenerating leaves the git tree changed: generated files are out of date.

The gate runs the generator (`--shell 'CMD'` through /bin/sh, or the words after `--`), with
the same process group, timeout and environmental-error rules as the command gate, then asks
git what changed. Each file the generator changed, created or deleted is a finding, at the
first changed line for a text file, e.g. `docs/cli.md:12:1: LG471 regenerating changes
docs/cli.md (first difference at line 12)`.

Only what the generator did counts: files that were already modified or untracked before it
ran are compared with their own earlier content, not with the last commit, so work in
progress is neither reported nor lost. Afterwards the tree is put back exactly as it was,
uncommitted changes included; `--keep` leaves the regenerated files in place instead (as
pre-commit's fixers do, so the next commit picks them up).

Work in progress is also saved on disk before the generator runs: each modified or untracked
file is copied to `loopgate/generated-backup/PID/tree/` under the work tree's git directory
(`git rev-parse --git-dir`: `.git/loopgate/...` in a plain clone), next to a `manifest.json`
that lists them (deleted ones too), and the copy is removed once the tree is put back. If the
gate is killed outright (SIGKILL, a power cut) or cannot put the tree back (LG476), the copy
stays, and the next run refuses to start (LG478, exit 2) rather than overwrite it: copy back
what you need (`cp -a .git/loopgate/generated-backup/PID/tree/. .` restores every file) and
delete the directory. SIGTERM, SIGHUP or SIGINT (Ctrl-C) while the generator runs (to the gate, or to
`loopgate check` running it) stops its whole
process group, puts the tree back (`--keep` too) and ends the gate as interrupted (LG477,
exit 2); Python can catch signals only in the main thread, so this holds when the gate runs
there (as `loopgate gate generated` does); elsewhere the copy on disk is the safety net.

Besides files, git's own state is put back, `--keep` or not. A generator that commits,
switches branches, resets or tags fails the gate (LG470) and every ref, HEAD included, is put
back where it was. The index is saved (in memory, and in the backup folder as `index`) and
written back, so a generator's `git add` never replaces what you had staged. Submodules: the
gate refuses to run while a checked-out submodule has uncommitted changes (LG479, exit 2), as
it does not back up work inside them; a clean submodule the generator changes is reported
(LG471 at the submodule) and reset to its commit (`git reset --hard`, `git clean -ffd`, its
refs put back; nested submodules too, up to 8 deep); with `--keep` it is left as the generator
made it. Symbolic links are compared and restored as links, never followed.

The gate changes the working tree while it runs, so `loopgate check` runs it alone. It works
in any git work tree, linked worktrees included (the run loop checks each item in one).

Examples:

    loopgate gate generated --shell 'make docs'
    loopgate gate generated -- python scripts/gen_cli_docs.py
    loopgate gate generated --keep --timeout 120 --shell 'npm run codegen'

Not compared: files git ignores. They are protected all the same, as are the files of an untracked
nested git repository: each is hard-linked into the backup folder before the generator runs, and one
the generator deletes (or, without `--keep`, replaces) is put back; one rewritten in place cannot be
(the link shares it). A nested repository the generator deletes or changes is reported (LG473, LG471).
Every process the generator starts carries a token in its environment, and whatever still carries it
when the gate ends is stopped, also a child that left the process group (`setsid`); only one that
also empties its environment escapes. A generator that
exits non-zero fails the gate (its changes are put back); one that cannot run at all is an
environment error (exit 2).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import time

from loopgate import codes
from loopgate.findings import Finding, Severity
from loopgate.gates import _genkeep as genkeep
from loopgate.gates import _gitstate as gitstate
from loopgate.gates._gentree import Change, Repo, TreeGitError, makedirs, remove_tree, restore
from loopgate.gates._gentree import changes as tree_changes
from loopgate.gates._gitstate import GitStateError
from loopgate.gates._process import (
    BAD_TIMEOUT,
    NO_COMMAND,
    PROCESS_CODES,
    Command,
    Interrupts,
    Outcome,
    check_command,
    check_timeout,
    environment_finding,
    last_lines,
    run_command,
)
from loopgate.gates._scrub import scrubbed
from loopgate.gates.base import GateContext, GateResult, GateStatus, Timer, opt
from loopgate.records import field, record

NAME = "generated"
EXCLUSIVE = True
RUNS_COMMANDS = True
# Codes this gate shares with the command gate (running a command); listed in its docs.
SHARED_CODES = PROCESS_CODES
E = Severity.ERROR

GENERATED_CHANGED = codes.define(
    "LG471", "generated-file-changed", E, "Regenerating changes a file: it is out of date.",
    "The generator rewrote this file with different content (or mode), so the committed version is not what "
    "the generator makes from the current sources. The position is the first line that differs.",
    "Run the generator and commit its output (or run the gate with `--keep` and commit what it leaves).",
)
GENERATED_ADDED = codes.define(
    "LG472", "generated-file-added", E, "Regenerating creates a file that is not in the tree.",
    "The generator wrote a file that is neither committed nor ignored: a new generated artifact that was "
    "never added, or output that belongs in `.gitignore`.",
    "Commit the file if it is a generated artifact the repository keeps; otherwise add it to `.gitignore`.",
)
GENERATED_DELETED = codes.define(
    "LG473", "generated-file-deleted", E, "Regenerating deletes a file that is in the tree.",
    "The generator removed this file, so the tree holds an artifact the generator no longer makes (a "
    "renamed or removed source).",
    "Delete the file in the change (`git rm PATH`), or fix the generator if it should still make it.",
)
GENERATOR_FAILED = codes.define(
    "LG474", "generator-failed", E, "The generator exited with a non-zero status.",
    "The generator ran to the end and reported failure, so whether the generated files are up to date is "
    "unknown; the gate fails. Whatever it changed was put back. The hint holds the last lines of its output.",
    "Run the generator yourself and fix what it reports.",
)
GENERATED_NO_GIT = codes.define(
    "LG475", "generated-needs-git", E, "The generated gate cannot ask git what changed.",
    "The gate compares the work tree before and after the generator with `git status`, and git is missing, "
    "the directory is not inside a git work tree, or git failed (the message carries git's words). The "
    "generator was not run (exit 2).",
    "Run the gate inside the repository's work tree (or a `git worktree`), with git on PATH.",
)
RESTORE_FAILED = codes.define(
    "LG476", "generated-restore-failed", E, "The tree could not be put back after the generator ran.",
    "Restoring a file the generator changed failed (permissions, a full disk, git refused). The tree may "
    "now hold regenerated content; the message names the file and the error, and the backup directory that "
    "still holds the work in progress (exit 2; the next run refuses until it is dealt with, LG478).",
    "Look at `git status` and restore the file by hand (`git restore PATH` for a committed file; copy work in "
    "progress back from the backup's `tree/`), then delete the backup directory.",
)

INTERRUPTED = codes.define(
    "LG477", "generated-interrupted", E, "The gate was interrupted while the generator ran.",
    "The gate (or `loopgate check` running it) got SIGTERM, SIGHUP or SIGINT (Ctrl-C, a closed terminal, a "
    "CI runner cancelling the job) while the generator ran. It "
    "stopped the generator's whole process group (SIGTERM, then SIGKILL two seconds later) and put the tree "
    "back as it was, `--keep` or not. Whether the generated files are up to date is unknown (exit 2).",
    "Run the gate again when it can run to the end.",
)
BACKUP_PROBLEM = codes.define(
    "LG478", "generated-backup", E, "A backup of work in progress is in the way, or cannot be written.",
    "Before running the generator the gate copies every modified or untracked file to "
    "`loopgate/generated-backup/PID/` under the work tree's git directory, and removes the copy once the tree "
    "is put back. A copy still there means an earlier run was killed before it could put the tree back "
    "(SIGKILL, a power cut) or could not put it back (LG476), so files in the tree may hold the generator's "
    "output instead of your changes; or another run is going on in this work tree. The gate does not run the "
    "generator (exit 2) rather than overwrite that copy. It also stops when the copy cannot be written (a "
    "full disk): it never runs the generator over work in progress that is not saved.",
    "Compare the files under the backup's `tree/` with the work tree and copy back what you need (`cp -a "
    "BACKUP/tree/. .` restores them all; `manifest.json` also lists files that had been deleted), then delete "
    "the backup directory and run the gate again.",
)

GENERATOR_MOVED_REFS = codes.define(
    "LG470", "generator-moved-refs", E, "The generator committed, or moved HEAD or another ref.",
    "The generator changed what git's refs point at: it committed its output (HEAD and the branch moved), "
    "switched branches, reset, or created or deleted a branch or tag. The working tree alone would then "
    "look up to date and the gate pass, with the commit left behind. The gate put every ref back where it "
    "was (the new commits remain only as unreferenced objects) and fails: a generator writes files, and "
    "committing them is the person's or the run loop's decision. The message lists what moved.",
    "Remove the `git commit` (or checkout, reset, tag) from the generator; let it write files only.",
)
DIRTY_SUBMODULE = codes.define(
    "LG479", "generated-dirty-submodule", E, "A submodule has uncommitted changes: the generator was not run.",
    "The gate backs up work in progress in the repository itself, but not inside submodules, and putting "
    "a submodule back means resetting it to its commit. So it refuses to run while a checked-out "
    "submodule has modified, staged or untracked files (exit 2) rather than risk them. A clean submodule "
    "that the generator changes is reported (LG471) and reset to its commit afterwards.",
    "Commit or stash the changes inside the submodule (`git -C SUBMODULE status`), then run the gate again.",
)

BACKUP_DIR = os.path.join("loopgate", "generated-backup")


@record(frozen=True)
class Options:
    argv: tuple[str, ...] = field(default=(), metadata=opt(
        "The generator and its arguments, run directly without a shell (put them after `--`).", argument=True,
        metavar="COMMAND"))
    shell: str = field(default="", metadata=opt(
        "Run the generator CMD with /bin/sh -c; instead of the words after `--`.", metavar="CMD"))
    timeout: float = field(default=600.0, metadata=opt(
        "Stop the generator (its whole process group) after this many seconds; 0: no limit.",
        metavar="SECONDS"))
    tail: int = field(default=40, metadata=opt("Keep this many last lines of output in the report.",
                                               metavar="LINES", minimum=0, maximum=100_000))
    keep: bool = field(default=False, metadata=opt(
        "Leave the regenerated files in the tree instead of putting the tree back as it was."))


def run(options: Options, context: GateContext) -> GateResult:
    """The gate, with credentials masked in all it reports (its command's output, the command line)."""
    return scrubbed(_run(options, context), context.env)


def _run(options: Options, context: GateContext) -> GateResult:
    timer = Timer()
    problem = check_command(options.shell, options.argv)
    code = NO_COMMAND
    if not problem:
        problem, code = check_timeout(options.timeout), BAD_TIMEOUT
    if problem:
        return GateResult(NAME, GateStatus.ERROR, [code.at(".", 1, 1, problem)], timer.elapsed(),
                          "nothing run", reason=problem)
    try:
        repo = _open(context)
        folder = os.path.join(repo.git("rev-parse", "--absolute-git-dir").decode("utf-8", "surrogateescape").strip(),
                              BACKUP_DIR)
        before = repo.status()
    except (TreeGitError, OSError) as err:
        return _error(GENERATED_NO_GIT.at(".", 1, 1, str(err)), timer, "generator not run")
    left = _backup_left(folder, repo.root)
    if left:
        return _error(BACKUP_PROBLEM.at(".", 1, 1, left), timer, "generator not run")
    try:
        saved = _Saved.take(repo)
    except GitStateError as err:
        return _error(GENERATED_NO_GIT.at(".", 1, 1, str(err)), timer, "generator not run")
    for module in saved.modules:
        why = gitstate.dirty(module, repo.env)
        if why:
            shown = _shown(context, repo, module.path)
            message = f"submodule {shown} has {why}: not backed up, so the generator was not run"
            return _error(DIRTY_SUBMODULE.at(shown, 1, 1, message), timer, "generator not run")
    with Interrupts() as interrupts:
        return _run_generator(options, context, repo, (before, saved), folder, interrupts, timer)


@record
class _Saved:
    """What the generator may change besides the files: refs, the index, submodules (see _gitstate)."""

    refs: gitstate.Refs
    index: gitstate.Index
    modules: list[gitstate.Submodule]
    stash: tuple[str, bytes | None]  # refs/stash's reflog: the user's older stashes
    settings: list[tuple[str, bytes | None]]  # .git/config, .git/info/*: they outlive the generator

    @classmethod
    def take(cls, repo: Repo) -> _Saved:
        git = gitstate.runner(repo.root, repo.env)
        return cls(gitstate.refs(git), gitstate.index(git, repo.root), gitstate.submodules(git, repo.root, repo.env),
                   gitstate.stash_log(git, repo.root),
                   [gitstate.stash_log(git, repo.root, name) for name in gitstate.SETTINGS])

    def put_back(self, repo: Repo, keep: bool) -> tuple[list[str], list[tuple[str, list[str]]]]:
        """Refs (always: a commit is never kept) and, unless `keep`, clean submodules the generator changed.
        (what moved, [(submodule, what changed in it)])."""
        git = gitstate.runner(repo.root, repo.env)
        now = gitstate.refs(git)
        moved = self.refs.moved(now)
        if moved:
            gitstate.restore_refs(git, self.refs, now)
        if gitstate.restore_stash_log(self.stash):  # after the refs: update-ref appends to this log
            moved.append("the stash list changed")
        moved += [f".git/{name} changed" for name, saved in zip(gitstate.SETTINGS, self.settings, strict=True)
                  if gitstate.restore_stash_log(saved)]
        gitstate.restore_index(git, self.index)
        touched = [(m.path, said) for m in self.modules if (said := gitstate.changed(m, repo.env))]
        if not keep:
            for module in self.modules:
                if any(path == module.path for path, _ in touched):
                    gitstate.reset(module, repo.env)
        return moved, touched


def _shown(context: GateContext, repo: Repo, path: str) -> str:
    return os.path.relpath(os.path.join(repo.root, path), os.path.realpath(context.cwd)).replace(os.sep, "/")


def _run_generator(options: Options, context: GateContext, repo: Repo, taken: tuple[set[str], _Saved],
                   folder: str, interrupts: Interrupts, timer: Timer) -> GateResult:
    before, saved = taken
    modules = {m.path for m in saved.modules}
    try:
        repo.dirty = {path: repo.state(path) for path in before}
        nested = sorted(p for p, state in repo.dirty.items() if state.kind == "dir" and p not in modules)
        kept = genkeep.keep(repo, os.path.join(folder, str(os.getpid()), "kept"), nested)
        backup = _write_backup(folder, repo, options, saved.index) if repo.dirty or kept.files else ""
        if not backup:
            _remove_backup(os.path.join(folder, str(os.getpid())), folder)  # folders a failed link left
    except (OSError, TreeGitError) as err:
        _remove_backup(os.path.join(folder, str(os.getpid())), folder)  # half a backup is none: not run
        message = f"cannot save the work in progress to {folder} before running the generator: {err}"
        return _error(BACKUP_PROBLEM.at(".", 1, 1, message), timer, "generator not run")
    command = Command(options.shell, options.argv, context.cwd, options.timeout, context.env,
                      launch=context.launch)
    outcome = run_command(command, started=interrupts.started)
    keep = options.keep and not interrupts.received
    try:
        # Refs and the index first: `git status` must compare the tree with what HEAD and the index were.
        moved, touched = saved.put_back(repo, keep)
        changes = tree_changes(repo, before, modules)
        if not keep:
            restore(repo, changes)
        _, nested_touched = genkeep.put_back(repo, kept, keep)
        gitstate.restore_index(gitstate.runner(repo.root, repo.env), saved.index)  # the user's staged versions
    except (TreeGitError, GitStateError, OSError) as err:
        where = f"; the work in progress is saved in {backup}" if backup else ""
        return _error(RESTORE_FAILED.at(".", 1, 1, f"{err}{where}"), timer, "the tree may hold regenerated files")
    _remove_backup(backup, folder)
    if interrupts.received:
        return _interrupted(outcome, changes, interrupts.received, timer)
    extra = [GENERATOR_MOVED_REFS.at(".", 1, 1, f"the generator changed git's refs ({'; '.join(moved)}); all put "
                                               f"back, the new commits remain only as unreferenced objects")] \
        if moved else []
    left = "left in place (--keep)" if keep else "reset to its commit"
    for path, said in touched:
        shown = _shown(context, repo, path)
        extra.append(GENERATED_CHANGED.at(shown, 1, 1, f"regenerating changes submodule {shown}: "
                                                       f"{'; '.join(said)} ({left})"))
    for path in (p for p in nested_touched if p not in {c.path for c in changes}):  # not deleted whole (LG473)
        shown = _shown(context, repo, path)
        extra.append(GENERATED_CHANGED.at(shown, 1, 1, f"regenerating deletes or replaces files inside the "
                                                       f"nested repository {shown} (put back)"))
    return _verdict(options, context, repo, outcome, (changes, extra), timer)


def _backup_left(folder: str, root: str) -> str:
    """Why an earlier backup is in the way ("" when there is none)."""
    try:
        left = sorted(os.listdir(folder))
    except FileNotFoundError:
        return ""
    except OSError as err:
        return f"cannot look for backups of work in progress in {folder}: {err.strerror or err}"
    if not left:
        return ""
    where = os.path.join(folder, left[0])
    about = ""
    try:
        with open(os.path.join(where, "manifest.json"), encoding="utf-8") as handle:
            manifest = json.load(handle)
        about = f" (from `{manifest['command']}`, pid {manifest['pid']}, {manifest['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return (f"a backup of work in progress is still in {where}{about}: an earlier run was killed before it put "
            f"the tree back (or is still running); copy back what you need (`cp -a {where}/tree/. "
            f"{root}/` restores every file), then delete it")


def _write_backup(folder: str, repo: Repo, options: Options, index: gitstate.Index) -> str:
    """Copy the work in progress to disk, so that even a SIGKILL cannot lose it; the manifest goes last.
    The index goes too: what was staged is work in progress as well."""
    target = os.path.join(folder, str(os.getpid()))
    tree = os.path.join(target, "tree")
    os.makedirs(tree)
    if index.data is not None:
        with open(os.path.join(target, "index"), "wb") as handle:
            handle.write(index.data)
    entries = []
    for path, state in sorted(repo.dirty.items()):
        entries.append({"path": path, "kind": state.kind, "executable": state.executable})
        full = os.path.join(tree, path)
        if state.kind in ("file", "link"):
            makedirs(os.path.dirname(full))
        if state.kind == "link":
            os.symlink(os.fsdecode(state.data), full)
        elif state.kind == "file":
            with open(full, "wb") as handle:
                handle.write(state.data)
            os.chmod(full, 0o755 if state.executable else 0o644)
    manifest = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "root": repo.root,
                "command": options.shell or shlex.join(options.argv), "files": entries,
                "restore": f"cp -a {shlex.quote(tree)}/. {shlex.quote(repo.root)}/",
                "restore_index": f"cp {shlex.quote(os.path.join(target, 'index'))} {shlex.quote(index.path)}"}
    with open(os.path.join(target, "manifest.json.tmp"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    os.replace(os.path.join(target, "manifest.json.tmp"), os.path.join(target, "manifest.json"))
    return target


def _remove_backup(backup: str, folder: str) -> None:
    if not backup:
        return
    remove_tree(backup)
    with contextlib.suppress(OSError):  # leave .git as it was: the empty folders go too
        os.rmdir(folder)
        os.rmdir(os.path.dirname(folder))


def _interrupted(outcome: Outcome, changes: list[Change], signum: int, timer: Timer) -> GateResult:
    name = signal.Signals(signum).name
    shown = outcome.command.shown()
    message = (f"interrupted by {name}: the generator `{shown}` was stopped (its whole process group) and the "
               f"tree put back as it was")
    summary = (f"`{shown}` interrupted by {name} after {outcome.duration:.2f}s; the generated files were not "
               f"judged; {len(changes)} changed files put back")
    return GateResult(NAME, GateStatus.ERROR, [INTERRUPTED.at(".", 1, 1, message)], timer.elapsed(), summary,
                      outcome.tail(10), message)


def _open(context: GateContext) -> Repo:
    probe = Repo(os.path.realpath(context.cwd), context.env)
    inside = probe.git("rev-parse", "--is-inside-work-tree").decode().strip()
    if inside != "true":
        raise TreeGitError(f"{context.cwd} is not inside a git work tree")
    root = probe.git("rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    return Repo(os.path.realpath(root), context.env)


def _error(finding: Finding, timer: Timer, summary: str) -> GateResult:
    return GateResult(NAME, GateStatus.ERROR, [finding], timer.elapsed(), summary, reason=finding.message)


def _verdict(options: Options, context: GateContext, repo: Repo, outcome: Outcome,
             found: tuple[list[Change], list[Finding]], timer: Timer) -> GateResult:
    changes, extra = found
    shown = outcome.command.shown()
    said = f"`{shown}` {outcome.status_words()} after {outcome.duration:.2f}s"
    kept = "left in place (--keep)" if options.keep else "put back"
    tail = outcome.tail(options.tail)
    if outcome.problem is not None:
        summary = f"{said}; the generated files were not judged; {len(changes)} changed files {kept}"
        return GateResult(NAME, GateStatus.ERROR, [environment_finding(outcome, options.tail), *extra],
                          timer.elapsed(), summary, tail, outcome.problem[1])
    if not outcome.passed:
        hint = GENERATOR_FAILED.hint + last_lines(outcome, min(options.tail, 15))
        finding = GENERATOR_FAILED.at(".", 1, 1, f"generator `{shown}` exited with status {outcome.returncode}",
                                      hint)
        summary = f"{said}; the generated files were not judged; {len(changes)} changed files {kept}"
        return GateResult(NAME, GateStatus.FAILED, [finding, *extra], timer.elapsed(), summary, tail)
    findings = extra + [_finding(change, _shown(context, repo, change.path), shown) for change in changes]
    if not findings:
        summary = f"{said} and changed nothing: the generated files are up to date; git-ignored files not compared"
        return GateResult(NAME, GateStatus.PASSED, [], timer.elapsed(), summary, tail)
    summary = (f"{said} and changed {len(findings)} file{'s' if len(findings) != 1 else ''} ({kept}); "
               "git-ignored files not compared")
    return GateResult(NAME, GateStatus.FAILED, findings, timer.elapsed(), summary, tail)


def _finding(change: Change, shown: str, command: str) -> Finding:
    assert change.before is not None
    hint_run = f"Run `{command}` and commit the result."
    if change.before.kind == "absent":
        return GENERATED_ADDED.at(shown, 1, 1, f"regenerating creates {shown}, which is not in the tree",
                                  f"{hint_run} {GENERATED_ADDED.hint}")
    if change.after.kind == "absent":
        return GENERATED_DELETED.at(shown, 1, 1, f"regenerating deletes {shown}", GENERATED_DELETED.hint)
    if change.before.kind == change.after.kind == "file" and change.before.data == change.after.data:
        what = "makes it executable" if change.after.executable else "makes it not executable"
        return GENERATED_CHANGED.at(shown, 1, 1, f"regenerating {what}: {shown}", hint_run)
    return GENERATED_CHANGED.at(shown, change.line, 1,
                                f"regenerating changes {shown} (first difference at line {change.line})", hint_run)
