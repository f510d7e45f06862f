"""The information form, the balance and cross-type moves (issue 9 items 1, 3, 4; domain.md
"Insurance types and cross-type moves", "The information form", "The balance")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cases.inputs import MSG_NO_ARREARS, MSG_RETIRED
from cases.models import CaseEvent, TransferCase
from tests.api.conftest import submit_body
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def submit(client_for, **fields: Any) -> TransferCase:
    with time_machine.travel(NOW, tick=False):
        r = client_for("applicant").post("/api/v1/cases/", submit_body(**fields), format="json")
    assert r.status_code == 201, r.content
    return TransferCase.objects.get(reference=r.json()["reference"])


def act(client_for, who: str, case: TransferCase, action: str, body: dict[str, Any]):
    case.refresh_from_db()
    with time_machine.travel(NOW, tick=False):
        return client_for(who).post(
            f"/api/v1/cases/{case.reference}/transitions/{action}/",
            body,
            format="json",
            HTTP_IF_MATCH=f'"{case.version}"',
        )


FORM = {
    "contribution_months": 96,
    "deemed_months": 24,
    "personal_account_balance": "1000.00",
    "interest": "12.34",
}


def test_the_information_form_is_recorded_and_shown(client_for, calendar_2026):
    case = submit(client_for)
    r = act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    assert r.status_code == 200, r.content
    assert r.json()["information_form"] == {
        "contribution_months": 96,
        "deemed_months": 24,
        "cumulative_months": 120,
        "overlap_months": 0,
        "months_carried_in": 120,
        "cumulative_at_target": None,
        "personal_account_balance": "1000.00",
        "interest": "12.34",
        "balance_due": "1012.34",
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_source_since": None,
        "no_arrears": True,
        "refund_amount": None,
    }
    assert r.json()["balance_outcome"] is None


def test_the_balance_received_is_balance_plus_interest_to_the_fen(client_for, calendar_2026):
    case = submit(client_for)
    act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    act(client_for, "cw_in", case, "confirm_transfer_in", {})
    r = act(client_for, "cw_in", case, "move_balance", {"amount": "1000.00"})
    assert r.status_code == 400
    assert "1012.34" in r.json()["errors"]["amount"][0]
    case.refresh_from_db()
    assert case.state == "transfer_in_confirmed"
    # Paying out is for a target without a personal account: not this one.
    assert (
        act(client_for, "cw_in", case, "pay_out_balance", {"amount": "1012.34"}).status_code == 409
    )
    r = act(client_for, "cw_in", case, "move_balance", {"amount": "1012.34"})
    assert r.status_code == 200, r.content
    assert r.json()["balance_outcome"] == {"outcome": "moved", "amount": "1012.34"}


def test_employee_to_resident_pays_the_balance_out(client_for, calendar_2026):
    case = submit(client_for, target_insurance_type="resident")
    assert case.target_insurance_type == "resident"
    act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {})
    assert r.json()["state"] == "transfer_in_confirmed"
    assert r.json()["next_actions"] == ["pay_out_balance"]
    # Resident insurance keeps no personal account: nothing to credit.
    assert act(client_for, "cw_in", case, "move_balance", {"amount": "1012.34"}).status_code == 409
    r = act(client_for, "cw_in", case, "pay_out_balance", {"amount": "1000"})
    assert r.status_code == 400
    r = act(client_for, "cw_in", case, "pay_out_balance", {"amount": "1012.34"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "balance_moved"
    assert r.json()["balance_outcome"] == {"outcome": "paid_out", "amount": "1012.34"}
    event = CaseEvent.objects.filter(case=case, action="pay_out_balance").get()
    assert event.data == {"amount": "1012.34"}


def test_resident_to_employee_has_no_balance_step(client_for, calendar_2026):
    case = submit(client_for, insurance_type="resident", target_insurance_type="employee")
    act(client_for, "cw_out", case, "approve_transfer_out", {"contribution_months": 36})
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {})
    assert r.json()["state"] == "balance_moved"
    assert r.json()["balance_outcome"] == {"outcome": "none", "amount": None}


def test_arrears_are_a_rejection_not_an_approval(client_for, calendar_2026):
    case = submit(client_for)
    r = act(client_for, "cw_out", case, "approve_transfer_out", {**FORM, "no_arrears": False})
    assert r.status_code == 400
    assert r.json()["errors"] == {"no_arrears": [str(MSG_NO_ARREARS)]}
    case.refresh_from_db()
    assert case.state == "applied"


def test_a_retired_applicant_is_told_why_at_intake(client_for, calendar_2026):
    with time_machine.travel(NOW, tick=False):
        r = client_for("applicant").post("/api/v1/cases/", submit_body(retired=True), format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "retired"
    assert r.json()["errors"] == {"retired": [str(MSG_RETIRED)]}
    assert TransferCase.objects.count() == 0


def test_interest_on_a_zero_balance_still_has_to_arrive(client_for, calendar_2026):
    case = submit(client_for)
    act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {"contribution_months": 12, "personal_account_balance": "0.00", "interest": "3.21"},
    )
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {})
    assert r.json()["state"] == "transfer_in_confirmed"
    r = act(client_for, "cw_in", case, "move_balance", {"amount": "3.21"})
    assert r.json()["balance_outcome"] == {"outcome": "moved", "amount": "3.21"}


def test_months_carry_over_only_within_one_insurance_type(client_for, calendar_2026):
    case = submit(client_for, target_insurance_type="resident")
    r = act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    form = r.json()["information_form"]
    assert (form["cumulative_months"], form["months_carried_in"]) == (120, 0)


def test_the_total_at_the_target_is_shown_once_confirmed(client_for, calendar_2026):
    case = submit(client_for)
    act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {"months_at_target": "３"})
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["months_at_target"]
    case.refresh_from_db()
    assert case.state == "transfer_out_approved"
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {"months_at_target": 30})
    assert r.status_code == 200, r.content
    form = r.json()["information_form"]
    assert (form["months_carried_in"], form["cumulative_at_target"]) == (120, 150)
    case.refresh_from_db()
    assert case.months_at_target == 30


def test_confirming_without_months_at_the_target_counts_none(client_for, calendar_2026):
    case = submit(client_for, target_insurance_type="resident")
    act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {})
    # Employee months do not become resident years: only what was there already counts.
    assert r.json()["information_form"]["cumulative_at_target"] == 0


def test_the_form_records_when_the_enrolment_at_source_began(client_for, calendar_2026):
    case = submit(client_for)
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {**FORM, "enrolled_at_source_since": "2026-11-01"},  # after the stop on 2026-10-31
    )
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["enrolled_at_source_since"]
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {**FORM, "enrolled_at_source_since": "2018-03-01"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["information_form"]["enrolled_at_source_since"] == "2018-03-01"
