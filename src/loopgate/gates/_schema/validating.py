"""A file's problems: parsed, checked by the fast path, judged by jsonschema, errors placed at their
positions, best first; in this process, or for large inputs in worker processes too."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from jsonschema.exceptions import ValidationError, best_match, relevance
from referencing.exceptions import Unresolvable

from loopgate.artifacts.loader import leaves_repository
from loopgate.gates._positions import Path, Position, json_positions, toml_positions, yaml_positions
from loopgate.gates._schema.decoding import lenient_text
from loopgate.gates._schema.loading import Checker, build_checker, json_path, short
from loopgate.gates._schema.reading import Raw, Rules, kind_of, parse

MAX_ERRORS = 20  # a file's errors reported; the rest are counted
# Starting a worker (a fresh interpreter importing jsonschema) costs about 0.3 s, and on a shared
# machine (or inside `loopgate check`, which runs gates side by side) the other core is often busy.
# So workers start only for inputs with about two seconds of work: ~90 us a small file with
# jsonschema alone, ~25 us when the fast path says "valid" (bench/schema.md).
PARALLEL_FROM_SECONDS = 2.0
MAX_WORKERS_PER_CPU = 4


def check_file(checker: Checker, shown: str, full: str, rules: Rules = Rules()) -> list[Raw]:  # noqa: B008
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return [Raw("syntax", shown, 1, 1, f"cannot read: {err.strerror or err}")]
    kind = kind_of(full)
    parsed = parse(kind, data, shown, rules)
    if isinstance(parsed, Raw):
        return [_inside(parsed, _last_line(lenient_text(data, kind)))]
    documents, text, found = parsed
    for index, document in enumerate(documents):
        if _certainly_valid(checker, document):
            continue
        try:
            errors = _ordered(list(checker.validator.iter_errors(document)))
        except Unresolvable as err:
            return [Raw("ref", shown, 1, 1, f"the schema's $ref {err.ref!r} cannot be resolved (not fetched)")]
        except RecursionError:
            return [_recursed(shown, document)]
        if not errors:
            continue
        found += _raws(shown, kind or "json", text, index if len(documents) > 1 else -1, errors)
    last = _last_line(text) if found else 0
    return [_inside(raw, last) for raw in found]


def _recursed(shown: str, document: Any) -> Raw:
    """A document nested deeper than Python's stack allows for this schema, or else a $ref loop that
    build_checker could not see (a remote or relative one)."""
    if depth(document) > 100:
        return Raw("limit", shown, 1, 1, "nested too deeply to validate (jsonschema recursed beyond Python's "
                   "limit); not validated")
    return Raw("ref", shown, 1, 1, "validating recursed without end: the schema's $refs lead back to themselves")


def depth(document: Any) -> int:
    """How deeply lists and objects nest in a document (without recursion: it may be very deep)."""
    deepest, stack = 0, [(document, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack += [(value, level + 1) for value in node.values()]
        elif isinstance(node, list):
            stack += [(value, level + 1) for value in node]
    return deepest


def _last_line(text: str) -> int:
    # Counted in characters (a UTF-16 file's bytes hold more 0x0A than it has line breaks), by `\n` only.
    return text.count("\n") + 1


def _inside(raw: Raw, last: int) -> Raw:
    """The problem, its line kept within the file: a parser may point one line past a last line break."""
    return raw if raw.line <= last else raw._replace(line=last, column=1)


def _certainly_valid(checker: Checker, document: Any) -> bool:
    if checker.fast is None:
        return False
    try:
        return checker.fast(document)
    except RecursionError:
        return False  # not certain: jsonschema judges


def _ordered(errors: list[ValidationError]) -> list[ValidationError]:
    """The best match first (its most specific cause, as best_match descends), then the rest by relevance."""
    best = best_match(errors)
    if best is None:
        return []
    top = best
    while top.parent is not None:
        top = top.parent
    rest = [e for e in errors if e is not top]
    # Paths mixing keys and indexes at one place cannot be compared: keep jsonschema's order then.
    with contextlib.suppress(TypeError):
        rest.sort(key=relevance, reverse=True)
    return [best, *rest]


def _raws(shown: str, kind: str, text: str, document: int, errors: list[ValidationError]) -> list[Raw]:
    kept = errors[:MAX_ERRORS]
    paths: list[Path] = [tuple(e.absolute_path) for e in kept]
    positions = _locate(kind, text, max(document, 0), paths)
    prefix = f"document {document + 1}: " if document >= 0 else ""
    raws = [Raw("schema", shown, line, column, f"{prefix}{json_path(path)}: {short(error.message)}")
            for error, path, (line, column) in zip(kept, paths, positions, strict=True)]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        raws[-1] = raws[-1]._replace(message=f"{raws[-1].message} (and {more} more errors not shown)")
    return raws


def _locate(kind: str, text: str, document: int, paths: list[Path]) -> list[Position]:
    if kind == "json":
        return json_positions(text, paths)
    if kind == "yaml":
        return yaml_positions(text, document, paths)
    return toml_positions(text, paths)



# -- running ---------------------------------------------------------------------------------------

_WORKER: dict[str, Checker] = {}
_RULES: list[Rules] = []


def _worker_start(source: tuple[str, str, bool, str], rules: Rules) -> None:
    checker = build_checker(*source)
    if isinstance(checker, Checker):
        _WORKER["checker"] = checker
        _RULES.append(rules)


def _worker_chunk(files: list[tuple[str, str]]) -> list[list[Raw]]:
    checker = _WORKER["checker"]
    return [check_file(checker, shown, full, _RULES[-1]) for shown, full in files]


def check_files(checker: Checker, files: list[tuple[str, str]], jobs: int,
                rules: Rules = Rules()) -> list[list[Raw]]:  # noqa: B008
    """One list of problems a file, in the files' order. A file that is a symlink (or under one) out of
    the repository is reported and never read."""
    real_dirs: dict[str, str] = {}
    outside = {full: where for _, full in files if (where := leaves_repository(full, real_dirs))}
    inside = [(shown, full) for shown, full in files if full not in outside]
    workers = workers_for(jobs, len(inside), checker.fast is not None)
    if workers <= 1:
        checked = [check_file(checker, shown, full, rules) for shown, full in inside]
    else:
        checked = _in_parallel(checker, inside, workers, rules)
    if not outside:
        return checked
    results = iter(checked)
    return [[Raw("outside", shown, 1, 1, f"a symlink to {outside[full]}, outside the repository; not read")]
            if full in outside else next(results) for shown, full in files]


def workers_for(jobs: int, files: int, fast: bool) -> int:
    """Processes to use, this one included: `jobs` when given (above 0), else one a CPU for inputs with
    about two seconds of work; never more than one a file, nor a process storm from `--jobs 100000`."""
    cpus = os.cpu_count() or 1
    estimate = files * (25e-6 if fast else 90e-6)
    wanted = jobs if jobs > 0 else cpus if estimate >= PARALLEL_FROM_SECONDS else 1
    return max(1, min(wanted, files, MAX_WORKERS_PER_CPU * cpus))


def _in_parallel(checker: Checker, files: list[tuple[str, str]], workers: int, rules: Rules) -> list[list[Raw]]:
    """Workers take the later chunks while this process works through the first one.

    Workers are started with `spawn`, never `fork`: `loopgate check` runs gates in threads, and a
    forked child of a threaded process can deadlock.
    """
    share = len(files) // workers
    # This process starts at once; a spawned worker first pays its interpreter start and imports,
    # so it gets a smaller share.
    head = share + share // 3
    chunks = _split(files[head:], workers - 1)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers - 1, mp_context=context, initializer=_worker_start,
                             initargs=(checker.source, rules)) as pool:
        futures = [pool.submit(_worker_chunk, chunk) for chunk in chunks]
        results = [check_file(checker, shown, full, rules) for shown, full in files[:head]]
        for future in futures:
            results += future.result()
    return results


def _split(items: list[tuple[str, str]], parts: int) -> list[list[tuple[str, str]]]:
    size = -(-len(items) // max(parts, 1))
    return [items[i:i + size] for i in range(0, len(items), size)] if items else []

