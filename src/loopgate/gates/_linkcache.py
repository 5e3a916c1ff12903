"""The links cache: URLs that answered with an accepted status, and when (failures are never cached).

One JSON file, `{"version": 1, "urls": {URL: {"status": 200, "time": T, "redirects": [...]}}}`;
the `version` header comes first and must be this module's VERSION.
- Whatever is wrong with the file (no header or another version, truncated, not JSON, another
  JSON type, entries of the wrong shape, binary, larger than MAX_BYTES, a symlink, a directory or
  a FIFO in its place) costs its entries, never the run: what does not read as a cache is
  discarded, reported (LG484, a warning), and replaced on the next save.
- The file is never followed through a symlink (opened with O_NOFOLLOW), never read past
  MAX_BYTES, and only ever replaced whole: a temporary file in the same directory, renamed over
  it (a rename replaces a symlink itself, not what it points to).
- A URL with credentials in it (userinfo, `?token=`, ...; see `_redact`) is never stored, and
  redirects are stored redacted: a cache file is not a place for secrets.
- Runs that save at once lose nothing: each save re-reads the file and merges under an
  exclusive lock (`flock` on the cache's directory: no lock file to plant a symlink at), then
  replaces the file atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import Any

from loopgate.gates._redact import has_secret, redact_url
from loopgate.records import record

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: saves still replace atomically, without the merge lock
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT = 10.0  # seconds a save waits for another run's save before it gives up (and says so)
MAX_BYTES = 64 * 1024 * 1024  # a cache larger than this is not ours: discarded, not read
VERSION = 1  # the header's `version`: a cache written in another format is discarded, not misread


@record(frozen=True)
class Hit:
    status: int
    redirects: tuple[str, ...]


def _entry(value: object) -> dict[str, Any] | None:
    """A cache entry as we write it, or None: every field checked, so `get` cannot fail on it."""
    if not isinstance(value, dict):
        return None
    status, when, redirects = value.get("status"), value.get("time"), value.get("redirects", [])
    if type(status) is not int or not 100 <= status <= 599:
        return None
    if not isinstance(when, (int, float)) or isinstance(when, bool) or not math.isfinite(when):
        return None
    if not isinstance(redirects, list) or not all(isinstance(r, str) for r in redirects):
        return None
    return {"status": status, "time": float(when), "redirects": [redact_url(r) for r in redirects]}


class Cache:
    """URL -> (status, time) of accepted answers; read once, merged and written once."""

    def __init__(self, path: str, ttl: float) -> None:
        self.path, self.ttl = path, ttl
        self.entries: dict[str, dict[str, Any]] = {}
        self.added: dict[str, dict[str, Any]] = {}
        self.problem = ""
        if path and ttl > 0:
            self.entries = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        """The valid entries of the file; a file that is no cache at all is noted and read as empty."""
        try:
            raw = _read_file(self.path)
        except FileNotFoundError:
            return {}
        except OSError as err:
            return self._discard(err.strerror or str(err))
        if isinstance(raw, str):
            return self._discard(raw)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
            return self._discard(f"not a JSON cache ({type(err).__name__})")
        version = data.get("version") if isinstance(data, dict) else None
        if version != VERSION:
            return self._discard("no cache header" if version is None else f"cache version {version!r}, not {VERSION}")
        urls = data.get("urls")
        if not isinstance(urls, dict):
            return self._discard("not a links cache (no `urls` object)")
        entries = {}
        for url, value in urls.items():
            entry = _entry(value)
            if entry is not None and not has_secret(url):
                entries[url] = entry
        return entries

    def _discard(self, why: str) -> dict[str, dict[str, Any]]:
        self.problem = f"cache {self.path} discarded ({why}); it is replaced when the run saves"
        return {}

    def get(self, url: str, accepted: frozenset[int], now: float) -> Hit | None:
        entry = self.entries.get(url)
        # An entry dated in the future (a clock set back, a copied cache) is not trusted: it would never expire.
        if not entry or not 0 <= now - entry["time"] <= self.ttl or entry["status"] not in accepted:
            return None
        return Hit(entry["status"], tuple(entry["redirects"]))

    def put(self, url: str, status: int, redirects: tuple[str, ...], now: float) -> None:
        """Remember a URL that answered with an accepted status (never one that carries credentials)."""
        if self.ttl > 0 and self.path and not has_secret(url):
            self.added[url] = {"status": status, "time": now, "redirects": [redact_url(r) for r in redirects]}

    def save(self, now: float) -> None:
        if not self.added:
            return
        temp = ""
        try:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            with _locked(directory):
                merged = {**self._read(), **self.added}  # other runs may have saved since this one read
                merged = {k: v for k, v in merged.items() if now - v["time"] <= self.ttl}
                handle, temp = tempfile.mkstemp(prefix=".links-", suffix=".json", dir=directory)
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump({"version": VERSION, "urls": merged}, out, separators=(",", ":"))
                os.replace(temp, self.path)
                temp = ""
        except (OSError, TimeoutError) as err:
            written = f"cache {self.path} not written: {getattr(err, 'strerror', None) or err}"
            self.problem = f"{self.problem}; {written}" if self.problem else written
            if temp:
                with contextlib.suppress(OSError):
                    os.unlink(temp)


def _read_file(path: str) -> bytes | str:
    """The bytes of the cache file, or why it is not read: it is not followed through a symlink, not
    opened further when it is no regular file (a FIFO could block, a device never end), and not read
    when it is larger than MAX_BYTES. Raises OSError (FileNotFoundError when there is none)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        if os.path.islink(path):  # ELOOP (Linux), EMLINK (FreeBSD), EFTYPE (NetBSD): a symlink
            return "a symlink; not followed"
        raise err
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        if info.st_size > MAX_BYTES:
            return f"larger than {MAX_BYTES // (1024 * 1024)} MB"
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            raw = handle.read(MAX_BYTES + 1)  # the file may grow after fstat
        return raw if len(raw) <= MAX_BYTES else f"larger than {MAX_BYTES // (1024 * 1024)} MB"
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    """An exclusive lock on the cache's directory, waited for up to LOCK_WAIT seconds."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    from loopgate.flockwait import flock_within  # noqa: PLC0415 - POSIX only, like fcntl above

    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if not flock_within(descriptor, LOCK_WAIT, poll=0.01):
            raise TimeoutError(f"another run held {directory} for {LOCK_WAIT:g} s")
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
