"""Celery tasks of the SLA scan (scheduled by beat, see config/celery.py)."""

from __future__ import annotations

import time

from celery import shared_task

from config.metrics import sla_scan_record
from workflow.scan import sla_digest as sla_digest_run
from workflow.scan import sla_scan as sla_scan_run


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
