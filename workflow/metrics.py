"""The SLA scan's figures for operators, left in Redis by the worker that ran it, so every web
process's ``/metrics`` reports the same last scan.

config/metrics.py reads them at scrape time; the scan task (cases.tasks) writes them.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from django.conf import settings

logger = logging.getLogger(__name__)

SCAN_KEY: Final = "yibao:metrics:sla_scan"
REDIS_TIMEOUT_SECONDS: Final = 1.0


def metrics_redis() -> Any:
    """A Redis client with short timeouts (a scrape must not hang), or None without Redis."""
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )


def sla_scan_record(*, duration: float, claimed: int) -> None:
    """Keep the last scan's duration and size where /metrics reads them."""
    client = metrics_redis()
    if client is None:
        return
    try:
        client.hset(
            SCAN_KEY,
            mapping={"duration": duration, "claimed": claimed, "finished_at": time.time()},
        )
    except Exception:
        logger.warning("could not record the SLA scan's figures", exc_info=True)
