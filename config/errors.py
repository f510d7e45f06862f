"""Error answers for whoever asked: problem details for programs (the API, health and metrics
paths), the service's own pages for people. Never Django's DEBUG pages for a 404, in development
too: that page lists every URL pattern."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from api import exceptions as api_errors
from cases.services.attachments import body_too_large, too_large
from core.problems import problem_response
from portal import views as pages

# Paths whose clients are programs.
_PROGRAM_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")


def for_programs(request: HttpRequest) -> bool:
    return request.path.startswith(_PROGRAM_PREFIXES)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if for_programs(request):
        return api_errors.handler400(request, exception)
    return pages.error_page(request, status=400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if for_programs(request):
        return api_errors.handler403(request, exception)
    return pages.error_page(request, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its CSRF token (an expired page, cookies off): said in words."""
    if for_programs(request):
        return api_errors.handler403(request)
    return pages.error_page(request, status=403, csrf=True)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if for_programs(request):
        return api_errors.handler404(request, exception)
    response = pages.not_found(request, exception)
    response.service_page = True  # type: ignore[attr-defined]
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    if for_programs(request):
        return api_errors.handler500(request)
    return pages.server_error(request)


class NotFoundPageMiddleware:
    """With DEBUG on, Django answers an unknown path with its technical 404 page (which lists the
    URL patterns) instead of calling ``handler404``; this puts the real answer in its place. A 404
    a view made itself (an API problem, a page) passes untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and not getattr(response, "service_page", False)
            and response.get("Content-Type", "").startswith("text/html")
            and _is_technical(response)
        ):
            return handler404(request)
        return response


def _is_technical(response: HttpResponse) -> bool:
    # Django's technical 404 page (django/views/templates/technical_404.html) says so in its head.
    if getattr(response, "streaming", False):
        return False
    return b"<title>Page not found at" in response.content or b"technical_404" in response.content


class UploadSizeMiddleware:
    """A form body that says it is larger than any allowed upload is refused before anything reads
    it: CSRF's check reads a page's form (files spooled to disk) before the view runs. 413, as
    problem details for programs, a page in words for people."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.META.get("CONTENT_TYPE", "").strip().lower().startswith("multipart/")
            and body_too_large(request.META.get("CONTENT_LENGTH"))
        ):
            message = too_large().message
            if for_programs(request):
                return problem_response(status=413, code="request_too_large", detail=message)
            # A person is sent back to the page the form was on, with the reason, as for any
            # other refused upload.
            messages.error(request, message)
            back = request.META.get("HTTP_REFERER", "")
            if not url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                back = "/"
            return HttpResponseRedirect(back)
        return self.get_response(request)
