"""Problem details (RFC 9457): the one shape of every error response, API or not.

A body is ``{"type", "title", "status", "detail", "code"}`` plus extension members a code documents
(``errors`` for invalid input, ``state`` and ``allowed_actions`` for a refused transition). The API's
exception handler (api/exceptions.py), Django's error handlers and the sign-in lock-out all build it
here.
"""

from __future__ import annotations

from typing import Any, Final

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_PREFIX: Final = "urn:yibao:problem:"


# A sign-in refused because of repeated failures (django-axes), for the API and the admin alike.
LOCKED_OUT_CODE: Final = "login_locked_out"
MSG_LOCKED_OUT: Final = gettext_lazy(
    "Too many failed sign-ins for this account from your address; try again later."
)


def locked_out_body() -> dict[str, Any]:
    return problem_body(status=429, code=LOCKED_OUT_CODE, detail=str(MSG_LOCKED_OUT))


def problem_titles() -> dict[int, str]:
    """Titles by status, in the active language (so built per call, not at import)."""
    return {
        400: _("Invalid request"),
        401: _("Not authenticated"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        412: _("Precondition failed"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        429: _("Too many requests"),
        500: _("Internal server error"),
        503: _("Service unavailable"),
    }


def problem_body(*, status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": problem_titles().get(status, _("Error")),
        "status": status,
        "detail": str(detail),
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    *, status: int, code: str, detail: str, request: HttpRequest | None = None, **extra: Any
) -> HttpResponse:
    """A problem-details response outside DRF (Django handlers, middleware, axes)."""
    return JsonResponse(
        problem_body(status=status, code=code, detail=detail, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
