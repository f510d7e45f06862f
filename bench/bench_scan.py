"""P1, P2, P8: the SLA scan against 1,000,000 open stage clocks on PostgreSQL.

Creates a dedicated database (``bench_scan``, ``bench`` being ``BENCH_DB_PREFIX``, on the server of ``BENCH_PG``, default
``postgres://postgres@localhost:5432``), migrates it, seeds with ``generate_series`` 1,000,000 open
cases each with an open stage clock (deadlines in the future), then:

- P1: 10,000 of them newly overdue. ``sla_scan`` (default batch size) flags all 10,000 clocks and
  writes their notification rows (one in-app row to the agency's caseworker each); then, on the
  same data reset, hand-written SQL does the same in one statement (``UPDATE ... RETURNING`` +
  ``INSERT ... ON CONFLICT DO NOTHING``). Median of ``--runs``, alternating, after one untimed
  round of each (the scan's process connects to the broker once, as a long-running worker has). (Until 2026-12-01 both
  also flagged the case rows, ``overdue_since``; the flag is the clock's alone now.)
- P2: nothing due: ``sla_scan`` with 1,000,000 open clocks, then with 1,000 (the rest deleted and
  vacuumed). Median of 50 runs each.
- P8: peak Python memory (tracemalloc) of a scan claiming 1,000 and 10,000 due clocks with a batch
  of 1,000, and the process's peak RSS.

The broker is Redis (``REDIS_URL``, default ``redis://127.0.0.1:6379/13``, flushed at the end): the
scan's on-commit dispatch (one fan-out task per 2,000 rows) is part of what is timed. The database is
dropped at the end unless ``--keep``.

Run: ``.venv/bin/python bench/bench_scan.py [--clocks 1000000] [--due 10000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@localhost:5432")
DB_NAME = os.environ.get("BENCH_DB_PREFIX", "bench") + "_scan"
AGENCIES = [f"44{i:02d}00" for i in range(1, 21)]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    # DEBUG keeps every SQL string (with its 1,000-element arrays) in connection.queries.
    os.environ["DEBUG"] = "false"
    import django

    django.setup()


def seed(clocks: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Role, User
    from agencies.models import Agency

    call_command("migrate", verbosity=0)
    for code in AGENCIES:
        Agency.objects.create(
            code=code,
            name=f"bench {code}",
            province_code="440000",
            province_name="广东省",
            level="prefecture",
        )
        User.objects.create(username=f"cw{code}", role=Role.CASEWORKER, agency_id=code)
    n = len(AGENCIES)
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            f"""
            INSERT INTO cases_transfercase (id, reference, state, version, insurance_type, scope,
                channel, applicant_name, id_number_encrypted, id_number_digest, id_number_masked,
                phone, note, missing_materials, reject_reason, created_at, updated_at,
                from_agency_id, to_agency_id, from_province, to_province, materials_requests,
                target_insurance_type, resident_years_repaired, kind, main_basis, mode)
            SELECT i, 'YB' || lpad(i::text, 16, '0'), 'applied', 1, 'employee', 'intra_province',
                'app', '张三', 'x', md5(i::text), '110105********002X', '', '', '[]'::jsonb, '',
                %(now)s, %(now)s, (%(agencies)s::text[])[(i %% {n}) + 1],
                (%(agencies)s::text[])[((i + 1) %% {n}) + 1], '44', '44', 0, 'employee', 0,
                'transfer', '', 'standard'
            FROM generate_series(1, %(clocks)s) AS i
            """,  # noqa: S608 - n is an int from this module
            {"now": NOW - dt.timedelta(days=3), "agencies": AGENCIES, "clocks": clocks},
        )
        # Deadlines months ahead: open, nothing due.
        c.execute(
            """
            INSERT INTO workflow_stageclock (case_id, stage, responsible, agency_id, window_days,
                started_at, due_at, warn_at, escalate_at, closed_by, provisional)
            SELECT t.id, 'applied', 'from_agency', t.from_agency_id, 10, %(start)s,
                %(far)s + (t.id %% 1000) * interval '1 minute',
                %(far)s - interval '2 days', %(far)s + interval '4 days', '', false
            FROM cases_transfercase t
            """,
            {"start": NOW - dt.timedelta(days=3), "far": NOW + dt.timedelta(days=90)},
        )
        c.execute("SELECT setval(pg_get_serial_sequence('cases_transfercase', 'id'), %s)", [clocks])
    with psycopg.connect(f"{SERVER}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"seeded {clocks:,} open cases and clocks in {time.perf_counter() - started:.1f} s")


def make_due(count: int) -> None:
    """``count`` clocks fall due an hour before NOW (already warned, so only 'overdue' is new)."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            """
            UPDATE workflow_stageclock SET due_at = %(due)s, warn_at = %(due)s - interval '2 days',
                warned_at = %(due)s - interval '2 days', breached_at = NULL
            WHERE id IN (SELECT id FROM workflow_stageclock ORDER BY id LIMIT %(n)s)
            """,
            {"due": NOW - dt.timedelta(hours=1), "n": count},
        )


def reset(count: int) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DELETE FROM notifications_notification")
        c.execute(
            """
            UPDATE workflow_stageclock SET breached_at = NULL, warned_at = NULL,
                due_at = %(far)s + (id %% 1000) * interval '1 minute',
                warn_at = %(far)s - interval '2 days'
            WHERE breached_at IS NOT NULL OR due_at < %(now)s
            """,
            {"far": NOW + dt.timedelta(days=90), "now": NOW},
        )
    make_due(count)
    with psycopg.connect(f"{SERVER}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE workflow_stageclock")
        conn.execute("VACUUM ANALYZE notifications_notification")
        conn.execute("VACUUM ANALYZE cases_transfercase")
        # Both sides start with no checkpoint pending: the resets write some 30 MB of WAL, and a
        # checkpoint falling inside one side's run would be timed against it.
        conn.execute("CHECKPOINT")


HAND_SQL = """
WITH claimed AS (
    UPDATE workflow_stageclock c SET breached_at = c.due_at
    WHERE c.completed_at IS NULL AND c.breached_at IS NULL AND c.due_at < %(now)s
    RETURNING c.id, c.case_id, c.agency_id, c.due_at
)
INSERT INTO notifications_notification (dedup_key, kind, channel, recipient_id, address, subject,
    body, payload, subject_ref, status, attempts, last_error, created_at)
