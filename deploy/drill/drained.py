"""What the drill still waits for before its checks: prints a JSON list of two counts.

``[pending, unflagged]``: the notifications still pending, and the open stage clocks past their
deadline that no SLA scan has flagged yet. The drill has drained when both are 0 (and the Celery
queue is empty, which the drill reads from Redis itself).

Run by ``deploy/drill/drill.py`` (``Cluster.run_program("drained")``) every few seconds once the
load is over; ``DJANGO_SETTINGS_MODULE`` set and the project root on ``PYTHONPATH``.
Usage: ``python deploy/drill/drained.py``.
"""

from __future__ import annotations

import json
import sys

import django
from django.utils import timezone


def drained() -> list[int]:
    """``[pending notifications, open clocks past due and not flagged]``."""
    from notifications.models import Notification
    from workflow.models import StageClock

    return [
        Notification.objects.filter(status="pending").count(),
        StageClock.objects.filter(
            completed_at__isnull=True, breached_at__isnull=True, due_at__lt=timezone.now()
        ).count(),
    ]


def main(argv: list[str]) -> int:
    """``argv``: the arguments after the program name, none."""
    if argv:
        print("usage: drained.py", file=sys.stderr)
        return 2
    django.setup()
    print(json.dumps(drained()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
