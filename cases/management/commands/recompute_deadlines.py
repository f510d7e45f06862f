from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, OutputWrapper

from cases.services import DeadlineChange, case_deadlines_recompute
from workflow.calendar import SHANGHAI


def write_deadline_changes(stdout: OutputWrapper, changes: list[DeadlineChange]) -> None:
    """One line per moved deadline; shared by every command that changes the calendar."""
    for change in changes:
        old = change.old_due_at.astimezone(SHANGHAI).date() if change.old_due_at else "-"
        new = change.new_due_at.astimezone(SHANGHAI).date()
        flag = " (provisional)" if change.provisional else ""
        stdout.write(f"{change.reference} {change.stage}: {old} -> {new}{flag}")


class Command(BaseCommand):
    help = (
        "Recompute every open stage's deadline from the current working-day calendar; "
        "records an event on each case whose deadline moved and prints what changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changes = case_deadlines_recompute()
        write_deadline_changes(self.stdout, changes)
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} deadline(s) moved"))
