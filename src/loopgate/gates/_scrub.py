"""Secrets kept out of what the command and generated gates print and store.

Their results carry a command's own words: its output tail, messages taken from its output, the
command line. A test that prints `os.environ`, a failing `curl -H "Authorization: ..."` or a
build that echoes a token would put the credential into the terminal, the CI log and every
report file. Before a result leaves the gate:

- the value of every environment variable whose name says it holds a credential (`GITHUB_TOKEN`,
  `AWS_SECRET_ACCESS_KEY`, `NPM_AUTH_TOKEN`, `DB_PASSWORD`, ...) becomes `***`, wherever it appears;
- every line that detect-secrets (all plugins, default filters: what the secrets gate would flag)
  reads a secret in has the secret replaced by `***`, or, when detect-secrets cannot say which
  characters it is, the whole line replaced by a note naming the kind of secret.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

from loopgate import records
from loopgate.gates._redact import MASK, is_secret_name
from loopgate.gates.base import GateResult

# Names that read as credentials by their parts (`pwd`, `auth`, `session`) but hold none.
_NOT_SECRETS = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "SESSION_MANAGER", "DBUS_SESSION_BUS_ADDRESS",
                          "GPG_AGENT_INFO", "XAUTHORITY", "KRB5CCNAME"})
_MIN_VALUE = 8  # shorter values ("1", "true", "on") would mask ordinary words everywhere
_MAX_SCANNED = 256 * 1024  # characters given to detect-secrets: a result is a tail, not a log


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Values of the environment's credential variables, longest first (a value holding another is masked whole)."""
    values = set()
    for name, value in env.items():
        if name in _NOT_SECRETS or name.startswith(("XDG_", "DBUS_")) or len(value.strip()) < _MIN_VALUE:
            continue
        if not is_secret_name(name):
            continue
        if os.path.isabs(value) and os.path.exists(value):  # a socket or a file's path, not a secret
            continue
        values.add(value.strip())
    return sorted(values, key=len, reverse=True)


def _mask_values(text: str, values: list[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _detected(lines: list[str]) -> dict[int, list[tuple[str, str]]]:
    """{line index: [(kind, value)]} for the lines detect-secrets reads a secret in."""
    from loopgate.gates._secretscan import detector  # noqa: PLC0415

    found: dict[int, list[tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="loopgate-scrub-") as scratch:
        path = os.path.join(scratch, "output.txt")
        with open(path, "w", encoding="utf-8", errors="replace") as handle:
            handle.write("\n".join(lines) + "\n")
        with detector() as detect:
            for kind, number, value in detect(path):
                found.setdefault(number - 1, []).append((kind, value))
    return found


_WORD_END = frozenset(" \t\"'`;,)]}>")


def _mask_one(line: str, kind: str, value: str) -> str:
    """`value` masked in `line`. detect-secrets names some secrets by their prefix only (`ghp` for a GitHub
    token): then the word it starts is masked; when it cannot be found, the whole line."""
    if len(value) >= _MIN_VALUE and value in line:
        return line.replace(value, MASK)
    start = line.find(value) if value else -1
    if start >= 0:
        end = start
        while end < len(line) and line[end] not in _WORD_END:
            end += 1
        if end - start >= _MIN_VALUE:
            return line[:start] + MASK + line[end:]
    if MASK in line and not value:
        return line
    indent = line[:len(line) - len(line.lstrip())]
    return f"{indent}{MASK} (line hidden: it holds what reads as a {kind})"


def _mask_detected(texts: list[str]) -> list[str]:
    lines = [line for text in texts for line in text.split("\n")]
    if not any(line.strip() for line in lines) or sum(map(len, lines)) > _MAX_SCANNED:
        return texts
    found = _detected(lines)
    if not found:
        return texts
    for index, hits in found.items():
        if not 0 <= index < len(lines):
            continue
        line = lines[index]
        for kind, value in hits:
            line = _mask_one(line, kind, value)
        lines[index] = line
    out, at = [], 0
    for text in texts:
        count = text.count("\n") + 1
        out.append("\n".join(lines[at:at + count]))
        at += count
    return out


def scrubbed(result: GateResult, env: Mapping[str, str] | None) -> GateResult:
    """`result` with credentials masked in its summary, reason, output tail and findings."""
    values = secret_values(os.environ if env is None else env)
    texts = [result.summary, result.reason, result.output_tail]
    for finding in result.findings:
        texts += [finding.message, finding.hint]
    texts = _mask_detected([_mask_values(t, values) for t in texts])
    summary, reason, tail, *rest = texts
    findings = [records.replace(f, message=rest[2 * i], hint=rest[2 * i + 1])
                for i, f in enumerate(result.findings)]
    return records.replace(result, summary=summary, reason=reason, output_tail=tail, findings=findings)
