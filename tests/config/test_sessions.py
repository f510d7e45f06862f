"""A session ends 30 minutes after the last request, renewed at most once a minute (not a
database write per request): config/sessions.py."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def expiry(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date


def test_a_session_is_renewed_once_a_minute_at_most(personas):
    client = Client()
    with time_machine.travel(START, tick=False):
        client.post("/signin/", {"username": "zhangsan", "password": "pw-zhangsan"})
        client.get("/me/")
        first = expiry(client)
    assert first == START + dt.timedelta(minutes=30)
    # Ten seconds later: the same row, not written again.
    with time_machine.travel(START + dt.timedelta(seconds=10), tick=False):
        assert client.get("/me/").status_code == 200
    assert expiry(client) == first
    # A minute and more later: renewed from that request.
    later = START + dt.timedelta(seconds=75)
    with time_machine.travel(later, tick=False):
        assert client.get("/me/").status_code == 200
    assert expiry(client) == later + dt.timedelta(minutes=30)


def test_an_anonymous_visit_makes_no_session(client):
    assert client.get("/").status_code == 200
    assert Session.objects.count() == 0
