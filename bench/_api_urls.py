"""The project's URLs plus the bare Django view P3 compares the API with, and P4's write limit.

The bare view runs the same indexed queries as ``GET /api/v1/cases/{reference}/`` (the user, as
JWT authentication loads it; the case with its agencies, assignee and open stage clock, through
the same selector) and
returns the same bytes (the API's response body, captured by the bench before the run), through
the same middleware, with no DRF, no token check and no document building.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from accounts.models import User
from bench._api_limit import limit_transition
from cases.selectors import case_document_get_for
from config.urls import urlpatterns as project_urlpatterns

_BODY = Path(os.environ.get("BENCH_BARE_BODY", "/nonexistent"))
_USER_ID = int(os.environ.get("BENCH_USER_ID", "0"))


def bare_case(request: HttpRequest, reference: str) -> HttpResponse:
    user = User.objects.get(pk=_USER_ID)
    case_document_get_for(user=user, reference=reference)
    return HttpResponse(_BODY.read_bytes(), content_type="application/json")


urlpatterns = [
    path("bench/bare/<str:reference>/", bare_case),
    # P4': a transition's writes by hand (bench/_api_limit.py).
    path("bench/limit/<str:reference>/<str:action>/", limit_transition),
    *project_urlpatterns,
]
