"""Profile ``GET /api/v1/cases/{reference}/`` in process on the bench database (after bench_api.py
seeded it): where one request's time goes.

    DJANGO_SETTINGS_MODULE=bench._api_settings DATABASE_URL=postgres://postgres@localhost:5432/bench_api \
        DEBUG=false CONN_MAX_AGE=600 THROTTLE_USER=100000000/min .venv/bin/python bench/_api_profile.py
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._api_settings")
django.setup()

from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def main() -> None:
    user = User.objects.get(username="bench_cw")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    path = "/api/v1/cases/YB2026112300000500/"
    for _ in range(200):
        assert client.get(path).status_code == 200
    t = time.perf_counter()
    for _ in range(N):
        client.get(path)
    per = (time.perf_counter() - t) / N * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(N):
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(45)
    print(f"{per:.3f} ms per request in process (no profiler), {N} requests")
    print(out.getvalue())


if __name__ == "__main__":
    main()
