"""The outbox services in this process, without a worker: claims, leases, the sweeper, retries,
and what delivery writes to the log."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.utils import timezone

from notifications import channels
from notifications.channels import DeliveryError
from notifications.models import Notification
from notifications.services import (
    KEY_SLOT,
    SUBJECT_SLOT,
    DeliveryRetry,
    DraftFan,
    NotificationDraft,
    notification_deliver,
    notification_sweep,
    notifications_create,
    notifications_fan_out,
)
from notifications.sms import LoggingSmsGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_broker(monkeypatch):
    """Collect what would be queued (one list of ids per ``notification_dispatch``) instead of
    talking to a broker."""
    queued: list[list[int]] = []
    monkeypatch.setattr(
        "notifications.services.notification_dispatch", lambda *, ids: queued.append(list(ids))
    )
    return queued


class FlakyChannel(channels.Channel):
    name = "in_app"

    def __init__(self, error: str = "") -> None:
        self.error = error
        self.sent: list[int] = []

    def send(self, notification: Notification) -> None:
        if self.error:
            raise DeliveryError(self.error)
        self.sent.append(notification.pk)


@pytest.fixture
def channel(monkeypatch) -> FlakyChannel:
    fake = FlakyChannel()
    monkeypatch.setitem(channels.CHANNELS, "in_app", fake)
    return fake


def draft(personas, dedup_key: str = "test:1:in_app", **extra) -> NotificationDraft:
    return NotificationDraft(
        dedup_key=dedup_key,
        kind="test",
        channel="in_app",
        recipient_id=personas["applicant"].pk,
        body="hello",
        **extra,
    )


def make_row(personas, **extra) -> Notification:
    [pk] = notifications_create(drafts=[draft(personas, **extra)])
    return Notification.objects.get(pk=pk)


def test_create_queues_the_rows_it_inserted_on_commit_and_no_others(
    personas, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as first_hooks:
        first = notifications_create(
            drafts=[draft(personas, "test:1:in_app"), draft(personas, "test:2:in_app")]
        )
    assert sorted(first) == sorted(Notification.objects.values_list("id", flat=True))
    assert len(first) == 2
    # Registered for the commit, not sent yet.
    assert (len(first_hooks), no_broker) == (1, [])

    # A key that exists is skipped: only the new row is inserted and queued.
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        again = notifications_create(
            drafts=[draft(personas, "test:2:in_app"), draft(personas, "test:3:in_app")]
        )
    third = Notification.objects.get(dedup_key="test:3:in_app").pk
    assert again == [third]
    assert (len(hooks), no_broker) == (1, [[third]])

    # Nothing new: nothing to queue, no hook at all.
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        assert notifications_create(drafts=[draft(personas, "test:1:in_app")]) == []
    assert (hooks, no_broker) == ([], [[third]])
    assert Notification.objects.count() == 3

    first_hooks[0]()
    assert no_broker == [[third], first]


def test_texts_arrive_exactly_whatever_characters_they_hold(personas, no_broker):
    # The rows go to PostgreSQL as array literals built by hand (notifications.services):
    # quotes, backslashes, braces, commas, NULL-looking words and empty strings must survive.
    texts = ['say "hi"', "C:\\path\\", "{a,b}", "NULL", "", "多行\n文本，含逗号", '\\"']
    drafts = [
        NotificationDraft(
            dedup_key=f"test:{i}:in_app",
            kind="test",
            channel="in_app",
            recipient_id=personas["applicant"].pk if i % 2 else None,
            address=text,
            subject=text,
            body=text,
            payload={"text": text},
            subject_ref=text,
        )
        for i, text in enumerate(texts)
    ]
    ids = notifications_create(drafts=drafts)
    rows = Notification.objects.filter(pk__in=ids).order_by("dedup_key")
    got = [(r.address, r.subject, r.body, r.payload, r.subject_ref) for r in rows]
    assert got == [(t, t, t, {"text": t}, t) for t in texts]
    assert [r.recipient_id for r in rows] == [d.recipient_id for d in drafts]


def test_a_fan_makes_each_subjects_rows_as_if_drafted_one_by_one(
    personas, no_broker, django_capture_on_commit_callbacks
):
    # On PostgreSQL the rows are made in the INSERT (replace(), to_json(), left()); elsewhere in
    # Python: both must give what drafting each row by hand gives, whatever the references hold.
    references = ['YB"1', "YB\\2", "{YB3}", "YB 4，五", "x" * 40]
    long_tail = "长" * 300
    drafts = [
        NotificationDraft(
            dedup_key=f"fan:{KEY_SLOT}:u1:in_app",
            kind="fan",
            channel="in_app",
            recipient_id=personas["cw_out"].pk,
            subject=f"【已超期】{SUBJECT_SLOT} {long_tail}",
            body=f"案件 {SUBJECT_SLOT}（{{stage}}）\\ 再说一次：{SUBJECT_SLOT}",
            payload={
                "case": SUBJECT_SLOT,
                "stage": "applied",
                "note": f"not {SUBJECT_SLOT}",
                "quoted": f'x"{SUBJECT_SLOT}',
                "inner": {"case": SUBJECT_SLOT},
            },
        ),
        NotificationDraft(
            dedup_key=f"fan:{KEY_SLOT}:agency:webhook",
            kind="fan",
            channel="webhook",
            address="https://agency.example/hook",
            subject=SUBJECT_SLOT,
            body="",
            payload={"case": SUBJECT_SLOT, "due_provisional": True, "due_at": None},
        ),
    ]
    fan = DraftFan(drafts=drafts, keys=[str(10 + i) for i in range(5)], references=references)
    with django_capture_on_commit_callbacks(execute=True):
        ids = notifications_fan_out(fans=[fan, DraftFan(drafts=[], keys=["9"], references=["z"])])
    assert len(ids) == 10
    assert no_broker == [ids]
    got = {
        r.dedup_key: (r.recipient_id, r.address, r.subject, r.body, r.payload, r.subject_ref)
        for r in Notification.objects.filter(pk__in=ids)
    }
    expected = {}
    for i, ref in enumerate(references):
        expected[f"fan:{10 + i}:u1:in_app"] = (
            personas["cw_out"].pk,
            "",
            f"【已超期】{ref} {long_tail}"[:200],
            f"案件 {ref}（{{stage}}）\\ 再说一次：{ref}",
            {
                "case": ref,
                "stage": "applied",
                "note": f"not {SUBJECT_SLOT}",
                "quoted": f'x"{SUBJECT_SLOT}',
                "inner": {"case": SUBJECT_SLOT},
            },
            ref,
        )
        expected[f"fan:{10 + i}:agency:webhook"] = (
            None,
            "https://agency.example/hook",
            ref,
            "",
            {"case": ref, "due_provisional": True, "due_at": None},
            ref,
        )
    assert got == expected
    # A fan again: every key exists, nothing is inserted or queued.
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        assert notifications_fan_out(fans=[fan]) == []
    assert hooks == []
    two = NotificationDraft(
        dedup_key=f"fan:{KEY_SLOT}",
        kind="fan",
        channel="in_app",
        payload={"a": SUBJECT_SLOT, "b": SUBJECT_SLOT},
    )
    with pytest.raises(ValueError, match="one key at most"):
        notifications_fan_out(fans=[DraftFan(drafts=[two], keys=["1"], references=["a"])])
    with pytest.raises(ValueError, match="one reference per key"):
        notifications_fan_out(fans=[DraftFan(drafts=drafts, keys=["1", "2"], references=["a"])])


def test_a_row_held_by_a_live_worker_is_neither_delivered_nor_swept(personas, channel, no_broker):
    row = make_row(personas)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk).update(
        created_at=now - dt.timedelta(hours=1), claimed_until=now + dt.timedelta(seconds=60)
    )
    # A second worker (a redelivered task) and the sweeper both leave it to the one holding it.
    assert notification_deliver(notification_id=row.pk) == "skipped"
    assert notification_sweep(now=now) == []
    assert channel.sent == []
    # Its worker died: once the lease has run out the sweeper re-queues it, once per period.
    assert no_broker == []
    expired = now + dt.timedelta(seconds=61)
    assert notification_sweep(now=expired) == [row.pk]
    assert no_broker == [[row.pk]]
    assert notification_sweep(now=expired + dt.timedelta(seconds=1)) == []
    assert no_broker == [[row.pk]]
    with time_machine.travel(expired, tick=False):
        assert notification_deliver(notification_id=row.pk) == "sent"
        assert notification_deliver(notification_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_until, channel.sent) == (
        "sent",
        1,
        None,
        [row.pk],
    )
    assert notification_sweep(now=expired + dt.timedelta(hours=1)) == []
    # Queued once: by the sweeper after the lease ran out (the row's own on-commit hook never
    # runs inside the test's transaction).
    assert no_broker == [[row.pk]]


def test_retries_back_off_exponentially_up_to_a_cap_then_fail_with_the_last_error(
    personas, channel, settings, no_broker
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 5
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 30.0
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 100.0
    row = make_row(personas)
    now = timezone.now()
    countdowns = []
    for attempt in range(1, 5):
        channel.error = f"gateway down {attempt}"
        with time_machine.travel(now, tick=False):
            with pytest.raises(DeliveryRetry) as retry:
                notification_deliver(notification_id=row.pk)
            # Until the retry is due nobody else takes the row.
            assert notification_deliver(notification_id=row.pk) == "skipped"
        countdowns.append(retry.value.countdown)
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == (
            "pending",
            attempt,
            f"DeliveryError: gateway down {attempt}",
        )
        assert row.claimed_until == now + dt.timedelta(seconds=retry.value.countdown)
        now = row.claimed_until
    assert countdowns == [30.0, 60.0, 100.0, 100.0]
    channel.error = "gateway down for good"
    with time_machine.travel(now, tick=False):
        assert notification_deliver(notification_id=row.pk) == "failed"
        assert notification_deliver(notification_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.sent_at) == (
        "failed",
        5,
        "DeliveryError: gateway down for good",
        None,
    )
    # A failed row stays failed: the sweeper does not queue it again.
    assert notification_sweep(now=now + dt.timedelta(hours=1)) == []
    assert no_broker == []


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("8613812345678", "861******5678"),
        ("1234567", "***4567"),
        ("02012345", "****2345"),
        ("12345", "****"),
    ],
)
def test_the_logging_sms_gateway_never_logs_a_whole_phone_number(phone, shown, caplog):
    with caplog.at_level(logging.INFO, logger="notifications.sms"):
        LoggingSmsGateway().send(phone=phone, text="您的申请已受理", key="status:1:sms")
    [record] = caplog.records
    assert f"to={shown} " in record.getMessage()
    assert phone not in record.getMessage()
