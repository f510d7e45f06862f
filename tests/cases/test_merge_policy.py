"""A merge policy merges accounts within a province only (issue 9 defect 2).

Before: a merge policy on the transfer-in agency completed an inter-province case at confirmation
with no balance step, and a balance of 8,888.88 was never tracked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agencies.models import Agency
from agencies.policies import BalancePolicy
from cases.services import case_transition
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def approve_and_confirm(case, personas, confirmer: str):
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "8888.88"},
        now=AT,
    )
    return case_transition(
        case=case, action="confirm_transfer_in", actor=personas[confirmer], payload={}, now=AT
    )


def test_an_inter_province_case_keeps_its_balance_step_under_a_merge_policy(
    submit_case, personas, calendar_2026
):
    Agency.objects.filter(code="430100").update(balance_policy=BalancePolicy.MERGE)
    case = submit_case()  # Shenzhen (Guangdong) -> Changsha (Hunan)
    assert case.scope == "inter_province"
    case = approve_and_confirm(case, personas, "cw_in")
    assert case.state == "transfer_in_confirmed"
    assert case.has_balance_step
    done = case_transition(
        case=case,
        action="move_balance",
        actor=personas["cw_in"],
        payload={"amount": "8888.88"},
        now=AT,
    )
    assert (done.state, done.balance_received) == ("balance_moved", Decimal("8888.88"))


def test_an_intra_province_case_merges(submit_case, personas, calendar_2026):
    from accounts.models import Role
    from tests.conftest import _user

    Agency.objects.filter(code="440100").update(balance_policy=BalancePolicy.MERGE)
    guangzhou = _user("gz_cw", Role.CASEWORKER, agency_id="440100", is_staff=True)
    personas = {**personas, "cw_gz": guangzhou}
    case = submit_case(to_agency="440100")
    assert case.scope == "intra_province"
    case = approve_and_confirm(case, personas, "cw_gz")
    assert case.state == "balance_moved"
    assert case.merges_accounts
    assert case.events.filter(action="complete_without_balance").count() == 1


def test_merging_into_resident_insurance_pays_out_instead(submit_case, personas, calendar_2026):
    from accounts.models import Role
    from tests.conftest import _user

    Agency.objects.filter(code="440100").update(balance_policy=BalancePolicy.MERGE)
    guangzhou = _user("gz_cw2", Role.CASEWORKER, agency_id="440100", is_staff=True)
    case = submit_case(to_agency="440100", target_insurance_type="resident")
    case = approve_and_confirm(case, {**personas, "cw_gz": guangzhou}, "cw_gz")
    assert not case.merges_accounts
    assert case.state == "transfer_in_confirmed"
    done = case_transition(
        case=case,
        action="pay_out_balance",
        actor=guangzhou,
        payload={"amount": "8888.88"},
        now=AT,
    )
    assert done.balance_outcome == "paid_out"