SELECT 'overdue:' || claimed.id || ':u' || u.id || ':in_app', 'overdue', 'in_app', u.id, '',
    '【已超期】' || t.reference, '案件 ' || t.reference || ' 已超过办理时限', '{}'::jsonb,
    t.reference, 'pending', 0, '', %(now)s
FROM claimed JOIN cases_transfercase t ON t.id = claimed.case_id
JOIN accounts_user u ON u.agency_id = claimed.agency_id AND u.role = 'caseworker'
ON CONFLICT (dedup_key) DO NOTHING
"""


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def p1(due: int, runs: int) -> None:
    from django.db import connection, transaction

    from cases.reminders import sla_scan
    from notifications.models import Notification

    # One untimed round first, as the worker that runs the scan has done long before: the first
    # delivery task sent imports the broker's transport and connects (about 0.5 s here), the
    # first statements warm PostgreSQL's caches for both sides.
    reset(due)
    sla_scan(now=NOW)
    reset(due)
    with transaction.atomic(), connection.cursor() as c:
        c.execute(HAND_SQL, {"now": NOW})
    scan_times, sql_times = [], []
    for _ in range(runs):
        reset(due)
        report = None

        def run_scan() -> None:
            nonlocal report
            report = sla_scan(now=NOW)

        scan_times.append(timed(run_scan))
        assert report is not None
        assert report.counts["overdue"] == due, report
        assert Notification.objects.count() == due
        reset(due)

        def run_sql() -> None:
            with transaction.atomic(), connection.cursor() as c:
                c.execute(HAND_SQL, {"now": NOW})

        sql_times.append(timed(run_sql))
        assert Notification.objects.count() == due
    scan, sql = statistics.median(scan_times), statistics.median(sql_times)
    print(
        f"P1 {due:,} newly overdue: scan median {scan * 1000:.0f} ms "
        f"(runs: {', '.join(f'{t * 1000:.0f}' for t in scan_times)}); hand-written SQL median "
        f"{sql * 1000:.0f} ms (runs: {', '.join(f'{t * 1000:.0f}' for t in sql_times)}); "
        f"ratio {scan / sql:.2f} (target <= 1 s and <= 2x)"
    )


def p2_once(label: str, runs: int = 50) -> float:
    from cases.reminders import sla_scan

    sla_scan(now=NOW)  # warm the connection and caches
    times = [timed(lambda: sla_scan(now=NOW)) for _ in range(runs)]
    median = statistics.median(times)
    print(f"P2 nothing due, {label}: median {median * 1000:.2f} ms over {runs} scans")
    return median


def p8(runs_due: tuple[int, ...] = (1_000, 10_000)) -> None:
    from cases.reminders import sla_scan

    for due in runs_due:
        reset(due)
        tracemalloc.start()
        report = sla_scan(now=NOW, batch_size=1000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.counts["overdue"] == due
        print(f"P8 scan of {due:,} due clocks, batch 1,000: Python peak {peak / 1e6:.1f} MB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"P8 process peak RSS over the whole benchmark: {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench_scan database")
    args = parser.parse_args()

    admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    admin(f"CREATE DATABASE {DB_NAME}")
    try:
        setup_django()
        seed(args.clocks)
        p1(args.due, args.runs)
        p8()
        reset(0)
        big = p2_once(f"{args.clocks:,} open clocks")
        from django.db import connection

        with connection.cursor() as c:
            c.execute("DELETE FROM notifications_notification")
            c.execute("DELETE FROM workflow_stageclock WHERE id > 1000")
        with psycopg.connect(f"{SERVER}/{DB_NAME}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        small = p2_once("1,000 open clocks")
        print(f"P2 ratio 1,000,000 / 1,000: {big / small:.2f} (target <= 1.5, and <= 10 ms)")
    finally:
        from django.db import connections

        connections.close_all()
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
