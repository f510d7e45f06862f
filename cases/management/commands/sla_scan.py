"""``manage.py sla_scan [--as-of ISO8601]``: run one SLA scan and print what it claimed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.reminders import REPORT_SAMPLE, sla_scan
from workflow.calendar import SHANGHAI


class Command(BaseCommand):
    help = "Run one SLA scan (due soon, overdue, escalation, materials reminders) and report it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            help="the instant to scan as of, ISO 8601 (a naive time is Asia/Shanghai); default now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["as_of"]:
            try:
                now = dt.datetime.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(
                    f"--as-of: not an ISO 8601 instant: {options['as_of']!r}"
                ) from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=SHANGHAI)
        report = sla_scan(now=now)
        self.stdout.write(f"SLA scan as of {now.astimezone(SHANGHAI).isoformat()}")
        for kind, count in report.counts.items():
            refs = report.references[kind]
            more = f" (first {REPORT_SAMPLE})" if count > len(refs) else ""
            listing = f": {' '.join(refs)}{more}" if refs else ""
            self.stdout.write(f"  {kind}: {count}{listing}")
        self.stdout.write(f"  notifications written: {report.notifications}")
