"""Reporters render a list of findings; each output format is one view of the same list.

A reporter's module is imported only when its format is asked for: pre-commit starts
`loopgate verify` on every commit, and the text view should not pay for XML or SARIF.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from loopgate.reporters.base import Report, Reporter

_WHERE = {
    "text": "loopgate.reporters.text:TextReporter",
    "json": "loopgate.reporters.json:JsonReporter",
    "github": "loopgate.reporters.github:GithubReporter",
    "sarif": "loopgate.reporters.sarif:SarifReporter",
    "junit": "loopgate.reporters.junit:JunitReporter",
    "markdown": "loopgate.reporters.markdown:MarkdownReporter",
}


class _Lazy(Mapping[str, Callable[[], Reporter]]):
    """format name -> reporter class, imported on first lookup."""

    def __getitem__(self, name: str) -> Callable[[], Reporter]:
        module, attr = _WHERE[name].split(":")
        reporter: Callable[[], Reporter] = getattr(importlib.import_module(module), attr)
        return reporter

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)


REPORTER_BY_NAME: Mapping[str, Callable[[], Reporter]] = _Lazy()
FORMAT_NAMES = tuple(_WHERE)

__all__ = ["FORMAT_NAMES", "REPORTER_BY_NAME", "Report", "Reporter"]
