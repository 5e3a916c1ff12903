"""Check http(s) URLs concurrently: each URL once, HEAD then GET, retries, redirects, a cache.

- Concurrency: a thread pool of `concurrency` workers, and at most `per_host` requests in
  flight to one host (URLs are queued host by host, interleaved, so workers rarely wait on a
  busy host while others are idle).
- HEAD first; GET (streamed, the body is never read) when the server refuses HEAD (405, 501,
  and the 400/403/406 some servers give HEAD alone).
- Retries with exponential backoff on 429, 5xx and timeouts; `Retry-After` (seconds or a
  date) is honoured up to `max_retry_wait`, and a longer wait is a failure, said so.
- Redirects are followed; the final status decides, and the chain is reported.
- Cache (`_linkcache`): a JSON file of URLs that answered with an accepted status, and when. A failure is
  never cached, so a fixed link is seen fixed on the next run, and a broken one is retried.

What counts as environmental: a request that failed because the name did not resolve or the
network or host was unreachable says nothing about the link when *every* request failed that
way (the machine is offline). `classify` names the kind; the gate decides.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from loopgate import __version__
from loopgate.project import HOMEPAGE
from loopgate.records import record

# What only a run that asks the network needs (requests, sockets, a thread pool, the cache) is
# imported when it does: an --offline run, the pre-commit hook's, pays for none of it.

# Failure kinds
DNS, UNREACHABLE, REFUSED, TIMEOUT, TLS, INVALID, OTHER = (
    "dns", "unreachable", "refused", "timeout", "tls", "invalid", "error")
NETWORK_LEVEL = frozenset({DNS, UNREACHABLE})
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_GET_INSTEAD = frozenset({400, 403, 405, 406, 501})
# Who is asking, and where to read about it: a site owner who sees the gate in a log finds the project.
_USER_AGENT = f"loopgate/{__version__} (links gate; +{HOMEPAGE})"


@record(frozen=True)
class Settings:
    accepted: frozenset[int]
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 1.0
    max_retry_wait: float = 30.0
    concurrency: int = 64
    per_host: int = 8
    cache_file: str = ""
    cache_ttl: float = 86400.0


@record(frozen=True)
class Outcome:
    url: str
    ok: bool
    status: int = 0  # the final HTTP status; 0 when there was no answer
    reason: str = ""  # what went wrong, for the finding
    kind: str = ""  # failure kind (DNS, REFUSED, ...) when there was no HTTP answer
    redirects: tuple[str, ...] = ()  # the URLs the request went through before the final one
    cached: bool = False


def classify(err: BaseException) -> str:
    """The failure kind of a requests exception, from the socket error underneath it."""
    import requests  # noqa: PLC0415

    if isinstance(err, requests.exceptions.Timeout):
        return TIMEOUT
    if isinstance(err, requests.exceptions.SSLError):
        return TLS
    if isinstance(err, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, UnicodeError)):
        return INVALID
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        kind = _socket_kind(current)
        if kind:
            return kind
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None),
                 *(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))]
    return OTHER


def _socket_kind(err: BaseException) -> str:
    import socket  # noqa: PLC0415

    if isinstance(err, socket.gaierror) or type(err).__name__ == "NameResolutionError":
        return DNS
    if isinstance(err, ConnectionRefusedError):
        return REFUSED
    if isinstance(err, OSError) and err.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return UNREACHABLE
    return ""


_KIND_TEXT = {DNS: "the host name does not resolve", UNREACHABLE: "network or host unreachable",
              REFUSED: "connection refused", TLS: "TLS/SSL error", INVALID: "not a valid URL",
              OTHER: "request failed"}


def default_cache_file() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "loopgate", "links.json")


def describe(kind: str) -> str:
    return _KIND_TEXT.get(kind, kind)


# -- checking -----------------------------------------------------------------------------------


class Checker:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self._local = threading.local()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def check_all(self, urls: Iterable[str], on_done: Callable[[Outcome], None] | None = None) -> dict[str, Outcome]:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        from loopgate.gates._linkcache import Cache  # noqa: PLC0415

        now = time.time()
        cache = Cache(self.settings.cache_file, self.settings.cache_ttl)
        self.cache_problem = cache.problem
        results: dict[str, Outcome] = {}
        todo: list[str] = []
        for url in dict.fromkeys(urls):
            hit = cache.get(url, self.settings.accepted, now)
            if hit is not None:
                results[url] = Outcome(url, True, hit.status, redirects=hit.redirects, cached=True)
            else:
                todo.append(url)
        workers = max(1, min(self.settings.concurrency, len(todo)))
        if todo:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loopgate-links") as pool:
                for outcome in pool.map(self.check, _interleave_hosts(todo)):
                    results[outcome.url] = outcome
                    if outcome.ok:
                        cache.put(outcome.url, outcome.status, outcome.redirects, now)
                    if on_done is not None:
                        on_done(outcome)
        cache.save(now)
        self.cache_problem = cache.problem  # what reading said, and then what saving said
        return results

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests  # noqa: PLC0415

            session = requests.Session()
            session.headers["User-Agent"] = _USER_AGENT
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(2, self.settings.per_host))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _host(self, url: str) -> threading.BoundedSemaphore:
        host = _hostname(url)
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(max(1, self.settings.per_host))
            return self._hosts[host]

    def check(self, url: str) -> Outcome:
        with self._host(url):
            return self._attempts(url)

    def _attempts(self, url: str) -> Outcome:
        settings = self.settings
        outcome = Outcome(url, False)
        for attempt in range(settings.retries + 1):
            outcome, wait = self._once(url)
            if outcome.ok or wait is None or attempt == settings.retries:
                break
            delay = max(wait, settings.backoff * (2 ** attempt))
            if delay > settings.max_retry_wait:
                return Outcome(url, False, outcome.status, f"{outcome.reason} (asked to wait {delay:g} s, longer "
                               f"than the {settings.max_retry_wait:g} s allowed)", outcome.kind, outcome.redirects)
            self.sleep(delay)
        return outcome

    def _once(self, url: str) -> tuple[Outcome, float | None]:
        """One HEAD (and GET if needed); the outcome, and how long to wait before a retry (None: no retry)."""
        import requests  # noqa: PLC0415

        session = self._session()
        timeout = self.settings.timeout
        try:
            response = session.head(url, allow_redirects=True, timeout=timeout)
            if response.status_code in _GET_INSTEAD:
                response.close()
                response = session.get(url, allow_redirects=True, timeout=timeout, stream=True)
            response.close()
        except (requests.exceptions.RequestException, ValueError, UnicodeError) as err:
            # ValueError and UnicodeError: URLs that cannot even be sent (bad IPv6 literal, IDNA label)
            kind = classify(err)
            if kind == TIMEOUT:
                return Outcome(url, False, reason=f"no answer within {timeout:g} s", kind=TIMEOUT), 0.0
            text = _KIND_TEXT.get(kind, "request failed")
            return Outcome(url, False, reason=f"{text} ({_short(err)})", kind=kind), None
        redirects = tuple(r.url for r in response.history)
        status = response.status_code
        ok = status in self.settings.accepted
        reason = "" if ok else f"{status} {response.reason or ''}".strip()
        outcome = Outcome(url, ok, status, reason, redirects=redirects)
        if ok or status not in _RETRY_STATUS:
            return outcome, None
        return outcome, _retry_after(response.headers.get("Retry-After"))


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # noqa: PLC0415

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def _short(err: BaseException) -> str:
    text = str(err)
    return text if len(text) <= 160 else text[:157] + "..."


def _hostname(url: str) -> str:
    try:
        from urllib.parse import urlsplit  # noqa: PLC0415

        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. `http://[not-an-ip/`: the request itself will say what is wrong
        return ""


def _interleave_hosts(urls: list[str]) -> list[str]:
    """Round-robin over hosts, so the pool spreads over hosts instead of queueing on one."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(_hostname(url), []).append(url)
    queues = list(by_host.values())
    ordered: list[str] = []
    for index in range(max((len(q) for q in queues), default=0)):
        ordered += [q[index] for q in queues if index < len(q)]
    return ordered
