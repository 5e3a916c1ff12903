"""The JSON run report (`.loop/runs/<run_id>.json`) and the escalation summary (markdown).

Both are written atomically, and both pass through `redact` so a token in the environment
can never end up in a file.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from loopgate.runner.atomic import write_atomic

# A key's shape, for tokens loopgate was never handed. An `sk-` key (OpenAI's 48 random characters,
# `sk-proj-...`, Anthropic's `sk-ant-api03-...`) is long and random: digits and capitals in it. A
# slug is not: `sk-learn-upgrade-docs-links` as a queue item's id was redacted out of LOOP_STATE.md,
# which then named no item, and the next run did the work again.
# The start is a word boundary, or a JSON escape (`\\n`) before it: in an agent's JSON stream a token at
# the start of a line follows the escape's `n`, where no word boundary is.
_TOKEN = re.compile(r"(?:\b|(?<=\\[nrtbf]))(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
                    r"|sk-(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{32,})\b")


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            for form in _forms(secret):
                text = text.replace(form, "[redacted]")
    return _TOKEN.sub("[redacted]", text)


# What a terminal or an editor acts on: C0 controls but tab and newline (ESC, CR, BEL), DEL, and C1
# (U+009B is a one-character CSI). A maker's last line quoted in a reason carried OSC 52 (write the
# clipboard) and OSC 0 (the window title) to the terminal and into LOOP_STATE.md.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str, secrets: Iterable[str]) -> str:
    """`text` as a terminal line or a markdown file may hold it: redacted, its controls written as
    backslash-x escapes. Never for JSON, whose own escapes already hold them (and which a backslash-x
    escape inside a string makes invalid)."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", redact(text, secrets))


def redact_cut(text: str, secrets: Iterable[str]) -> str:
    """`text` redacted, where it is the end of something longer (a log's last bytes): a window that
    starts inside a secret begins with the secret's end, which no whole form matches, so a start that
    is the last 6 or more characters of one is masked too."""
    text = redact(text, secrets)
    for secret in secrets:
        if not secret or len(secret) < 6:
            continue
        for form in _forms(secret):
            cut = next((k for k in range(len(form) - 1, 5, -1) if text.startswith(form[-k:])), 0)
            if cut:
                return "[redacted]" + text[cut:]
    return text


@functools.lru_cache(maxsize=64)
def _forms(secret: str) -> tuple[str, ...]:
    """The secret as text shows it: itself, escaped inside a JSON string (the report is JSON, and a
    quote or backslash in a value is escaped there), percent-encoded, in hex, and in base64 at each
    of the three alignments it can have inside a larger encoded stream (`echo $TOKEN | base64` in a
    maker's output): the characters that encode its bytes alone. Longest first, so no shorter form
    leaves part of a longer one behind."""
    raw = secret.encode("utf-8", "surrogateescape")
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             urllib.parse.quote(secret, safe=""), raw.hex(), raw.hex().upper()}
    for pad in range(3):
        start, end = -(-pad * 8 // 6), (pad + len(raw)) * 8 // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            part = encode(b"\0" * pad + raw).decode()[start:end]
            if len(part) >= 8:
                forms.add(part)
    return tuple(sorted((f for f in forms if len(f) >= 6), key=len, reverse=True))


def redact_data(value: Any, secrets: Iterable[str]) -> Any:
    """Every string in a JSON-shaped value redacted, keys too. Redacting the JSON text instead broke
    it: a secret starting with `n` matched across the `\\n` escape of a newline before it, and left
    `\\[redacted]`, no JSON escape (the run ended in a traceback with no report); and a token at the
    start of a line, after that escape, never matched the token shapes' word boundary."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_data(k, secrets): redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v, secrets) for v in value]
    return value


def write_report(directory: str, report: dict[str, Any], secrets: list[str]) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{report['run_id']}.json")
    write_atomic(path, json.dumps(redact_data(report, secrets), indent=2, ensure_ascii=False) + "\n")
    return path


def escalation_summary(report: dict[str, Any]) -> str:
    escalated = [i for i in report["items"] if i["status"] == "escalated"]
    lines = [f"# Escalations: {report['loop']} (run {report['run_id']})", ""]
    if not escalated:
        lines.append("No item needs a human this run.")
    for item in escalated:
        lines += [f"## {item['id']}: {item.get('title', '')}".rstrip(": "), "",
                  f"- reason: {item.get('reason', '')}", f"- next action: {item.get('next_action', '')}"]
        if item.get("url"):
            lines.append(f"- link: {item['url']}")
        lines.append("")
    lines.append(f"Stopped: {report['stop']['reason']} ({report['stop']['detail']})")
    return "\n".join(lines) + "\n"


def write_summary(path: str, report: dict[str, Any], secrets: list[str]) -> None:
    write_atomic(path, shown(escalation_summary(report), secrets))
