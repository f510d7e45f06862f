"""Celery tasks: thin adapters that take ids and call notifications.services."""

from __future__ import annotations

from celery import shared_task

from notifications.services import DeliveryRetry, notification_deliver, notification_sweep


# acks_late: delivery is idempotent (the row is claimed before sending), so a message whose worker
# died is better redelivered than lost.
@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver(self, notification_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return notification_deliver(notification_id=notification_id)
    except DeliveryRetry as exc:
        raise self.retry(countdown=exc.countdown, exc=exc) from None


@shared_task(acks_late=True, ignore_result=True)
def deliver_batch(notification_ids: list[int]) -> None:
    """Fan out: one ``deliver`` task per row, sent by a worker rather than by the scan itself."""
    for pk in notification_ids:
        deliver.apply_async(args=[pk])


@shared_task(acks_late=True, ignore_result=True)
def sweep() -> int:
    return len(notification_sweep())
