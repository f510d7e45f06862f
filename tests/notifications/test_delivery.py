"""Delivery by a real Celery worker over real Redis: on commit, retries, failure, signatures, and
a transition made while Redis is away (R3)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from agencies.models import Agency
from cases.services import case_transition
from notifications.models import Notification
from notifications.services import notification_sweep
from notifications.signing import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_sign,
    webhook_verify,
)
from tests.notifications.conftest import TcpProxy, emails_with_key, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def all_settled(qs) -> bool:
    return qs.exists() and not qs.filter(status="pending").exists()


def test_status_change_is_delivered_on_every_channel(
    calendar_2026, worker, outbox, personas, submit_case
):
    personas["applicant"].email = "zhangsan@example.com"
    personas["applicant"].save()
    case = submit_case()
    rows = Notification.objects.filter(subject_ref=case.reference)
    wait_for(lambda: all_settled(rows))
    assert sorted(rows.values_list("channel", "status", "attempts")) == [
        ("email", "sent", 1),
        ("in_app", "sent", 1),
        ("sms", "sent", 1),
    ]
    email = rows.get(channel="email")
    assert emails_with_key(outbox, email.dedup_key) == 1
    sms = [json.loads(line) for line in (outbox / "sms.jsonl").read_text().splitlines()]
    mine = [m for m in sms if m["key"] == rows.get(channel="sms").dedup_key]
    assert len(mine) == 1
    assert mine[0]["phone"] == "13812345678"
    assert "已申请（转出地审核中）" in mine[0]["text"]


def test_a_failing_channel_is_retried_then_failed_with_the_error(
    calendar_2026, worker, receiver, submit_case
):
    hook = receiver(500)
    Agency.objects.filter(code="430100").update(webhook_url=hook.url, webhook_secret="k")
    case = submit_case()
    row = Notification.objects.get(subject_ref=case.reference, channel="webhook")
    wait_for(lambda: Notification.objects.get(pk=row.pk).status != "pending", timeout=30)
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.attempts == 3  # NOTIFICATION_MAX_ATTEMPTS in the worker
    assert "HTTP 500" in row.last_error
    assert row.sent_at is None
    assert len(hook.requests) == 3


def test_webhook_signature_verifies_with_the_documented_procedure(
    calendar_2026, worker, receiver, submit_case
):
    hook = receiver(200)
    Agency.objects.filter(code="430100").update(webhook_url=hook.url, webhook_secret="s3cret")
    case = submit_case()
    row = Notification.objects.get(subject_ref=case.reference, channel="webhook")
    wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent")
    assert len(hook.requests) == 1
    headers, body = hook.requests[0]
    assert headers[KEY_HEADER] == row.dedup_key
    assert json.loads(body)["subject_ref"] == case.reference
    # The receiver's steps: HMAC-SHA256(secret, timestamp + "." + body), constant-time compare.
    assert webhook_verify(
        secret="s3cret",
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    assert headers[SIGNATURE_HEADER] == webhook_sign(
        secret="s3cret", timestamp=int(headers[TIMESTAMP_HEADER]), body=body
    )
    assert not webhook_verify(
        secret="s3cret",
        timestamp=headers[TIMESTAMP_HEADER],
        body=body + b" ",
        signature=headers[SIGNATURE_HEADER],
    )
    assert not webhook_verify(
        secret="wrong",
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    stale = str(int(headers[TIMESTAMP_HEADER]) - 3600)
    assert not webhook_verify(
        secret="s3cret",
        timestamp=stale,
        body=body,
        signature=webhook_sign(secret="s3cret", timestamp=int(stale), body=body),
    )


@pytest.fixture
def redis_behind_proxy(redis_url):
    """Point this process's Celery producer at a proxy in front of the real Redis."""
    from config.celery import app

    target = urlparse(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    proxy.start()
    original = app.conf.broker_url

    def use(url: str) -> None:
        app.conf.broker_url = url
        # Drop pooled connections so the next publish connects to ``url``.
        app._pool = None
        app.amqp._producer_pool = None

    use(redis_url.replace(f":{target.port}", f":{proxy.port}", 1))
    yield proxy
    proxy.stop()
    use(original)


def test_r3_transition_while_redis_is_down_commits_and_is_delivered_later(
    calendar_2026, worker, personas, submit_case, redis_behind_proxy, settings
):
    case = submit_case()
    wait_for(lambda: all_settled(Notification.objects.filter(subject_ref=case.reference)))

    redis_behind_proxy.stop()  # Redis is away from the web process
    started = time.monotonic()
    case = case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
    )
    assert time.monotonic() - started < 10
    case.refresh_from_db()
    assert case.state == "materials_requested"
    rows = Notification.objects.filter(payload__to_state="materials_requested")
    assert rows.count() == 2  # in-app and SMS
    time.sleep(1)
    assert set(rows.values_list("status", flat=True)) == {"pending"}

    redis_behind_proxy.start()  # Redis is back; the sweeper (beat, every minute) re-queues
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    assert sorted(notification_sweep(now=timezone.now())) == sorted(
        rows.values_list("id", flat=True)
    )
    wait_for(lambda: all_settled(rows))
    assert set(rows.values_list("status", "attempts")) == {("sent", 1)}
