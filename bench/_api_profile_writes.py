"""Profile ``POST /api/v1/cases/{reference}/transitions/approve_transfer_out/`` in process on the
bench database (after ``bench_api.py --writes-only`` seeded it; the cases from ``--first`` on must
still be applied): where one transition's time goes, by package, and its statements.

    DJANGO_SETTINGS_MODULE=bench._api_settings DATABASE_URL=postgres://postgres@localhost:5432/perf_api \\
        DEBUG=false ALLOWED_HOSTS=testserver REDIS_URL=redis://127.0.0.1:6379/13 \\
        THROTTLE_USER=100000000/min .venv/bin/python bench/_api_profile_writes.py --first 90000 -n 500

``--limit`` profiles the hand-written limit view (bench/_api_limit.py) instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import defaultdict

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._api_settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402

BODY = '{"contribution_months": 60, "personal_account_balance": "1234.56"}'
PREFIX = "YB20261123"


def package(filename: str) -> str:
    """The package a profiled function belongs to (site-packages' top name, or ours)."""
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if "/work/" in filename or filename.startswith(("cases", "api", "workflow")):
        parts = filename.split("/")
        for top in (
            "api",
            "cases",
            "workflow",
            "notifications",
            "accounts",
            "agencies",
            "core",
            "config",
            "bench",
        ):
            if top in parts:
                return f"ours:{top}"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "stdlib"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--limit", action="store_true")
    args = parser.parse_args()
    user = User.objects.get(username="bench_cw")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    fmt = (
        "/bench/limit/{}/approve_transfer_out/"
        if args.limit
        else "/api/v1/cases/{}/transitions/approve_transfer_out/"
    )
    paths = [fmt.format(f"{PREFIX}{args.first + i:08d}") for i in range(3 * args.n + 1)]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(paths[0], data=BODY, content_type="application/json")
    assert response.status_code == 200, response.content
    print(f"{len(queries.captured_queries)} statements in the first request (the calendar loads):")
    for q in queries.captured_queries:
        print("  ", q["sql"][:110])
    t, cpu = time.perf_counter(), time.process_time()
    for path in paths[1 : args.n + 1]:
        assert client.post(path, data=BODY, content_type="application/json").status_code == 200
    per = (time.perf_counter() - t) / args.n * 1000
    # This process's CPU alone (not PostgreSQL's): steadier than the wall clock on a busy machine.
    per_cpu = (time.process_time() - cpu) / args.n * 1000
    with CaptureQueriesContext(connection) as queries:
        client.post(paths[args.n + 1], data=BODY, content_type="application/json")
    # Copied now: the next request's start empties the log the context reads from.
    statements = [q["sql"] for q in queries.captured_queries]
    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths[args.n + 2 : 2 * args.n + 2]:
        client.post(path, data=BODY, content_type="application/json")
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_package[package(filename)] += tottime
        total += tottime
    print(f"\n{per:.2f} ms per request in process, {per_cpu:.2f} ms of it this process's CPU")
    print(f"(no profiler, {args.n} requests)")
    print(f"{len(statements)} statements per request after warm-up:")
    for sql in statements:
        print("  ", sql[:110])
    print("\nown time by package, under the profiler:")
    for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * seconds / total:5.1f}%  {name}")
    print("\ncumulative, the project's functions and the big callees:")
    ours = "/(api|cases|workflow|notifications|core|accounts|agencies|config)/[a-z_/]+[.]py"
    theirs = "celery/app/task|kombu/messaging|rest_framework/(views|throttling)|jwt/authentication"
    stats.sort_stats("cumulative").print_stats(f"{ours}|{theirs}", 45)
    if os.environ.get("PROFILE_CALLEES"):
        stats.print_callees(os.environ["PROFILE_CALLEES"])


if __name__ == "__main__":
    main()
