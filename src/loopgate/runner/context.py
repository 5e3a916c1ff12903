"""What the run, the item and the attempt share: the loaded loop, the run's totals, and the
one place an item's status changes (written to LOOP_STATE.md at once, atomically)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from loopgate.records import field, record
from loopgate.runner.approvals import Approvals
from loopgate.runner.github import GitHubError
from loopgate.runner.loaded import LoadedLoop
from loopgate.runner.outcome import ItemRecord, RunSettings
from loopgate.runner.report import redact
from loopgate.runner.spend import Spend
from loopgate.runner.state import save_state

Events = Callable[[str, dict[str, Any]], None]


@record
class RunContext:
    settings: RunSettings
    loop: LoadedLoop
    emit: Events
    spend: Spend
    approvals: Approvals
    records: list[ItemRecord] = field(default_factory=list)
    prs_opened: int = 0
    warnings: list[str] = field(default_factory=list)
    stop_requested: str = ""  # the name of the signal that asked the run to stop
    run_id: str = ""

    def warn(self, message: str) -> None:
        """Something the run cannot hold to: shown now, and kept in the run report."""
        self.warnings.append(message)
        self.emit("warning", {"message": message})

    def paused(self) -> str:
        if os.path.exists(os.path.join(self.loop.loop_dir, "PAUSE")):
            return f"kill switch: {os.path.join(self.settings.loop_dir, 'PAUSE')} exists"
        github = self.loop.github
        if github is not None and github.config.pause_label:
            try:
                if github.repo_has_label_on_open_issue(github.config.pause_label):
                    return f"kill switch: an open issue carries the '{github.config.pause_label}' label"
            except GitHubError as err:  # fail closed: a switch that cannot be read may be on
                return f"kill switch unknown, so the run pauses: cannot read the pause label: {err}"
        return ""

    # -- the item's state, as LOOP_STATE.md records it ---------------------------------------
    def save(self) -> None:
        state = self.loop.state
        state.counters["selected_items"] = sum(1 for r in self.records if r.status not in ("skipped", "pending"))
        state.counters["opened_pull_requests"] = self.prs_opened
        state.counters["escalations"] = sum(1 for r in self.records if r.status == "escalated")
        if self.settings.dry_run:  # a dry run changes nothing: the state stays in memory
            return
        save_state(self.loop.state_path, state)

    def transition(self, record: ItemRecord, status: str, reason: str = "", next_action: str = "") -> None:
        record.status, record.reason = status, reason or record.reason
        record.next_action = next_action or record.next_action
        item = self.loop.state.item(record.item.id)
        item.status, item.reason, item.next_action = status, record.reason, record.next_action
        if record.branch:
            item.extra["branch"] = record.branch
        if record.pr_url:
            item.extra["pull_request"] = record.pr_url
        self.save()
        self.emit("item", {"id": record.item.id, "status": status, "reason": record.reason})

    def escalate(self, record: ItemRecord, reason: str, next_action: str = "human review required") -> None:
        # which run escalated it, until a summary names it: a run killed before its summary was
        # written leaves its escalations for the next run's summary (Loop._carry_over)
        self.loop.state.item(record.item.id).extra.update(escalated_in=self.run_id, summary="")
        self.transition(record, "escalated", reason, next_action)
        self.comment(record, f"loopgate escalated this item and will not work on it further.\n\n"
                             f"- reason: {reason}\n- next action: {next_action}")

    def comment(self, record: ItemRecord, body: str) -> None:
        """Tell the GitHub issue, in the modes that may write, through the approval point."""
        number = record.item.number
        github = self.loop.github
        if github is None or number is None or not self.approvals.ask("comment", f"#{number}"):
            return
        try:
            # an issue comment is as public as a file: the reason may quote the maker's output
            github.comment(number, redact(body, self.loop.secrets))
        except GitHubError as err:
            self.warn(f"could not comment on #{number}: {err}")
