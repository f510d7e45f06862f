"""Stage deadlines on the real 2026 calendar, requests for materials, and recomputation."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from cases.models import CaseEvent
from cases.services import case_deadlines_recompute, case_transition
from workflow.calendar import SHANGHAI
from workflow.calendar_data import calendar_import_file
from workflow.models import StageClock


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


def open_clock(case) -> StageClock:
    return StageClock.objects.get(case=case, completed_at__isnull=True)


@pytest.mark.django_db
def test_accepted_before_national_day_is_due_on_the_16th(calendar_2026, submit_case):
    case = submit_case(
        now=at("2026-09-28"), stopped_at_source_on="2026-09-01", enrolled_at_target_on=None
    )
    clock = open_clock(case)
    assert clock.due_at == dt.datetime(2026, 10, 16, 23, 59, 59, tzinfo=SHANGHAI)
    assert clock.provisional is False


@pytest.mark.django_db
def test_transfer_in_window_counts_the_make_up_saturday(calendar_2026, personas, submit_case):
    case = submit_case(
        now=at("2026-09-28"), stopped_at_source_on="2026-09-01", enrolled_at_target_on=None
    )
    # Approved on Friday 2026-10-09: 10-10 (make-up Saturday), 10-12, 10-13, 10-14, 10-15.
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "10.00"},
        now=at("2026-10-09"),
    )
    assert open_clock(case).due_at.date() == dt.date(2026, 10, 15)


@pytest.mark.django_db
def test_shorter_local_window(calendar_2026, agencies, submit_case):
    agencies["440300"].transfer_out_days = 3
    agencies["440300"].save()
    case = submit_case(
        now=at("2026-02-10"), stopped_at_source_on="2026-02-01", enrolled_at_target_on=None
    )
    # 02-11, 02-12, 02-13.
    assert open_clock(case).due_at.date() == dt.date(2026, 2, 13)
    assert open_clock(case).window_days == 3


@pytest.mark.django_db
def test_spring_festival(calendar_2026, submit_case):
    case = submit_case(
        now=at("2026-02-10"), stopped_at_source_on="2026-02-01", enrolled_at_target_on=None
    )
    assert open_clock(case).due_at.date() == dt.date(2026, 3, 2)


def _request_and_resubmit(case, personas, *, stop: str, resume: str):
    case = case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明", "参保凭证"]},
        now=at(stop),
    )
    stopped = StageClock.objects.get(case=case, stage="applied")
    assert stopped.completed_at == at(stop)
    assert stopped.closed_by == "request_materials"
    waiting = open_clock(case)
    assert (waiting.stage, waiting.responsible, waiting.due_at) == (
        "materials_requested",
        "applicant",
        None,
    )
    return case_transition(
        case=case, action="resubmit_materials", actor=personas["applicant"], now=at(resume)
    )


@pytest.mark.django_db
def test_materials_restart_the_clock(calendar_2026, personas, submit_case):
    case = submit_case(
        now=at("2026-11-02"), stopped_at_source_on="2026-10-31", enrolled_at_target_on=None
    )
    case = _request_and_resubmit(case, personas, stop="2026-11-06", resume="2026-11-16")
    clock = open_clock(case)
    assert (clock.stage, clock.window_days) == ("applied", 10)
    # A fresh 10 working days from 2026-11-16.
    assert clock.due_at.date() == dt.date(2026, 11, 30)
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == [
        "submit",
        "request_materials",
        "resubmit_materials",
    ]


@pytest.mark.django_db
@override_settings(MATERIALS_CLOCK_POLICY="resume")
def test_materials_can_resume_the_remaining_days(calendar_2026, personas, submit_case):
    case = submit_case(
        now=at("2026-11-02"), stopped_at_source_on="2026-10-31", enrolled_at_target_on=None
    )
    # 4 working days used (11-03 .. 11-06), 6 left from 2026-11-16: 11-17 .. 11-24.
    case = _request_and_resubmit(case, personas, stop="2026-11-06", resume="2026-11-16")
    clock = open_clock(case)
    assert clock.window_days == 6
    assert clock.due_at.date() == dt.date(2026, 11, 24)


MADE_UP_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-04,holiday,元旦（假想调休）
2027-01-09,makeup,
"""


@pytest.mark.django_db
def test_a_stage_running_into_2027_is_provisional_until_the_schedule_is_imported(
    calendar_2026, personas, submit_case, tmp_path
):
    case = submit_case(
        now=at("2026-12-24"), stopped_at_source_on="2026-12-01", enrolled_at_target_on=None
    )
    clock = open_clock(case)
    # 12-25, 12-28 .. 12-31 (5), 2027-01-01 fixed holiday, 01-04 .. 01-08 (10).
    assert clock.due_at.date() == dt.date(2027, 1, 8)
    assert clock.provisional is True

    path = tmp_path / "2027.csv"
    path.write_text(MADE_UP_2027, encoding="utf-8")
    calendar_import_file(path=path)
    changes = case_deadlines_recompute(now=at("2026-12-28"))

    clock.refresh_from_db()
    # 01-04 is now a holiday, Saturday 01-09 a working day: 01-05 .. 01-08, 01-09.
    assert clock.due_at.date() == dt.date(2027, 1, 9)
    assert clock.provisional is False
    assert [(c.reference, c.new_due_at.date()) for c in changes] == [
        (case.reference, dt.date(2027, 1, 9))
    ]
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert event.action == "deadline_recomputed"
    assert event.actor_role == "system"
    assert event.data["old_due_at"].startswith("2027-01-08")
    assert event.data["new_due_at"].startswith("2027-01-09")
    # Nothing moves a second time.
    assert case_deadlines_recompute(now=at("2026-12-28")) == []


