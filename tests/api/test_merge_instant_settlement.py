"""Several relationships at once (issue 10): merge cases, duplicate-enrolment findings, the
provinces' instant mode with settlement between the funds, and automatic transfers (免申转).

Through the API on PostgreSQL, with events, clocks, notifications and statistics read back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from accounts.models import Role
from agencies.models import ProvinceMode
from cases.models import CaseEvent, SettlementItem, SettlementStatement, TransferCase
from cases.services.settlement import Period, settlement_statements_draw, statement_problems
from core.errors import InvalidInput
from notifications.models import Notification
from tests.api.conftest import bearer, submit_body
from tests.api.test_concurrency import race
from tests.conftest import _user, make_id_number
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored(settings):
    """These tests read messages in English (Accept-Language: en); the thread must not keep it
    for the tests after them."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    # English, so the messages can be read by their words (zh-Hans is the default).
    client.credentials(HTTP_AUTHORIZATION=bearer(user), HTTP_ACCEPT_LANGUAGE="en")
    return client


def merge_body(**overrides):
    body = submit_body(
        kind="merge",
        channel="window",
        applicant={
            "name": "王五",
            "id_number": make_id_number("440306", "19850101"),
            "phone": "13900001111",
        },
        enrolled_at_source_since="2024-03-01",
        enrolled_at_target_on="2026-09-01",
        main_relationship_confirmed=True,
    )
    body.pop("stopped_at_source_on")
    body.update(overrides)
    return body


def instant_body(**overrides):
    body = submit_body(
        from_agency="430100",
        to_agency="430200",
        channel="window",
        applicant={
            "name": "赵六",
            "id_number": make_id_number("430102", "19900202", 11),
            "phone": "13700001111",
        },
        contribution_months=96,
        personal_account_balance="3210.50",
        interest="12.30",
    )
    body.update(overrides)
    return body


# --- merge cases -----------------------------------------------------------------------------------


