"""A cohort of overdue cases: submitted through the service 30 days ago.

Submits ``COUNT`` cases as the transfer-out caseworker ``cw_out`` (440300 to 430100, employee
insurance, at the window), with ``now`` 30 days in the past: their stage clocks are already past
the warn, due and escalation instants, so the next SLA scan claims all three kinds of reminder for
each. ``PREFIX`` (1, 2, ...: one per cohort, at most 99) goes into the applicants' ID numbers so
that two cohorts never share one.

Run by ``deploy/drill/drill.py`` (``Cluster.run_program("cohort", PREFIX, COUNT)``) after
``setup_data.py``; ``DJANGO_SETTINGS_MODULE`` set and the project root on ``PYTHONPATH``.
Usage: ``python deploy/drill/cohort.py PREFIX COUNT``. Prints ``COUNT``.
"""

from __future__ import annotations

import datetime as dt
import sys

import django
from django.utils import timezone

SUBMITTED_DAYS_AGO = 30


def id_number(prefix: int, i: int) -> str:
    """The ID number of applicant ``i`` of cohort ``prefix``: valid, born 1975-1999."""
    from core.identity import id_number_check_char

    first17 = f"440306{1975 + i % 25}{prefix:02d}01{i:03d}"
    return first17 + id_number_check_char(first17)


def cohort(prefix: int, count: int) -> int:
    """Submit the ``count`` cases of cohort ``prefix``; returns ``count``."""
    from accounts.models import User
    from cases.services import Applicant, case_submit

    cw = User.objects.get(username="cw_out")
    now = timezone.now() - dt.timedelta(days=SUBMITTED_DAYS_AGO)
    for i in range(count):
        case_submit(
            actor=cw,
            insurance_type="employee",
            from_agency="440300",
            to_agency="430100",
            channel="window",
            applicant=Applicant(name="王五", id_number=id_number(prefix, i), phone="13900001111"),
            stopped_at_source_on=(now - dt.timedelta(days=3)).date(),
            enrolled_at_target_on=(now - dt.timedelta(days=2)).date(),
            now=now,
        )
    return count


def main(argv: list[str]) -> int:
    """``argv``: the arguments after the program name, ``[PREFIX, COUNT]``."""
    if len(argv) != 2:
        print("usage: cohort.py PREFIX COUNT", file=sys.stderr)
        return 2
    prefix, count = int(argv[0]), int(argv[1])
    django.setup()
    print(cohort(prefix, count))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
