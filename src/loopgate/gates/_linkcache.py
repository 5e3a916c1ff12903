"""The links cache: URLs that answered with an accepted status, and when (failures are never cached)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hit:
    status: int
    redirects: tuple[str, ...]


def default_cache_file() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "loopgate", "links.json")


class Cache:
    """URL -> (status, time) of accepted answers; read once, written once, atomically."""

    def __init__(self, path: str, ttl: float) -> None:
        self.path, self.ttl = path, ttl
        self.entries: dict[str, dict[str, Any]] = {}
        self.added: dict[str, dict[str, Any]] = {}
        self.problem = ""
        if path and ttl > 0:
            self.entries = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            self.problem = f"cache {self.path} not read: {err}"
            return {}
        return {k: v for k, v in data.get("urls", {}).items() if isinstance(v, dict)} if isinstance(data, dict) \
            else {}

    def get(self, url: str, accepted: frozenset[int], now: float) -> Hit | None:
        entry = self.entries.get(url)
        if not entry or now - float(entry.get("time", 0)) > self.ttl:
            return None
        status = int(entry.get("status", 0))
        if status not in accepted:
            return None
        return Hit(status, tuple(entry.get("redirects", ())))

    def put(self, url: str, status: int, redirects: tuple[str, ...], now: float) -> None:
        """Remember a URL that answered with an accepted status."""
        if self.ttl > 0 and self.path:
            self.added[url] = {"status": status, "time": now, "redirects": list(redirects)}

    def save(self, now: float) -> None:
        if not self.added:
            return
        merged = {**self._read(), **self.added}  # another run may have written meanwhile
        merged = {k: v for k, v in merged.items() if now - float(v.get("time", 0)) <= self.ttl}
        temp = ""
        try:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".links-", suffix=".json", dir=directory)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "urls": merged}, out, separators=(",", ":"))
            os.replace(temp, self.path)
        except OSError as err:
            self.problem = f"cache {self.path} not written: {err.strerror or err}"
            if temp:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
