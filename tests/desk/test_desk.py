"""The staff workbench through Django's test client (issue 12 item 1): the queue's order, scope,
filters and badges, the ID lookup, taking and bulk-assigning cases, a case's page and acting on it.
The journeys in a real browser are in tests/browser/test_desk.py; the dashboard in
tests/desk/test_dashboard.py."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from accounts.models import Role, User
from cases.errors import MSG_STALE_CASE
from cases.forms import MSG_ID_LOOKUP_NONE, MSG_ID_LOOKUP_THROTTLED
from cases.models import CaseEvent, TransferCase
from cases.services import Applicant
from cases.services.assignment import MSG_HELD_BY_COLLEAGUE
from cases.states import Action, CaseState
from tests.conftest import make_id_number
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
REF = re.compile(r'class="case-link" href="/desk/cases/(YB\d+)/"')


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_refs(client: Client, query: str = "") -> list[str]:
    r = client.get(f"/desk/{query}")
    assert r.status_code == 200, r.content[:500]
    return REF.findall(r.content.decode())


PERSON = make_id_number("440306", "19850101", 42)


@pytest.fixture
def three_cases(calendar_2026, submit_case, personas):
    """Shenzhen's move on all three: submitted on different days, so due on different days;
    ``mid`` and ``new`` are one person's (employee and resident insurance)."""

    def on_behalf(day: int, id_number: str, insurance_type: str = "employee") -> TransferCase:
        return submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(name="王五", id_number=id_number, phone="13900001111"),
            insurance_type=insurance_type,
            now=dt.datetime(2026, 11, day, 9, 0, tzinfo=SHANGHAI),
        )

    old = on_behalf(2, make_id_number("440306", "19800101", 11))  # overdue by 12-01
    mid = on_behalf(17, PERSON)
    new = on_behalf(30, PERSON, "resident")
    return old, mid, new


@time_machine.travel(NOW, tick=False)
def test_the_queue_is_most_urgent_first_with_badges_in_words(personas, three_cases):
    old, mid, new = three_cases
    client = signed_in(personas["cw_out"])
    assert queue_refs(client) == [old.reference, mid.reference, new.reference]
    html = client.get("/desk/").content.decode()
    # The overdue one says so in words (not only in red), the others how many days are left.
    badges = re.findall(r'<span class="badge urgency-(\w+)">([^<]+)</span>', html)
    assert badges[0][0] == "overdue"
    assert badges[0][1].startswith("已超期")
    assert badges[2][0] == "on_time"
    assert "剩" in badges[2][1]
    # Masked applicant, never the full ID number or phone.
    assert "13900001111" not in html
    assert PERSON not in html


@time_machine.travel(NOW, tick=False)
def test_the_queue_holds_only_what_waits_on_my_agency(personas, three_cases, case_in_state):
    _old, _mid, _new = three_cases
    # Approved out: now Changsha's move; Shenzhen sees it only under "all cases of my agency".
    elsewhere = case_in_state("transfer_out_approved")
    shenzhen = signed_in(personas["cw_out"])
    assert elsewhere.reference not in queue_refs(shenzhen)
    assert elsewhere.reference in queue_refs(shenzhen, "?show=all")
    changsha = signed_in(personas["cw_in"])
    assert queue_refs(changsha) == [elsewhere.reference]
    # Beijing has nothing to do with any of them.
    assert queue_refs(signed_in(personas["cw_other"]), "?show=all") == []


@time_machine.travel(NOW, tick=False)
def test_filters_narrow_the_queue_and_bad_ones_are_said_and_ignored(personas, three_cases):
    old, mid, new = three_cases
    client = signed_in(personas["cw_out"])
    assert queue_refs(client, "?urgency=overdue") == [old.reference]
    assert queue_refs(client, "?urgency=not_overdue") == [mid.reference, new.reference]
    assert queue_refs(client, f"?q={new.reference.lower()}") == [new.reference]
    client.post(f"/desk/cases/{mid.reference}/take/")
    assert queue_refs(client, "?assignee=me") == [mid.reference]
    assert queue_refs(client, "?assignee=nobody") == [old.reference, new.reference]
    r = client.get("/desk/?due_within=999&state=nonsense")
    assert r.status_code == 200
    assert "部分筛选条件无效" in r.content.decode()
    assert REF.findall(r.content.decode()) == [old.reference, mid.reference, new.reference]


