"""Celery tasks of the cases app: thin adapters over services (scheduled by beat, config/celery.py).

The SLA tasks live here, not in workflow: a scan claims workflow's clocks and tells the people of
the cases (``cases.reminders``), and only this layer may call both.
"""

from __future__ import annotations

import time

from celery import shared_task

from cases.digest import sla_digest as sla_digest_run
from cases.reminders import sla_scan as sla_scan_run
from cases.services import idempotency_records_purge
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
