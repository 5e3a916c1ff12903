"""The links gate's parse of a large tree in worker processes (imported only when one is that large)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from loopgate.gates import _mdlinks


def parse_shared(files: list[str], workers: int) -> dict[str, _mdlinks.Parsed]:
    """`workers - 1` processes take a share each while this one parses its own."""
    shares = [files[i::workers] for i in range(workers)]
    threads = [_Worker(share) for share in shares[1:]]
    for thread in threads:
        thread.start()
    parsed = {f: _mdlinks.parse_file(f) for f in shares[0]}
    for thread in threads:
        thread.join()
        parsed.update(thread.parsed)
    return parsed


class _Worker(threading.Thread):
    """`python -m loopgate.gates._mdlinks` over one share of the files, falling back to parsing here.

    A plain subprocess rather than multiprocessing: no fork of a process that holds threads
    (`loopgate check` runs gates in a thread pool), and no re-import of the caller's `__main__`.
    """

    def __init__(self, files: list[str]) -> None:
        super().__init__(daemon=True)
        self.files = files
        self.parsed: dict[str, _mdlinks.Parsed] = {}

    def run(self) -> None:
        rows: list[_mdlinks.Row] | None = None
        try:
            done = subprocess.run([sys.executable, "-m", "loopgate.gates._mdlinks"],
                                  input=b"\0".join(os.fsencode(f) for f in self.files), capture_output=True,
                                  check=False, timeout=600)
            if done.returncode == 0:
                import pickle  # noqa: PLC0415  (only a large tree starts workers)

                try:
                    rows = pickle.loads(done.stdout)  # our own child wrote it
                except (pickle.UnpicklingError, EOFError):
                    rows = None
        except (OSError, subprocess.SubprocessError):
            rows = None
        if rows is None or len(rows) != len(self.files):
            self.parsed = {f: _mdlinks.parse_file(f) for f in self.files}
        else:
            self.parsed = {f: _mdlinks.from_row(row) for f, row in zip(self.files, rows, strict=True)}
