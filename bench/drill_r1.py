"""R1 drill (quality.md): 50 concurrent conflicting transitions on each of 100 cases, from separate
processes, on PostgreSQL. Not part of `make test`; results in docs/reliability.md.

What it does:

- creates a dedicated database (default ``drill_r1`` on localhost:5432, user postgres; dropped at
  the end unless --keep) and migrates it (``manage.py migrate``, DJANGO_ENV=development);
- seeds the agencies, one transfer-out caseworker (Shenzhen 440300) and one applicant account per
  case, and submits the cases through ``case_submit`` (all in ``applied``, version 1);
- starts ``--workers`` (default 50) processes with the ``spawn`` start method, each with its own
  database connection. For each case in turn, all of them wait on one barrier and then, released
  together, make one ``case_transition`` each on that case: 50 concurrent attempts per case.
  Worker i's action is i mod 4: ``approve_transfer_out``, ``request_materials``, ``reject`` (the
  transfer-out caseworker) or ``withdraw`` (the case's applicant). ``reject`` and ``withdraw`` carry
  ``expected_version=1`` (the version the actor saw, as an API client's If-Match): both are also
  possible from a later state (reject after approval by the transfer-in agency, withdraw after
  materials were requested), so without it they would not be in conflict with the others but a
  legitimate next step. approve and request_materials are only possible from ``applied``;
- expects exactly one success per case and every other attempt ``TransitionNotAllowed`` or
  ``StaleCase`` (409 over the API without If-Match; StaleCase is 412 with one);
- checks from the database: 2 events per case (submit + the winner), each event starting where the
  previous ended, the last ending in the case's state, one open stage clock for an open state and
  none for a terminal one, version 2.

Usage: ``.venv/bin/python bench/drill_r1.py [--cases 100] [--workers 50] [--keep]``.
Exit status 0 when there is no violation.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import itertools
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = ["-h", "localhost", "-p", "5432", "-U", "postgres"]

ACTIONS = [
    ("approve_transfer_out", "cw_out", {"contribution_months": 60, "personal_account_balance": "1234.56"}, None),
    ("request_materials", "cw_out", {"missing_materials": ["离职证明"]}, None),
    ("reject", "cw_out", {"reason_code": "arrears"}, 1),
    ("withdraw", "applicant", {}, 1),
]  # fmt: skip


def _django(db_name: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@localhost:5432/{db_name}"
    os.environ["DJANGO_ENV"] = "development"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def worker(index: int, db_name: str, plan: list[tuple[int, int]], barrier: Any, out: Any) -> None:
    """One process: for each case, wait with all the others, then make one attempt."""
    _django(db_name)
    import logging

    logging.disable(logging.CRITICAL)
    from accounts.models import User
    from cases.models import TransferCase
    from cases.services import case_transition
    from core.errors import DomainError

    action, who, payload, expected = ACTIONS[index % len(ACTIONS)]
    cw_out = User.objects.get(username="drill_cw_out")
    applicants = {u.pk: u for u in User.objects.filter(username__startswith="drill_app_")}
    results = []
    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    for case_id, applicant_id in plan:
        actor = cw_out if who == "cw_out" else applicants[applicant_id]
        barrier.wait(timeout=120)
        started = time.perf_counter()
        try:
            case_transition(
                case=TransferCase(pk=case_id),
                action=action,
                actor=actor,
                payload=payload,
                expected_version=expected,
                now=at,
            )
            outcome = "success"
        except DomainError as exc:
            outcome = type(exc).__name__
        except Exception as exc:
            outcome = f"UNEXPECTED {type(exc).__name__}: {exc}"
        results.append((case_id, action, outcome, time.perf_counter() - started))
    out.put((index, results))


def seed(count: int) -> list[tuple[int, int]]:
    from accounts.services import account_create
    from agencies.models import Agency
    from cases.services import case_submit
    from core.identity import id_number_check_char
    from workflow.calendar import SHANGHAI

    for code, name, pcode, pname, level in [
        ("440300", "深圳市医疗保障局", "440000", "广东省", "prefecture"),
        ("430100", "长沙市医疗保障局", "430000", "湖南省", "prefecture"),
    ]:
        Agency.objects.update_or_create(
            code=code,
            defaults={"name": name, "province_code": pcode, "province_name": pname, "level": level},
        )
    account_create(role="caseworker", username="drill_cw_out", agency_code="440300")
    plan = []
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    for i in range(count):
        first17 = f"440305{1960 + i % 40}0101{i % 1000:03d}"
        user = account_create(
            role="applicant",
            username=f"drill_app_{i:04d}",
            name="张三",
            id_number=first17 + id_number_check_char(first17),
        )
        case = case_submit(
            actor=user,
            insurance_type="employee",
            from_agency="440300",
            to_agency="430100",
            channel="app",
            stopped_at_source_on=dt.date(2026, 10, 31),
            enrolled_at_target_on=dt.date(2026, 11, 1),
            now=now,
        )
        assert case.state == "applied"
        assert case.version == 1
        plan.append((case.pk, user.pk))
    return plan


def verify(case_ids: list[int]) -> list[str]:
    from cases.models import CaseEvent, TransferCase
    from cases.states import TERMINAL_STATES
    from workflow.models import StageClock

    problems = []
    events: dict[int, list[CaseEvent]] = collections.defaultdict(list)
    for event in CaseEvent.objects.filter(case_id__in=case_ids).order_by("at", "id"):
        events[event.case_id].append(event)
    open_clocks = collections.Counter(
        StageClock.objects.filter(case_id__in=case_ids, completed_at__isnull=True).values_list(
            "case_id", flat=True
        )
    )
    for case in TransferCase.objects.filter(pk__in=case_ids):
        evs = events[case.pk]
        if len(evs) != 2:
            problems.append(f"{case.reference}: {len(evs)} events, expected 2")
        for prev, cur in itertools.pairwise(evs):
            if cur.from_state != prev.to_state:
                problems.append(f"{case.reference}: event chain broken at {cur}")
        if evs and evs[-1].to_state != case.state:
            problems.append(
                f"{case.reference}: last event ends in {evs[-1].to_state}, case is {case.state}"
            )
        expected_open = 0 if case.state in TERMINAL_STATES else 1
        if open_clocks[case.pk] != expected_open:
            problems.append(f"{case.reference}: {open_clocks[case.pk]} open clocks in {case.state}")
        if case.version != 2:
            problems.append(f"{case.reference}: version {case.version}, expected 2")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--workers", type=int, default=50, help="attempts per case")
    parser.add_argument("--db", default="drill_r1")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    subprocess.run(["dropdb", *PG, "--if-exists", args.db], check=True)  # noqa: S603, S607
    subprocess.run(["createdb", *PG, args.db], check=True)  # noqa: S603, S607
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@localhost:5432/{args.db}",
        "DJANGO_ENV": "development",
    }
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        _django(args.db)
        import logging

        from django.db import connections

        logging.disable(logging.WARNING)

        plan = seed(args.cases)
        connections.close_all()
        print(f"[r1] database {args.db} migrated and {args.cases} cases in applied "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)  # fmt: skip

        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(args.workers)
        out = ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(i, args.db, plan, barrier, out))
            for i in range(args.workers)
        ]
        t1 = time.perf_counter()
        for p in procs:
            p.start()
        results: list[tuple[int, str, str, float]] = []
        for _ in procs:
            _index, rows = out.get(timeout=1800)
            results.extend(rows)
        for p in procs:
            p.join()
        duration = time.perf_counter() - t1

        outcomes = collections.Counter(r[2] for r in results)
        wins = collections.Counter(r[1] for r in results if r[2] == "success")
        per_case = collections.Counter(r[0] for r in results if r[2] == "success")
        violations = [
            f"case id {cid}: {per_case[cid]} successes" for cid, _ in plan if per_case[cid] != 1
        ]
        violations += [
            f"case id {r[0]}: {r[1]} -> {r[2]}"
            for r in results
            if r[2] not in {"success", "TransitionNotAllowed", "StaleCase"}
        ]
        violations += verify([cid for cid, _ in plan])
        slowest = max(r[3] for r in results)
        print(f"[r1] cases: {len(plan)}; attempts: {len(results)} "
              f"({args.workers} processes per case, released by one barrier)")  # fmt: skip
        print(f"[r1] successes: {outcomes['success']} (winning action: {dict(wins)})")
        print(
            "[r1] refusals: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()) if k != "success")
        )
        print(f"[r1] slowest attempt: {slowest * 1000:.0f} ms; duration {duration:.1f} s")
        print(f"[r1] violations: {len(violations)}")
        for line in violations[:50]:
            print("   ", line)
        return 1 if violations else 0
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if not args.keep:
            subprocess.run(["dropdb", *PG, "--if-exists", "--force", args.db], check=False)  # noqa: S603, S607


if __name__ == "__main__":
    sys.exit(main())
