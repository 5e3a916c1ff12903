"""`loopgate init`: write a complete, commented artifact set that passes `verify` at once."""

from __future__ import annotations

import os
import secrets
import unicodedata
from importlib import resources

from loopgate.artifacts.kinds import KINDS
from loopgate.records import record


class InitError(Exception):
    """Nothing was written; the message says why."""


@record(frozen=True)
class InitSettings:
    directory: str
    name: str
    force: bool = False


def _unfit(char: str) -> bool:
    """Characters a one-line title cannot hold: controls (tab, NEL U+0085 ...), line and paragraph
    separators, and the surrogates Python makes of bytes that are not UTF-8 (they cannot be written)."""
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def default_name(directory: str) -> str:
    """From the directory's name; for a hidden one (`.loop`, the usual place) from the folder that
    holds it, the repository's name: `loopgate init .loop` in docs-site is "Docs Site", not ".Loop"."""
    full = os.path.abspath(directory)
    base = os.path.basename(full)
    if base.startswith("."):
        base = os.path.basename(os.path.dirname(full)) or base.lstrip(".")
    base = base or "My Loop"
    base = "".join(" " if _unfit(c) else c for c in base)
    return " ".join(base.replace("-", " ").replace("_", " ").split()).title() or "My Loop"


def _check_name(name: str) -> None:
    if not name or len(name) > 200:
        raise InitError("--name must be one line of 1 to 200 characters")
    bad = next((c for c in name if _unfit(c)), None)
    if bad is not None:
        what = "a byte that is not UTF-8" if unicodedata.category(bad) == "Cs" else f"U+{ord(bad):04X}"
        raise InitError(f"--name must be one line of printable text; it holds {what} "
                        f"at character {name.index(bad) + 1}")


def render(filename: str, name: str) -> str:
    template = resources.files("loopgate").joinpath("templates").joinpath(filename).read_text("utf-8")
    return template.replace("{{name}}", name)


def _stage(path: str, text: str) -> str:
    """Write `text` to a temp file beside `path` (same filesystem, so the rename is atomic).

    Created with mode 0666 so the umask decides, as for any file the user writes (mkstemp's 0600
    would make the artifacts private); removed again if the write fails.
    """
    directory = os.path.dirname(path) or "."
    data = text.encode("utf-8")  # before creating anything: an unencodable text leaves no file
    while True:
        tmp = os.path.join(directory, f".loopgate-{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _write_all(rendered: list[tuple[str, str]]) -> None:
    """Stage every file first, then rename: a failure leaves no half-written set behind."""
    staged: list[tuple[str, str]] = []
    renamed: list[str] = []
    try:
        for target, text in rendered:
            staged.append((_stage(target, text), target))
        for tmp, target in staged:
            existed = os.path.lexists(target)
            os.replace(tmp, target)
            if not existed:
                renamed.append(target)
    except BaseException:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for target in renamed:
            os.unlink(target)
        raise


# The spec template's `- queue:` names this file. It holds the user's work, not loop policy, so it
# is written only where there is none: --force replaces the artifacts, never a queue of real items.
QUEUE = "work-queue.md"


def run_init(settings: InitSettings) -> list[str]:
    """Write the five artifacts (and an empty work queue where there is none); return their paths.
    All-or-nothing on existing files."""
    name = settings.name.strip()
    _check_name(name)
    if os.path.exists(settings.directory) and not os.path.isdir(settings.directory):
        raise InitError(f"{settings.directory}: exists and is not a directory")
    targets = [os.path.join(settings.directory, kind.filename) for kind in KINDS]
    existing = [t for t in targets if os.path.lexists(t)]  # a broken symlink is something there too
    if existing and not settings.force:
        raise InitError("would overwrite " + ", ".join(existing) + " (use --force to replace them)")
    rendered = [(t, render(os.path.basename(t), name)) for t in targets]  # render all before writing any
    queue = os.path.join(settings.directory, QUEUE)
    if not os.path.lexists(queue):
        targets.append(queue)
        rendered.append((queue, render(QUEUE, name)))
    try:
        os.makedirs(settings.directory, exist_ok=True)
        _write_all(rendered)
    except OSError as err:
        raise InitError(f"cannot write to {settings.directory}: {err.strerror or err}") from err
    return targets
