"""Rate limits held by every process (quality.md R11): three real gunicorn workers count against
one limit in Redis, a made-up X-Forwarded-For changes nothing, and while the counters' Redis is away
each process counts on its own, with a warning, never a 500.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from core.throttling import COUNTERS

ROOT = Path(__file__).resolve().parents[2]
LOOKUP = "/api/v1/status-lookup/"
BODY = b'{"reference": "YB2026112300000001", "id_number_suffix": "00000X"}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def three_workers(db) -> Iterator[str]:
    """gunicorn with 3 sync workers on the test database and this run's Redis counters (make test
    always has a Redis)."""
    assert settings.THROTTLE_REDIS_URL, "the shared counters need REDIS_URL"
    port = free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}",
        "THROTTLE_REDIS_URL": settings.THROTTLE_REDIS_URL,
        "THROTTLE_KEY_PREFIX": settings.CACHES["throttle"].get("KEY_PREFIX", "throttle"),
        "THROTTLE_STATUS_LOOKUP": "10/min",
    }
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--keep-alive",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 - localhost
                break
            except OSError:
                time.sleep(0.05)
        # Every worker up (each answers its own /healthz once booted).
        time.sleep(1.0)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def lookup(base: str, forwarded: str | None = None) -> int:
    request = urllib.request.Request(  # noqa: S310 - localhost
        base + LOOKUP, data=BODY, headers={"Content-Type": "application/json"}, method="POST"
    )
    if forwarded:
        request.add_header("X-Forwarded-For", forwarded)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_three_workers_share_one_limit_whatever_x_forwarded_for_says(three_workers):
    # A fresh connection per request (keep-alive 0): the requests spread over the workers, so
    # per-process counters would let 30 through.
    codes = [lookup(three_workers, forwarded=f"10.1.0.{i}") for i in range(14)]
    assert codes == [404] * 10 + [429] * 4


def test_while_the_counters_redis_is_away_each_process_counts_and_warns(settings, caplog, db):
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            **settings.CACHES["throttle"],
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": nothing_listens,
        },
    }
    COUNTERS._warned_at = -COUNTERS.WARN_EVERY_SECONDS
    caplog.set_level(logging.WARNING, logger="core.throttling")
    client = APIClient()
    codes = [
        client.post(LOOKUP, BODY, content_type="application/json").status_code for _ in range(12)
    ]
    assert codes == [404] * 10 + [429] * 2
    warnings = [r for r in caplog.records if "throttle counters unreachable" in r.getMessage()]
    # One warning for the outage, not one per request.
    assert len(warnings) == 1
