"""Import one year's official holiday schedule from a CSV or YAML file, then recompute deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow.calendar import SHANGHAI
from workflow.calendar_data import CalendarDataError, calendar_import_file
from workflow.hooks import deadline_changes_write, deadlines_recompute


class Command(BaseCommand):
    help = (
        "Import a year's schedule (CSV: date,kind[,name] with kinds holiday/makeup; or YAML: year, "
        "holidays, makeup_workdays) and recompute the open deadlines it moves. "
        "See workflow/data/ for examples."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to a .csv, .yaml or .yml file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            result = calendar_import_file(path=file)
        except CalendarDataError as exc:
            raise CommandError(f"{file}: nothing imported.\n{exc}") from exc
        self.stdout.write(f"Imported {result}.")

        # A deadline due before 1 January of the imported year counts no day of it.
        since = dt.datetime(result.year, 1, 1, tzinfo=SHANGHAI)
        changes = deadlines_recompute(due_since=since)
        deadline_changes_write(self.stdout.write, changes)
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} deadlines moved."))
