"""`loopgate init`: write a complete, commented artifact set that passes `verify` at once."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from importlib import resources

from loopgate.artifacts.kinds import KINDS


class InitError(Exception):
    """Nothing was written; the message says why."""


@dataclass(frozen=True)
class InitSettings:
    directory: str
    name: str
    force: bool = False


def default_name(directory: str) -> str:
    base = os.path.basename(os.path.abspath(directory)) or "My Loop"
    return base.replace("-", " ").replace("_", " ").strip().title() or "My Loop"


def render(filename: str, name: str) -> str:
    template = resources.files("loopgate").joinpath("templates").joinpath(filename).read_text("utf-8")
    return template.replace("{{name}}", name)


def _stage(path: str, text: str) -> str:
    """Write `text` to a temp file beside `path` (same filesystem, so the rename is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=".loopgate-", suffix=".tmp", dir=os.path.dirname(path) or ".")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
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


def run_init(settings: InitSettings) -> list[str]:
    """Write the five artifacts; return their paths. All-or-nothing on existing files."""
    name = settings.name.strip()
    if not name or "\n" in name or len(name) > 200:
        raise InitError("--name must be one line of 1 to 200 characters")
    if os.path.exists(settings.directory) and not os.path.isdir(settings.directory):
        raise InitError(f"{settings.directory}: exists and is not a directory")
    targets = [os.path.join(settings.directory, kind.filename) for kind in KINDS]
    existing = [t for t in targets if os.path.lexists(t)]  # a broken symlink is something there too
    if existing and not settings.force:
        raise InitError("would overwrite " + ", ".join(existing) + " (use --force to replace them)")
    rendered = [(t, render(os.path.basename(t), name)) for t in targets]  # render all before writing any
    try:
        os.makedirs(settings.directory, exist_ok=True)
        _write_all(rendered)
    except OSError as err:
        raise InitError(f"cannot write to {settings.directory}: {err.strerror or err}") from err
    return targets
