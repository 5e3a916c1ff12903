"""The spec's prose read into rules: what the loop enforces, and what it says it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopgate.artifacts.kinds import SPEC
from loopgate.runner.rules import read_rules
from loopgate.verify import load_artifact

ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path, text: str) -> dict[str, object]:
    """The article's spec with its Work Selection Rules replaced by `text`."""
    base = (ROOT / "tests" / "example-files" / "article" / "LOOP_SPEC.md").read_text()
    start = base.index("## Work Selection Rules")
    end = base.index("## ", start + 3)
    path = tmp_path / "LOOP_SPEC.md"
    path.write_text(base[:start] + "## Work Selection Rules\n" + text + "\n" + base[end:])
    artifact, problems = load_artifact(str(path), SPEC)
    assert artifact is not None, problems
    return artifact.data


def test_the_articles_rules() -> None:
    artifact, _ = load_artifact(str(ROOT / "tests" / "example-files" / "article" / "LOOP_SPEC.md"), SPEC)
    assert artifact is not None
    rules = read_rules(artifact.data, None)
    assert rules.required_labels == ("maintenance",)
    assert rules.max_files == 4  # "below five files"
    assert rules.max_failures == 2 and rules.baseline
    names = [c.name for c in rules.categories]
    assert "no production secret, billing flow, or deployment setting is involved" in names
    assert rules.not_enforced == ("the definition of done can be checked with tests, lint, schema validation, or "
                                  "link validation", "requirements are ambiguous")


@pytest.mark.parametrize(("rule", "label"), [
    ("- the issue is labeled maintenance", "maintenance"),
    ("- the item carries the loop-ready label", "loop-ready"),
    ("- the issue has the `docs` label", "docs"),
    ("- the issue is labelled as good-first-loop", "good-first-loop"),
])
def test_label_phrasings(tmp_path: Path, rule: str, label: str) -> None:
    data = _spec(tmp_path, f"The loop may select work only when:\n{rule}\n\nThe loop must skip and escalate when:\n"
                 "- the same item failed three times before\n")
    rules = read_rules(data, None)
    assert rules.required_labels == (label,)
    assert rules.max_failures == 3
    assert rules.not_enforced == ()


def test_the_init_template_label_rule_is_enforced() -> None:
    artifact, _ = load_artifact(str(ROOT / "src" / "loopgate" / "templates" / "LOOP_SPEC.md"), SPEC)
    assert artifact is not None
    assert read_rules(artifact.data, None).required_labels == ("loop-ready",)
