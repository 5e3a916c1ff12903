"""The five loop artifacts: file names, titles, and how each `##` section is read."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable

from loopgate.records import field, record


class Shape(enum.Enum):
    """How a section's markdown becomes data."""

    TEXT = "text"  # paragraphs and bullets joined into one string
    FIELDS = "fields"  # `- key: value` bullets -> object
    LIST = "list"  # bullets -> list of strings (prose around them is an introduction)
    NAMED_LISTS = "named-lists"  # lists introduced by `...when:` lines or `###` headings -> object of lists
    ENTRIES = "entries"  # `###` headings -> object of FIELDS objects
    CHECKLIST = "checklist"  # `- [x]` bullets -> list of {text, checked}


@record(frozen=True)
class SectionSpec:
    key: str
    shape: Shape
    required: bool = False
    # NAMED_LISTS: which list an introduction line or `###` title names.
    namer: Callable[[str], str | None] | None = None


@record(frozen=True)
class ArtifactKind:
    name: str  # schema name, e.g. "loop-spec"
    filename: str  # default file name in a loop directory
    title_prefix: str  # `# Loop Spec: ...`
    sections: tuple[SectionSpec, ...]
    # Sections not listed: None = ignored prose; a Shape = read them all that way (readiness).
    other_sections: Shape | None = None
    other_sections_key: str = ""
    duplicate_entry_code: str = "LG106"
    # `###` entries named like keys (case, spaces, `-`, `_` alike) rather than exact ids.
    entries_by_name: bool = False
    sections_by_key: dict[str, SectionSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections_by_key", {s.key: s for s in self.sections})


def _work_selection_namer(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"\b(skip|escalate|must not|never)\b", lowered):
        return "must_skip_and_escalate"
    if re.search(r"\b(may|can|select|only when|allowed)\b", lowered):
        return "may_select"
    return None


SPEC = ArtifactKind(
    "loop-spec",
    "LOOP_SPEC.md",
    "loop spec",
    (
        SectionSpec("purpose", Shape.TEXT, required=True),
        SectionSpec("trigger", Shape.TEXT, required=True),
        SectionSpec("inputs", Shape.FIELDS),
        SectionSpec("work_selection_rules", Shape.NAMED_LISTS, required=True, namer=_work_selection_namer),
        SectionSpec("roles", Shape.FIELDS),
        SectionSpec("gates", Shape.LIST),
        SectionSpec("budgets", Shape.FIELDS, required=True),
        SectionSpec("stop_conditions", Shape.LIST, required=True),
        SectionSpec("scope", Shape.FIELDS),
        SectionSpec("rollout", Shape.FIELDS),
        SectionSpec("sandbox", Shape.FIELDS),
    ),
)
STATE = ArtifactKind(
    "loop-state",
    "LOOP_STATE.md",
    "loop state",
    (
        SectionSpec("current_run", Shape.FIELDS, required=True),
        SectionSpec("items", Shape.ENTRIES),
    ),
    duplicate_entry_code="LG209",
)
CHECKLIST = ArtifactKind(
    "quality-gate-checklist",
    "quality-gate-checklist.md",
    "quality gate checklist",
    (
        SectionSpec("required_gates", Shape.ENTRIES),
        SectionSpec("advisory_gates", Shape.ENTRIES),
    ),
    entries_by_name=True,
)
POLICY = ArtifactKind(
    "escalation-policy",
    "escalation-policy.md",
    "escalation policy",
    (
        SectionSpec("always_escalate", Shape.LIST, required=True),
        SectionSpec("escalate_on_ambiguity", Shape.LIST),
        SectionSpec("notify", Shape.FIELDS),
    ),
)
READINESS = ArtifactKind(
    "loop-readiness",
    "loop-readiness.md",
    "loop readiness",
    (),
    other_sections=Shape.CHECKLIST,
    other_sections_key="checks",
)

KINDS: tuple[ArtifactKind, ...] = (SPEC, STATE, CHECKLIST, POLICY, READINESS)
BY_NAME = {k.name: k for k in KINDS}
BY_FILENAME = {k.filename.lower(): k for k in KINDS}


def kind_for_filename(filename: str) -> ArtifactKind | None:
    return BY_FILENAME.get(filename.lower())


def kind_for_title(title: str) -> ArtifactKind | None:
    """`# Loop Spec: Repository Maintenance Triage` -> SPEC (case and `-`/`_` insensitive)."""
    head = re.sub(r"[\s\-_]+", " ", title.split(":", 1)[0].strip().lower())
    for kind in KINDS:
        if head == kind.title_prefix:
            return kind
    return None


def loop_name(title: str) -> str:
    return title.split(":", 1)[1].strip() if ":" in title else title.strip()
