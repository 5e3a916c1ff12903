"""The JSON run report (`.loop/runs/<run_id>.json`) and the escalation summary (markdown).

Both are written atomically, and both pass through `redact` so a token in the environment
can never end up in a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any

from loopgate.runner.atomic import write_atomic

_TOKEN = re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,})\b")


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return _TOKEN.sub("[redacted]", text)


def write_report(directory: str, report: dict[str, Any], secrets: list[str]) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{report['run_id']}.json")
    write_atomic(path, redact(json.dumps(report, indent=2, ensure_ascii=False), secrets) + "\n")
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
    write_atomic(path, redact(escalation_summary(report), secrets))
