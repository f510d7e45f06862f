"""Dates and helpers shared by the SLA tests (scan, digest, notifications).

National Day 2026-10-01..07 is off, Saturday 2026-10-10 is a make-up working day. A case accepted on
Monday 2026-09-28 is due at the end of Friday 2026-10-16.
"""

from __future__ import annotations

import datetime as dt

from cases.models import TransferCase
from workflow.calendar import SHANGHAI
from workflow.models import StageClock


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


ACCEPTED = at("2026-09-28 09:00")
SUBMIT = {
    "now": ACCEPTED,
    "stopped_at_source_on": dt.date(2026, 9, 1),
    "enrolled_at_target_on": dt.date(2026, 9, 2),
}


def kinds(report) -> dict[str, int]:
    return {k: v for k, v in report.counts.items() if v}


def open_clock(case: TransferCase) -> StageClock:
    return StageClock.objects.get(case=case, completed_at__isnull=True)
