"""One artifact file from text to findings: parse, extract, type, validate."""

from __future__ import annotations

from typing import Any

from loopgate import codes
from loopgate.artifacts.extract import Extracted, extract
from loopgate.artifacts.kinds import SPEC, ArtifactKind, kind_for_filename, kind_for_title
from loopgate.artifacts.schema import validate
from loopgate.artifacts.spend import spec_findings
from loopgate.findings import Finding
from loopgate.markdown.document import parse_document, source_lines
from loopgate.records import field, record


@record
class Artifact:
    path: str
    kind: ArtifactKind
    data: dict[str, Any]
    extracted: Extracted
    findings: list[Finding] = field(default_factory=list)


def detect_kind(path: str, text: str) -> ArtifactKind | None:
    """By file name first; else by the `# Kind: name` title on the first heading line."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    kind = kind_for_filename(name)
    if kind is not None:
        return kind
    for line in source_lines(text)[:50]:  # lines as every finding counts them (not at U+0085 or U+2028)
        if line.startswith("# "):
            return kind_for_title(line[2:])
    return None


def check_artifact(path: str, kind: ArtifactKind, text: str) -> Artifact:
    if not text.strip():
        empty = codes.EMPTY_FILE.at(path, 1, 1, f"{kind.filename} is empty")
        return Artifact(path, kind, {}, Extracted({}, {}), [empty])
    document = parse_document(text)
    extracted = extract(path, kind, document)
    findings = validate(kind.name, extracted, path)
    if kind is SPEC:  # budgets a run could not enforce as written (money no agent reports, half a price)
        findings.extend(spec_findings(path, extracted.data, extracted))
    if document.title is None or kind_for_title(document.title.text) is not kind:
        line = document.title.line if document.title else 1
        findings.append(codes.MISSING_TITLE.at(
            path, line, 1, f"no `# {kind.title_prefix.title()}: <name>` title",
            f"Start the file with `# {kind.title_prefix.title()}: <loop name>`."))
    return Artifact(path, kind, extracted.data, extracted, findings)