@time_machine.travel(NOW, tick=False)
def test_an_htmx_filter_answers_with_the_list_alone(personas, three_cases):
    client = signed_in(personas["cw_out"])
    r = client.get("/desk/?urgency=overdue", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert html.startswith('<section id="queue"')
    assert "<html" not in html
    assert REF.findall(html) == [three_cases[0].reference]


def test_only_agency_staff_may_open_the_workbench(personas, client):
    assert client.get("/desk/").status_code == 302  # to sign in
    assert signed_in(personas["applicant"]).get("/desk/").status_code == 403
    assert signed_in(personas["platform"]).get("/desk/").status_code == 403


def test_staff_land_on_the_workbench_after_signing_in(personas, client):
    r = client.post("/signin/", {"username": "sz_cw", "password": "pw-sz_cw"})
    assert r.status_code == 302
    assert r["Location"] == "/desk/"


@time_machine.travel(NOW, tick=False)
def test_finding_by_id_number_keeps_the_number_out_of_urls_and_logs(personas, three_cases, caplog):
    old, mid, new = three_cases
    client = signed_in(personas["cw_out"])
    with caplog.at_level(logging.INFO, logger="cases.desk"):
        r = client.post("/desk/find/", {"id_number": PERSON})
    # Two cases are this person's: the queue lists them, by the number's digest.
    assert r.status_code == 302
    assert PERSON not in r["Location"]
    assert "person=" in r["Location"]
    assert queue_refs(client, r["Location"].removeprefix("/desk/")) == [
        mid.reference,
        new.reference,
    ]
    assert all(PERSON not in rec.getMessage() for rec in caplog.records)
    assert any("desk id lookup" in rec.getMessage() for rec in caplog.records)
    # One case: straight to it.
    r = client.post("/desk/find/", {"id_number": make_id_number("440306", "19800101", 11)})
    assert r["Location"] == f"/desk/cases/{old.reference}/"
    # Nobody Shenzhen has a case of: said so.
    r = client.post(
        "/desk/find/", {"id_number": make_id_number("110101", "19700101", 7)}, follow=True
    )
    with translation.override("zh-hans"):
        assert str(MSG_ID_LOOKUP_NONE) in r.content.decode()


@time_machine.travel(NOW, tick=False)
def test_id_lookups_are_throttled(personas, three_cases, settings):
    client = signed_in(personas["cw_out"])
    number = make_id_number("110101", "19700101", 7)
    answers = [
        client.post("/desk/find/", {"id_number": number}, follow=True).content.decode()
        for _ in range(21)
    ]
    with translation.override("zh-hans"):
        throttled = str(MSG_ID_LOOKUP_THROTTLED)
    assert throttled in answers[20]
    assert throttled not in answers[19]


@time_machine.travel(NOW, tick=False)
def test_taking_a_case_twice_records_it_once(personas, three_cases):
    case = three_cases[1]
    client = signed_in(personas["cw_out"])
    for _ in range(2):
        r = client.post(f"/desk/cases/{case.reference}/take/", {"back": "queue"})
        assert r.status_code == 302
        assert r["Location"] == "/desk/"
    case.refresh_from_db()
    assert case.assignee == personas["cw_out"]
    assert CaseEvent.objects.filter(case=case, action=Action.ASSIGN).count() == 1
    assert case.version == 2


@time_machine.travel(NOW, tick=False)
def test_bulk_assign_is_all_or_nothing(personas, three_cases, case_in_state):
    old, mid, new = three_cases
    supervisor = signed_in(personas["supervisor"])
    r = supervisor.post(
        "/desk/assign/",
        {"references": [old.reference, new.reference], "assignee": personas["cw_out"].pk},
    )
    assert r.status_code == 302
    assert set(
        TransferCase.objects.filter(assignee=personas["cw_out"]).values_list("reference", flat=True)
    ) == {old.reference, new.reference}
    # One case is Changsha's move now: a Shenzhen caseworker cannot hold it, so nothing moves.
    theirs = case_in_state("transfer_out_approved")
    before = list(TransferCase.objects.order_by("pk").values_list("pk", "assignee_id", "version"))
    r = supervisor.post(
        "/desk/assign/",
        {"references": [mid.reference, theirs.reference], "assignee": personas["cw_out"].pk},
        follow=True,
    )
    assert f"案件 {theirs.reference} 被拒绝" in r.content.decode()
    after = list(TransferCase.objects.order_by("pk").values_list("pk", "assignee_id", "version"))
    assert after == before


@time_machine.travel(NOW, tick=False)
def test_a_caseworker_cannot_bulk_assign_nor_see_other_agencies_cases(personas, three_cases):
    client = signed_in(personas["cw_out"])
    # "Nobody" is a valid choice of the form: the refusal is the service's, not the form's.
    r = client.post(
        "/desk/assign/",
        {"references": [three_cases[0].reference], "assignee": "nobody"},
        follow=True,
    )
    three_cases[0].refresh_from_db()
    assert three_cases[0].assignee_id is None
    assert f"案件 {three_cases[0].reference} 被拒绝" in r.content.decode()
    other = signed_in(personas["cw_other"])
    assert other.get(f"/desk/cases/{three_cases[0].reference}/").status_code == 404
    assert other.get("/desk/cases/YB0000000000000000/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_case_page_offers_the_actions_of_now_and_acting_moves_the_case(personas, three_cases):
    case = three_cases[1]
    client = signed_in(personas["cw_out"])
    html = client.get(f"/desk/cases/{case.reference}/").content.decode()
    summaries = re.findall(r"<summary>([^<]+)</summary>", html)
    assert summaries == ["转出审核通过", "不予受理", "一次性告知补正"]
    assert "阶段" not in summaries
    # Bad input: the page again with the field's error, nothing changed.
    r = client.post(
        f"/desk/cases/{case.reference}/act/approve_transfer_out/",
        {
            "approve_transfer_out-version": case.version,
            "approve_transfer_out-contribution_months": "x",
        },
    )
    assert r.status_code == 400
    assert "缴费月数" in r.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.APPLIED
    # Good input: done, back to the queue, which no longer holds it (Changsha's move now).
    r = client.post(
        f"/desk/cases/{case.reference}/act/approve_transfer_out/",
        {
            "approve_transfer_out-version": case.version,
            "approve_transfer_out-contribution_months": "60",
            "approve_transfer_out-personal_account_balance": "1234.56",
            "approve_transfer_out-no_arrears": "on",
        },
        follow=True,
    )
    assert r.redirect_chain[-1][0] == "/desk/"
    case.refresh_from_db()
    assert case.state == CaseState.TRANSFER_OUT_APPROVED
    assert case.reference not in REF.findall(r.content.decode())
    assert "已完成" in r.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_stale_form_changes_nothing_and_says_why(personas, three_cases):
    case = three_cases[1]
    client = signed_in(personas["cw_out"])
    stale = case.version
    client.post(f"/desk/cases/{case.reference}/take/")
    r = client.post(
        f"/desk/cases/{case.reference}/act/reject/",
        {"reject-version": stale, "reject-reason_code": "arrears"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.state == CaseState.APPLIED
    assert r.redirect_chain[-1][0] == f"/desk/cases/{case.reference}/"
    with translation.override("zh-hans"):
        assert str(MSG_STALE_CASE) in r.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_timeline_names_people_not_account_ids(personas, three_cases):
    case = three_cases[1]
    personas["cw_out"].real_name = "陈晓"
    personas["cw_out"].save()
    client = signed_in(personas["supervisor"])
    client.post(
        "/desk/assign/", {"references": [case.reference], "assignee": personas["cw_out"].pk}
    )
    html = signed_in(personas["cw_out"]).get(f"/desk/cases/{case.reference}/").content.decode()
    timeline = html[html.index('id="timeline-title"') :]
    assert "：陈晓</p>" in timeline
    assert f"：{personas['cw_out'].pk}</p>" not in timeline


@time_machine.travel(NOW, tick=False)
def test_a_colleagues_case_is_not_taken_silently(personas, three_cases):
    case = three_cases[1]
    colleague = User.objects.create_user(
        "sz_cw2", password="pw", role=Role.CASEWORKER, agency_id="440300", is_staff=True
    )
    signed_in(personas["cw_out"]).post(f"/desk/cases/{case.reference}/take/")
    mine = signed_in(colleague)
    # The queue offers no "take" on it, and taking it anyway is refused, nothing changed.
    html = mine.get("/desk/").content.decode()
    assert f'id="take-{case.reference}"' not in html
    assert f'id="take-{three_cases[0].reference}"' in html
    r = mine.post(f"/desk/cases/{case.reference}/take/", follow=True)
    case.refresh_from_db()
    assert case.assignee == personas["cw_out"]
    with translation.override("zh-hans"):
        assert str(MSG_HELD_BY_COLLEAGUE) in r.content.decode()


@time_machine.travel(NOW, tick=False)
def test_odd_bulk_input_is_refused_without_harm(personas, three_cases):
    supervisor = signed_in(personas["supervisor"])
    before = list(TransferCase.objects.order_by("pk").values_list("pk", "assignee_id", "version"))
    for references in (["YB\x00"], ["../etc"], [], [three_cases[0].reference] * 2 + ["x" * 500]):
        r = supervisor.post(
            "/desk/assign/", {"references": references, "assignee": personas["cw_out"].pk}
        )
        assert r.status_code == 302, references
    # Nobody chosen (the list left as it came): nothing happens, and the page says what to do.
    r = supervisor.post(
        "/desk/assign/", {"references": [three_cases[0].reference], "assignee": ""}, follow=True
    )
    assert "请选择要将勾选的案件分派给谁。" in r.content.decode()
    after = list(TransferCase.objects.order_by("pk").values_list("pk", "assignee_id", "version"))
    assert after == before
    # The same case ticked twice is assigned once, and said so.
    r = supervisor.post(
        "/desk/assign/",
        {"references": [three_cases[0].reference] * 2, "assignee": personas["cw_out"].pk},
        follow=True,
    )
    assert "已分派 1 件案件" in r.content.decode()
    r = supervisor.post(
        "/desk/assign/",
        {"references": [three_cases[0].reference], "assignee": "nobody"},
        follow=True,
    )
    assert "1 件案件已不再分派给任何人" in r.content.decode()


@time_machine.travel(NOW, tick=False)
def test_one_bad_filter_leaves_the_others_in_force(personas, three_cases):
    old = three_cases[0]
    client = signed_in(personas["cw_out"])
    r = client.get("/desk/?urgency=overdue&due_within=３")
    assert "部分筛选条件无效" in r.content.decode()
    assert REF.findall(r.content.decode()) == [old.reference]


@time_machine.travel(NOW, tick=False)
def test_a_merge_reads_as_cancel_and_keep_and_is_cancelled_from_the_workbench(
    personas, calendar_2026, submit_case, three_cases
):
    merge = submit_case(
        actor=personas["cw_out"],
        applicant=Applicant(name="赵六", id_number=make_id_number("440306", "19800101", 7)),
        kind="merge",
        stopped_at_source_on=None,
        enrolled_at_source_since=dt.date(2020, 1, 1),
        enrolled_at_target_on=dt.date(2026, 9, 1),
        main_relationship_confirmed=True,
        now=dt.datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI),
    )
    client = signed_in(personas["cw_out"])
    # The kind filter finds the merge and only it.
    assert queue_refs(client, "?kind=merge") == [merge.reference]
    assert merge.reference not in queue_refs(client, "?kind=transfer")
    html = client.get(f"/desk/cases/{merge.reference}/").content.decode()
    assert "注销地经办机构" in html
    assert "保留地经办机构" in html
    assert "已申请（注销地核查中）" in html
    summaries = re.findall(r"<summary>([^<]+)</summary>", html)
    assert summaries[0] == "注销重复的参保关系"
    # The cancelling agency's form asks for the overlap and the refund.
    url = f"/desk/cases/{merge.reference}/act/approve_transfer_out/"
    r = client.post(
        url,
        {
            "approve_transfer_out-version": merge.version,
            "approve_transfer_out-contribution_months": "60",
            "approve_transfer_out-personal_account_balance": "500.00",
            "approve_transfer_out-account_normal": "on",
            "approve_transfer_out-no_arrears": "on",
        },
    )
    assert r.status_code == 400
    merge.refresh_from_db()
    assert merge.state == CaseState.APPLIED
    r = client.post(
        url,
        {
            "approve_transfer_out-version": merge.version,
            "approve_transfer_out-contribution_months": "60",
            "approve_transfer_out-personal_account_balance": "500.00",
            "approve_transfer_out-account_normal": "on",
            "approve_transfer_out-no_arrears": "on",
            "approve_transfer_out-overlap_months": "3",
            "approve_transfer_out-refund_amount": "120.00",
        },
        follow=True,
    )
    assert r.redirect_chain[-1][0] == "/desk/"
    merge.refresh_from_db()
    assert merge.state == CaseState.TRANSFER_OUT_APPROVED
    assert (merge.overlap_months, str(merge.refund_amount)) == (3, "120.00")
    assert merge.stopped_at_source_on == dt.date(2026, 12, 1)
    page = signed_in(personas["cw_in"]).get(f"/desk/cases/{merge.reference}/").content.decode()
    assert "原参保关系已注销（保留地确认中）" in page
    assert "重复缴费退费金额" in page
    # No raw code of the merge reaches the zh-Hans page's timeline facts.
    for code in ("works_there", "merge", "standard"):
        assert f"：{code}" not in page
    assert "保留的险种：职工基本医疗保险" in page
