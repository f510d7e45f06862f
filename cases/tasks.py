"""Celery tasks of the cases app: thin adapters over services."""

from __future__ import annotations

from celery import shared_task

from cases.services import idempotency_records_purge


# Idempotent: deleting what is already gone deletes nothing.
@shared_task(ignore_result=True, acks_late=True)
def purge_idempotency_records() -> int:
    return idempotency_records_purge()
