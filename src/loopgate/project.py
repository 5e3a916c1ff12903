"""Where the project lives: the addresses the package metadata, SARIF and the docs point to."""

from __future__ import annotations

HOMEPAGE = "https://github.com/loopgate-cli/loopgate"
CODES_DOC = f"{HOMEPAGE}/blob/main/docs/codes.md"


def code_url(code: str) -> str:
    """The documentation of one finding code (docs/codes.md has a `## LGnnn` heading for each)."""
    return f"{CODES_DOC}#{code.lower()}"
