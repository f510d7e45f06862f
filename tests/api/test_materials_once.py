"""Materials: one notice, once (一次性告知; issue 9 defect 3; domain.md).

Before: an agency could request materials again and again, and each request restarted its own
10-working-day clock (four requests moved one deadline from 11-16 to 12-10).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cases.inputs import MSG_REPEAT_REASON
from cases.models import CaseEvent, TransferCase
from notifications.models import Notification
from workflow.calendar import SHANGHAI, get_calendar, local_date
from workflow.models import StageClock

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def act(client_for, who: str, case: TransferCase, action: str, body: dict[str, Any], when: str):
    case.refresh_from_db()
    with time_machine.travel(at(when), tick=False):
        return client_for(who).post(
            f"/api/v1/cases/{case.reference}/transitions/{action}/",
            body,
            format="json",
            HTTP_IF_MATCH=f'"{case.version}"',
        )


def open_due(case: TransferCase) -> dt.date:
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    return local_date(clock.due_at)


def test_a_repeat_request_must_say_why_and_never_restarts_the_clock(
    client_for, submit_case, calendar_2026
):
    case = submit_case(now=at("2026-11-02 09:00"))
    assert open_due(case) == dt.date(2026, 11, 16)

    # The first request stops the clock; resubmission starts it afresh (the national rule).
    r = act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"]},
        "2026-11-03 10:00",
    )
    assert r.status_code == 200, r.content
    assert r.json()["materials_requests"] == {"count": 1, "repeat": False}
    act(client_for, "applicant", case, "resubmit_materials", {}, "2026-11-04 10:00")
    fresh_due = open_due(case)
    assert fresh_due == get_calendar().add_working_days(dt.date(2026, 11, 4), 10)[0]

    # A second request without saying what is wrong with the resubmitted materials: refused.
    before = (CaseEvent.objects.count(), StageClock.objects.count())
    r = act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["劳动合同"]},
        "2026-11-06 10:00",
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"repeat_reason": [str(MSG_REPEAT_REASON)]}
    case.refresh_from_db()
    assert (case.state, case.materials_requests) == ("applied", 1)
    assert (CaseEvent.objects.count(), StageClock.objects.count()) == before

    # With the reason: allowed, counted, and the applicant is told why.
    r = act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"], "repeat_reason": "补交的离职证明缺少单位盖章"},
        "2026-11-06 10:00",
    )
    assert r.status_code == 200, r.content
    assert r.json()["materials_requests"] == {"count": 2, "repeat": True}
    sms = Notification.objects.filter(subject_ref=case.reference, kind="status_changed").latest(
        "id"
    )
    assert "补交的离职证明缺少单位盖章" in sms.body

    # Resubmitted a week later: the remaining working days resume (11-05 and 11-06 used of the
    # fresh 10), the deadline does not start again.
    act(client_for, "applicant", case, "resubmit_materials", {}, "2026-11-13 10:00")
    resumed_due = open_due(case)
    assert resumed_due == get_calendar().add_working_days(dt.date(2026, 11, 13), 8)[0]
    assert resumed_due < get_calendar().add_working_days(dt.date(2026, 11, 13), 10)[0]

    # Two more repeats cannot push it out either: each resumes what was left.
    for asked, resent in (
        ("2026-11-16 10:00", "2026-11-20 10:00"),
        ("2026-11-23 10:00", "2026-11-27 10:00"),
    ):
        act(
            client_for,
            "cw_out",
            case,
            "request_materials",
            {"missing_materials": ["离职证明"], "repeat_reason": "盖章不清晰"},
            asked,
        )
        act(client_for, "applicant", case, "resubmit_materials", {}, resent)
    case.refresh_from_db()
    assert case.materials_requests == 4
    final_due = open_due(case)
    # 8 days resumed at 11-13, 11-16 used 1; then 7 at 11-20, 11-23 used 1; then 6 at 11-27.
    assert final_due == get_calendar().add_working_days(dt.date(2026, 11, 27), 6)[0]
    assert final_due < dt.date(2026, 12, 10)


def test_repeat_requests_are_counted_against_the_agency(client_for, submit_case, calendar_2026):
    case = submit_case(now=at("2026-11-02 09:00"))
    act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"]},
        "2026-11-03 10:00",
    )
    act(client_for, "applicant", case, "resubmit_materials", {}, "2026-11-04 10:00")
    act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"], "repeat_reason": "缺少盖章"},
        "2026-11-05 10:00",
    )
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        stats = (
            client_for("supervisor")
            .get("/api/v1/stats/sla/", {"date_from": "2026-11-01", "date_to": "2026-11-06"})
            .json()
        )
    applied = [
        r for r in stats["rows"] if r["stage"] == "applied" and r["agency"]["code"] == "440300"
    ]
    assert [r["repeat_materials_requests"] for r in applied] == [1]
    assert stats["totals"]["repeat_materials_requests"] == 1


def test_a_late_agency_asking_again_gains_no_time(client_for, submit_case, calendar_2026):
    """Stopped when already late, the clock resumes already due: the next scan flags it."""
    from cases.reminders import sla_scan

    case = submit_case(now=at("2026-11-02 09:00"))  # due 2026-11-16
    act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"]},
        "2026-11-03 10:00",
    )
    act(client_for, "applicant", case, "resubmit_materials", {}, "2026-11-04 10:00")  # due 11-18
    r = act(
        client_for,
        "cw_out",
        case,
        "request_materials",
        {"missing_materials": ["离职证明"], "repeat_reason": "盖章不清晰"},
        "2026-11-25 10:00",  # a week late
    )
    assert r.status_code == 200, r.content
    r = act(client_for, "applicant", case, "resubmit_materials", {}, "2026-11-26 10:00")
    assert r.status_code == 200, r.content
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    assert (clock.window_days, clock.due_at) == (0, at("2026-11-26 10:00:01"))
    sla_scan(now=at("2026-11-26 10:05"))
    clock.refresh_from_db()
    assert clock.breached_at == clock.due_at
