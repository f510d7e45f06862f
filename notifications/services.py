"""Writes to the outbox: create rows (delivery scheduled on commit), deliver one, sweep, mark read.

Rows are created inside the caller's transaction, so a notification exists exactly when its cause
committed. Delivery is a Celery task per row (``notifications.tasks.deliver``) sent after commit;
if the broker is down then, the row simply stays pending and the sweeper sends it later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.channels import channel_get
from notifications.models import ChannelName, Notification, Status

logger = logging.getLogger(__name__)

# Above this many rows at once, one fan-out task per chunk is sent instead of one task per row:
# a scan that writes 10,000 reminders must not spend seconds talking to the broker. A worker's
# fan-out task then sends the chunk's rows' tasks; each task sent costs the sender about 1.5 ms
# (issue 14), so a chunk is as large as a fan-out task may reasonably take to send.
DISPATCH_FANOUT_THRESHOLD = 20
DISPATCH_CHUNK = 2000


@dataclass(slots=True)
class NotificationDraft:
    """A row to insert; see ``Notification`` for the fields."""

    dedup_key: str
    kind: str
    channel: str
    recipient_id: int | None = None
    address: str = ""
    subject: str = ""
    body: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    subject_ref: str = ""


class DeliveryRetry(Exception):
    """Delivery failed and will be tried again after ``countdown`` seconds."""

    def __init__(self, message: str, countdown: float) -> None:
        super().__init__(message)
        self.countdown = countdown


def notifications_create(
    *, drafts: Sequence[NotificationDraft], now: dt.datetime | None = None
) -> list[int]:
    """Insert rows, skipping dedup keys that exist; schedule delivery of the new ones on commit.

    Returns the ids of the rows inserted now. On PostgreSQL one ``INSERT ... SELECT unnest(...)
    ON CONFLICT DO NOTHING RETURNING id`` does it; elsewhere ``bulk_create(ignore_conflicts=True)``.
    """
    if not drafts:
        return []
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        ids = _insert_postgresql(drafts, now)
    else:
        keys = [d.dedup_key for d in drafts]
        existing = set(
            Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)
        )
        Notification.objects.bulk_create(
            [
                Notification(created_at=now, **_draft_fields(d))
                for d in drafts
                if d.dedup_key not in existing
            ],
            ignore_conflicts=True,
        )
        ids = list(
            Notification.objects.filter(
                dedup_key__in=[k for k in keys if k not in existing]
            ).values_list("id", flat=True)
        )
    if ids:
        transaction.on_commit(lambda: notification_dispatch(ids=ids), robust=True)
    return ids


# A fanned draft (``DraftFan``) holds these where each subject's own values go.
SUBJECT_SLOT: Final = "\ue000"  # its reference: in the subject, the body and as a payload value
KEY_SLOT: Final = "\ue001"  # its key: in the dedup key


@dataclass(frozen=True, slots=True)
class DraftFan:
    """The same drafts for many subjects that differ only in their reference (a scan's overdue
    clocks of one stage, agency and deadline): each of ``drafts`` once for each subject, with
    ``SUBJECT_SLOT`` in its subject and body, and the payload's one top-level value that is exactly
    ``SUBJECT_SLOT``, replaced by the subject's reference (also its ``subject_ref``), and
    ``KEY_SLOT`` in its dedup key by the subject's key. On PostgreSQL the rows are made in the
    ``INSERT`` itself, so 10,000 reminders are not 10,000 Python objects (issue 14)."""

    drafts: Sequence[NotificationDraft]
    keys: Sequence[str]
    references: Sequence[str]


def notifications_fan_out(*, fans: Sequence[DraftFan], now: dt.datetime | None = None) -> list[int]:
    """``notifications_create`` of every fan's drafts for every one of its subjects."""
    if any(len(f.keys) != len(f.references) for f in fans):
        raise ValueError("a fan needs one reference per key")
    if any(list(d.payload.values()).count(SUBJECT_SLOT) > 1 for f in fans for d in f.drafts):
        raise ValueError("a fanned payload holds the reference under one key at most")
    fans = [f for f in fans if f.drafts and f.keys]
    if not fans:
        return []
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        return notifications_create(drafts=list(_fanned(fans)), now=now)
    ids = _fan_out_postgresql(fans, now)
    if ids:
        transaction.on_commit(lambda: notification_dispatch(ids=ids), robust=True)
    return ids


def _fanned(fans: Sequence[DraftFan]) -> Iterable[NotificationDraft]:
    """The drafts a fan stands for, made one by one (what the INSERT of the PostgreSQL path does)."""
    subject_max = Notification._meta.get_field("subject").max_length
    for fan in fans:
        for key, reference in zip(fan.keys, fan.references, strict=True):
            for d in fan.drafts:
                yield NotificationDraft(
                    dedup_key=d.dedup_key.replace(KEY_SLOT, key),
                    kind=d.kind,
                    channel=d.channel,
                    recipient_id=d.recipient_id,
                    address=d.address,
                    subject=d.subject.replace(SUBJECT_SLOT, reference)[:subject_max],
                    body=d.body.replace(SUBJECT_SLOT, reference),
                    payload={
                        k: reference if v == SUBJECT_SLOT else v for k, v in d.payload.items()
                    },
                    subject_ref=reference,
                )


