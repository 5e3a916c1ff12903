"""The finding codes of the changed-files machinery (`_changes`), shared by scope, forbidden and secrets."""

from __future__ import annotations

from loopgate import codes
from loopgate.findings import Severity

E = Severity.ERROR

GIT_UNAVAILABLE = codes.define(
    "LG431", "git-unavailable", E, "git could not be run.",
    "The gate needs git to find the changed files (`--base`, or the staged changes when no files are "
    "given), but the `git` executable was not found or did not answer in time. Nothing was checked, so "
    "the gate reports an environment error (exit 2), not a verdict.",
    "Install git and put it on PATH, or give the files to check as arguments or with `--files-from`.",
)
NOT_A_REPOSITORY = codes.define(
    "LG432", "not-a-repository", E, "The directory is not inside a git work tree.",
    "Without arguments or `--files-from`, the changed files come from git, and the gate ran outside a git "
    "work tree (or in a bare repository). Nothing was checked (exit 2).",
    "Run the gate inside the repository, or list the files with `--files-from FILE` or as arguments.",
)
BAD_BASE = codes.define(
    "LG433", "bad-base-ref", E, "`--base` does not name a commit in this repository.",
    "The gate diffs against the merge base of `--base` and HEAD, and git could not resolve the ref to a "
    "commit: a typo, a branch that was never fetched, or a shallow CI clone that lacks it. Nothing was "
    "checked (exit 2).",
    "Use an existing branch, tag or commit id; in CI fetch it first (e.g. `git fetch origin main` and "
    "`--base origin/main`, with enough depth to reach the merge base).",
)
GIT_FAILED = codes.define(
    "LG434", "git-failed", E, "A git command failed.",
    "git ran but reported an error the gate cannot work around (a corrupt repository, a repository owned "
    "by another user that git refuses as unsafe, a lock). The message carries git's own words. Nothing "
    "was checked (exit 2).",
    "Run the git command from the message by hand to see the problem, fix it, and run the gate again.",
)
BAD_FILE_LIST = codes.define(
    "LG435", "bad-file-list", E, "The `--files-from` list cannot be read.",
    "The file (or stdin) that lists the paths to check does not exist or cannot be read, so the gate "
    "does not know what changed (exit 2).",
    "Check the path; use `--files-from -` to read the list from stdin, e.g. "
    "`git diff --name-only -z main | loopgate gate scope --files-from -`.",
    input_error=True,
)
OUTSIDE_REPOSITORY = codes.define(
    "LG436", "path-outside-repository", E, "A changed path leads outside the repository.",
    "The path goes up through `..`, is an absolute path elsewhere, or is (or runs through) a symbolic "
    "link whose target lies outside the repository. A change there is outside anything the loop may "
    "touch, so it fails whatever the allow or forbid rules say.",
    "Keep changes inside the repository; replace a symlink that points outside with the file itself or "
    "remove it.",
)
CONFLICTING_SOURCES = codes.define(
    "LG437", "conflicting-sources", E, "More than one source of changed files was given.",
    "The changed files come from exactly one of `--base REF`, `--files-from FILE` or file arguments. "
    "Given together it is unclear which set the gate should judge. A pre-commit hook always passes file "
    "names, so `--base` cannot be combined with it unless `pass_filenames: false` is set.",
    "Keep one of `--base`, `--files-from` and the file arguments.",
    input_error=True,
)
BAD_PATTERN = codes.define(
    "LG438", "bad-pattern", E, "A path pattern is not a valid gitignore pattern.",
    "Patterns follow `.gitignore` syntax (`*`, `**`, `?`, `[a-z]`, a trailing `/` for directories, a "
    "leading `!` to negate). This one could not be compiled (e.g. a lone `!`, or a character range such "
    "as `[z-a]`), so the gate cannot apply the rules as written (exit 2).",
    "Fix the pattern; `git check-ignore --no-index -v PATH` with the pattern in a .gitignore shows how git "
    "reads it.",
    input_error=True,
)
BAD_PATTERN_FILE = codes.define(
    "LG439", "bad-pattern-file", E, "A pattern file cannot be read.",
    "A file given with `--allow-file` or `--forbid-file` does not exist, cannot be read, is not UTF-8 or "
    "is implausibly large (over 2 MiB), so its rules cannot be applied (exit 2).",
    "Check the path (relative to the directory the gate runs in); the file holds one pattern a line.",
    input_error=True,
)
