from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.services import case_deadlines_recompute
from workflow.hooks import deadline_changes_write


class Command(BaseCommand):
    help = (
        "Recompute every open stage's deadline from the current working-day calendar; "
        "records an event on each case whose deadline moved and prints what changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changes = case_deadlines_recompute()
        deadline_changes_write(self.stdout.write, changes)
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} deadline(s) moved"))
