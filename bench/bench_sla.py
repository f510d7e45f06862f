"""P9: the supervisor statistics, ``GET /api/v1/stats/sla/`` for a year, flat in history.

Creates two throwaway databases (``bench_sla_small`` and ``bench_sla_large`` on the server of
``BENCH_PG``, default ``postgres://postgres@localhost:5432``), migrates them and seeds each by
set-based SQL (``INSERT ... SELECT generate_series``):

- 100,000 open cases (transfer-out review, each with its open clock; a fifth of them overdue);
- closed cases (credited at the transfer-in agency): 10,000 in the small database, ``--closed``
  (1,000,000 by default) in the large one, the first 10,000 the same as the small one's. Each has
  three completed stage clocks (transfer-out review, transfer-in review, the balance); every 10th
  also a request for materials (the stopped clock, the applicant's materials clock and its event),
  every 50th a repeat request too. Completions are spread over the two years before 2026-12-01,
  agencies over Guangdong's (half the cases go to Changsha); about two thirds are on time.

The roll-ups are then filled by the backfill migrations' own functions (timed), and the databases
vacuumed, analysed and checkpointed. On each, the answer is checked against the old scan
(tests/cases/sla_oracle.py), whose time is given for reference. Then the request is measured in
process (Django's test client: the whole middleware, JWT authentication and the throttle, no
network) as a province-wide Guangdong supervisor, for 2025-12-01..2026-11-30: ``--rounds`` rounds
of ``--runs`` requests, alternating between the two databases round by round (each round after a
warm-up round on the fresh connection), so both see the same machine; the median of the rounds'
p50 and p95 and the ratio of the two p95. ``GET /stats/sla/series/`` is measured the same way,
and so is the supervisor dashboard, ``GET /desk/dashboard/`` (HTML, signed in with a session),
which adds the open work: lateness, each caseworker's load, the next 10 working days.

Run: ``.venv/bin/python bench/bench_sla.py [--closed 1000000] [--open 100000] [--runs 100]
[--rounds 5]``. The databases are dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@localhost:5432")
DB_NAME = "bench_sla"
SMALL_CLOSED = 10_000
# Completions spread over the two years before 2026-12-01 00:00 Asia/Shanghai.
BASE = dt.datetime(2024, 11, 30, 16, 0, tzinfo=dt.UTC)
SPREAD_SECONDS = 680 * 86400
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
DATE_FROM, DATE_TO = dt.date(2025, 12, 1), dt.date(2026, 11, 30)
URL = f"/api/v1/stats/sla/?date_from={DATE_FROM}&date_to={DATE_TO}"
SERIES_URL = f"/api/v1/stats/sla/series/?date_from={DATE_FROM}&date_to={DATE_TO}"
# The supervisor dashboard (HTML): the same figures plus the open work (ageing, each caseworker's
# load, the next 10 working days), signed in with a session as a browser is.
DASHBOARD_URL = f"/desk/dashboard/?date_from={DATE_FROM}&date_to={DATE_TO}"


def admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def vacuum(db_name: str) -> None:
    # Then a checkpoint, so the writes of the seeding are not flushed while the reads are timed.
    with psycopg.connect(f"{SERVER}/{db_name}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}_small"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    os.environ.setdefault("THROTTLE_KEY_PREFIX", "bench-sla")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["CONN_MAX_AGE"] = "600"
    os.environ["THROTTLE_USER"] = "100000000/min"
    os.environ["THROTTLE_ANON"] = "100000000/min"
    import django

    django.setup()


def columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [r[0] for r in cur.fetchall()]


def seed_base() -> tuple[int, str, list[str]]:
    """Agencies, the supervisor, one case made by the services (the template of the copies)."""
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Role, User
    from agencies.models import Agency
    from cases.services import Applicant, case_submit
    from workflow.calendar_data import calendar_sync_year

    call_command("migrate", verbosity=0)
    call_command("load_agencies", verbosity=0)
    calendar_sync_year(year=2026)
    guangdong = list(
        Agency.objects.filter(code__startswith="44")
        .exclude(code="440000")
        .order_by("code")
        .values_list("code", flat=True)[:8]
    )
    caseworker = User.objects.create(
        username="bench_cw", role=Role.CASEWORKER, agency_id="440300", is_staff=True
    )
    supervisor = User.objects.create(
        username="bench_sup",
        role=Role.SUPERVISOR,
        agency_id="440000",
        province_wide=True,
        is_staff=True,
    )
    template = case_submit(
        actor=caseworker,
        insurance_type="employee",
        from_agency="440300",
        to_agency="430100",
        channel="window",
        applicant=Applicant(name="张三", id_number="11010519491231002X", phone="13812345678"),
        stopped_at_source_on=dt.date(2026, 10, 31),
        enrolled_at_target_on=dt.date(2026, 11, 1),
        now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC),
    )
    token = AccessToken.for_user(supervisor)
    token.set_exp(lifetime=dt.timedelta(hours=12))
    return template.pk, str(token), guangdong


def copy_cases(template_id: int, first: int, last: int, state: str, agencies: list[str]) -> None:
    """Cases ``first``..``last`` (their ids) as copies of the template, in ``state``."""
    from django.db import connection

    n = len(agencies)
    closed = state != "applied"
    overrides = {
        "id": "g.i",
        "reference": "'YB' || lpad(g.i::text, 16, '0')",
        "id_number_digest": "md5(g.i::text) || md5('bench' || g.i::text)",
        "state": f"'{state}'",
        "from_agency_id": "(%(agencies)s::text[])[mod(g.i, %(n)s) + 1]",
        # Half the cases stay in Guangdong (the supervisor sees both of their agencies' stages).
        "to_agency_id": "CASE WHEN mod(g.i, 2) = 0 THEN '430100' "
        "ELSE (%(agencies)s::text[])[mod(g.i + 1, %(n)s) + 1] END",
        "from_province": "'44'",
        "to_province": "CASE WHEN mod(g.i, 2) = 0 THEN '43' ELSE '44' END",
        "closed_at": "%(base)s + mod(g.i::bigint * 7919, %(spread)s) * interval '1 second' "
        "+ interval '30 days'"
        if closed
        else "NULL",
        "created_at": "%(base)s + mod(g.i::bigint * 7919, %(spread)s) * interval '1 second'"
        if closed
        else "%(now)s - mod(g.i, 20) * interval '1 day'",
    }
    cols = columns("cases_transfercase")
    select = ", ".join(overrides.get(c, c) for c in cols)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO cases_transfercase ({', '.join(cols)}) SELECT {select} "  # noqa: S608 - bench, fixed names
            "FROM cases_transfercase, generate_series(%(first)s, %(last)s) AS g(i) "
            "WHERE cases_transfercase.id = %(template)s",
            {
                "agencies": agencies,
                "n": n,
                "base": BASE,
                "spread": SPREAD_SECONDS,
                "now": NOW,
                "first": first,
                "last": last,
                "template": template_id,
            },
        )


def seed_open(template_id: int, first: int, count: int, agencies: list[str]) -> None:
    from django.db import connection

    copy_cases(template_id, first, first + count - 1, "applied", agencies)
    with connection.cursor() as cur:
        # Open for 0-19 days with a 14-day deadline: about a fifth overdue now.
        cur.execute(
            """
            INSERT INTO workflow_stageclock (case_id, stage, responsible, agency_id, window_days,
                started_at, due_at, closed_by, provisional)
            SELECT c.id, 'applied', 'from_agency', c.from_agency_id, 10, c.created_at,
                c.created_at + interval '16 days', '', false
            FROM cases_transfercase c WHERE c.id BETWEEN %(first)s AND %(last)s
            """,
            {"first": first, "last": first + count - 1},
        )


def seed_closed(template_id: int, first: int, last: int, agencies: list[str]) -> None:
    from django.db import connection

    copy_cases(template_id, first, last, "balance_moved", agencies)
    span = {"first": first, "last": last}
    with connection.cursor() as cur:
        # Every 10th case: a request for materials on day 1 (the stopped clock, not a completed
        # stage), the applicant's materials clock until day 3, and the event; every 50th, a repeat.
        cur.execute(
            """
            INSERT INTO workflow_stageclock (case_id, stage, responsible, agency_id, window_days,
                started_at, due_at, completed_at, closed_by, provisional)
            SELECT c.id, 'applied', 'from_agency', c.from_agency_id, 10, c.created_at,
                c.created_at + interval '14 days', c.created_at + interval '1 day',
                'request_materials', false
            FROM cases_transfercase c WHERE c.id BETWEEN %(first)s AND %(last)s AND mod(c.id, 10) = 0
            UNION ALL
            SELECT c.id, 'materials_requested', 'applicant', NULL, NULL,
                c.created_at + interval '1 day', NULL, c.created_at + interval '3 days',
                'resubmit_materials', false
            FROM cases_transfercase c WHERE c.id BETWEEN %(first)s AND %(last)s AND mod(c.id, 10) = 0
            """,
            span,
        )
        cur.execute(
            """
            INSERT INTO cases_caseevent (case_id, action, from_state, to_state, actor_role, at,
                note, reason_code, data)
            SELECT c.id, 'request_materials', 'applied', 'materials_requested', 'caseworker',
                c.created_at + interval '1 day', '', '',
                CASE WHEN mod(c.id, 50) = 0
                    THEN '{"missing_materials": ["x"], "repeat_reason": "again"}'::jsonb
                    ELSE '{"missing_materials": ["x"]}'::jsonb END
            FROM cases_transfercase c WHERE c.id BETWEEN %(first)s AND %(last)s AND mod(c.id, 10) = 0
            """,
            span,
        )
        # The three completed stages; lateness varies with the id (about two thirds on time).
        cur.execute(
            """
            WITH c AS (
                SELECT id, from_agency_id, to_agency_id,
                    created_at + CASE WHEN mod(id, 10) = 0 THEN interval '3 days' ELSE interval '0'
                        END AS t0
                FROM cases_transfercase WHERE id BETWEEN %(first)s AND %(last)s
            ), s AS (
                SELECT c.*, t0 + mod(id, 20) * interval '1 day' AS t1,
                    t0 + mod(id, 20) * interval '1 day' + mod(id, 10) * interval '1 day'
                        + interval '1 hour' AS t2,
                    t0 + mod(id, 20) * interval '1 day' + mod(id, 10) * interval '1 day'
                        + mod(id, 9) * interval '1 day' + interval '2 hours' AS t3
                FROM c
            )
            INSERT INTO workflow_stageclock (case_id, stage, responsible, agency_id, window_days,
                started_at, due_at, completed_at, closed_by, provisional)
            SELECT id, 'applied', 'from_agency', from_agency_id, 10, t0, t0 + interval '14 days',
                t1, 'approve_transfer_out', false FROM s
            UNION ALL
            SELECT id, 'transfer_out_approved', 'to_agency', to_agency_id, 5, t1,
                t1 + interval '7 days', t2, 'confirm_transfer_in', false FROM s
            UNION ALL
            SELECT id, 'transfer_in_confirmed', 'to_agency', to_agency_id, 5, t2,
                t2 + interval '7 days', t3, 'move_balance', false FROM s
            """,
            span,
        )


def backfill() -> float:
    """Fill both roll-ups with the backfill migrations' own functions; seconds taken."""
    from django.apps import apps

    started = time.perf_counter()
    for module in (
        "workflow.migrations.0007_backfill_stage_tally",
        "cases.migrations.0019_backfill_repeat_request_tally",
    ):
        importlib.import_module(module).backfill(apps, None)
    return time.perf_counter() - started


