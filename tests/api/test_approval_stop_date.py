"""The information form's stop date replaces the intake one (issue 9 defect 5).

Before: ``approve_transfer_out`` ignored a ``stopped_at_source_on`` sent with it; the date the
applicant gave at intake stayed, and with it the continuity advice.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cases.inputs import MSG_DATE_FUTURE
from cases.models import CaseEvent
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def approve(client_for, case, **extra):
    with time_machine.travel(NOW, tick=False):
        return client_for("cw_out").post(
            f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
            {"contribution_months": 60, "personal_account_balance": "1234.56", **extra},
            format="json",
            HTTP_IF_MATCH=f'"{case.version}"',
        )


def test_the_agencys_stop_date_is_recorded_and_judged(client_for, case_in_state):
    case = case_in_state("applied")  # intake: stopped 2026-10-31, enrolled at target 2026-11-01
    r = approve(client_for, case, stopped_at_source_on="2026-11-15")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["stopped_at_source_on"] == "2026-11-15"
    # Cover at the target began before it stopped at source: a duplicate enrolment, not continuous.
    assert body["continuity"]["advice_code"] == "duplicate_enrolment"
    assert body["findings"] == [
        {"code": "duplicate_enrolment", "overlap_months": 1, "refund_amount": None}
    ]
    case.refresh_from_db()
    assert case.stopped_at_source_on == dt.date(2026, 11, 15)
    event = CaseEvent.objects.filter(case=case, action="approve_transfer_out").get()
    assert event.data["stopped_at_source_on"] == "2026-11-15"


def test_without_one_the_intake_date_stays(client_for, case_in_state):
    case = case_in_state("applied")
    assert approve(client_for, case).status_code == 200
    case.refresh_from_db()
    assert case.stopped_at_source_on == dt.date(2026, 10, 31)


@pytest.mark.parametrize(("sent", "field_message"), [("2026-12-31", MSG_DATE_FUTURE)])
def test_a_stop_date_in_the_future_is_refused_and_nothing_moves(
    client_for, case_in_state, sent, field_message
):
    case = case_in_state("applied")
    r = approve(client_for, case, stopped_at_source_on=sent)
    assert r.status_code == 400
    assert r.json()["errors"] == {"stopped_at_source_on": [str(field_message)]}
    case.refresh_from_db()
    assert (case.state, case.stopped_at_source_on) == ("applied", dt.date(2026, 10, 31))