def _fan_out_postgresql(fans: Sequence[DraftFan], now: dt.datetime) -> list[int]:
    import json

    table = Notification._meta.db_table
    subject_max = Notification._meta.get_field("subject").max_length
    drafts = [(i, d) for i, fan in enumerate(fans) for d in fan.drafts]
    # The payload's slot, as _fanned fills it: the top-level value that is exactly the slot,
    # set with jsonb_set.
    slot_keys = [[k for k, v in d.payload.items() if v == SUBJECT_SLOT] for _i, d in drafts]
    s_fan: list[int] = []
    s_key: list[str] = []
    s_ref: list[str] = []
    for i, fan in enumerate(fans):
        s_fan += [i] * len(fan.keys)
        s_key += fan.keys
        s_ref += fan.references
    sql = f"""
        WITH d AS (
            SELECT * FROM unnest(%(d_fan)s::int[], %(d_key)s::text[], %(d_kind)s::text[],
                %(d_channel)s::text[], %(d_recipient)s::bigint[], %(d_address)s::text[],
                %(d_subject)s::text[], %(d_body)s::text[], %(d_payload)s::text[],
                %(d_slot_key)s::text[])
                WITH ORDINALITY AS d(fan, dedup_key, kind, channel, recipient_id, address,
                    subject, body, payload, slot_key, n)
        ), s AS (
            SELECT * FROM unnest(%(s_fan)s::int[], %(s_key)s::text[], %(s_ref)s::text[])
                WITH ORDINALITY AS s(fan, key, ref, n)
        )
        INSERT INTO {table} (dedup_key, kind, channel, recipient_id, address, subject, body,
            payload, subject_ref, status, attempts, last_error, created_at)
        SELECT replace(d.dedup_key, %(key_slot)s, s.key), d.kind, d.channel, d.recipient_id,
            d.address, left(replace(d.subject, %(slot)s, s.ref), {int(subject_max)}),
            replace(d.body, %(slot)s, s.ref),
            CASE WHEN d.slot_key IS NULL THEN d.payload::jsonb
                ELSE jsonb_set(d.payload::jsonb, ARRAY[d.slot_key], to_jsonb(s.ref)) END, s.ref,
            'pending', 0, '', %(now)s
        FROM s JOIN d ON d.fan = s.fan
        ORDER BY s.n, d.n
        ON CONFLICT (dedup_key) DO NOTHING RETURNING id
    """  # noqa: S608 - the table comes from the model, every value is a parameter
    params = {
        "d_fan": [i for i, _d in drafts],
        "d_key": _text_array([d.dedup_key for _i, d in drafts]),
        "d_kind": _text_array([d.kind for _i, d in drafts]),
        "d_channel": _text_array([d.channel for _i, d in drafts]),
        "d_recipient": [d.recipient_id for _i, d in drafts],
        "d_address": _text_array([d.address for _i, d in drafts]),
        "d_subject": _text_array([d.subject for _i, d in drafts]),
        "d_body": _text_array([d.body for _i, d in drafts]),
        "d_payload": _text_array([json.dumps(d.payload, ensure_ascii=False) for _i, d in drafts]),
        "d_slot_key": [keys[0] if keys else None for keys in slot_keys],
        "s_fan": s_fan,
        "s_key": _text_array(s_key),
        "s_ref": _text_array(s_ref),
        "key_slot": KEY_SLOT,
        "slot": SUBJECT_SLOT,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _draft_fields(d: NotificationDraft) -> dict[str, Any]:
    return {
        "dedup_key": d.dedup_key,
        "kind": d.kind,
        "channel": d.channel,
        "recipient_id": d.recipient_id,
        "address": d.address,
        "subject": d.subject,
        "body": d.body,
        "payload": d.payload,
        "subject_ref": d.subject_ref,
    }


def _insert_postgresql(drafts: Sequence[NotificationDraft], now: dt.datetime) -> list[int]:
    import json

    table = Notification._meta.db_table
    columns = [
        ("dedup_key", "text"),
        ("kind", "text"),
        ("channel", "text"),
        ("recipient_id", "bigint"),
        ("address", "text"),
        ("subject", "text"),
        ("body", "text"),
        ("payload", "jsonb"),
        ("subject_ref", "text"),
    ]
    arrays = [
        [d.dedup_key for d in drafts],
        [d.kind for d in drafts],
        [d.channel for d in drafts],
        [d.recipient_id for d in drafts],
        [d.address for d in drafts],
        [d.subject for d in drafts],
        [d.body for d in drafts],
        [json.dumps(d.payload, ensure_ascii=False) for d in drafts],
        [d.subject_ref for d in drafts],
    ]
    names = ", ".join(name for name, _type in columns)
    # Each text array goes as one array literal built here (see _text_array), cast on the server;
    # payload as text[] cast to jsonb[].
    unnest = ", ".join(
        f"%s::{sqltype}[]" if sqltype == "bigint" else f"%s::text[]::{sqltype}[]"
        for _name, sqltype in columns
    )
    sql = (
        f"INSERT INTO {table} ({names}, status, attempts, last_error, created_at) "  # noqa: S608
        f"SELECT {names}, 'pending', 0, '', %s FROM unnest({unnest}) AS t({names}) "
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
    )
    params = [
        a if sqltype == "bigint" else _text_array(a)
        for a, (_n, sqltype) in zip(arrays, columns, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return [row[0] for row in cursor.fetchall()]


def _text_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of ``values`` (every element quoted, backslash and quote
    escaped). psycopg's own adaptation of a list escapes each element with a regular expression:
    for the 10,000 rows of an SLA scan that took more time than the INSERT itself (issue 14)."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + '","'.join(quoted) + '"}' if values else "{}"


def notification_dispatch(*, ids: Sequence[int]) -> None:
    """Send delivery tasks for ``ids``. Never raises: an unreachable broker leaves the rows pending
    for the sweeper, and the caller's work (already committed) stands."""
    from notifications.tasks import deliver, deliver_batch

    try:
        if len(ids) <= DISPATCH_FANOUT_THRESHOLD:
            for pk in ids:
                deliver.apply_async(args=[pk])
        else:
            for start in range(0, len(ids), DISPATCH_CHUNK):
                deliver_batch.apply_async(args=[list(ids[start : start + DISPATCH_CHUNK])])
    except Exception:
        logger.warning(
            "could not queue delivery of %d notification(s); the sweeper will send them",
            len(ids),
            exc_info=True,
        )


def _backoff(attempts: int) -> float:
    base = settings.NOTIFICATION_RETRY_BACKOFF_SECONDS
    return min(base * 2 ** max(0, attempts - 1), settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS)


def notification_deliver(*, notification_id: int) -> str:
    """Deliver one row; returns "sent", "failed", or "skipped" (done, or another worker has it).

    The claim is a conditional update: only a pending row whose claim is free or ran out is taken,
    and the claim lasts ``NOTIFICATION_LEASE_SECONDS`` (longer than a task may run), so two workers
    never both send it. The row is marked sent only after the channel accepted the message. A
    failure frees the row at the retry time and raises ``DeliveryRetry``, until
    ``NOTIFICATION_MAX_ATTEMPTS`` is reached: then the row is failed with the last error.
    """
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    claimed = (
        Notification.objects.filter(pk=notification_id, status=Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + lease, attempts=F("attempts") + 1)
    )
    if not claimed:
        # Nothing got updated: sent already, failed, or another worker got there first.
        return "skipped"
    notification = Notification.objects.get(pk=notification_id)
    try:
        channel_get(notification.channel).send(notification)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            Notification.objects.filter(pk=notification_id).update(
                status=Status.FAILED, last_error=error, claimed_until=None
            )
            logger.error(
                "notification %s failed after %d attempts: %s",
                notification_id,
                notification.attempts,
                error,
            )
            return "failed"
        countdown = _backoff(notification.attempts)
        Notification.objects.filter(pk=notification_id).update(
            last_error=error, claimed_until=now + dt.timedelta(seconds=countdown)
        )
        logger.warning(
            "notification %s attempt %d failed (%s); retrying in %.1fs",
            notification_id,
            notification.attempts,
            error,
            countdown,
        )
        raise DeliveryRetry(error, countdown) from exc
    Notification.objects.filter(pk=notification_id).update(
        status=Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return "sent"


def notification_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Re-queue rows pending longer than ``NOTIFICATION_SWEEP_AFTER_SECONDS`` whose claim is free.

    Covers a broker that was down at commit, a lost message and a killed worker. A swept row is
    not swept again for the same period, so a slow queue is not flooded with duplicates (which
    would be harmless anyway: a duplicate task finds the row claimed or sent and does nothing).
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    due = (
        Notification.objects.filter(status=Status.PENDING, created_at__lte=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .filter(Q(swept_at__isnull=True) | Q(swept_at__lte=cutoff))
        .order_by("created_at")
    )
    ids = list(due.values_list("id", flat=True)[:limit])
    if ids:
        Notification.objects.filter(pk__in=ids).update(swept_at=now)
        logger.info("sweeper re-queues %d pending notification(s)", len(ids))
        notification_dispatch(ids=ids)
    return ids


def notification_mark_read(*, notification: Notification, user: Any) -> Notification:
    """Mark one of the user's own in-app notifications read (idempotent: the first time counts).

    Raises ``Notification.DoesNotExist`` for anybody else's notification, so callers answer 404.
    """
    if notification.recipient_id != getattr(user, "pk", None) or (
        notification.channel != ChannelName.IN_APP
    ):
        raise Notification.DoesNotExist("no such notification")
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_for(*, user: Any) -> Iterable[Notification]:
    """The user's in-app inbox, newest first (the API paginates it)."""
    return Notification.objects.filter(recipient=user, channel=ChannelName.IN_APP).order_by(
        "-created_at", "-id"
    )