def test_a_merge_runs_end_to_end(personas):
    staff = api(personas["cw_out"])
    r = staff.post("/api/v1/cases/", merge_body(), format="json")
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert (doc["kind"], doc["state"], doc["main_basis"]) == ("merge", "applied", "works_there")
    assert doc["mode"] == "standard"
    assert doc["findings"][0]["code"] == "duplicate_enrolment"
    assert doc["stage"]["working_days_allowed"] == 10
    ref = doc["reference"]
    case = TransferCase.objects.get(reference=ref)
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    assert (clock.stage, clock.agency_id) == ("applied", "440300")

    url = f"/api/v1/cases/{ref}/transitions/"
    # The cancelling agency's form must carry the overlap and the refund; a relationship that is
    # not normal cannot be cancelled. Nothing changes.
    r = staff.post(
        url + "approve_transfer_out/",
        {
            "contribution_months": 30,
            "personal_account_balance": "800.00",
            "account_normal": False,
        },
        format="json",
    )
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"overlap_months", "refund_amount", "account_normal"}
    assert TransferCase.objects.get(pk=case.pk).state == "applied"

    r = staff.post(
        url + "approve_transfer_out/",
        {
            "contribution_months": 30,
            "personal_account_balance": "800.00",
            "overlap_months": 3,
            "refund_amount": "456.78",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    doc = r.json()
    assert doc["state"] == "transfer_out_approved"
    form = doc["information_form"]
    assert (form["overlap_months"], form["refund_amount"]) == (3, "456.78")
    assert form["months_carried_in"] == 27  # the 3 months enrolled twice count once
    # The cancellation date is the stop date at source (today, Asia/Shanghai).
    assert form["stopped_at_source_on"] == "2026-11-30"
    assert doc["findings"] == [
        {"code": "duplicate_enrolment", "overlap_months": 3, "refund_amount": "456.78"}
    ]

    keeper = api(personas["cw_in"])
    r = keeper.post(url + "confirm_transfer_in/", {}, format="json")
    assert r.status_code == 200
    assert r.json()["state"] == "transfer_in_confirmed"
    r = keeper.post(url + "move_balance/", {"amount": "800.00"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["balance_outcome"] == {"outcome": "moved", "amount": "800.00"}

    events = list(case.events.order_by("id").values_list("action", flat=True))
    assert events == ["submit", "approve_transfer_out", "confirm_transfer_in", "move_balance"]
    approve = case.events.get(action="approve_transfer_out")
    assert approve.data["overlap_months"] == 3
    assert approve.data["refund_amount"] == "456.78"
    assert approve.data["account_normal"] is True
    # Three stages, each closed once, on time.
    closed = StageClock.objects.filter(case=case).order_by("id")
    assert [c.stage for c in closed] == [
        "applied",
        "transfer_out_approved",
        "transfer_in_confirmed",
    ]
    assert all(c.completed_at for c in closed)
    assert not any(c.breached_at for c in closed)
    # The applicant's phone hears of every state change.
    sms = Notification.objects.filter(subject_ref=ref, channel="sms", kind="status_changed")
    assert sms.count() == 4
    # ... in the merge's words: its relationship was cancelled, not "transferred out".
    cancelled = sms.get(payload__to_state="transfer_out_approved")
    assert "原参保关系已注销" in cancelled.body

    # Merges count in the supervisors' statistics like any stage.
    sup = api(personas["supervisor"])
    stats = sup.get("/api/v1/stats/sla/", {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    row = next(r for r in stats.json()["rows"] if r["stage"] == "applied")
    assert (row["agency"]["code"], row["completed"], row["on_time"]) == ("440300", 1, 1)


def test_a_merge_cannot_claim_more_months_twice_than_there_were(personas):
    r = api(personas["cw_out"]).post("/api/v1/cases/", merge_body(), format="json")
    url = f"/api/v1/cases/{r.json()['reference']}/transitions/approve_transfer_out/"
    form = {"contribution_months": 30, "personal_account_balance": "1.00", "refund_amount": "0"}
    # Enrolled at the keeping agency on 2026-09-01, cancelled 2026-11-30: 3 months at most.
    r = api(personas["cw_out"]).post(url, {**form, "overlap_months": 4}, format="json")
    assert r.status_code == 400
    assert "At most 3 month(s)" in r.json()["errors"]["overlap_months"][0]
    r = api(personas["cw_out"]).post(
        url, {**form, "overlap_months": 1, "stopped_at_source_on": "2024-01-31"}, format="json"
    )
    assert r.status_code == 400
    assert "stopped_at_source_on" in r.json()["errors"]
    assert TransferCase.objects.get().state == "applied"


def test_a_merge_speaks_of_cancelling_and_keeping(personas):
    r = api(personas["cw_out"]).post("/api/v1/cases/", merge_body(), format="json")
    ref = r.json()["reference"]
    from rest_framework.test import APIClient

    chinese = APIClient()
    chinese.credentials(HTTP_AUTHORIZATION=bearer(personas["cw_out"]))
    with translation.override("zh-hans"):
        r = chinese.post(
            f"/api/v1/cases/{ref}/transitions/approve_transfer_out/",
            {
                "contribution_months": 1,
                "personal_account_balance": "1.00",
                "overlap_months": 1,
                "refund_amount": "0",
            },
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert r.json()["state_label"].startswith("原参保关系已注销")
    r = api(personas["cw_out"]).get(f"/api/v1/cases/{ref}/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["state_label"] == "Original relationship cancelled (keeping agency confirming)"
    assert r.json()["stage"]["label"] == "Keeping agency's confirmation"
    # A transfer keeps its own words.
    other = api(personas["applicant"]).post("/api/v1/cases/", submit_body(), format="json")
    assert other.json()["state_label"] == "Applied (transfer-out review)"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"stopped_at_source_on": "2026-10-31"}, "stopped_at_source_on", "still active"),
        (
            {"enrolled_at_source_since": None},
            "enrolled_at_source_since",
            "enrolled at the cancelling",
        ),
        (
            {"insurance_type": "employee", "target_insurance_type": "resident"},
            "target_insurance_type",
            "Employee insurance is kept",
        ),
        ({"main_relationship_confirmed": False}, "main_relationship_confirmed", "works at"),
        (
            {"main_relationship_confirmed": None, "insurance_type": "resident"},
            "main_relationship_confirmed",
            "lives at",
        ),
    ],
)
def test_a_merge_intake_refuses_what_the_rule_does_not_allow(personas, overrides, field, words):
    body = merge_body(**overrides)
    body = {k: v for k, v in body.items() if v is not None}
    r = api(personas["cw_out"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["errors"]
    assert words in " ".join(r.json()["errors"][field])
    assert not TransferCase.objects.exists()


def test_resident_cancelled_employee_kept_needs_no_confirmation(personas):
    body = merge_body(insurance_type="resident", target_insurance_type="employee")
    body.pop("main_relationship_confirmed")
    r = api(personas["cw_out"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["main_basis"] == "employee_over_resident"


def test_a_transfer_records_the_refund_of_its_overlap(personas, submit_case):
    # Enrolled at the target on 2026-09-01 before cover stopped at source on 2026-10-31.
    case = submit_case(enrolled_at_target_on=dt.date(2026, 9, 1))
    staff = api(personas["cw_out"])
    url = f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/"
    r = staff.post(
        url,
        {"contribution_months": 60, "personal_account_balance": "10.00", "overlap_months": 2},
        format="json",
    )
    assert r.status_code == 400
    assert "overlap_months" in r.json()["errors"]
    r = staff.post(
        url,
        {"contribution_months": 60, "personal_account_balance": "10.00", "refund_amount": "88.80"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["findings"] == [
        {"code": "duplicate_enrolment", "overlap_months": 2, "refund_amount": "88.80"}
    ]
    assert r.json()["information_form"]["months_carried_in"] == 58
    # The applicant sees the same finding.
    mine = api(personas["applicant"]).get(f"/api/v1/cases/{case.reference}/")
    assert mine.json()["findings"][0]["refund_amount"] == "88.80"


def test_a_refund_without_an_overlap_is_refused(personas, submit_case):
    case = submit_case()  # stopped 2026-10-31, enrolled 2026-11-01: no overlap
    r = api(personas["cw_out"]).post(
        f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
        {"contribution_months": 60, "personal_account_balance": "10.00", "refund_amount": "5"},
        format="json",
    )
    assert r.status_code == 400
    assert "nothing to refund" in r.json()["errors"]["refund_amount"][0]
    assert TransferCase.objects.get(pk=case.pk).state == "applied"


# --- instant mode -----------------------------------------------------------------------------------


def test_the_rules_show_the_province_mode(hunan, client_for):
    r = client_for(None).get("/api/v1/agencies/430200/rules/")
    assert r.status_code == 200
    body = r.json()
    assert body["intra_province_mode"] == "instant"
    assert body["mode_in_force"]["effective_from"] == "2025-07-10"
    assert "湘医保办发〔2025〕12号" in body["mode_in_force"]["basis"]
    assert (
        client_for(None).get("/api/v1/agencies/440300/rules/").json()["intra_province_mode"]
        == "standard"
    )


def test_an_instant_submission_without_the_figures_says_what_is_missing(hunan, personas):
    body = instant_body()
    body.pop("contribution_months")
    body.pop("personal_account_balance")
    r = api(personas["cw_in"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "instant_mode_figures_required"
    assert set(r.json()["errors"]) == {"contribution_months", "personal_account_balance"}
    assert not TransferCase.objects.exists()


def test_the_figures_are_refused_outside_instant_mode(personas):
    r = api(personas["applicant"]).post(
        "/api/v1/cases/", submit_body(contribution_months=10), format="json"
    )
    assert r.status_code == 400
    assert "contribution_months" in r.json()["errors"]


def test_an_instant_case_completes_at_submission(hunan, personas):
    r = api(personas["cw_in"]).post("/api/v1/cases/", instant_body(), format="json")
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert (doc["mode"], doc["state"], doc["stage"]) == ("instant", "balance_moved", None)
    assert doc["balance_outcome"] == {"outcome": "moved", "amount": "3222.80"}
    assert doc["information_form"]["contribution_months"] == 96
    case = TransferCase.objects.get(reference=doc["reference"])
    events = list(case.events.order_by("id"))
    assert [e.action for e in events] == [
        "submit",
        "approve_transfer_out",
        "confirm_transfer_in",
        "move_balance",
    ]
    assert [e.actor_role for e in events[1:]] == ["system"] * 3
    assert all(e.data.get("mode") == "instant" for e in events[1:])
    clocks = StageClock.objects.filter(case=case)
    assert clocks.count() == 3
    assert not clocks.filter(completed_at__isnull=True).exists()
    # Told twice: received, and done; the steps between are the system's.
    told = Notification.objects.filter(subject_ref=case.reference, channel="sms")
    assert sorted(n.payload["to_state"] for n in told) == ["applied", "balance_moved"]
    item = SettlementItem.objects.get(case=case)
    assert (item.payer_id, item.payee_id, item.amount) == ("430100", "430200", Decimal("3222.80"))


def test_a_person_does_not_bring_their_own_figures(hunan, personas):
    person = _user(
        "zl2", Role.APPLICANT, real_name="赵六", id_number=make_id_number("430102", "19900202", 11)
    )
    body = instant_body(channel="app")
    body.pop("applicant")
    r = api(person).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400
    assert "provincial platform" in r.json()["errors"]["contribution_months"][0]
    assert not TransferCase.objects.exists()
    assert not SettlementItem.objects.exists()


def test_instant_steps_do_not_count_as_the_agencies_work(hunan, personas):
    assert (
        api(personas["cw_in"]).post("/api/v1/cases/", instant_body(), format="json").status_code
        == 201
    )
    for who in ("cs_sup", "zz_sup"):
        stats = (
            api(hunan[who])
            .get("/api/v1/stats/sla/", {"date_from": "2026-11-01", "date_to": "2026-11-30"})
            .json()
        )
        assert stats["totals"]["completed"] == 0, who
        assert stats["totals"]["open"] == 0, who


def test_an_instant_case_with_an_overlap_records_its_refund(hunan, personas):
    body = instant_body(enrolled_at_target_on="2026-09-01", refund_amount="66.60")
    r = api(personas["cw_in"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["findings"] == [
        {"code": "duplicate_enrolment", "overlap_months": 2, "refund_amount": "66.60"}
    ]
    # Not known at submission: the months the person already had at the target stay empty.
    assert r.json()["information_form"]["cumulative_at_target"] is None
    refused = api(personas["cw_in"]).post(
        "/api/v1/cases/",
        instant_body(
            applicant={"name": "赵六", "id_number": make_id_number("430102", "19900202", 13)},
            refund_amount="1.00",
        ),
        format="json",
    )
    assert refused.status_code == 400
    assert "refund_amount" in refused.json()["errors"]


def test_a_resident_instant_case_moves_no_money(hunan, personas):
    body = instant_body(insurance_type="resident")
    body.pop("personal_account_balance")
    body.pop("interest")
    r = api(personas["cw_in"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["balance_outcome"]["outcome"] == "none"
    assert not SettlementItem.objects.exists()


def test_an_inter_province_case_into_an_instant_province_runs_the_national_process(hunan, personas):
    r = api(personas["applicant"]).post(
        "/api/v1/cases/", submit_body(to_agency="430200"), format="json"
    )
    assert r.status_code == 201, r.json()
    assert (r.json()["mode"], r.json()["state"]) == ("standard", "applied")
    # ... and the figures belong to the transfer-out agency's approval, not the submission.
    r = api(personas["other_applicant"]).post(
        "/api/v1/cases/",
        submit_body(from_agency="110000", to_agency="430200", contribution_months=5),
        format="json",
    )
    assert r.status_code == 400


def test_a_merge_within_an_instant_province_still_runs_its_checks(hunan, personas):
    body = merge_body(from_agency="430100", to_agency="430200")
    r = api(personas["cw_in"]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["mode"], r.json()["state"]) == ("standard", "applied")


def test_a_merge_mode_province_merges_accounts_within_it(hunan, personas):
    ProvinceMode.objects.create(
        province_id="440000", effective_from=dt.date(2026, 1, 1), mode="merge", basis="test"
    )
    gz = _user("gz_cw3", Role.CASEWORKER, agency_id="440100", is_staff=True)
    r = api(personas["applicant"]).post(
        "/api/v1/cases/", submit_body(to_agency="440100"), format="json"
    )
    assert r.status_code == 201
    assert r.json()["mode"] == "merge"
    ref = r.json()["reference"]
    api(personas["cw_out"]).post(
        f"/api/v1/cases/{ref}/transitions/approve_transfer_out/",
        {"contribution_months": 12, "personal_account_balance": "99.00"},
        format="json",
    )
    r = api(gz).post(f"/api/v1/cases/{ref}/transitions/confirm_transfer_in/", {}, format="json")
    assert r.json()["state"] == "balance_moved"
    assert r.json()["balance_outcome"] == {"outcome": "merged", "amount": "99.00"}


def test_an_inter_province_case_into_a_merge_mode_province_moves_its_balance(hunan, personas):
    ProvinceMode.objects.create(
        province_id="430000", effective_from=dt.date(2026, 6, 1), mode="merge", basis="test"
    )
    r = api(personas["applicant"]).post("/api/v1/cases/", submit_body(), format="json")
    assert r.json()["mode"] == "standard"
    ref = r.json()["reference"]
    api(personas["cw_out"]).post(
        f"/api/v1/cases/{ref}/transitions/approve_transfer_out/",
        {"contribution_months": 12, "personal_account_balance": "50.00"},
        format="json",
    )
    r = api(personas["cw_in"]).post(
        f"/api/v1/cases/{ref}/transitions/confirm_transfer_in/", {}, format="json"
    )
    assert r.json()["state"] == "transfer_in_confirmed"
    assert "move_balance" in r.json()["next_actions"]


def test_the_same_relationship_does_not_move_twice_at_once(hunan, personas):
    api(personas["cw_in"]).post("/api/v1/cases/", instant_body(), format="json")
    r = api(personas["cw_in"]).post("/api/v1/cases/", instant_body(), format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "already_transferred"
    assert TransferCase.objects.count() == 1


# --- automatic transfers (免申转) ------------------------------------------------------------------


def test_the_platform_starts_a_transfer_automatically(hunan, personas):
    applicant = _user(
        "zl",
        Role.APPLICANT,
        real_name="赵六",
        id_number=make_id_number("430102", "19900202", 11),
    )
    r = api(hunan["hn_platform"]).post(
        "/api/v1/cases/", instant_body(channel="auto"), format="json"
    )
    assert r.status_code == 201, r.json()
    assert r.json()["channel"] == "auto"
    # The person is told in their inbox as with any other submission.
    inbox = api(applicant).get("/api/v1/notifications/")
    assert inbox.status_code == 200
    assert any(n["subject_ref"] == r.json()["reference"] for n in inbox.json()["results"])


@pytest.mark.parametrize("who", ["applicant", "cw_out"])
def test_only_the_platform_uses_the_auto_channel(personas, who):
    body = submit_body(channel="auto")
    if who != "applicant":
        body["applicant"] = {"name": "王五", "id_number": make_id_number("440306", "19850101")}
    r = api(personas[who]).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400
    assert "channel" in r.json()["errors"]


# --- settlement -------------------------------------------------------------------------------------


def instant_cases(hunan, personas, n):
    """``n`` instant cases Changsha -> Zhuzhou on 2026-11-30; their settlement amounts."""
    amounts = []
    for i in range(n):
        balance = Decimal("100.00") + i
        body = instant_body(
            applicant={"name": "赵六", "id_number": make_id_number("430102", "19900202", 20 + i)},
            personal_account_balance=str(balance),
            interest="0.01",
        )
        r = api(personas["cw_in"]).post("/api/v1/cases/", body, format="json")
        assert r.status_code == 201, r.json()
        amounts.append(balance + Decimal("0.01"))
    return amounts


def test_a_statement_totals_its_items_and_is_settled_once(hunan, personas):
    amounts = instant_cases(hunan, personas, 3)
    november = Period.of(dt.date(2026, 11, 30))
    with pytest.raises(InvalidInput) as refused:
        settlement_statements_draw(period=november)
    assert "not over" in refused.value.errors["period"][0]
    with time_machine.travel(dt.datetime(2026, 12, 1, 2, 10, tzinfo=SHANGHAI)):
        with pytest.raises(CommandError, match="--period"):
            call_command("settlement_statements", "--period", "2026-1")
        call_command("settlement_statements")  # default: last month
        assert settlement_statements_draw(period=november) == []  # idempotent
    statement = SettlementStatement.objects.get()
    assert statement.total == sum(amounts)
    assert statement.item_count == 3
    assert statement_problems(statement) == []
    assert statement.number == "QS202611-430100-430200"

    listing = api(hunan["cs_sup"]).get("/api/v1/settlements/", {"period": "2026-11"})
    assert listing.status_code == 200, listing.json()
    body = listing.json()
    assert body["statements"][0]["total"] == f"{sum(amounts):.2f}"
    assert body["totals"] == {
        "items": 3,
        "amount": f"{sum(amounts):.2f}",
        "unsettled": f"{sum(amounts):.2f}",
    }
    assert {i["statement"] for i in body["items"]} == {statement.number}
    # Both funds' supervisors and the province's platform see it; a fund elsewhere nothing.
    assert api(hunan["zz_sup"]).get("/api/v1/settlements/").json()["totals"]["items"] == 3
    assert api(hunan["hn_platform"]).get("/api/v1/settlements/").json()["totals"]["items"] == 3
    other = api(personas["supervisor"]).get("/api/v1/settlements/", {"agency": "430100"})
    assert other.status_code == 200
    assert other.json()["items"] == []
    assert api(personas["cw_in"]).get("/api/v1/settlements/").status_code == 403
    assert api(personas["applicant"]).get("/api/v1/settlements/").status_code == 403
    for bad in ("2026-13", "0000-01", "9999-12", "２０２６-１１", "2026-11\x00"):
        refused = api(hunan["cs_sup"]).get("/api/v1/settlements/", {"period": bad})
        assert refused.status_code == 400, bad
        assert "period" in refused.json()["errors"]
    # A month of the range, however written, lists that month.
    assert (
        api(hunan["cs_sup"])
        .get("/api/v1/settlements/", {"period": "2026-10"})
        .json()["totals"]["items"]
        == 0
    )

    assert (
        api(hunan["cs_sup"]).get("/api/v1/settlements/", {"agency": "4３0100"}).status_code == 400
    )
    url = f"/api/v1/settlements/{statement.number}/settlement/"
    # The paying fund does not say its own money arrived; a stranger does not learn it exists.
    assert api(hunan["cs_sup"]).post(url).status_code == 403
    assert api(personas["supervisor"]).post(url).status_code == 404
    r = api(hunan["zz_sup"]).post(url)
    assert r.status_code == 200, r.json()
    assert r.json()["settled_by"] == "周主管"
    first = r.json()["settled_at"]
    again = api(hunan["zz_sup"]).post(url)
    assert again.status_code == 200
    assert again.json()["settled_at"] == first
    assert not SettlementItem.objects.filter(settled_at__isnull=True).exists()
    assert set(SettlementItem.objects.values_list("settled_by__username", flat=True)) == {"zz_sup"}
    assert api(hunan["cs_sup"]).get("/api/v1/settlements/").json()["totals"]["unsettled"] == "0.00"


def test_items_are_not_changed_by_bulk_writes(hunan, personas):
    instant_cases(hunan, personas, 1)
    with pytest.raises(TypeError):
        SettlementItem.objects.update(amount=Decimal("1.00"))
    with pytest.raises(TypeError):
        SettlementItem.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_statement_that_differs_from_its_items(hunan, personas):
    instant_cases(hunan, personas, 2)
    with time_machine.travel(dt.datetime(2026, 12, 2, tzinfo=SHANGHAI)):
        [statement] = settlement_statements_draw(period=Period.of(dt.date(2026, 11, 1)))
    for sql in (
        "UPDATE cases_settlementstatement SET total = total + 0.01 WHERE id = %s",
        "UPDATE cases_settlementitem SET amount = amount + 1 WHERE statement_id = %s",
        "UPDATE cases_settlementitem SET statement_id = NULL WHERE statement_id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="settlement statement"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [statement.pk])
    statement.refresh_from_db()
    assert statement_problems(statement) == []
    # Settled is final: neither the statement nor its items change after.
    from cases.services.settlement import settlement_statement_settle

    settlement_statement_settle(statement=statement, actor=hunan["zz_sup"])
    for sql in (
        "UPDATE cases_settlementstatement SET settled_at = NOW() WHERE id = %s",
        "UPDATE cases_settlementitem SET settled_by_id = NULL WHERE statement_id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="settled and never changes"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [statement.pk])


@pytest.mark.django_db(transaction=True)
def test_concurrent_instant_submissions_for_one_person_give_one_case(hunan, personas):
    auth = bearer(personas["cw_in"])

    days = iter(range(24, 32))  # each racer says cover stopped on another day of October

    def submit(client):
        body = instant_body(stopped_at_source_on=f"2026-10-{next(days)}")
        r = client.post("/api/v1/cases/", body, format="json", HTTP_AUTHORIZATION=auth)
        return r.status_code, r.json().get("code", "")

    results = race(8, submit)
    assert sorted(s for s, _ in results) == [201] + [400] * 7, results
    assert {c for s, c in results if s == 400} == {"already_transferred"}
    assert TransferCase.objects.count() == 1
    assert not TransferCase.objects.open().exists()
    assert SettlementItem.objects.count() == 1
    assert CaseEvent.objects.filter(action="move_balance").count() == 1


def test_who_may_mark_a_statement_settled(hunan):
    from accounts.models import User
    from accounts.permissions import user_may_settle

    def person(role, agency, province_wide=False):
        return User(
            username=f"{role}{agency}", role=role, agency_id=agency, province_wide=province_wide
        )

    assert user_may_settle(person(Role.SUPERVISOR, "430200"), "430200")  # the fund owed
    assert user_may_settle(person(Role.PLATFORM, "430000", True), "430200")  # its province's bureau
    assert not user_may_settle(person(Role.SUPERVISOR, "430100"), "430200")  # the paying fund
    # ... even province-wide: a paying agency's people never confirm their own payment arrived.
    assert not user_may_settle(person(Role.SUPERVISOR, "430100", True), "430200")
    assert not user_may_settle(person(Role.CASEWORKER, "430200"), "430200")
