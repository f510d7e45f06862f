"""Celery tasks of the SLA scan (scheduled by beat, see config/celery.py)."""

from __future__ import annotations

from celery import shared_task

from workflow.scan import sla_digest as sla_digest_run
from workflow.scan import sla_scan as sla_scan_run


# Not acks_late: a scan lost with its worker is simply the next minute's scan.
@shared_task(ignore_result=True)
def sla_scan() -> int:
    return sla_scan_run().claimed


@shared_task(ignore_result=True)
def sla_digest() -> int:
    return sla_digest_run().notifications