def use(db_name: str) -> None:
    """Point the default connection at ``db_name`` (it reconnects on the next query)."""
    from django.db import connection

    from workflow.calendar import calendar_invalidate

    connection.close()
    connection.settings_dict["NAME"] = db_name
    calendar_invalidate()


def check(db_name: str) -> dict[str, Any]:
    """The roll-ups' answer equals the old scan's on ``db_name``; the old scan's time."""
    from accounts.models import User
    from cases.selectors import sla_stats
    from tests.cases.sla_oracle import old_sla_stats

    use(db_name)
    supervisor = User.objects.get(username="bench_sup")
    now = dt.datetime.now(dt.UTC)
    new = sla_stats(user=supervisor, date_from=DATE_FROM, date_to=DATE_TO, now=now)
    old_times = []
    for _ in range(3):
        started = time.perf_counter()
        old = old_sla_stats(user=supervisor, date_from=DATE_FROM, date_to=DATE_TO, now=now)
        old_times.append((time.perf_counter() - started) * 1000)
    assert new == old, "the roll-ups disagree with the scan"
    return {
        "old_scan_median": statistics.median(old_times),
        "completed": new["totals"]["completed"],
        "open": new["totals"]["open"],
    }


def measure(tokens: dict[str, str], runs: int, rounds: int) -> dict[str, dict[str, Any]]:
    """``rounds`` rounds of ``runs`` requests of each URL on each database, alternating between
    the databases round by round (so both see the same machine); per database and URL the median
    of the rounds' p50 and p95, and each round's p95."""
    from django.test import Client

    from accounts.models import User

    def clients(db_name: str) -> tuple[Client, Client]:
        api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[db_name]}")
        page = Client()
        page.force_login(User.objects.get(username="bench_sup"))
        return api, page

    times: dict[tuple[str, str], list[list[float]]] = {}
    for db_name in tokens:
        use(db_name)
        api, page = clients(db_name)
        for client, url in ((api, URL), (api, SERIES_URL), (page, DASHBOARD_URL)):
            for _ in range(5):
                assert client.get(url).status_code == 200
    for _ in range(rounds):
        for db_name in tokens:
            use(db_name)
            api, page = clients(db_name)
            # The first round after reconnecting warms up.
            for client, url in ((api, URL), (api, URL), (api, SERIES_URL), (page, DASHBOARD_URL)):
                round_times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = client.get(url)
                    round_times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.content[:300]
                times.setdefault((db_name, url), []).append(sorted(round_times))
    out: dict[str, dict[str, Any]] = {}
    for db_name in tokens:
        figures: dict[str, Any] = {}
        for key, url in (("stats", URL), ("series", SERIES_URL), ("dashboard", DASHBOARD_URL)):
            measured = times[(db_name, url)][1::2] if url == URL else times[(db_name, url)]
            p50s = [statistics.median(t) for t in measured]
            p95s = [t[max(0, int(len(t) * 0.95) - 1)] for t in measured]
            figures[f"{key}_p50"] = statistics.median(p50s)
            figures[f"{key}_p95"] = statistics.median(p95s)
            figures[f"{key}_p95_rounds"] = p95s
        out[db_name] = figures
    return out


