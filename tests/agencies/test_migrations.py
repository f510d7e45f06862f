"""The agency table moving from cases to agencies (agencies/0001-0002), run for real on PostgreSQL.

The database is taken back to before the move (and before workflow's scan instants, 0002), rows are
written with the models of that time, then every migration runs forward: the rows must survive,
every foreign key must point at the renamed table and still be enforced, and the backfill of 0003
must give the open clock its scan instants.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from agencies.models import Agency
from cases.models import TransferCase
from workflow.calendar import SHANGHAI
from workflow.calendar_data import calendar_sync_year
from workflow.models import StageClock

BEFORE_THE_MOVE = [
    ("agencies", None),
    ("cases", "0005_agency_webhook"),
    ("workflow", "0002_stageclock_scan_instants"),
    ("accounts", "0003_user_manager"),
]
STARTED = dt.datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)


def _migrate(targets: list[tuple[str, str | None]] | None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def _old_rows(executor: MigrationExecutor) -> dict[str, int]:
    apps = executor.loader.project_state([t for t in BEFORE_THE_MOVE if t[1]]).apps
    agency = apps.get_model("cases", "Agency")
    shenzhen = agency.objects.create(
        code="440300",
        name="深圳市医疗保障局",
        province_code="440000",
        province_name="广东省",
        level="prefecture",
        escalation_days=3,
    )
    changsha = agency.objects.create(
        code="430100",
        name="长沙市医疗保障局",
        province_code="430000",
        province_name="湖南省",
        level="prefecture",
    )
    user = apps.get_model("accounts", "User").objects.create(
        username="old_cw", role="caseworker", agency=shenzhen
    )
    case = apps.get_model("cases", "TransferCase").objects.create(
        reference="YB2026092800000001",
        state="applied",
        insurance_type="employee",
        from_agency=shenzhen,
        to_agency=changsha,
        scope="inter_province",
        from_province="44",
        to_province="43",
        channel="window",
        applicant_name="张三",
        id_number_encrypted="x",
        id_number_digest="d" * 64,
        id_number_masked="440306********0011",
        overdue_since=None,
        created_at=STARTED,
        updated_at=STARTED,
    )
    clock = apps.get_model("workflow", "StageClock").objects.create(
        case=case,
        stage="applied",
        responsible="from_agency",
        agency=shenzhen,
        window_days=10,
        started_at=STARTED,
        due_at=dt.datetime(2026, 10, 16, 23, 59, 59, tzinfo=SHANGHAI),
    )
    # As on a database from before the move (agencies/0003 run backwards put it back): the agency's
    # content type is cases', with the admin's history of an edit.
    assert not ContentType.objects.filter(app_label="agencies", model="agency").exists()
    old_type = ContentType.objects.get(app_label="cases", model="agency")
    LogEntry.objects.create(
        content_type_id=old_type.pk,
        object_id="440300",
        object_repr="440300 深圳市医疗保障局",
        action_flag=CHANGE,
        user_id=user.pk,
        change_message="transfer_out_days",
        action_time=STARTED,
    )
    return {"user": user.pk, "case": case.pk, "clock": clock.pk, "content_type": old_type.pk}


@pytest.mark.django_db(transaction=True)
def test_agencies_leave_cases_with_every_row_and_foreign_key():
    calendar_sync_year(year=2026)
    executor = _migrate(BEFORE_THE_MOVE)
    try:
        assert "cases_agency" in connection.introspection.table_names()
        ids = _old_rows(executor)
    finally:
        _migrate(None)

    tables = connection.introspection.table_names()
    assert "agencies_agency" in tables
    assert "cases_agency" not in tables
    shenzhen = Agency.objects.get(code="440300")
    assert (shenzhen.name, shenzhen.escalation_days) == ("深圳市医疗保障局", 3)
    assert User.objects.get(pk=ids["user"]).agency == shenzhen
    case = TransferCase.objects.get(pk=ids["case"])
    assert (case.from_agency, case.to_agency.code) == (shenzhen, "430100")
    clock = StageClock.objects.get(pk=ids["clock"])
    assert clock.agency == shenzhen
    # workflow/0003 ran on the way: 10-day window from 09-28, due soon from the 8th working day,
    # escalated 3 working days (this agency's rule) after the due day.
    assert clock.warn_at == dt.datetime(2026, 10, 14, tzinfo=SHANGHAI)
    assert clock.escalate_at == dt.datetime(2026, 10, 21, 23, 59, 59, tzinfo=SHANGHAI)
    # The foreign keys followed the renamed table and are still enforced by the database.
    for model, pk, field in (
        (TransferCase, case.pk, "to_agency_id"),
        (User, ids["user"], "agency_id"),
        (StageClock, clock.pk, "agency_id"),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=pk).update(**{field: "999999"})
    # overdue_since is gone with its index; the agency's admin history came along.
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), TransferCase._meta.db_table
        )
    }
    assert "overdue_since" not in columns
    agency_type = ContentType.objects.get_for_model(Agency)
    assert agency_type.pk == ids["content_type"]
    assert LogEntry.objects.get(content_type=agency_type).object_id == "440300"
    assert not ContentType.objects.filter(app_label="cases", model="agency").exists()