@pytest.mark.django_db
def test_recompute_unflags_a_stage_that_is_no_longer_late(calendar_2026, submit_case, tmp_path):
    case = submit_case(
        now=at("2026-12-24"), stopped_at_source_on="2026-12-01", enrolled_at_target_on=None
    )
    clock = open_clock(case)
    clock.breached_at = at("2027-01-09", 0)
    clock.save()
    path = tmp_path / "2027.csv"
    path.write_text(MADE_UP_2027, encoding="utf-8")
    calendar_import_file(path=path)
    case_deadlines_recompute(now=at("2027-01-09", 1))
    clock.refresh_from_db()
    # The flag is the clock's: the case document and the overdue count read it there.
    assert clock.breached_at is None
    assert clock.due_at > at("2027-01-09", 1)


@pytest.mark.django_db
def test_recompute_deadlines_command_reports_moves(calendar_2026, submit_case, tmp_path):
    case = submit_case(
        now=at("2026-12-24"), stopped_at_source_on="2026-12-01", enrolled_at_target_on=None
    )
    path = tmp_path / "2027.csv"
    path.write_text(MADE_UP_2027, encoding="utf-8")
    calendar_import_file(path=path)
    out = StringIO()
    call_command("recompute_deadlines", stdout=out)
    assert f"{case.reference} applied: 2027-01-08 -> 2027-01-09" in out.getvalue()
    assert "1 deadline(s) moved" in out.getvalue()


@pytest.mark.django_db
def test_an_import_moves_an_escalation_that_falls_in_the_imported_year(
    calendar_2026, submit_case, tmp_path
):
    """Due on 2026-12-31 (published): the deadline stays, but the escalation 2 working days later
    was counted on the provisional 2027 and moves with the imported schedule."""
    # 12-18, 12-21 .. 12-25, 12-28 .. 12-31.
    case = submit_case(
        now=at("2026-12-17"), stopped_at_source_on="2026-12-01", enrolled_at_target_on=None
    )
    clock = open_clock(case)
    assert (clock.due_at.date(), clock.provisional) == (dt.date(2026, 12, 31), False)
    # Provisional 2027: 01-01 holiday, weekend, then 01-04 and 01-05.
    assert clock.escalate_at == dt.datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
    path = tmp_path / "2027.csv"
    path.write_text(MADE_UP_2027, encoding="utf-8")
    out = StringIO()
    call_command("import_calendar", str(path), stdout=out)
    clock.refresh_from_db()
    # 01-04 is a holiday now: 01-05, 01-06.
    assert clock.escalate_at == dt.datetime(2027, 1, 6, 23, 59, 59, tzinfo=SHANGHAI)
    assert clock.due_at.date() == dt.date(2026, 12, 31)
    # The applicant's deadline did not move: no event, nothing reported.
    assert "0 deadlines moved" in out.getvalue()
    assert not CaseEvent.objects.filter(case=case, action="deadline_recomputed").exists()


@pytest.mark.django_db
def test_sync_calendar_recomputes_provisional_deadlines(submit_case):
    # No schedule loaded: 2026 counts only weekends and the fixed-date holidays, so a stage
    # started before National Day is due 2026-10-14 provisionally.
    case = submit_case(
        now=at("2026-09-28"), stopped_at_source_on="2026-09-01", enrolled_at_target_on=None
    )
    clock = open_clock(case)
    assert (clock.due_at.date(), clock.provisional) == (dt.date(2026, 10, 14), True)
    out = StringIO()
    call_command("sync_calendar", "--year", "2026", stdout=out)
    clock.refresh_from_db()
    assert (clock.due_at.date(), clock.provisional) == (dt.date(2026, 10, 16), False)
    assert f"{case.reference} applied: 2026-10-14 -> 2026-10-16" in out.getvalue()
    assert CaseEvent.objects.filter(case=case, action="deadline_recomputed").count() == 1


@pytest.mark.django_db
def test_an_admin_calendar_edit_moves_open_deadlines(calendar_2026, submit_case, client):
    from accounts.models import User
    from workflow.models import CalendarDay

    case = submit_case(
        now=at("2026-09-28"), stopped_at_source_on="2026-09-01", enrolled_at_target_on=None
    )
    admin = User.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    response = client.post(
        f"/admin/workflow/calendarday/{dt.date(2026, 10, 14).isoformat()}/change/",
        {"kind": "holiday", "name": "临时休假", "note": "test"},
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.get(date=dt.date(2026, 10, 14)).is_workday
    assert open_clock(case).due_at.date() == dt.date(2026, 10, 19)
    assert CaseEvent.objects.filter(case=case, action="deadline_recomputed").count() == 1
