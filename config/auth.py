"""Login protection: django-axes, adapted to an API that answers in problem details."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.errors import for_programs
from core.problems import locked_out_body, problem_response


class AxesBackend(AxesStandaloneBackend):
    """Axes' lock-out check, skipped when there is no request to attribute a failure to.

    Every HTTP sign-in (the JWT token endpoint, the admin login form) passes the request; only
    in-process calls such as the test client's ``login()`` do not, and those cannot be brute-forced.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """A locked-out sign-in: 429 problem details (code ``login_locked_out``) for programs, the
    same words on a page for a person signing in through a form."""
    body = locked_out_body()
    if not for_programs(request):
        return render(request, "portal/locked_out.html", {"detail": body["detail"]}, status=429)
    return problem_response(status=429, code=body["code"], detail=body["detail"], request=request)
