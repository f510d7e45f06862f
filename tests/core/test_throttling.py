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


def _shared_count(key: str) -> int:
    from django.core.cache import caches

    cache = caches["throttle"]
    raw = cache.client.get_client(write=True).get(cache.make_key(key))
    return int(raw or 0)


def test_a_high_limit_is_counted_in_leases_that_no_two_processes_share():
    from core.throttling import SharedCounters

    # Two processes' counters against the one Redis counter, a limit of 1,200 a minute: each
    # takes 12 counts in one round trip and hands them out one by one.
    one, other = SharedCounters(), SharedCounters()
    assert [one.hit("t-lease", 60, 1200)[0] for _ in range(3)] == [1, 2, 3]
    assert _shared_count("t-lease") == 12
    assert [other.hit("t-lease", 60, 1200)[0] for _ in range(2)] == [13, 14]
    assert _shared_count("t-lease") == 24
    # The first process's lease runs out at 12; its next count is a new lease after the other's.
    counts = [one.hit("t-lease", 60, 1200)[0] for _ in range(10)]
    assert counts == [*range(4, 13), 25]
    assert _shared_count("t-lease") == 36


def test_leases_never_let_more_than_the_limit_through_across_processes():
    from core.throttling import SharedCounters

    processes = [SharedCounters() for _ in range(3)]
    limit = 250  # leases of 2
    counts = [processes[i % 3].hit("t-limit", 60, limit)[0] for i in range(400)]
    assert len(set(counts)) == len(counts)  # every count handed to one request only
    admitted = [c for c in counts if c <= limit]
    # Requests went on past the limit, so every lease under it was used up: exactly the limit.
    assert len(admitted) == limit


def test_a_low_limit_is_counted_one_by_one_and_a_lease_ends_with_its_window():
    import time

    from core.throttling import SharedCounters

    counters = SharedCounters()
    assert [counters.hit("t-low", 60, 120)[0] for _ in range(3)] == [1, 2, 3]
    assert _shared_count("t-low") == 3
    # A lease does not outlive its window: after it, the counter in Redis starts again.
    assert counters.hit("t-short", 1, 1600)[0] == 1
    assert _shared_count("t-short") == 16
    time.sleep(1.3)
    assert counters.hit("t-short", 1, 1600)[0] == 1
    assert _shared_count("t-short") == 16
