"""Credentials in URLs are never printed or stored: userinfo and credential-like query parameters.

`http://admin:hunter2@host/` becomes `http://***@host/`, and `?token=abc&page=2` becomes
`?token=***&page=2`. A parameter counts as a credential when its name, split at `-`, `_` and
`.`, has a part such as `token`, `key`, `secret`, `password`, `sig`, `signature`, `credential`
or `auth` (`access_token`, `api_key`, `X-Amz-Signature`, `client_secret`, ...); the fragment is
read the same way (OAuth puts `#access_token=` there). Services that put the credential in the
path itself are known by the path's shape, on any host (a proxy or a mirror carries the same
secret): Slack webhooks (`/services/T.../B.../SECRET`, `/workflows/...` and `/triggers/...`),
Telegram bots (`/bot123:SECRET/...`), Discord webhooks (`/api/webhooks/ID/SECRET`) and Microsoft
Teams connectors (`/IncomingWebhook/SECRET/ID`): the secret part becomes `***`, in a URL and in a
message that quotes only the path (HTTP libraries do). Everything here is linear in the text.
"""

from __future__ import annotations

import re

MASK = "***"
# A name part that makes a parameter a credential. Whole parts only: `monkey` and `keyword` stay.
_SECRET_PARTS = frozenset({
    "token", "tokens", "key", "apikey", "secret", "password", "passwd", "pwd", "pass", "sig", "signature",
    "credential", "credentials", "auth", "authorization", "jwt", "session", "sessionid", "sid", "otp", "code",
    "private", "hmac", "cookie", "bearer",
})
_NAME_PARTS = re.compile(r"[-_.\s]+")
# Run together (`accesstoken`, `jsessionid`), these still name a credential; short words such as
# `key`, `sig` or `auth` (`monkey`, `signal`, `author`) count only as whole parts.
_SECRET_WORDS = ("token", "secret", "password", "passwd", "apikey", "sessionid", "signature", "credential")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PARAM_SEP = re.compile(r"([&;])")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_URL_END = frozenset(" \t\r\n\"'<>`()[]{}|\\^")
# Credentials carried in the path: the group is what stays, the rest of the match becomes `***`.
# Each branch starts at a `/` with a literal word and runs over classes without `/`, so a scan is
# linear; `***` matches no branch, so redacting twice changes nothing.
_PATH_SECRET = re.compile(
    r"(/services/T[A-Z0-9]+/B[A-Z0-9]+/)[A-Za-z0-9]+"  # Slack incoming webhook
    r"|(/(?:workflows|triggers)/T[A-Z0-9]+/(?:[A-Z0-9]+/)?\d+/)[A-Za-z0-9]+"  # Slack workflow triggers
    r"|(/(?:file/)?bot)\d+:[A-Za-z0-9_-]+"  # Telegram bot token (`/bot123:AA.../sendMessage`)
    r"|(/api/(?:v\d+/)?webhooks/\d+/)[A-Za-z0-9_.-]+"  # Discord webhook
    r"|(/IncomingWebhook/)[A-Za-z0-9_.@-]+(?:/[A-Za-z0-9_.@-]+)*"  # Microsoft Teams connector: the rest of the path
)


def _mask_path_secret(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None) + MASK


def redact_path_secrets(text: str) -> str:
    """`text` with the credentials of Slack, Telegram, Discord and Teams URL paths replaced by `***`."""
    return _PATH_SECRET.sub(_mask_path_secret, text) if "/" in text else text


def is_secret_name(name: str) -> bool:
    """Does a query parameter named `name` carry a credential?"""
    if "%" in name:  # `api%5Fkey`: the name as the server reads it
        from urllib.parse import unquote  # noqa: PLC0415

        name = unquote(name)
    lowered = _CAMEL.sub("_", name).lower()  # `AccessToken`, `sessionToken`: parts split at the case change
    joined = _NAME_PARTS.sub("", lowered)
    return (any(part in _SECRET_PARTS for part in _NAME_PARTS.split(lowered) if part) or lowered in _SECRET_PARTS
            or any(word in joined for word in _SECRET_WORDS))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Control characters as `\\x1b` escapes: a link's target is the author's text, and an ESC or OSC
    sequence in it (`[b](<q\\x1b]0;PWN\\x07.md>)`) must not reach the reader's terminal or CI log."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def has_secret(url: str) -> bool:
    """Would `redact_url` change this URL (so it must not be stored as it is)?"""
    return redact_url(url) != url


def redact_url(url: str) -> str:
    """`url` with its userinfo, path-carried credentials and the values of credential-like parameters
    replaced by `***`."""
    url = redact_path_secrets(url)
    scheme_end = url.find("://")
    if scheme_end >= 0 or url.startswith("//"):
        authority_start = scheme_end + 3 if scheme_end >= 0 else 2
        authority_end = len(url)
        for stop in "/?#":
            found = url.find(stop, authority_start)
            if 0 <= found < authority_end:
                authority_end = found
        at = url.rfind("@", authority_start, authority_end)
        if at >= 0:
            url = url[:authority_start] + MASK + url[at:]
    # `/x;jsessionid=...`: parameters in the path are read like the query's.
    semi = url.find(";")
    path_end = min((found for found in (url.find("?"), url.find("#")) if found >= 0), default=len(url))
    if 0 <= semi < path_end:
        url = url[:semi] + _redact_params(url[semi:path_end]) + url[path_end:]
    question, hashed = url.find("?"), url.find("#")
    if hashed >= 0:
        url = url[:hashed + 1] + _redact_params(url[hashed + 1:])
    if question >= 0 and (hashed < 0 or question < hashed):
        end = url.find("#", question)
        end = len(url) if end < 0 else end
        url = url[:question + 1] + _redact_params(url[question + 1:end]) + url[end:]
    return url


def _redact_params(query: str) -> str:
    if "=" not in query:
        return query
    parts = []
    for pair in _PARAM_SEP.split(query):  # `&` and `;` both separate (the separators are kept)
        name, equals, value = pair.partition("=")
        parts.append(f"{name}={MASK}" if equals and value and is_secret_name(name) else pair)
    return "".join(parts)


def redact_text(text: str) -> str:
    """Every `scheme://...` URL in a message, redacted (a message may quote a URL anywhere, even in an error)."""
    text = redact_path_secrets(text)  # a path alone, as an HTTP library quotes a request, too
    position = text.find("://")
    if position < 0:
        return _redact_bare_queries(text)
    out: list[str] = []
    done = 0
    while position >= 0:
        start = position
        while start > done and position - start < 32 and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        end = _url_end(text, position + 3)
        if start < position:
            out.append(text[done:start])
            out.append(redact_url(text[start:end]))
            done = end
        position = text.find("://", max(end, position + 3))
    out.append(text[done:])
    return _redact_bare_queries("".join(out))


def _redact_bare_queries(text: str) -> str:
    """`/x?X-Amz-Signature=...` without its scheme and host, as HTTP libraries quote a request in errors."""
    if "=" not in text:
        return text
    out: list[str] = []
    done = 0
    for index, char in enumerate(text):
        if char not in "?#&" or index < done:
            continue
        end = _url_end(text, index + 1)
        out.append(text[done:index + 1])
        out.append(_redact_params(text[index + 1:end]))
        done = end
    out.append(text[done:])
    return "".join(out)


def _url_end(text: str, end: int) -> int:
    """Where a URL quoted in a message ends: `{url}: 404 Not Found` keeps its `:` out of the URL."""
    while end < len(text) and text[end] not in _URL_END:
        end += 1
    return end - 1 if text[end - 1:end] == ":" and (end == len(text) or text[end] in " \t\r\n") else end
