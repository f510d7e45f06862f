"""Periodic clean-up (beat, config/celery.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import IDEMPOTENCY_TTL, IdempotencyRecord


def idempotency_records_purge(*, now: dt.datetime | None = None, batch_size: int = 5000) -> int:
    """Delete idempotency records past their replay window, in batches; returns how many."""
    now = now or timezone.now()
    cutoff = now - IDEMPOTENCY_TTL
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
