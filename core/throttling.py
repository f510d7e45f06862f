"""Throttles whose rates are read from settings on each request (so tests and benchmarks can
change them) and whose keys never include personal data, and the one rule for a request's client
address (``client_address``), which the sign-in lock-out (django-axes) uses too."""

from __future__ import annotations

import logging
import time
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


class SharedCounters:
    """Where throttle counters live: the ``throttle`` cache (Redis, shared by every process and
    host, when ``REDIS_URL`` is set), and this process's memory while that cache cannot be reached,
    so a Redis outage weakens the limits to per-process ones instead of failing requests. The first
    failure, and one every ``WARN_EVERY_SECONDS`` after, is logged as a warning."""

    WARN_EVERY_SECONDS = 60.0

    def __init__(self) -> None:
        self._warned_at = -self.WARN_EVERY_SECONDS

    def _fallback(self, exc: Exception) -> Any:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = now
            logger.warning(
                "throttle counters unreachable (%s); counting in this process until it is back",
                type(exc).__name__,
            )
        return caches["throttle_fallback"]

    def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count one request under ``key`` in a window of ``window`` seconds that starts with the
        key's first request; returns (requests in the window so far, seconds until it ends).

        One round trip to Redis (INCR, EXPIRE NX, TTL in a pipeline): a counter, not DRF's list of
        every request's instant, which a limit of 1,200 a minute would make 10 KB to read and
        write on every request."""
        try:
            cache = caches["throttle"]
            client = getattr(cache, "client", None)
            if client is None:
                return self._hit_local(cache, key, window)
            redis = client.get_client(write=True)
            full_key = cache.make_key(key)
            pipe = redis.pipeline(transaction=False)
            pipe.incr(full_key)
            pipe.expire(full_key, window, nx=True)
            pipe.ttl(full_key)
            count, _set, ttl = pipe.execute()
            return int(count), float(ttl if ttl and ttl > 0 else window)
        except Exception as exc:
            return self._hit_local(self._fallback(exc), key, window)

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
        count, remaining = COUNTERS.hit(key, int(self.duration))
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
