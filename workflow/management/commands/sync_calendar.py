"""Load the official working-day calendar from the ``chinesecalendar`` package."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow.calendar import SHANGHAI
from workflow.calendar_data import CalendarDataError, calendar_package_years, calendar_sync
from workflow.hooks import deadline_changes_write, deadlines_recompute


class Command(BaseCommand):
    help = (
        "Load every day of the years the chinesecalendar package covers (or only --year) into the "
        "calendar. Idempotent; days edited in the admin are kept unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, action="append", dest="years", help="a year to load (repeatable)"
        )
        parser.add_argument(
            "--force", action="store_true", help="overwrite days edited in the admin as well"
        )

    def handle(self, *args: Any, years: list[int] | None, force: bool, **options: Any) -> None:
        try:
            written = calendar_sync(years=years, force=force)
        except CalendarDataError as exc:
            raise CommandError(str(exc)) from exc
        for year, count in written.items():
            self.stdout.write(f"{year}: {count} days")
        covered = calendar_package_years()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(written)} years, {sum(written.values())} days "
                f"(chinesecalendar covers {covered[0]}-{covered[-1]})."
            )
        )
        if not written:
            return
        # A newly published year turns provisional deadlines into real ones: recompute them.
        since = dt.datetime(min(written), 1, 1, tzinfo=SHANGHAI)
        changes = deadlines_recompute(due_since=since)
        deadline_changes_write(self.stdout.write, changes)
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} deadlines moved."))
