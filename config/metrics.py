"""Operations figures on ``/metrics`` (Prometheus), next to django-prometheus's request metrics.

Read at scrape time from where the truth is, so every web process reports the same values whoever
wrote them: PostgreSQL for the overdue cases and the outbox, Redis for the Celery queue and the
last SLA scan (which runs in a worker, see ``sla_scan_record``). Each query uses a partial index
(``clock_open_breached``, ``notification_pending``), so a scrape costs a few milliseconds at any size.
A figure whose source is down is left out of that scrape, and ``yibao_metrics_source_up`` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from workflow import metrics as ops

logger = logging.getLogger(__name__)

# Celery's default queue; kombu's Redis transport keeps priorities 3, 6 and 9 in sibling lists.
QUEUES = ("celery",)
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class OperationsCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names, without reading anything: the registry calls this when the collector is
        registered (at URL import), and would otherwise run ``collect`` and its queries."""
        for name in (
            "yibao_cases_overdue",
            "yibao_notifications_pending",
            "yibao_notification_oldest_pending_age_seconds",
            "yibao_celery_queue_length",
            "yibao_sla_scan_duration_seconds",
            "yibao_sla_scan_claimed",
            "yibao_sla_scan_last_finished_timestamp_seconds",
            "yibao_metrics_source_up",
        ):
            yield GaugeMetricFamily(name, name)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "yibao_metrics_source_up", "1 when /metrics could read the source", labels=["source"]
        )
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except Exception:
            logger.warning("metrics: database unreadable", exc_info=True)
            up.add_metric(["database"], 0)
        if settings.REDIS_URL:
            try:
                yield from self._redis()
                up.add_metric(["redis"], 1)
            except Exception:
                logger.warning("metrics: redis unreadable", exc_info=True)
                up.add_metric(["redis"], 0)
        yield up

    def _database(self) -> Iterator[GaugeMetricFamily]:
        from notifications.models import Notification, Status
        from workflow.models import StageClock

        # An open case is overdue while its open stage clock is flagged (one open clock per case).
        overdue = StageClock.objects.filter(
            completed_at__isnull=True, breached_at__isnull=False
        ).count()
        yield GaugeMetricFamily(
            "yibao_cases_overdue", "Open cases whose current stage is past its deadline", overdue
        )
        pending = Notification.objects.filter(status=Status.PENDING)
        oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
        yield GaugeMetricFamily(
            "yibao_notifications_pending", "Notifications not yet delivered", pending.count()
        )
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "yibao_notification_oldest_pending_age_seconds",
            "Age of the oldest notification still pending (0 when none is)",
            max(age, 0.0),
        )

    def _redis(self) -> Iterator[GaugeMetricFamily]:
        client = ops.metrics_redis()
        queue = GaugeMetricFamily(
            "yibao_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for name in QUEUES:
            queue.add_metric([name], sum(client.llen(name + s) for s in PRIORITY_SUFFIXES))
        yield queue
        scan = {k.decode(): float(v) for k, v in client.hgetall(ops.SCAN_KEY).items()}
        if scan:
            yield GaugeMetricFamily(
                "yibao_sla_scan_duration_seconds", "Duration of the last SLA scan", scan["duration"]
            )
            yield GaugeMetricFamily(
                "yibao_sla_scan_claimed", "Clocks the last SLA scan claimed", scan["claimed"]
            )
            yield GaugeMetricFamily(
                "yibao_sla_scan_last_finished_timestamp_seconds",
                "When the last SLA scan finished (Unix time)",
                scan["finished_at"],
            )


_registered: list[OperationsCollector] = []


def metrics_register() -> None:
    """Add the collector to the default registry once per process (what /metrics serves)."""
    if not _registered:
        _registered.append(OperationsCollector())
        REGISTRY.register(_registered[0])
