"""The rest of issue 9's rules as data (domain.md "Eligibility rules per agency", "Gaps in cover"):
shorter windows in an agency's effective-dated rule, a province's rule for agencies that set none,
and the resident waiting period shortened by contributions paid back (缴费修复)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from agencies.models import AgencyRule
from agencies.rules import _memo, agency_rule_save
from cases.continuity import NATIONAL, resident_waiting_months
from cases.models import TransferCase
from tests.api.conftest import submit_body
from workflow.calendar import SHANGHAI, get_calendar

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _no_remembered_rules():
    _memo.clear()
    yield
    _memo.clear()


def rule(personas, agency: str, **fields) -> AgencyRule:
    values = {"agency_id": agency, "effective_from": dt.date(2026, 1, 1), **fields}
    return agency_rule_save(
        rule=AgencyRule(**values), actor=personas["supervisor"], now=NOW, seed=True
    )


def submit(client_for, **fields) -> TransferCase:
    with time_machine.travel(NOW, tick=False):
        r = client_for("applicant").post("/api/v1/cases/", submit_body(**fields), format="json")
    assert r.status_code == 201, r.content
    return TransferCase.objects.get(reference=r.json()["reference"])


def due_days(case: TransferCase) -> int:
    clock = case.clocks.get(completed_at__isnull=True)
    return clock.window_days


def test_a_shorter_window_in_the_rule_in_force_sets_the_deadline(
    client_for, personas, calendar_2026
):
    rule(personas, "440300", transfer_out_days=5)
    case = submit(client_for)
    assert due_days(case) == 5
    clock = case.clocks.get()
    assert clock.due_at == get_calendar().deadline(clock.started_at, 5).due_at
    document = client_for("applicant").get(f"/api/v1/cases/{case.reference}/").json()
    assert document["stage"]["working_days_allowed"] == 5


def test_a_window_rule_applies_only_to_cases_submitted_after_it_takes_effect(
    client_for, personas, calendar_2026
):
    rule(personas, "440300", effective_from=dt.date(2026, 12, 1), transfer_out_days=5)
    case = submit(client_for)  # submitted 2026-11-24, before the rule
    assert due_days(case) == 10


def test_the_transfer_in_window_comes_from_the_target_agencys_rule(
    client_for, personas, calendar_2026
):
    rule(personas, "430100", transfer_in_days=3)
    case = submit(client_for)
    with time_machine.travel(NOW, tick=False):
        r = client_for("cw_out").post(
            f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
            {"contribution_months": 12, "personal_account_balance": "1.00"},
            format="json",
        )
    assert r.status_code == 200, r.content
    assert r.json()["stage"]["working_days_allowed"] == 3


def test_a_province_rule_holds_for_its_agencies_without_one(client_for, personas, calendar_2026):
    rule(personas, "440000", accepts_resident=False, basis="粤医保规〔2026〕1号")
    # Guangzhou has no rule of its own: Guangdong's is in force there.
    with time_machine.travel(NOW, tick=False):
        r = client_for("applicant").post(
            "/api/v1/cases/",
            submit_body(insurance_type="resident", to_agency="440100"),
            format="json",
        )
    assert r.status_code == 400
    assert r.json()["code"] == "ineligible_by_local_rule"
    assert r.json()["rules"] == ["insurance_types"]
    published = client_for(None).get("/api/v1/agencies/440100/rules/").json()
    assert published["in_force"]["set_by"] == "440000"
    assert published["in_force"]["insurance_types_accepted"] == ["employee"]


def test_an_agencys_own_rule_wins_over_its_provinces(client_for, personas, calendar_2026):
    rule(personas, "440000", accepts_resident=False)
    rule(personas, "440100", accepts_resident=True)
    case = submit(client_for, insurance_type="resident", to_agency="440100")
    assert case.state == "applied"
    published = client_for(None).get("/api/v1/agencies/440100/rules/").json()
    assert published["in_force"]["set_by"] == "440100"


@pytest.mark.parametrize(
    ("years", "repaired", "waiting"),
    [
        (1, 0, 3),
        (3, 1, 4),  # 3 + 2 added - 1 repaired
        (3, 5, 3),  # never below the fixed 3
        (5, 1, 6),  # 7 - 1
        (5, 3, 6),  # 7 - 3 = 4, but after 4+ years the repaired total stays at least 6
        (6, 1, 7),  # 8 - 1: above the floor
        (4, 0, 6),  # no repair: 3 + 3
    ],
)
def test_contributions_paid_back_shorten_the_resident_waiting_period(years, repaired, waiting):
    assert resident_waiting_months(years, NATIONAL, years_repaired=repaired) == waiting


def test_the_transfer_in_agency_records_years_paid_back(client_for, personas, calendar_2026):
    # Resident cover stopped at the end of 2020, enrolled at the target in November 2026:
    # 5 full calendar years without cover (2021-2025) -> 7 months; 2 years paid back -> 6 (floor).
    case = submit(
        client_for,
        insurance_type="resident",
        stopped_at_source_on="2020-12-31",
        enrolled_at_target_on="2026-11-01",
    )
    doc = client_for("applicant").get(f"/api/v1/cases/{case.reference}/").json()
    assert doc["continuity"]["waiting_months"] == 7
    with time_machine.travel(NOW, tick=False):
        client_for("cw_out").post(
            f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
            {"contribution_months": 24},
            format="json",
        )
        refused = client_for("cw_in").post(
            f"/api/v1/cases/{case.reference}/transitions/confirm_transfer_in/",
            {"years_repaired": "２"},
            format="json",
        )
        assert refused.status_code == 400
        assert list(refused.json()["errors"]) == ["years_repaired"]
        r = client_for("cw_in").post(
            f"/api/v1/cases/{case.reference}/transitions/confirm_transfer_in/",
            {"years_repaired": 2},
            format="json",
        )
    assert r.status_code == 200, r.content
    assert r.json()["continuity"]["waiting_months"] == 6
    case.refresh_from_db()
    assert case.resident_years_repaired == 2


def test_years_paid_back_are_for_resident_insurance_only(client_for, calendar_2026):
    case = submit(client_for)
    with time_machine.travel(NOW, tick=False):
        client_for("cw_out").post(
            f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
            {"contribution_months": 24, "personal_account_balance": "1.00"},
            format="json",
        )
        r = client_for("cw_in").post(
            f"/api/v1/cases/{case.reference}/transitions/confirm_transfer_in/",
            {"years_repaired": 1},
            format="json",
        )
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["years_repaired"]
    case.refresh_from_db()
    assert case.state == "transfer_out_approved"


def test_a_target_that_keeps_personal_accounts_for_resident_insurance_credits_the_balance(
    client_for, personas, calendar_2026
):
    rule(personas, "430100", resident_keeps_personal_account=True)
    case = submit(client_for, target_insurance_type="resident")
    with time_machine.travel(NOW, tick=False):
        client_for("cw_out").post(
            f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
            {"contribution_months": 24, "personal_account_balance": "800.00"},
            format="json",
        )
        r = client_for("cw_in").post(
            f"/api/v1/cases/{case.reference}/transitions/confirm_transfer_in/", {}, format="json"
        )
        assert r.json()["next_actions"] == ["move_balance"]
        r = client_for("cw_in").post(
            f"/api/v1/cases/{case.reference}/transitions/move_balance/",
            {"amount": "800.00"},
            format="json",
        )
    assert r.json()["balance_outcome"] == {"outcome": "moved", "amount": "800.00"}


def test_repair_never_makes_the_wait_longer_than_without_it():
    from cases.continuity import ContinuityRules

    short = ContinuityRules(resident_fixed_waiting_months=1)
    # 4 years without cover: 1 + 3 = 4 months; one year repaired would be 3, the floor of 6
    # stops at the unrepaired 4.
    assert resident_waiting_months(4, short, years_repaired=1) == 4
    high_floor = ContinuityRules(resident_repair_floor_months=12)
    assert resident_waiting_months(5, high_floor, years_repaired=1) == 7


def test_a_rule_window_never_lengthens_the_agencys_own(client_for, personas, calendar_2026):
    from agencies.models import Agency

    Agency.objects.filter(code="440300").update(transfer_out_days=5)
    rule(personas, "440000", transfer_out_days=8)  # the province allows 8: Shenzhen keeps 5
    case = submit(client_for)
    assert due_days(case) == 5


def test_changes_of_the_new_rule_fields_are_audited(personas):
    from agencies.models import AgencyRuleChange

    saved = agency_rule_save(
        rule=AgencyRule(
            agency_id="430100",
            effective_from=dt.date(2027, 1, 1),
            transfer_in_days=3,
            resident_keeps_personal_account=True,
            resident_repair_floor_months=5,
        ),
        actor=personas["supervisor"],
        now=NOW,
    )
    change = AgencyRuleChange.objects.get(rule=saved)
    assert change.after["transfer_in_days"] == 3
    assert change.after["resident_keeps_personal_account"] is True
    assert change.after["resident_repair_floor_months"] == 5


def test_staff_see_every_fact_an_approval_recorded(client_for, personas, case_in_state):
    from django.test import Client

    case = case_in_state("transfer_out_approved")
    staff = Client()
    staff.force_login(personas["cw_out"])
    html = staff.get(f"/admin/cases/transfercase/{case.pk}/change/").content.decode()
    assert "缴费月数：60" in html
    assert "个人账户余额：1234.56" in html
