"""Sessions that end 30 minutes after the last request, without a database write per request.

``SESSION_SAVE_EVERY_REQUEST`` would renew the session by writing its row on every page and API
call made with a session: a write, and its commit, per request. This renews it at most once a
minute instead, so a session still ends between 29 and 30 minutes after the last request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from django.http import HttpRequest, HttpResponse

RENEW_AFTER_SECONDS: Final = 60
RENEWED_KEY: Final = "_renewed_at"


class SessionRenewalMiddleware:
    """After ``SessionMiddleware`` (inside it): marks a signed-in session modified when it was
    last renewed more than a minute ago; ``SessionMiddleware`` then saves it with a fresh expiry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        if now - int(session.get(RENEWED_KEY, 0)) >= RENEW_AFTER_SECONDS:
            session[RENEWED_KEY] = now
        return response
