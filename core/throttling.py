"""Throttles whose rates are read from settings on each request (so tests and benchmarks can
change them) and whose keys never include personal data, and the one rule for a request's client
address (``client_address``), which the sign-in lock-out (django-axes) uses too."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.utils.translation import gettext_lazy as _
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

MSG_THROTTLED = _("Too many requests; try again in {seconds} seconds.")


def client_address(request: Any) -> str | None:
    """The address a request comes from: ``REMOTE_ADDR``, unless ``NUM_PROXIES`` proxies of ours
    stand in front, when it is the address the outermost of them saw (the N-th from the right in
    ``X-Forwarded-For``). A client can write any ``X-Forwarded-For`` it likes, so with no proxy
    configured the header is never read (a made-up value per request would lift every limit)."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote


@dataclass
class _Lease:
    """Counts of a window this process took from Redis in one go: ``next`` to ``last``."""

    next: int
    last: int
    ends: float  # time.monotonic() when the window ends


class SharedCounters:
    """Where throttle counters live: the ``throttle`` cache (Redis, shared by every process and
    host, when ``REDIS_URL`` is set), and this process's memory while that cache cannot be reached,
    so a Redis outage weakens the limits to per-process ones instead of failing requests. The first
    failure, and one every ``WARN_EVERY_SECONDS`` after, is logged as a warning.

    A high limit is counted in leases: a process takes ``limit // LEASE_SHARE`` counts (at most
    ``LEASE_MAX``) in one round trip and hands them to its next requests, so the signed-in limit
    of 1,200 a minute costs a Redis round trip every 12 requests instead of every request (a
    round trip was 8% of a case read's throughput, issue 14). Every count is still taken from the
    one counter in Redis, each by one request only, so no more than the limit is ever let through
    across all processes; what a lease costs is the other way: counts a process took and did not
    use before the window ended are lost, so a client spread over P processes may be refused up
    to P x (lease - 1) requests before its limit. A lease ends when the counter's key does (its
    remaining time read in milliseconds); deleting a client's key in Redis to lift its block
    takes effect in a process once its lease (at most ``LEASE_MAX`` requests) is used up. Limits under ``LEASE_SHARE * 2`` a window (the
    status lookup, sign-in, uploads) are counted one by one, exactly as before.
    """

    WARN_EVERY_SECONDS = 60.0
    LEASE_SHARE = 100
    LEASE_MAX = 16
    LEASE_MIN_MS = 50
    # Leases kept at most; expired ones are dropped first (one per client and scope).
    LEASES_KEPT = 10_000

    def __init__(self) -> None:
        self._warned_at = -self.WARN_EVERY_SECONDS
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def _fallback(self, exc: Exception) -> Any:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = now
            logger.warning(
                "throttle counters unreachable (%s); counting in this process until it is back",
                type(exc).__name__,
            )
        return caches["throttle_fallback"]

    def forget_leases(self) -> None:
        """Drop this process's leases (when the counters in Redis were cleared: tests)."""
        with self._lock:
            self._leases.clear()

    def hit(self, key: str, window: int, limit: int = 1) -> tuple[int, float]:
        """Count one request under ``key`` in a window of ``window`` seconds that starts with the
        key's first request; returns (the request's count in the window, seconds until it ends).
        ``limit``: the most the window allows, which sets how many counts a lease takes.

        One round trip to Redis per lease (INCRBY, EXPIRE NX, TTL in a pipeline): a counter, not
        DRF's list of every request's instant, which a limit of 1,200 a minute would make 10 KB to
        read and write on every request."""
        now = time.monotonic()
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.next <= lease.last and now < lease.ends:
                count = lease.next
                lease.next += 1
                return count, lease.ends - now
        size = max(1, min(self.LEASE_MAX, limit // self.LEASE_SHARE))
        try:
            cache = caches["throttle"]
            client = getattr(cache, "client", None)
            if client is None:
                return self._hit_local(cache, key, window)
            redis = client.get_client(write=True)
            full_key = cache.make_key(key)
            pipe = redis.pipeline(transaction=False)
            pipe.incrby(full_key, size)
            pipe.expire(full_key, window, nx=True)
            pipe.pttl(full_key)
            last, _set, pttl = pipe.execute()
        except Exception as exc:
            return self._hit_local(self._fallback(exc), key, window)
        # In milliseconds: TTL's whole seconds would let a lease outlive the key by up to a
        # second, and its counts be handed out after Redis started the next window.
        remaining = pttl / 1000 if pttl and pttl > 0 else float(window)
        first = int(last) - size + 1
        # A lease ends with the key, and is not kept when the key is about to go.
        if size > 1 and pttl and pttl > self.LEASE_MIN_MS:
            with self._lock:
                if len(self._leases) >= self.LEASES_KEPT:
                    self._leases = {k: v for k, v in self._leases.items() if v.ends > now}
                    if len(self._leases) >= self.LEASES_KEPT:
                        self._leases.clear()
                self._leases[key] = _Lease(next=first + 1, last=int(last), ends=now + remaining)
        return first, remaining

    @staticmethod
    def _hit_local(cache: Any, key: str, window: int) -> tuple[int, float]:
        """The same count in a local cache: the window's end is kept with the counter."""
        now = time.time()
        ends_at, count = cache.get(key) or (now + window, 0)
        if ends_at <= now:
            ends_at, count = now + window, 0
        count += 1
        cache.set(key, (ends_at, count), timeout=max(1, int(ends_at - now) + 1))
        return count, ends_at - now


COUNTERS = SharedCounters()


class _LiveRateThrottle(SimpleRateThrottle):
    """DRF's throttle with rates read live and a fixed-window counter (``SharedCounters.hit``):
    ``num_requests`` per ``duration`` from the first request of a window."""

    scope = ""
    _wait: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, remaining = COUNTERS.hit(key, int(self.duration), self.num_requests)
        if count <= self.num_requests:
            return True
        self._wait = remaining
        return False

    def wait(self) -> float | None:
        return self._wait

    def get_ident(self, request: Any) -> str:
        return client_address(request) or ""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def __init__(self) -> None:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class AnonThrottle(_LiveRateThrottle):
    """Anonymous requests, per client address."""

    scope = "anon"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_LiveRateThrottle):
    """Signed-in requests, per account."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerAddressThrottle(_LiveRateThrottle):
    """Per client address whoever is signed in: for guessable endpoints (status lookup, login)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class StatusLookupThrottle(PerAddressThrottle):
    scope = "status_lookup"


class LoginThrottle(PerAddressThrottle):
    scope = "login"


class IdLookupThrottle(_LiveRateThrottle):
    """The admin's lookup of a person's cases by full ID number, per account: each answer says
    whether a guessed number has a case, so guesses are few (a masked number leaves one birth
    date and a check character to try)."""

    scope = "id_lookup"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class UploadThrottle(_LiveRateThrottle):
    """Attachment uploads, per account (reading the list or a file is not counted): each upload
    is up to ``ATTACHMENT_MAX_BYTES`` stored for good."""

    scope = "upload"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method != "POST" or not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class DocumentVerificationThrottle(PerAddressThrottle):
    """Checking a document by its number, anonymous: per address."""

    scope = "document_verification"
