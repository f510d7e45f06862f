"""Data migrations of workflow/: run against the historical models, on rows built by the services."""

from __future__ import annotations

import datetime as dt
import importlib

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from cases.reminders import sla_scan
from cases.services import case_transition
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

INSTANTS = ("warn_at", "escalate_at", "remind_at")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


ACCEPTED = {
    "now": at("2026-09-28 09:00"),
    "stopped_at_source_on": dt.date(2026, 9, 1),
    "enrolled_at_target_on": dt.date(2026, 9, 2),
}


def run_backfill() -> None:
    # The migration's own function, run with the models as the database has them today (the clock's
    # agency has since moved to agencies_agency, agencies/0002, so 0003's own state would name a
    # table that no longer exists). The migration run from 0002 is tests/agencies/test_migrations.
    apps = MigrationLoader(connection).project_state().apps
    importlib.import_module("workflow.migrations.0003_backfill_scan_instants").backfill(apps, None)


def test_backfill_gives_clocks_opened_before_0002_their_scan_instants(
    calendar_2026, submit_case, personas
):
    applied = submit_case(**ACCEPTED)
    materials = submit_case(actor=personas["cw_out"], **ACCEPTED)
    case_transition(
        case=materials,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
        now=at("2026-09-28 10:00"),
    )
    expected = {c.pk: tuple(getattr(c, f) for f in INSTANTS) for c in StageClock.objects.all()}
    # As 0002 left them: every clock without instants.
    StageClock.objects.update(warn_at=None, escalate_at=None, remind_at=None)

    run_backfill()

    open_clocks = StageClock.objects.filter(completed_at__isnull=True)
    assert {c.pk: tuple(getattr(c, f) for f in INSTANTS) for c in open_clocks} == {
        c.pk: expected[c.pk] for c in open_clocks
    }
    assert open_clocks.get(case=applied).warn_at == at("2026-10-14 00:00")
    assert open_clocks.get(case=materials).remind_at == at("2026-10-10 23:59:59")
    # The closed applied clock of the materials case is history: the scan never reads it.
    closed = StageClock.objects.get(case=materials, completed_at__isnull=False)
    assert (closed.warn_at, closed.escalate_at, closed.remind_at) == (None, None, None)
    # And the scan now acts on the backfilled clocks.
    report = sla_scan(now=at("2026-10-14 00:00"))
    assert (report.counts["due_soon"], report.counts["materials_reminder"]) == (1, 1)
    assert StageClock.objects.get(case=applied, completed_at__isnull=True).warned_at is not None


def test_backfill_uses_the_agencys_escalation_days(calendar_2026, submit_case, agencies):
    agencies["440300"].escalation_days = 4
    agencies["440300"].save()
    case = submit_case(**ACCEPTED)
    StageClock.objects.update(warn_at=None, escalate_at=None, remind_at=None)
    run_backfill()
    assert StageClock.objects.get(case=case).escalate_at == at("2026-10-22 23:59:59")
