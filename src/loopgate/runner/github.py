"""The GitHub REST API, only as far as the loop needs it: issues by label, a pause label,
pull requests, issue comments. Base URL configurable (GitHub Enterprise, or a local test
server); token from the environment and never written anywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from loopgate.records import record
from loopgate.runner.queue import WorkItem

MAX_PAGES = 50
MAX_WAIT = 60.0  # never sleep longer than this for a rate limit; stop instead


_EXPECTED = re.compile(r"^\s*(?:[-*]\s*)?expected[ _-]paths?\s*:\s*(.+)$", re.I | re.M)


def expected_paths(body: str) -> tuple[str, ...]:
    """An issue says what it may touch with a line `Expected paths: docs/guide.md, docs/faq.md`."""
    found = _EXPECTED.search(body)
    if not found:
        return ()
    return tuple(p.strip().strip("`") for p in found.group(1).split(",") if p.strip().strip("`"))


class GitHubError(Exception):
    """The API could not be used. `kind` says whose problem it is, so the loop can tell a pull
    request GitHub refused (the item's) from a token, a limit or an outage (the environment's):

    auth (401), forbidden (403, not a rate limit), rate-limit, not-found (404), refused (422 and
    other 4xx), server (5xx, after retries), unreachable (no connection, no answer in time)."""

    def __init__(self, message: str, kind: str = "unreachable", status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def environmental(self) -> bool:
        """Not about any one item: a rerun after the fix the message names would succeed."""
        return self.kind != "refused"

    @property
    def usage_error(self) -> bool:
        """A wrong spec (no such repository) or a request GitHub refuses: exit 2, not 5."""
        return self.kind in ("refused", "not-found")


SERVER_RETRY_DELAYS = (0.5, 1.0)  # GitHub's 5xx are mostly brief: two retries, then stop the run


@record(frozen=True)
class GitHubConfig:
    repo: str  # owner/name
    api: str = "https://api.github.com"
    token: str = ""
    label: str = ""
    pause_label: str = ""
    timeout: float = 15.0
    token_env: str = "GITHUB_TOKEN"  # named in messages, never its value


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _github_message(response: Any) -> str:
    """GitHub's own words: `message` and each error's `message` (or field and code) from its JSON."""
    try:
        payload = response.json()
    except ValueError:
        return " ".join(str(response.text or "").split())[:200]
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload.get("message") or "")]
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or " ".join(str(error.get(k, "")) for k in ("field", "code"))))
        else:
            parts.append(str(error))
    return ": ".join(p.strip() for p in parts if p and p.strip())[:300]


class GitHub:
    def __init__(self, config: GitHubConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        import requests  # noqa: PLC0415 - only runs that talk to GitHub pay for the import

        self.config = config
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                                     "User-Agent": "loopgate"})
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"
        self.requests_made = 0

    def _url(self, path: str) -> str:
        return self.config.api.rstrip("/") + path

    def _wait_for(self, response: Any) -> float | None:
        """Seconds to wait before retrying a rate-limited response, or None if it is not one."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        if response.headers.get("X-RateLimit-Remaining") == "0":
            reset = response.headers.get("X-RateLimit-Reset", "")
            return max(0.0, float(reset) - time.time()) if reset.isdigit() else 60.0
        return 60.0 if response.status_code == 429 else None

    def _rate_limit_error(self, what: str, response: Any, wait: float) -> GitHubError:
        reset = response.headers.get("X-RateLimit-Reset", "")
        when = _utc(float(reset)) if reset.isdigit() else _utc(time.time() + wait)
        why = "longer than loopgate waits" if wait > MAX_WAIT else "still limited after loopgate waited 3 times"
        return GitHubError(f"{what}: GitHub's rate limit is used up (HTTP {response.status_code}); it resets at "
                           f"{when} (in {wait:.0f}s, {why}): run again after that", "rate-limit", response.status_code)

    def _error(self, what: str, response: Any) -> GitHubError:
        status, said = response.status_code, _github_message(response)
        told = f"HTTP {status}" + (f" {said}" if said else "")
        env = f"${self.config.token_env}"
        if status == 401:
            fix = f"set a valid token in {env}" if self.config.token else f"{env} is not set: set it to a token"
            return GitHubError(f"{what}: GitHub rejected the token ({told}): {fix}", "auth", status)
        if status == 403:
            return GitHubError(f"{what}: the token in {env} may not do this ({told}): give it read and write access "
                               "to the repository's issues, contents and pull requests", "forbidden", status)
        if status == 404:
            return GitHubError(f"{what}: GitHub has no such repository or the token cannot see it ({told}): check "
                               f"`github repo: {self.config.repo}` and the token's repository access", "not-found",
                               status)
        if status >= 500:
            return GitHubError(f"{what}: GitHub failed {1 + len(SERVER_RETRY_DELAYS)} times ({told}): it may be "
                               "down (https://www.githubstatus.com); run again later", "server", status)
        return GitHubError(f"{what}: GitHub refused it ({told})", "refused", status)

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        import requests  # noqa: PLC0415

        url = path_or_url if path_or_url.startswith("http") else self._url(path_or_url)
        what = f"{method} {url.split('?')[0]}"
        server_retries = list(SERVER_RETRY_DELAYS)
        rate_retries = 3
        while True:
            try:
                response = self.session.request(method, url, timeout=self.config.timeout, **kwargs)
            except requests.Timeout as err:
                raise GitHubError(f"{what}: GitHub did not answer within {self.config.timeout:g}s: check the "
                                  "network, or raise `github timeout` in the spec's Inputs", "unreachable") from err
            except requests.RequestException as err:
                raise GitHubError(f"{what}: cannot reach GitHub at {self.config.api}: {type(err).__name__}",
                                  "unreachable") from err
            self.requests_made += 1
            wait = self._wait_for(response)
            if wait is not None:
                if wait > MAX_WAIT or rate_retries == 0:
                    raise self._rate_limit_error(what, response, wait)
                rate_retries -= 1
                self.sleep(wait)
                continue
            if response.status_code >= 500 and server_retries:
                self.sleep(server_retries.pop(0))
                continue
            break
        if response.status_code >= 400:
            raise self._error(what, response)
        # Spend what is left slowly when the limit runs low, rather than hit it mid-run.
        remaining = response.headers.get("X-RateLimit-Remaining", "")
        if remaining.isdigit() and int(remaining) < 5:
            self.sleep(1.0)
        return response

    def issues(self, label: str) -> list[WorkItem]:
        owner_repo = self.config.repo
        url: str | None = self._url(f"/repos/{owner_repo}/issues")
        params: dict[str, Any] | None = {"state": "open", "labels": label, "per_page": 100}
        items: list[WorkItem] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.request("GET", url, params=params)
            for issue in response.json():
                if not isinstance(issue, dict) or "pull_request" in issue:
                    continue  # the issues endpoint lists pull requests too
                labels = tuple(str(lb.get("name", "")) for lb in issue.get("labels", []) if isinstance(lb, dict))
                body = str(issue.get("body") or "")
                items.append(WorkItem(id=f"GH-{issue['number']}", title=str(issue.get("title") or ""),
                                      body=body, labels=labels, source="github", expected_paths=expected_paths(body),
                                      url=str(issue.get("html_url") or ""), number=int(issue["number"])))
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries them
        return items

    def repo_has_label_on_open_issue(self, label: str) -> bool:
        """The kill switch: any open issue carrying the pause label pauses the loop."""
        response = self.request("GET", f"/repos/{self.config.repo}/issues",
                                params={"state": "open", "labels": label, "per_page": 1})
        return bool(response.json())

    def create_pull_request(self, head: str, base: str, title: str, body: str, draft: bool) -> str:
        response = self.request("POST", f"/repos/{self.config.repo}/pulls",
                                json={"head": head, "base": base, "title": title, "body": body, "draft": draft})
        return str(response.json().get("html_url", ""))

    def comment(self, number: int, body: str) -> None:
        self.request("POST", f"/repos/{self.config.repo}/issues/{number}/comments", json={"body": body})
