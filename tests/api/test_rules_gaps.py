"""Rules the other API tests leave open: no balance in resident insurance, overlap months counted
once, cross-type months and continuity, the default target type, and every rejection reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cases.continuity import NATIONAL
from cases.inputs import MSG_REASON_OTHER_NOTE, MSG_RESIDENT_BALANCE
from cases.models import CaseEvent, TransferCase
from cases.states import RejectReason
from tests.api.conftest import submit_body
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)

FORM = {
    "contribution_months": 96,
    "deemed_months": 24,
    "personal_account_balance": "1000.00",
    "interest": "12.34",
}


@pytest.fixture(autouse=True)
def _no_remembered_rules() -> None:
    # Continuity reads the transfer-in agency's rule through a per-process memo; a rule another
    # test created (and rolled back) must not change the numbers here.
    from agencies import rules

    rules._memo.clear()


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


def document(client_for, case: TransferCase, who: str = "cw_out") -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        r = client_for(who).get(f"/api/v1/cases/{case.reference}/")
    assert r.status_code == 200, r.content
    return r.json()


def events(client_for, case: TransferCase, who: str = "cw_out") -> list[dict[str, Any]]:
    with time_machine.travel(NOW, tick=False):
        r = client_for(who).get(f"/api/v1/cases/{case.reference}/events/")
    assert r.status_code == 200, r.content
    return r.json()["results"]


def snapshot(case: TransferCase) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.state,
        case.version,
        case.contribution_months,
        case.deemed_months,
        case.personal_account_balance,
        case.interest,
        case.no_arrears,
        case.reject_reason,
        CaseEvent.objects.filter(case=case).count(),
    )


# --- 1. Resident insurance keeps no personal account ---------------------------------------------


@pytest.mark.parametrize(
    ("money", "fields"),
    [
        ({"personal_account_balance": "5.00"}, ["personal_account_balance"]),
        ({"personal_account_balance": "0.01", "interest": "0"}, ["personal_account_balance"]),
        ({"interest": "1.00"}, ["interest"]),
        ({"personal_account_balance": "0.00", "interest": "0.50"}, ["interest"]),
        (
            {"personal_account_balance": "100.00", "interest": "2.00"},
            ["personal_account_balance", "interest"],
        ),
    ],
)
def test_a_resident_case_approved_with_money_is_refused(
    client_for, calendar_2026, money: dict[str, str], fields: list[str]
):
    case = submit(client_for, insurance_type="resident")
    before = snapshot(case)
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {"contribution_months": 36, **money},
    )
    assert r.status_code == 400, r.content
    assert r.json()["errors"] == {field: [str(MSG_RESIDENT_BALANCE)] for field in fields}
    assert snapshot(case) == before
    assert case.state == "applied"
    assert case.contribution_months is None
    assert case.personal_account_balance is None
    doc = document(client_for, case)
    assert doc["state"] == "applied"
    assert doc["information_form"] is None
    assert doc["contribution_months"] is None
    assert doc["personal_account_balance"] is None
    assert [e["action"] for e in events(client_for, case)] == ["submit"]


def test_a_resident_case_approved_with_zero_money_goes_through(client_for, calendar_2026):
    # The control for the refusals above: zero balance and zero interest are what the form says.
    case = submit(client_for, insurance_type="resident")
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {"contribution_months": 36, "personal_account_balance": "0.00", "interest": "0"},
    )
    assert r.status_code == 200, r.content
    form = r.json()["information_form"]
    assert form["personal_account_balance"] == "0.00"
    assert form["interest"] == "0.00"
    assert form["balance_due"] == "0.00"
    assert r.json()["state"] == "transfer_out_approved"


# --- 2. Overlap months count once ------------------------------------------------------------------


def test_overlap_months_are_counted_once(client_for, calendar_2026):
    # Enrolled at the target on 2026-09-01, cover at the source stopped 2026-10-31: insured at
    # both ends in September and October, both months included: 2.
    case = submit(client_for, stopped_at_source_on="2026-10-31", enrolled_at_target_on="2026-09-01")
    overlap = 2
    r = act(client_for, "cw_out", case, "approve_transfer_out", FORM)
    assert r.status_code == 200, r.content
    doc = r.json()
    form = doc["information_form"]
    assert form["contribution_months"] == 96
    assert form["deemed_months"] == 24
    assert form["cumulative_months"] == 120
    assert form["overlap_months"] == overlap
    assert form["months_carried_in"] == 120 - overlap == 118
    assert form["cumulative_at_target"] is None
    assert doc["findings"] == [
        {"code": "duplicate_enrolment", "overlap_months": overlap, "refund_amount": None}
    ]
    assert doc["continuity"]["overlap_months"] == overlap
    assert doc["continuity"]["advice_code"] == "duplicate_enrolment"
    assert (doc["continuity"]["gap_months"], doc["continuity"]["waiting_months"]) == (0, 0)
    # The same on the case document, and at the target once confirmed: the overlap once.
    assert document(client_for, case)["information_form"] == form
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {"months_at_target": 10})
    assert r.status_code == 200, r.content
    form = r.json()["information_form"]
    assert (form["months_carried_in"], form["cumulative_at_target"]) == (118, 128)


def test_no_overlap_no_finding(client_for, calendar_2026):
    case = submit(client_for, stopped_at_source_on="2026-10-31", enrolled_at_target_on="2026-11-01")
    doc = act(client_for, "cw_out", case, "approve_transfer_out", FORM).json()
    assert doc["findings"] == []
    assert (
        doc["information_form"]["overlap_months"],
        doc["information_form"]["months_carried_in"],
    ) == (
        0,
        120,
    )


# --- 3. Resident years do not become employee years ------------------------------------------------


def test_resident_to_employee_carries_no_months_in(client_for, calendar_2026):
    case = submit(client_for, insurance_type="resident", target_insurance_type="employee")
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {"contribution_months": 48, "deemed_months": 12},
    )
    assert r.status_code == 200, r.content
    form = r.json()["information_form"]
    assert form["contribution_months"] == 48
    assert form["deemed_months"] == 12
    assert form["cumulative_months"] == 60
    assert form["months_carried_in"] == 0
    assert form["cumulative_at_target"] is None
    r = act(client_for, "cw_in", case, "confirm_transfer_in", {"months_at_target": 7})
    assert r.status_code == 200, r.content
    form = r.json()["information_form"]
    assert (form["cumulative_months"], form["months_carried_in"]) == (60, 0)
    # Only what the person already had at the target counts there.
    assert form["cumulative_at_target"] == 7


def test_resident_to_resident_carries_the_months_in(client_for, calendar_2026):
    # The control: within resident insurance the months do carry over.
    case = submit(client_for, insurance_type="resident")
    r = act(
        client_for,
        "cw_out",
        case,
        "approve_transfer_out",
        {"contribution_months": 48, "deemed_months": 12},
    )
    form = r.json()["information_form"]
    assert (form["cumulative_months"], form["months_carried_in"]) == (60, 60)


# --- 4. The target type defaults to the source type ------------------------------------------------


@pytest.mark.parametrize("insurance_type", ["employee", "resident"])
def test_the_target_type_defaults_to_the_source_type(client_for, calendar_2026, insurance_type):
    body = submit_body(insurance_type=insurance_type)
    assert "target_insurance_type" not in body
    with time_machine.travel(NOW, tick=False):
        r = client_for("applicant").post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["insurance_type"] == insurance_type
    assert r.json()["target_insurance_type"] == insurance_type
    case = TransferCase.objects.get(reference=r.json()["reference"])
    assert (case.insurance_type, case.target_insurance_type) == (insurance_type, insurance_type)
    doc = document(client_for, case)
    assert (doc["insurance_type"], doc["target_insurance_type"]) == (insurance_type, insurance_type)
    submitted = events(client_for, case)[0]
    assert submitted["action"] == "submit"
    assert submitted["data"]["target_insurance_type"] == insurance_type


@pytest.mark.parametrize(("source", "target"), [("employee", "resident"), ("resident", "employee")])
def test_a_target_type_sent_is_kept(client_for, calendar_2026, source, target):
    case = submit(client_for, insurance_type=source, target_insurance_type=target)
    doc = document(client_for, case)
    assert (doc["insurance_type"], doc["target_insurance_type"]) == (source, target)


# --- 5. Rejection, for every reason ----------------------------------------------------------------

REASONS_WITHOUT_NOTE = [r for r in RejectReason.values if r != RejectReason.OTHER]


def test_every_reason_but_other_is_covered():
    assert sorted(REASONS_WITHOUT_NOTE) == sorted(
        [
            "not_stopped_at_source",
            "not_enrolled_at_target",
            "arrears",
            "duplicate_enrolment",
            "retired",
            "ineligible_by_local_rule",
        ]
    )


@pytest.mark.parametrize("reason", REASONS_WITHOUT_NOTE)
def test_a_rejection_records_its_reason_and_happens_once(client_for, calendar_2026, reason):
    case = submit(client_for)
    r = act(client_for, "cw_out", case, "reject", {"reason_code": reason})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "rejected"
    assert r.json()["reject_reason"] == reason
    assert r.json()["next_actions"] == []
    case.refresh_from_db()
    assert (case.state, case.reject_reason) == ("rejected", reason)
    assert case.closed_at is not None
    rejected = CaseEvent.objects.filter(case=case, action="reject").get()
    assert (rejected.reason_code, rejected.from_state) == (reason, "applied")
    assert rejected.data == {"reason_code": reason}
    timeline = events(client_for, case)
    assert [e["action"] for e in timeline] == ["submit", "reject"]
    assert timeline[-1]["reason_code"] == reason
    assert timeline[-1]["to_state"] == "rejected"

    before = snapshot(case)
    again = act(client_for, "cw_out", case, "reject", {"reason_code": "other", "note": "again"})
    assert again.status_code == 409, again.content
    assert again.json()["code"] == "transition_not_allowed"
    assert again.json()["state"] == "rejected"
    assert snapshot(case) == before
    assert document(client_for, case)["reject_reason"] == reason


@pytest.mark.parametrize("note", [None, "", "   "])
def test_other_needs_a_note(client_for, calendar_2026, note):
    case = submit(client_for)
    before = snapshot(case)
    body: dict[str, Any] = {"reason_code": "other"}
    if note is not None:
        body["note"] = note
    r = act(client_for, "cw_out", case, "reject", body)
    assert r.status_code == 400, r.content
    assert r.json()["errors"] == {"note": [str(MSG_REASON_OTHER_NOTE)]}
    assert snapshot(case) == before
    assert case.state == "applied"
    assert case.reject_reason == ""
    assert document(client_for, case)["reject_reason"] is None


def test_other_with_a_note_rejects_once(client_for, calendar_2026):
    case = submit(client_for)
    r = act(client_for, "cw_out", case, "reject", {"reason_code": "other", "note": "申请重复提交"})
    assert r.status_code == 200, r.content
    assert (r.json()["state"], r.json()["reject_reason"]) == ("rejected", "other")
    rejected = CaseEvent.objects.filter(case=case, action="reject").get()
    assert (rejected.reason_code, rejected.note) == ("other", "申请重复提交")
    timeline = events(client_for, case)
    assert (timeline[-1]["reason_code"], timeline[-1]["note"]) == ("other", "申请重复提交")

    before = snapshot(case)
    again = act(client_for, "cw_out", case, "reject", {"reason_code": "arrears"})
    assert again.status_code == 409, again.content
    assert again.json()["code"] == "transition_not_allowed"
    assert snapshot(case) == before


def test_a_reason_not_on_the_list_is_refused(client_for, calendar_2026):
    case = submit(client_for)
    before = snapshot(case)
    r = act(client_for, "cw_out", case, "reject", {"reason_code": "bored"})
    assert r.status_code == 400, r.content
    assert list(r.json()["errors"]) == ["reason_code"]
    assert snapshot(case) == before


# --- 6. Continuity is judged on the target type ----------------------------------------------------

# Cover stopped 2023-12-31, enrolled 2026-11-01: 34 months without cover (2024-01 to 2026-10), of
# which 2024 and 2025 are whole calendar years.
LONG_GAP = {"stopped_at_source_on": "2023-12-31", "enrolled_at_target_on": "2026-11-01"}
GAP_MONTHS = 34
RESIDENT_WAITING = NATIONAL.resident_fixed_waiting_months + (2 - 1)  # 3 fixed + 1 = 4
EMPLOYEE_WAITING = NATIONAL.employee_waiting_months  # 6


def test_the_national_numbers_this_relies_on():
    assert (RESIDENT_WAITING, EMPLOYEE_WAITING) == (4, 6)


@pytest.mark.parametrize(
    ("source", "target", "waiting"),
    [
        ("employee", "resident", RESIDENT_WAITING),
        ("resident", "employee", EMPLOYEE_WAITING),
        ("employee", "employee", EMPLOYEE_WAITING),
        ("resident", "resident", RESIDENT_WAITING),
    ],
)
def test_continuity_is_judged_on_the_target_type(
    client_for, calendar_2026, source, target, waiting
):
    case = submit(client_for, insurance_type=source, target_insurance_type=target, **LONG_GAP)
    continuity = document(client_for, case)["continuity"]
    assert continuity["gap_months"] == GAP_MONTHS
    assert continuity["overlap_months"] == 0
    assert continuity["advice_code"] == "waiting_period"
    assert continuity["waiting_months"] == waiting
    # The applicant sees the same.
    assert document(client_for, case, who="applicant")["continuity"] == continuity


def test_a_short_gap_into_resident_insurance_is_no_catch_up(client_for, calendar_2026):
    # Two months without cover: employee insurance lets them be paid for (catch_up); resident
    # insurance has its fixed 3-month wait, whatever the source type.
    gap = {"stopped_at_source_on": "2026-08-31", "enrolled_at_target_on": "2026-11-01"}
    into_resident = submit(client_for, target_insurance_type="resident", **gap)
    continuity = document(client_for, into_resident)["continuity"]
    assert (continuity["gap_months"], continuity["advice_code"], continuity["waiting_months"]) == (
        2,
        "waiting_period",
        NATIONAL.resident_fixed_waiting_months,
    )
    r = act(client_for, "applicant", into_resident, "withdraw", {})
    assert r.status_code == 200, r.content
    into_employee = submit(client_for, **gap)
    continuity = document(client_for, into_employee)["continuity"]
    assert (continuity["gap_months"], continuity["advice_code"], continuity["waiting_months"]) == (
        2,
        "catch_up",
        0,
    )
