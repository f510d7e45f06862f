"""The client address throttles and the sign-in lock-out count under (core.throttling): the TCP peer
unless proxies of ours are configured (NUM_PROXIES), never what a client writes in a header."""

from __future__ import annotations

import pytest
import time_machine
from django.test import RequestFactory
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from core.throttling import client_address


def request(xff: str | None = None, remote: str = "203.0.113.9"):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_by_default_the_forwarded_header_is_ignored(settings):
    assert api_settings.NUM_PROXIES == 0
    assert client_address(request("1.2.3.4")) == "203.0.113.9"
    assert client_address(request("1.2.3.4, 5.6.7.8")) == "203.0.113.9"


def test_behind_proxies_the_address_the_outermost_one_saw(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_settings.reload()
    try:
        # A client's own "1.2.3.4" stays to the left of what our proxy appended.
        assert client_address(request("1.2.3.4, 198.51.100.7")) == "198.51.100.7"
        assert client_address(request(None)) == "203.0.113.9"
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()


@pytest.mark.django_db
def test_made_up_forwarded_addresses_do_not_lift_the_status_lookup_limit():
    """10 lookups a minute per address (THROTTLE_STATUS_LOOKUP): a new X-Forwarded-For on every
    request is still the same client."""
    codes = [
        APIClient(HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        .post(
            "/api/v1/status-lookup/",
            {"reference": "YB2026112300000001", "id_number_suffix": "00000X"},
            format="json",
        )
        .status_code
        for i in range(12)
    ]
    assert codes == [404] * 10 + [429] * 2


def test_a_window_counts_from_its_first_request_and_then_starts_again():
    from django.core.cache import caches

    from core.throttling import COUNTERS, SharedCounters

    # In Redis: one counter per key, expiring a window after its first request.
    assert [COUNTERS.hit("t-window", 60)[0] for _ in range(3)] == [1, 2, 3]
    count, remaining = COUNTERS.hit("t-window", 60)
    assert count == 4
    assert 0 < remaining <= 60
    # The local fallback keeps the same arithmetic, and a new window starts after the old ends.
    local = caches["throttle_fallback"]
    with time_machine.travel("2026-12-01 10:00:00+08:00", tick=False) as clock:
        assert SharedCounters._hit_local(local, "t-local", 60) == (1, 60.0)
        clock.shift(30)
        assert SharedCounters._hit_local(local, "t-local", 60) == (2, 30.0)
        clock.shift(31)
        assert SharedCounters._hit_local(local, "t-local", 60) == (1, 60.0)
