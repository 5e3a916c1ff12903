"""Reporters render a list of findings; each output format is one view of the same list."""

from __future__ import annotations

from collections.abc import Callable

from loopgate.reporters.base import Report, Reporter
from loopgate.reporters.github import GithubReporter
from loopgate.reporters.json import JsonReporter
from loopgate.reporters.junit import JunitReporter
from loopgate.reporters.sarif import SarifReporter
from loopgate.reporters.text import TextReporter

REPORTER_BY_NAME: dict[str, Callable[[], Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "github": GithubReporter,
    "sarif": SarifReporter,
    "junit": JunitReporter,
}

__all__ = ["REPORTER_BY_NAME", "Report", "Reporter"]
