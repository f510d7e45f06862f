"""Operations endpoints: liveness and readiness (database and broker)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # One line, no traceback: a probe every second during an outage must not flood the logs.
        logger.warning("readiness: database unreachable: %s", type(exc).__name__)
        return False
    return True


def _broker_ok() -> bool | None:
    """True or False for a configured broker; None when no broker is configured."""
    url = getattr(settings, "CELERY_BROKER_URL", None)
    if not url:
        return None
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("readiness: broker unreachable: %s", type(exc).__name__)
        return False
    return True


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: the database answers and the broker (when configured) accepts a
    connection. 503 problem details naming what is down otherwise."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if ok is False]
    body = {
        name: ("ok" if ok else "not_configured" if ok is None else "down")
        for name, ok in checks.items()
    }
    if down:
        return JsonResponse(
            {
                "type": "urn:yibao:problem:not_ready",
                "title": "Service not ready",
                "status": 503,
                "detail": "Unreachable: " + ", ".join(down),
                "code": "not_ready",
                "checks": body,
            },
            status=503,
            content_type="application/problem+json",
        )
    return JsonResponse({"status": "ok", "checks": body})
