"""The operations figures on /metrics: overdue cases, the outbox, the Celery queue and the last
SLA scan, read from PostgreSQL and Redis at scrape time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import metrics
from notifications.models import Notification
from workflow import metrics as ops
from workflow.models import StageClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_keys(monkeypatch):
    """A queue and a scan key of this test's own: the shared Redis may hold other runs' data."""
    suffix = uuid.uuid4().hex
    monkeypatch.setattr(metrics, "QUEUES", (f"test-queue-{suffix}",))
    monkeypatch.setattr(ops, "SCAN_KEY", f"test-scan-{suffix}")
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client, metrics.QUEUES[0]
    client.delete(metrics.QUEUES[0], ops.SCAN_KEY)


def scrape(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    families = {}
    for family in text_string_to_metric_families(response.content.decode()):
        families[family.name] = {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    return families


def test_metrics_report_overdue_outbox_queue_and_scan(client, submit_case, private_keys):
    redis_client, queue = private_keys
    now = timezone.now()
    overdue = submit_case()
    # Flagged by the scan: its open clock is past due and marked (the case is open).
    StageClock.objects.filter(case=overdue, completed_at__isnull=True).update(
        breached_at=now - dt.timedelta(days=1)
    )
    Notification.objects.all().delete()
    Notification.objects.create(
        dedup_key="test:old", kind="test", channel="in_app", created_at=now - dt.timedelta(hours=2)
    )
    Notification.objects.create(dedup_key="test:new", kind="test", channel="in_app", created_at=now)
    Notification.objects.create(
        dedup_key="test:sent", kind="test", channel="in_app", status="sent", created_at=now
    )
    redis_client.rpush(queue, "a", "b", "c")
    ops.sla_scan_record(duration=0.25, claimed=42)

    figures = scrape(client)

    assert figures["yibao_cases_overdue"][()] == 1
    assert figures["yibao_notifications_pending"][()] == 2
    assert 7150 < figures["yibao_notification_oldest_pending_age_seconds"][()] < 7300
    assert figures["yibao_celery_queue_length"][(("queue", queue),)] == 3
    assert figures["yibao_sla_scan_duration_seconds"][()] == 0.25
    assert figures["yibao_sla_scan_claimed"][()] == 42
    assert figures["yibao_metrics_source_up"][(("source", "database"),)] == 1
    assert figures["yibao_metrics_source_up"][(("source", "redis"),)] == 1


def test_nothing_pending_is_age_zero_and_a_dead_redis_is_reported(client, settings, private_keys):
    Notification.objects.all().delete()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    figures = scrape(client)
    assert figures["yibao_notification_oldest_pending_age_seconds"][()] == 0
    assert figures["yibao_metrics_source_up"][(("source", "redis"),)] == 0
    assert "yibao_celery_queue_length" not in figures
