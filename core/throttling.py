"""Throttles whose rates are read from settings on each request (so tests and benchmarks can
change them) and whose keys never include personal data, and the one rule for a request's client
address (``client_address``), which the sign-in lock-out (django-axes) uses too."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


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


class _LiveRateThrottle(SimpleRateThrottle):
    scope = ""

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