def counts() -> dict[str, int]:
    from cases.models import CaseEvent, RepeatRequestTally, TransferCase
    from workflow.models import StageClock, StageTally

    return {
        "cases": TransferCase.objects.count(),
        "clocks": StageClock.objects.count(),
        "events": CaseEvent.objects.count(),
        "stage_tally_rows": StageTally.objects.count(),
        "repeat_tally_rows": RepeatRequestTally.objects.count(),
    }


def report(label: str, figures: dict[str, Any], sizes: dict[str, int], fill: float) -> None:
    rounds = ", ".join(f"{x:.1f}" for x in figures["stats_p95_rounds"])
    print(
        f"{label}: {sizes}; backfill {fill:.1f} s\n"
        f"  GET /stats/sla/ p50 {figures['stats_p50']:.2f} ms p95 {figures['stats_p95']:.2f} ms "
        f"(rounds {rounds}); /stats/sla/series/ p50 {figures['series_p50']:.2f} ms "
        f"p95 {figures['series_p95']:.2f} ms; /desk/dashboard/ p50 {figures['dashboard_p50']:.2f} "
        f"ms p95 {figures['dashboard_p95']:.2f} ms; old scan (selector alone) median "
        f"{figures['old_scan_median']:.0f} ms; {figures['completed']:,} completed in range, "
        f"{figures['open']:,} open",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closed", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    small_db, large_db = f"{DB_NAME}_small", f"{DB_NAME}_large"
    for name in (small_db, large_db):
        admin(f"DROP DATABASE IF EXISTS {name}")
        admin(f"CREATE DATABASE {name}")
    try:
        setup_django()
        from django.db import connection

        tokens, sizes, fills = {}, {}, {}
        # Ids from 1,000,000 on: the template has a small id, the copies their own ranges.
        open_first = 10_000_000
        for db_name, closed in ((small_db, SMALL_CLOSED), (large_db, args.closed)):
            use(db_name)
            started = time.perf_counter()
            template_id, tokens[db_name], agencies = seed_base()
            seed_open(template_id, open_first, args.open, agencies)
            step = 200_000
            first, last = 1_000_000, 1_000_000 + closed - 1
            while first <= last:
                seed_closed(template_id, first, min(first + step - 1, last), agencies)
                first += step
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('cases_transfercase', 'id'), %s)",
                    [open_first + args.open],
                )
            print(f"{db_name}: seeded in {time.perf_counter() - started:.1f} s", flush=True)
            fills[db_name] = backfill()
            sizes[db_name] = counts()
            use(db_name)
            vacuum(db_name)
        checks = {db_name: check(db_name) for db_name in tokens}
        figures = measure(tokens, args.runs, args.rounds)
        for db_name, label in ((small_db, "10,000 closed"), (large_db, f"{args.closed:,} closed")):
            report(label, {**figures[db_name], **checks[db_name]}, sizes[db_name], fills[db_name])
        for key, what in (("stats", "GET /stats/sla/"), ("dashboard", "/desk/dashboard/")):
            small, large = figures[small_db][f"{key}_p95"], figures[large_db][f"{key}_p95"]
            print(
                f"P9 {what}: p95 {small:.2f} ms -> {large:.2f} ms, ratio {large / small:.2f} "
                "(target p95 <= 200 ms, ratio <= 1.5)"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            for name in (small_db, large_db):
                admin(f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
