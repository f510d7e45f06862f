"""The one exception handler: every error leaves the API as problem details (RFC 9457).

A body is ``{"type", "title", "status", "detail", "code"}`` plus ``errors`` (field -> messages,
dotted paths for nested fields) for validation and any extension members a code documents
(``state``, ``allowed_actions`` for ``transition_not_allowed``). ``code`` values are stable; the
texts follow the request's language. Django's own 400/403/404/500 pages for API-less paths use the
same shape (config/urls.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken

from cases.errors import ActionForbidden, StaleCase, TransitionNotAllowed, UnknownAction
from cases.services.attachments import AttachmentTooLarge, AttachmentType
from cases.states import CaseState
from core.errors import MSG_INVALID_INPUT, DomainError, InvalidInput
from core.problems import (
    PROBLEM_CONTENT_TYPE,
    problem_body,
    problem_response,
    problem_titles,
)
from core.throttling import MSG_THROTTLED
from documents.pki import DocumentsUnavailable

logger = logging.getLogger(__name__)

MSG_SERVER_ERROR = gettext_lazy("Something went wrong on our side.")


class RequestTooLarge(drf.APIException):
    status_code = 413
    default_code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("The request body is larger than {limit} bytes.").format(limit=limit),
            self.default_code,
        )


class IdempotencyKeyReused(drf.APIException):
    status_code = 409
    default_code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This Idempotency-Key was already used with a different request; use a new key "
                "for a new request."
            ),
            self.default_code,
        )


class IdempotencyInProgress(drf.APIException):
    status_code = 409
    default_code = "idempotency_in_progress"

    def __init__(self) -> None:
        super().__init__(
            _("A request with this Idempotency-Key is still being processed; retry shortly."),
            self.default_code,
        )


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"applicant.id_number": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for i, item in enumerate(detail):
                if item:
                    for k, v in flatten_errors(item, f"{prefix}.{i}" if prefix else str(i)).items():
                        out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _drf_code(exc: drf.APIException) -> str:
    codes = {
        drf.ValidationError: "invalid",
        drf.ParseError: "malformed_request",
        drf.NotAuthenticated: "not_authenticated",
        drf.AuthenticationFailed: "authentication_failed",
        drf.PermissionDenied: "permission_denied",
        drf.NotFound: "not_found",
        drf.MethodNotAllowed: "method_not_allowed",
        drf.NotAcceptable: "not_acceptable",
        drf.UnsupportedMediaType: "unsupported_media_type",
        drf.Throttled: "throttled",
    }
    if isinstance(exc, InvalidToken):
        return "token_not_valid"
    for cls, code in codes.items():
        if isinstance(exc, cls):
            return code
    return str(getattr(exc, "default_code", "error"))


def _response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: domain, DRF and Django errors to problem details."""
    request = context.get("request")
    if isinstance(exc, InvalidInput):
        return _response(
            problem_body(
                status=400, code=exc.code, detail=exc.message, errors=exc.errors, **exc.extra
            )
        )
    if isinstance(exc, TransitionNotAllowed):
        state = exc.state
        label = str(CaseState(state).label) if state in CaseState.values else state
        return _response(
            problem_body(
                status=409,
                code=exc.code,
                detail=str(exc.message).replace(state, label, 1) if state else exc.message,
                state=state,
                state_label=label,
                allowed_actions=list(exc.allowed_actions),
            )
        )
    if isinstance(exc, UnknownAction):
        return _response(problem_body(status=404, code=exc.code, detail=exc.message))
    if isinstance(exc, ActionForbidden):
        return _response(problem_body(status=403, code=exc.code, detail=exc.message))
    if isinstance(exc, StaleCase):
        # A stale If-Match is a failed precondition; a move that lost a race without one is a
        # conflict like any other refused transition.
        sent_if_match = request is not None and "If-Match" in request.headers
        return _response(
            problem_body(status=412 if sent_if_match else 409, code=exc.code, detail=exc.message)
        )
    if isinstance(exc, DocumentsUnavailable):
        return _response(
            problem_body(status=503, code=exc.code, detail=exc.message), {"Retry-After": "300"}
        )
    if isinstance(exc, AttachmentTooLarge):
        return _response(problem_body(status=413, code=exc.code, detail=exc.message))
    if isinstance(exc, AttachmentType):
        return _response(problem_body(status=415, code=exc.code, detail=exc.message))
    if isinstance(exc, DomainError):
        return _response(problem_body(status=400, code=exc.code, detail=exc.message))

    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        code = _drf_code(exc)
        if isinstance(exc, drf.ValidationError):
            return _response(
                problem_body(
                    status=400,
                    code=code,
                    detail=str(MSG_INVALID_INPUT),
                    errors=flatten_errors(exc.detail),
                ),
                headers,
            )
        detail = exc.detail
        if isinstance(detail, Mapping):
            detail = detail.get("detail", problem_titles().get(exc.status_code, ""))
        elif isinstance(detail, list):
            detail = " ".join(str(d) for d in detail)
        if isinstance(exc, drf.Throttled):
            detail = str(MSG_THROTTLED).format(seconds=int(exc.wait or 1))
        return _response(
            problem_body(status=exc.status_code, code=code, detail=str(detail)), headers
        )

    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return _response(
            problem_body(
                status=503,
                code="service_unavailable",
                detail=_("The service is temporarily unavailable; try again shortly."),
            ),
            {"Retry-After": "5"},
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error in an API view")
    return _response(problem_body(status=500, code="server_error", detail=str(MSG_SERVER_ERROR)))


# --- Django's error handlers (paths outside DRF views) -------------------------------------------


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(status=400, code="bad_request", detail=_("The request is malformed."))


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(status=403, code="permission_denied", detail=_("Forbidden"))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(
        status=404, code="not_found", detail=_("There is nothing at this address.")
    )


def handler500(request: HttpRequest) -> HttpResponse:
    return problem_response(status=500, code="server_error", detail=str(MSG_SERVER_ERROR))
