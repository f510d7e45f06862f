"""Celery tasks of the cases app: thin adapters over services (scheduled by beat, config/celery.py).

The SLA tasks live here, not in workflow: a scan claims workflow's clocks and tells the people of
the cases (``cases.reminders``), and only this layer may call both.
"""

from __future__ import annotations

import time

from celery import shared_task
from django.utils import timezone

from cases.digest import sla_digest as sla_digest_run
from cases.reminders import sla_scan as sla_scan_run
from cases.services import idempotency_records_purge
from cases.services.settlement import settlement_statements_draw_due
from workflow.metrics import sla_scan_record


# Not acks_late: a scan lost with its worker is simply the next minute's scan.
@shared_task(ignore_result=True)
def sla_scan() -> int:
    started = time.monotonic()
    claimed = sla_scan_run().claimed
    sla_scan_record(duration=time.monotonic() - started, claimed=claimed)
    return claimed


@shared_task(ignore_result=True)
def sla_digest() -> int:
    return sla_digest_run().notifications


# Idempotent: deleting what is already gone deletes nothing.
@shared_task(ignore_result=True, acks_late=True)
def purge_idempotency_records() -> int:
    return idempotency_records_purge()


# Daily, idempotent: every period that is over, for the pairs not drawn yet (a missed day or month
# is caught up by the next run).
@shared_task(ignore_result=True, acks_late=True)
def settlement_draw() -> int:
    return len(settlement_statements_draw_due(now=timezone.now()))
