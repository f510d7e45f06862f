"""Agencies' own eligibility rules as effective-dated data (issue 9 item 2; domain.md
"Eligibility rules per agency"): published, checked at intake, audited, edited by the agency's
supervisor or an administrator."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from agencies.models import AgeLimitScope, AgencyRule, AgencyRuleChange
from agencies.rules import agency_rule_save
from cases.models import TransferCase
from cases.services import case_transition
from tests.api.conftest import submit_body
from tests.conftest import make_id_number
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def rule(personas, **fields) -> AgencyRule:
    """A rule already on the books (seeded: it may be in force already)."""
    values = {"agency_id": "430100", "effective_from": dt.date(2026, 1, 1), **fields}
    return agency_rule_save(
        rule=AgencyRule(**values), actor=personas["supervisor"], now=NOW, seed=True
    )


def window_submit(client_for, *, id_number: str, **fields):
    body = submit_body(
        channel="window", applicant={"name": "王五", "id_number": id_number, "phone": ""}, **fields
    )
    with time_machine.travel(NOW, tick=False):
        return client_for("cw_out").post("/api/v1/cases/", body, format="json")


def test_an_age_limit_on_inter_province_transfers_in_is_a_400_naming_the_rule(
    client_for, personas, calendar_2026
):
    rule(personas, max_age_male=50, max_age_female=40, basis="长医保发〔2026〕1号")
    man_52 = make_id_number("440306", "19740101", 11)  # odd sequence: male, 52 on 2026-11-24
    r = window_submit(client_for, id_number=man_52)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "ineligible_by_local_rule"
    assert body["rules"] == ["max_age_male"]
    [message] = body["errors"]["to_agency"]
    assert "50" in message
    assert "52" in message
    assert "2026-01-01" in message
    assert TransferCase.objects.count() == 0
    # 未满: men of 49 and women of 39 are in; a man of exactly 50 and a woman of 40 are not.
    assert (
        window_submit(client_for, id_number=make_id_number("440306", "19770101", 13)).status_code
        == 201
    )
    assert (
        window_submit(client_for, id_number=make_id_number("440306", "19870101", 22)).status_code
        == 201
    )
    r = window_submit(client_for, id_number=make_id_number("440306", "19760101", 15))
    assert r.json()["rules"] == ["max_age_male"]
    r = window_submit(client_for, id_number=make_id_number("440306", "19860101", 24))
    assert r.json()["rules"] == ["max_age_female"]


def test_a_rule_applies_to_cases_submitted_after_it_takes_effect(
    client_for, personas, calendar_2026
):
    rule(personas, effective_from=dt.date(2026, 12, 1), max_age_male=50)
    assert (
        window_submit(client_for, id_number=make_id_number("440306", "19740101", 31)).status_code
        == 201
    )


def test_an_intra_province_limit_only_when_the_rule_says_every_transfer(
    client_for, personas, calendar_2026
):
    # Guangzhou's rule: an age limit on inter-province transfers in; Shenzhen -> Guangzhou is within Guangdong.
    rule(personas, agency_id="440100", max_age_male=50)
    man_52 = make_id_number("440306", "19740101", 41)
    assert window_submit(client_for, id_number=man_52, to_agency="440100").status_code == 201
    AgencyRule.objects.filter(agency_id="440100").update(age_limit_scope=AgeLimitScope.ALL)
    another_man_52 = make_id_number("440306", "19740101", 43)
    r = window_submit(client_for, id_number=another_man_52, to_agency="440100")
    assert r.json()["rules"] == ["max_age_male"]


def test_an_insurance_type_the_target_does_not_take(client_for, personas, calendar_2026):
    rule(personas, accepts_resident=False)
    r = window_submit(
        client_for,
        id_number=make_id_number("440306", "19900101", 51),
        target_insurance_type="resident",
    )
    assert (r.status_code, r.json()["rules"]) == (400, ["insurance_types"])


def test_a_target_that_takes_no_balances_pays_it_out(
    client_for, personas, submit_case, calendar_2026
):
    rule(personas, accepts_balance=False)
    case = submit_case()
    for action, who, payload in (
        (
            "approve_transfer_out",
            "cw_out",
            {"contribution_months": 12, "personal_account_balance": "500.00"},
        ),
        ("confirm_transfer_in", "cw_in", {}),
    ):
        case = case_transition(
            case=case, action=action, actor=personas[who], payload=payload, now=NOW
        )
    assert case.state == "transfer_in_confirmed"
    assert not case.balance_accepted
    done = case_transition(
        case=case,
        action="pay_out_balance",
        actor=personas["cw_in"],
        payload={"amount": "500.00"},
        now=NOW,
    )
    assert done.balance_outcome == "paid_out"


def test_the_rules_are_published(client_for, personas):
    rule(personas, max_age_male=50, max_age_female=40, basis="长医保发〔2026〕1号")
    rule(personas, effective_from=dt.date(2027, 1, 1), max_age_male=55, max_age_female=45)
    with time_machine.travel(NOW, tick=False):
        r = client_for(None).get("/api/v1/agencies/430100/rules/")
    assert r.status_code == 200
    body = r.json()
    assert body["agency"] == {"code": "430100", "name": "长沙市医疗保障局"}
    assert body["in_force"] == {
        "set_by": "430100",
        "effective_from": "2026-01-01",
        "max_age_male": 50,
        "max_age_female": 40,
        "age_limit_scope": "inter_province",
        "insurance_types_accepted": ["employee", "resident"],
        "accepts_balance": True,
        "resident_keeps_personal_account": False,
        "catch_up_max_gap_months": None,
        "employee_waiting_months": None,
        "resident_fixed_waiting_months": None,
        "resident_repair_floor_months": None,
        "transfer_out_days": None,
        "transfer_in_days": None,
        "balance_days": None,
        "basis": "长医保发〔2026〕1号",
    }
    assert [s["effective_from"] for s in body["scheduled"]] == ["2027-01-01"]
    assert body["windows"] == {"transfer_out_days": 10, "transfer_in_days": 5, "balance_days": 5}
    assert client_for(None).get("/api/v1/agencies/999999/rules/").status_code == 404
    r = client_for(None).get("/api/v1/agencies/110000/rules/")
    assert (r.status_code, r.json()["in_force"], r.json()["scheduled"]) == (200, None, [])


FORM = {
    "agency": "430100",
    "effective_from": "2026-01-01",
    "max_age_male": "55",
    "max_age_female": "",
    "age_limit_scope": "inter_province",
    "accepts_employee": "on",
    "accepts_resident": "on",
    "accepts_balance": "on",
    "basis": "",
}


def test_changes_are_audited_and_only_the_agencys_supervisor_or_an_administrator_edits(
    client, personas
):
    from accounts.models import Role
    from tests.conftest import _user

    future = rule(personas, effective_from=dt.date(2027, 7, 1), max_age_male=50)
    url = reverse("admin:agencies_agencyrule_change", args=[future.pk])
    form = {**FORM, "effective_from": "2027-07-01"}

    # Shenzhen's supervisor: Changsha's rule is not theirs to see or change.
    client.force_login(personas["supervisor"])
    client.post(url, form)
    future.refresh_from_db()
    assert future.max_age_male == 50
    assert AgencyRuleChange.objects.filter(rule=future).count() == 1  # its creation only

    changsha = _user("cs_sup", Role.SUPERVISOR, agency_id="430100", is_staff=True)
    client.force_login(changsha)
    page = client.post(url, form)
    assert page.status_code == 302, page.content.decode()[:2000]
    future.refresh_from_db()
    assert future.max_age_male == 55
    change = AgencyRuleChange.objects.latest("id")
    assert (change.changed_by, change.changed_by_name) == (changsha, "cs_sup")
    assert change.before["max_age_male"] == 50
    assert change.after["max_age_male"] == 55
    assert AgencyRuleChange.objects.filter(rule=future).count() == 2


def test_a_rule_in_force_is_never_changed_and_none_is_backdated(client, personas):
    """Cases already submitted keep the rules they were judged by."""
    from accounts.models import Role
    from agencies.rules import MSG_RULE_IN_FORCE, MSG_RULE_IN_THE_PAST, agency_rule_delete
    from core.errors import InvalidInput
    from tests.conftest import _user

    in_force = rule(personas, max_age_male=50)
    changsha = _user("cs_sup", Role.SUPERVISOR, agency_id="430100", is_staff=True)
    client.force_login(changsha)
    page = client.post(reverse("admin:agencies_agencyrule_change", args=[in_force.pk]), FORM)
    assert page.status_code == 200  # the form again, with the reason
    assert str(MSG_RULE_IN_FORCE) in page.content.decode()
    in_force.refresh_from_db()
    assert in_force.max_age_male == 50
    page = client.post(
        reverse("admin:agencies_agencyrule_add"), {**FORM, "effective_from": "2026-06-01"}
    )
    assert str(MSG_RULE_IN_THE_PAST) in page.content.decode()
    assert AgencyRule.objects.count() == 1
    with pytest.raises(InvalidInput):
        agency_rule_delete(rule=in_force, actor=changsha, now=NOW)
    with pytest.raises(InvalidInput):
        agency_rule_save(
            rule=AgencyRule(agency_id="430100", effective_from=dt.date(2026, 11, 24)),
            actor=changsha,
            now=NOW,
        )
    assert AgencyRuleChange.objects.count() == 1


def test_the_waiting_period_numbers_are_the_targets(
    client_for, personas, submit_case, calendar_2026
):
    """domain.md "Gaps in cover": per-province data, the national reading by default (3 months
    can be paid for; tests/cases/test_continuity.py). Changsha's rule allows 6."""
    rule(personas, catch_up_max_gap_months=6)
    case = submit_case(
        stopped_at_source_on=dt.date(2026, 3, 31), enrolled_at_target_on=dt.date(2026, 9, 1)
    )  # a gap of 5 months (April to August): nationally more than can be paid for
    with time_machine.travel(NOW, tick=False):
        local = client_for("applicant").get(f"/api/v1/cases/{case.reference}/").json()
    assert (local["continuity"]["advice_code"], local["continuity"]["gap_months"]) == (
        "catch_up",
        5,
    )
