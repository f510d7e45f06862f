"""Seed the bench database: agencies, the 2026 calendar, a caseworker, and N cases by SQL.

Run by bench/bench_api.py with DATABASE_URL pointing at the bench database. One case goes through
``case_submit`` (the template); the other N-1 are copies of its row and its clock made by
``INSERT ... SELECT generate_series``, each with its own reference and ID number digest. Prints a
JSON line: the user's id, a JWT, and the references.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._api_settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from cases.services import Applicant, case_submit  # noqa: E402
from workflow.calendar import SHANGHAI  # noqa: E402
from workflow.calendar_data import calendar_sync_year  # noqa: E402

REF_PREFIX = "YB20261123"


def columns(table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [r[0] for r in cur.fetchall()]


def copy_rows(table: str, template_id: int, overrides: dict[str, str], n: int) -> None:
    cols = [c for c in columns(table) if c != "id"]
    select = ", ".join(overrides.get(c, c) for c in cols)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} "  # noqa: S608 - bench, fixed names
            f"FROM {table}, generate_series(1, %s) AS g(i) WHERE {table}.id = %s",
            [n, template_id],
        )


def main(n: int) -> None:
    call_command("load_agencies", verbosity=0)
    calendar_sync_year(year=2026)
    user = User(username="bench_cw", role=Role.CASEWORKER, agency_id="440300", is_staff=True)
    user.set_password("bench-password")
    user.save()
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    template = case_submit(
        actor=user,
        insurance_type="employee",
        from_agency="440300",
        to_agency="430100",
        channel="window",
        applicant=Applicant(name="张三", id_number="11010519491231002X", phone="13812345678"),
        stopped_at_source_on=dt.date(2026, 10, 31),
        enrolled_at_target_on=dt.date(2026, 11, 1),
        now=now,
    )
    if n > 1:
        copy_rows(
            "cases_transfercase",
            template.pk,
            {
                "reference": f"'{REF_PREFIX}' || lpad(g.i::text, 8, '0')",
                "id_number_digest": "md5(g.i::text) || md5('bench' || g.i::text)",
                "created_at": "created_at + g.i * interval '1 second'",
                "updated_at": "updated_at + g.i * interval '1 second'",
            },
            n - 1,
        )
        with connection.cursor() as cur:
            # One open clock per copied case, like the template's.
            clock_cols = [c for c in columns("workflow_stageclock") if c != "id"]
            select = ", ".join("c.id" if col == "case_id" else f"k.{col}" for col in clock_cols)
            cur.execute(
                f"INSERT INTO workflow_stageclock ({', '.join(clock_cols)}) "  # noqa: S608
                f"SELECT {select} FROM cases_transfercase c, workflow_stageclock k "
                "WHERE k.case_id = %s AND c.id <> %s",
                [template.pk, template.pk],
            )
            cur.execute("ANALYZE")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=dt.timedelta(hours=12))
    print(
        json.dumps(
            {
                "user_id": user.pk,
                "token": str(token),
                "template": template.reference,
                "prefix": REF_PREFIX,
                "cases": n,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
