"""The one approval point for high-risk connector calls (push, PR creation, issue comments).

The mode decides: shadow approves nothing, draft-pr approves pushes and draft pull requests,
pr approves all. Every request is recorded, approved or not, so a test (or an auditor
reading the run report) can see exactly what the loop tried to do to shared systems.
"""

from __future__ import annotations

from loopgate.records import field, record

ALLOWED = {
    "shadow": set(),
    "draft-pr": {"push", "draft-pr", "comment"},
    "pr": {"push", "draft-pr", "pr", "comment"},
}


@record
class Approvals:
    mode: str
    log: list[dict[str, object]] = field(default_factory=list)

    def ask(self, action: str, target: str) -> bool:
        approved = action in ALLOWED.get(self.mode, set())
        self.log.append({"action": action, "target": target, "mode": self.mode, "approved": approved})
        return approved
