"""The in-app inbox: your own notifications only; marking read is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.models import Notification
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db


def notify(user, n: int, channel: str = "in_app") -> Notification:
    return Notification.objects.create(
        dedup_key=f"test:{user.pk}:{n}:{channel}",
        kind="overdue",
        channel=channel,
        recipient=user,
        subject=f"案件超期 {n}",
        body="请尽快办理。",
        subject_ref="YB2026112300000001",
        created_at=dt.datetime(2026, 11, 25, 9, n, tzinfo=SHANGHAI),
    )


def test_inbox_is_yours_newest_first_and_read_marks(client_for, personas):
    mine = [notify(personas["cw_out"], n) for n in range(3)]
    notify(personas["cw_out"], 9, channel="email")
    theirs = notify(personas["cw_in"], 1)
    client = client_for("cw_out")
    inbox = client.get("/api/v1/notifications/").json()["results"]
    assert [n["id"] for n in inbox] == [m.pk for m in reversed(mine)]
    assert inbox[0]["read_at"] is None

    r = client.post(f"/api/v1/notifications/{mine[0].pk}/read/")
    assert r.status_code == 200
    first_read = r.json()["read_at"]
    assert first_read is not None
    assert client.post(f"/api/v1/notifications/{mine[0].pk}/read/").json()["read_at"] == first_read
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert {n["id"] for n in unread} == {mine[1].pk, mine[2].pk}

    r = client.post(f"/api/v1/notifications/{theirs.pk}/read/")
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post("/api/v1/notifications/999999/read/").status_code == 404
    assert client_for(None).get("/api/v1/notifications/").status_code == 401
