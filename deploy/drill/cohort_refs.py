"""The references of the overdue cohorts' cases: prints them as a JSON list.

The cohorts (``cohort.py``) are submitted 30 days in the past and the load's cases now, so a case
created more than ``OLDER_THAN_DAYS`` days ago is a cohort's.

Run by ``deploy/drill/drill.py`` (``Cluster.run_program("cohort_refs")``) before ``check.py``,
which reads the list from a file; ``DJANGO_SETTINGS_MODULE`` set and the project root on
``PYTHONPATH``. Usage: ``python deploy/drill/cohort_refs.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import django
from django.utils import timezone

OLDER_THAN_DAYS = 20


def cohort_refs() -> list[str]:
    """References of the cases created more than ``OLDER_THAN_DAYS`` days ago."""
    from cases.models import TransferCase

    cutoff = timezone.now() - dt.timedelta(days=OLDER_THAN_DAYS)
    return list(
        TransferCase.objects.filter(created_at__lt=cutoff).values_list("reference", flat=True)
    )


def main(argv: list[str]) -> int:
    """``argv``: the arguments after the program name, none."""
    if argv:
        print("usage: cohort_refs.py", file=sys.stderr)
        return 2
    django.setup()
    print(json.dumps(cohort_refs()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
