"""Walking a directory tree without recursion: `os.walk` recurses once per level (before Python
3.12) and raised RecursionError on a tree about 1,000 levels deep, which a maker, or any input, can
make."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator


def walk(top: str, skip: Collection[str] = ()) -> Iterator[tuple[str, list[str]]]:
    """(directory, sorted names of its non-directories), top-down in sorted order, like `os.walk`.

    Symlinked directories are not followed (a link cycle or a link out of the tree is not the
    caller's); a directory that cannot be listed (permissions, a path too long for the OS) is
    passed over, as `os.walk` does; directories named in `skip` are not entered."""
    stack = [top]
    while stack:
        root = stack.pop()
        try:
            with os.scandir(root) as listing:
                entries = list(listing)
        except OSError:
            continue
        dirs: list[str] = []
        files: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
        yield root, sorted(files)
        stack.extend(os.path.join(root, d) for d in sorted((d for d in dirs if d not in skip), reverse=True))
