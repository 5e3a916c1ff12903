"""`loopgate verify`: find the loop artifacts under the given paths and check them.

Core only: takes plain settings, returns findings as values, prints nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

from loopgate import codes
from loopgate.artifacts.artifact import Artifact, check_artifact, detect_kind
from loopgate.artifacts.crosscheck import cross_check
from loopgate.artifacts.kinds import KINDS, SPEC, ArtifactKind
from loopgate.artifacts.loader import read_artifact
from loopgate.findings import Finding, Severity, sort_findings
from loopgate.records import field, record
from loopgate.treewalk import walk

LOOP_SUBDIR = ".loop"
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


@record(frozen=True)
class VerifySettings:
    paths: tuple[str, ...] = ()
    strict: bool = False
    # Worker processes for many loop directories: None = one per available core once there are
    # enough loops to pay for starting them, 1 = all in this process.
    jobs: int | None = None


@record
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    loops_checked: int = 0

    @property
    def input_error(self) -> bool:
        return any((c := codes.REGISTRY.get(f.code)) is not None and c.input_error for f in self.findings)

    def failed(self, strict: bool) -> bool:
        bad = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return any(f.severity in bad for f in self.findings)

    def exit_code(self, strict: bool) -> int:
        if self.input_error:
            return 2
        return 1 if self.failed(strict) else 0


def _has_artifacts(directory: str) -> bool:
    # lexists: an artifact name that is a directory or a broken symlink is still this loop's,
    # and reading it says what is wrong with it (LG002) rather than "no LOOP_SPEC.md".
    return any(os.path.lexists(os.path.join(directory, k.filename)) for k in KINDS)


def loop_dirs(directory: str) -> list[str]:
    """The loop directories a directory argument stands for.

    The directory itself and its `.loop/` when they hold artifacts; otherwise every directory
    below it holding a LOOP_SPEC.md (a monorepo of loops).
    """
    found = [d for d in (directory, os.path.join(directory, LOOP_SUBDIR)) if _has_artifacts(d)]
    if found:
        return found
    return [root for root, files in walk(directory, _SKIP_DIRS) if SPEC.filename in files]




def load_artifact(path: str, kind: ArtifactKind | None) -> tuple[Artifact | None, list[Finding]]:
    loaded = read_artifact(path)
    if loaded.problem is not None or loaded.text is None:
        return None, [loaded.problem] if loaded.problem else []
    kind = kind or detect_kind(path, loaded.text)
    if kind is None:
        return None, [codes.UNKNOWN_ARTIFACT.at(path, 1, 1, f"{path}: not a loop artifact (by name or title)")]
    artifact = check_artifact(path, kind, loaded.text)
    return artifact, artifact.findings


def verify_loop_dir(directory: str) -> tuple[list[Finding], int]:
    findings, artifacts = load_loop_dir(directory)
    return findings, len(artifacts)


def load_loop_dir(directory: str) -> tuple[list[Finding], list[Artifact]]:
    """Every artifact of a loop directory, read once, and what `verify` finds in them (the
    readiness audit judges the findings and reads its criteria from the same artifacts)."""
    artifacts: list[Artifact] = []
    findings: list[Finding] = []
    for kind in KINDS:
        path = os.path.normpath(os.path.join(directory, kind.filename))
        if not os.path.lexists(path):  # a broken symlink is there but unreadable: LG002, not missing
            code = codes.MISSING_SPEC if kind is SPEC else codes.MISSING_ARTIFACT
            findings.append(code.at(path, 1, 1, f"{directory}: no {kind.filename}"))
            continue
        artifact, problems = load_artifact(path, kind)
        findings.extend(problems)
        if artifact is not None:
            artifacts.append(artifact)
    findings.extend(cross_check(artifacts))
    return findings, artifacts


def verify_files(paths: Sequence[str]) -> tuple[list[Finding], int]:
    """Named files: each checked; siblings in the same directory lend context for cross-checks."""
    findings: list[Finding] = []
    given: dict[str, list[Artifact]] = {}
    for path in paths:
        artifact, problems = load_artifact(path, None)
        findings.extend(problems)
        if artifact is not None:
            given.setdefault(os.path.dirname(path) or ".", []).append(artifact)
    for directory, artifacts in given.items():
        named = {a.path for a in artifacts}
        present = {a.kind for a in artifacts}
        context = list(artifacts)
        for kind in KINDS:
            sibling = os.path.join(directory, kind.filename)
            if kind not in present and os.path.isfile(sibling):
                artifact, _ = load_artifact(sibling, kind)
                if artifact is not None:
                    context.append(artifact)
        findings.extend(f for f in cross_check(context) if f.path in named)
    return findings, sum(len(a) for a in given.values())


def _expand(paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """("dir", path) for loop directories, ("file", path) for files, ("missing", path) otherwise."""
    for raw in paths or (".",):
        path = os.path.normpath(raw)
        if os.path.isdir(path):
            dirs = loop_dirs(path)
            if not dirs:
                yield "empty", path
            for directory in dirs:
                yield "dir", directory
        elif os.path.exists(path) or os.path.islink(path):
            yield "file", path
        else:
            yield "missing", path


# Below this many loop directories per worker, starting a process costs more than it saves
# (a loop takes about 5 ms; a worker about 100 ms to start and import).
_LOOPS_PER_WORKER = 100


def _workers(settings: VerifySettings, loops: int) -> int:
    if settings.jobs is not None:
        return max(1, min(settings.jobs, loops))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, loops // _LOOPS_PER_WORKER))


def _verify_dirs(dirs: list[str], workers: int) -> Iterator[tuple[list[Finding], int]]:
    """Each loop directory's (findings, files checked), in order; loops are independent of each other."""
    if workers < 2:
        yield from map(verify_loop_dir, dirs)
        return
    # lazy: only big monorepos pay for these imports
    import multiprocessing  # noqa: PLC0415
    import threading  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    # Forking is the cheapest start and safe in a single-threaded process (the CLI); a caller
    # with threads of its own gets fresh interpreters instead of a fork that could deadlock.
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        yield from pool.map(verify_loop_dir, dirs, chunksize=max(1, len(dirs) // (workers * 8)))


def run_verify(settings: VerifySettings, progress: Callable[[int, int], None] | None = None) -> VerifyResult:
    result = VerifyResult()
    # A loop named twice (`verify loops loops/a`, or a path repeated by a script) is checked once.
    targets = list(dict.fromkeys(_expand(settings.paths)))
    files = [path for kind, path in targets if kind == "file"]
    dirs = [path for kind, path in targets if kind == "dir"]
    for done, (found, count) in enumerate(_verify_dirs(dirs, _workers(settings, len(dirs))), 1):
        result.findings.extend(found)
        result.files_checked += count
        result.loops_checked += 1
        if progress is not None:
            progress(done, len(targets))
    for kind, path in targets:
        if kind == "empty":
            spec = os.path.join(path, SPEC.filename)
            result.findings.append(codes.MISSING_SPEC.at(spec, 1, 1, f"{path}: no {SPEC.filename} here, in "
                                                         f"{LOOP_SUBDIR}/, or in any directory below"))
        elif kind == "missing":
            result.findings.append(codes.PATH_NOT_FOUND.at(path, 1, 1, f"{path}: no such file or directory"))
    if files:
        found, count = verify_files(files)
        result.findings.extend(found)
        result.files_checked += count
    # a file named beside its own directory is read twice; say each thing once
    result.findings = sort_findings(list(dict.fromkeys(result.findings)))
    return result
