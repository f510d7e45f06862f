"""The caseworkers' admin: who sees which case, the queue's filters, and moving a case by its buttons.

Personas: caseworkers at Shenzhen (440300, transfer-out of the main case), at Changsha (430100,
transfer-in) and at Beijing (110000, unrelated); a Shenzhen supervisor; an administrator. The
working-day table is empty here, so deadlines follow the provisional rule; time is frozen on
Monday 2026-12-21 10:00 Asia/Shanghai, when a case submitted on 2026-11-23 is past its 10 days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.admin import MSG_AGENCY_REQUIRED
from accounts.models import Role, User
from agencies.models import Agency
from cases.admin import AttachmentInline, CaseEventInline, StageClockInline
from cases.errors import MSG_ACTION_FORBIDDEN, MSG_STALE_CASE
from cases.models import CaseEvent, TransferCase
from cases.services import Applicant, case_assign, case_submit, case_transition
from cases.states import Action, CaseState
from core.identity import id_number_check_char
from workflow.calendar import SHANGHAI

SHENZHEN, CHANGSHA, BEIJING = "440300", "430100", "110000"
NOW = dt.datetime(2026, 12, 21, 10, 0, tzinfo=SHANGHAI)
LONG_AGO = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # due 2026-12-07: overdue at NOW
TWO_WEEKS_AGO = dt.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)  # due at the end of today
RECENTLY = dt.datetime(2026, 12, 18, 9, 0, tzinfo=SHANGHAI)  # due in January: not overdue

CHANGELIST = reverse("admin:cases_transfercase_changelist")
ID_LOOKUP = reverse("admin:cases_transfercase_id_lookup")

_sequence = itertools.count(100)


def id_number(address: str = "440305", birth: str = "19900101") -> str:
    """A fresh valid 18-character ID number."""
    first17 = f"{address}{birth}{next(_sequence) % 1000:03d}"
    return first17 + id_number_check_char(first17)


def change_url(case: TransferCase) -> str:
    return reverse("admin:cases_transfercase_change", args=[case.pk])


def transition_url(case: TransferCase, action: str) -> str:
    return reverse("admin:cases_transfercase_transition", args=[case.pk, action])


def reload(case: TransferCase) -> TransferCase:
    # A fresh instance: ``state`` is a protected FSM field.
    return TransferCase.objects.get(pk=case.pk)


def text(message: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(message)


def flashed(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def listed(response: Any) -> set[str]:
    return {case.reference for case in response.context["cl"].result_list}


# --- personas and cases ------------------------------------------------------------------------


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def agencies(db: Any) -> dict[str, Agency]:
    rows = [
        (SHENZHEN, "深圳市医疗保障局", "440000", "广东省", "prefecture"),
        (CHANGSHA, "长沙市医疗保障局", "430000", "湖南省", "prefecture"),
        (BEIJING, "北京市医疗保障局", "110000", "北京市", "province"),
    ]
    for code, name, province_code, province_name, level in rows:
        Agency.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "province_code": province_code,
                "province_name": province_name,
                "level": level,
            },
        )
    return {a.code: a for a in Agency.objects.all()}


def _staff(username: str, role: str, agency: str | None = None, **extra: Any) -> User:
    return User.objects.create_user(
        username=username,
        password="pw-" + username,
        role=role,
        agency_id=agency,
        is_staff=True,
        real_name=username,
        **extra,
    )


@pytest.fixture
def people(agencies: dict[str, Agency]) -> dict[str, User]:
    return {
        "cw_out": _staff("sz_cw", Role.CASEWORKER, SHENZHEN),
        "cw_in": _staff("cs_cw", Role.CASEWORKER, CHANGSHA),
        "cw_other": _staff("bj_cw", Role.CASEWORKER, BEIJING),
        "supervisor": _staff("sz_sup", Role.SUPERVISOR, SHENZHEN),
        "admin": _staff("ops_admin", Role.ADMIN),
    }


@pytest.fixture
def new_case(people: dict[str, User]) -> Callable[..., TransferCase]:
    """Submit a case at a window of its transfer-out agency (Shenzhen -> Changsha by default)."""

    def make(
        *,
        from_agency: str = SHENZHEN,
        to_agency: str = CHANGSHA,
        at: dt.datetime = RECENTLY,
        number: str | None = None,
        insurance_type: str = "employee",
    ) -> TransferCase:
        actor = next(
            u for u in people.values() if u.role == Role.CASEWORKER and u.agency_id == from_agency
        )
        return case_submit(
            actor=actor,
            insurance_type=insurance_type,
            from_agency=from_agency,
            to_agency=to_agency,
            channel="window",
            applicant=Applicant(name="王五", id_number=number or id_number()),
            stopped_at_source_on=dt.date(2026, 10, 31),
            now=at,
        )

    return make


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


# --- who sees what -----------------------------------------------------------------------------


@pytest.mark.usefixtures("frozen")
def test_outsider_neither_lists_nor_opens_the_case(client, people, new_case):
    case = new_case()
    login(client, people["cw_other"])

    assert case.reference not in listed(client.get(CHANGELIST))
    assert client.get(change_url(case)).status_code == 404
    assert client.get(transition_url(case, Action.REJECT)).status_code == 404
    response = client.post(
        transition_url(case, Action.REJECT), {"version": case.version, "reason_code": "arrears"}
    )
    assert response.status_code == 404
    assert reload(case).state == CaseState.APPLIED
    assert client.post(reverse("admin:cases_transfercase_take", args=[case.pk])).status_code == 404


@pytest.mark.usefixtures("frozen")
def test_both_sides_see_the_case_and_the_administrator_sees_everything(client, people, new_case):
    case = new_case()
    beijing = new_case(from_agency=BEIJING, to_agency=CHANGSHA)

    for who in ("cw_out", "cw_in", "supervisor"):
        seen = listed(login(client, people[who]).get(CHANGELIST))
        assert case.reference in seen
        assert (beijing.reference in seen) == (who == "cw_in")
        assert login(client, people[who]).get(change_url(case)).status_code == 200

    assert listed(login(client, people["admin"]).get(CHANGELIST)) >= {
        case.reference,
        beijing.reference,
    }


def test_an_applicant_is_kept_out_even_when_marked_staff(client, agencies):
    applicant = User(username="zhangsan", role=Role.APPLICANT, is_staff=True)
    applicant.set_id_number(id_number())
    applicant.save()
    login(client, applicant)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:agencies_agency_changelist")).status_code == 403


@pytest.mark.usefixtures("frozen")
def test_no_add_change_or_delete_of_cases(client, people, new_case):
    case = new_case()
    login(client, people["admin"])
    assert client.get(reverse("admin:cases_transfercase_add")).status_code == 403
    assert (
        client.post(reverse("admin:cases_transfercase_delete", args=[case.pk])).status_code == 403
    )
    response = client.post(change_url(case), {"applicant_name": "改名"})
    assert response.status_code == 403
    assert reload(case).applicant_name == "王五"


# --- the queue: columns, filters, search, query count -------------------------------------------


@pytest.mark.usefixtures("frozen")
def test_changelist_filters_by_state_side_and_overdue(client, people, new_case):
    late_out = new_case(at=LONG_AGO)
    fresh_out = new_case()
    fresh_in = new_case(from_agency=CHANGSHA, to_agency=SHENZHEN)
    waiting = new_case()
    case_transition(
        case=waiting,
        action=Action.REQUEST_MATERIALS,
        actor=people["cw_out"],
        payload={"missing_materials": ["离职证明"]},
    )
    login(client, people["cw_out"])

    def refs(**params: str) -> set[str]:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return listed(response)

    assert refs() == {
        late_out.reference,
        fresh_out.reference,
        fresh_in.reference,
        waiting.reference,
    }
    assert refs(state__exact=CaseState.MATERIALS_REQUESTED) == {waiting.reference}
    assert refs(side="out") == {late_out.reference, fresh_out.reference, waiting.reference}
    assert refs(side="in") == {fresh_in.reference}
    assert refs(overdue="yes") == {late_out.reference}
    assert refs(overdue="no") == {fresh_out.reference, fresh_in.reference, waiting.reference}
    assert refs(side="out", overdue="no") == {fresh_out.reference, waiting.reference}


@pytest.mark.usefixtures("frozen")
def test_changelist_filters_by_due_date(client, people, new_case):
    late = new_case(at=LONG_AGO)
    due_today = new_case(at=TWO_WEEKS_AGO)
    later = new_case()
    waiting = new_case()
    case_transition(
        case=waiting,
        action=Action.REQUEST_MATERIALS,
        actor=people["cw_out"],
        payload={"missing_materials": ["离职证明"]},
    )
    login(client, people["cw_out"])

    def refs(due: str) -> set[str]:
        return listed(client.get(CHANGELIST, {"due": due}))

    assert refs("past") == {late.reference}
    assert refs("today") == {due_today.reference}
    assert refs("3wd") == {due_today.reference}
    assert refs("7d") == {due_today.reference}
    assert refs("none") == {waiting.reference}
    assert later.reference in listed(client.get(CHANGELIST))


@pytest.mark.usefixtures("frozen")
def test_changelist_shows_the_deadline_and_overdue_flag(client, people, new_case):
    late = new_case(at=LONG_AGO)
    response = login(client, people["cw_out"]).get(CHANGELIST)
    (row,) = response.context["cl"].result_list
    assert row.is_overdue is True
    # 10 working days after Monday 2026-11-23 on the provisional rule: Monday 2026-12-07.
    assert row.current_due_at.astimezone(SHANGHAI).date() == dt.date(2026, 12, 7)
    html = response.content.decode()
    assert late.id_number_masked in html
    assert "2026-12-07" in html


@pytest.mark.usefixtures("frozen")
def test_search_matches_the_exact_reference(client, people, new_case):
    case, other = new_case(), new_case()
    login(client, people["cw_out"])
    assert listed(client.get(CHANGELIST, {"q": case.reference.lower()})) == {case.reference}
    assert listed(client.get(CHANGELIST, {"q": case.reference[:-1]})) == set()
    assert other.reference not in listed(client.get(CHANGELIST, {"q": case.reference}))


@pytest.mark.usefixtures("frozen")
def test_changelist_query_count_does_not_grow_with_cases(client, people, new_case):
    for _ in range(5):
        case = new_case()
    case_assign(case=case, assignee=people["cw_out"], actor=people["cw_out"])
    login(client, people["cw_out"])
    client.get(CHANGELIST)  # warm caches (session, content types)

    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get(CHANGELIST))) == 5
    for _ in range(20):
        case = new_case(at=LONG_AGO)
    case_assign(case=case, assignee=people["cw_out"], actor=people["cw_out"])
    with CaptureQueriesContext(connection) as twenty_five:
        assert len(listed(client.get(CHANGELIST))) == 25

    assert len(twenty_five) == len(five)


# --- moving a case from its page ---------------------------------------------------------------


@pytest.mark.usefixtures("frozen")
def test_change_page_offers_the_actions_this_user_may_take(client, people, new_case):
    case = new_case()
    out_page = login(client, people["cw_out"]).get(change_url(case))
    assert {label for label, _url in out_page.context["transition_buttons"]} == {
        text(Action.APPROVE_TRANSFER_OUT.label),
        text(Action.REQUEST_MATERIALS.label),
        text(Action.REJECT.label),
    }
    assert transition_url(case, Action.APPROVE_TRANSFER_OUT) in out_page.content.decode()
    assert out_page.context["can_take"] is True
    assert out_page.context["can_assign"] is False

    in_page = login(client, people["cw_in"]).get(change_url(case))
    assert in_page.context["transition_buttons"] == []
    assert in_page.context["can_take"] is False

    assert login(client, people["supervisor"]).get(change_url(case)).context["can_assign"] is True


@pytest.mark.usefixtures("frozen")
def test_approving_through_the_form_moves_the_case_and_writes_an_event(client, people, new_case):
    case = new_case()
    login(client, people["cw_out"])
    url = transition_url(case, Action.APPROVE_TRANSFER_OUT)

    form_page = client.get(url)
    assert form_page.status_code == 200
    assert form_page.context["form"]["version"].value() == case.version

    response = client.post(
        url,
        {
            "version": case.version,
            "contribution_months": "36",
            "personal_account_balance": "1234.56",
            "no_arrears": "on",  # checked by default on the page
        },
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(case)
    moved = reload(case)
    assert moved.state == CaseState.TRANSFER_OUT_APPROVED
    assert moved.version == case.version + 1
    assert str(moved.personal_account_balance) == "1234.56"
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        Action.APPROVE_TRANSFER_OUT,
        people["cw_out"],
        CaseState.APPLIED,
        CaseState.TRANSFER_OUT_APPROVED,
    )
    assert len(flashed(response)) == 1


@pytest.mark.usefixtures("frozen")
def test_request_materials_takes_one_item_per_line(client, people, new_case):
    case = new_case()
    response = login(client, people["cw_out"]).post(
        transition_url(case, Action.REQUEST_MATERIALS),
        {
            "version": case.version,
            "missing_materials": "离职证明\n\n  参保凭证  \n",
            "note": "请补正",
        },
    )
    assert response.status_code == 302
    moved = reload(case)
    assert moved.state == CaseState.MATERIALS_REQUESTED
    assert moved.missing_materials == ["离职证明", "参保凭证"]
    assert CaseEvent.objects.filter(case=case).latest("id").note == "请补正"


@pytest.mark.usefixtures("frozen")
def test_a_stale_version_changes_nothing(client, people, new_case):
    case = new_case()
    seen_version = case.version
    # Someone else touches the case after the form was shown.
    case_assign(case=case, assignee=people["cw_out"], actor=people["cw_out"])
    events_before = CaseEvent.objects.filter(case=case).count()

    response = login(client, people["cw_out"]).post(
        transition_url(case, Action.REJECT), {"version": seen_version, "reason_code": "arrears"}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(case)
    assert flashed(response) == [text(MSG_STALE_CASE)]
    after = reload(case)
    assert after.state == CaseState.APPLIED
    assert after.version == seen_version + 1
    assert CaseEvent.objects.filter(case=case).count() == events_before


@pytest.mark.usefixtures("frozen")
def test_a_forbidden_action_by_url_changes_nothing(client, people, new_case):
    case = new_case()
    url = transition_url(case, Action.APPROVE_TRANSFER_OUT)
    login(client, people["cw_in"])

    shown = client.get(url)
    assert shown.status_code == 302
    forbidden = text(MSG_ACTION_FORBIDDEN).format(action=text(Action.APPROVE_TRANSFER_OUT.label))
    assert flashed(shown) == [forbidden]

    response = client.post(
        url,
        {"version": case.version, "contribution_months": "36", "personal_account_balance": "1"},
    )
    assert response.status_code == 302
    assert flashed(response)[-1] == forbidden
    after = reload(case)
    assert (after.state, after.version) == (CaseState.APPLIED, case.version)
    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.usefixtures("frozen")
def test_service_validation_errors_show_on_the_form(client, people, new_case):
    case = new_case()
    case = case_transition(
        case=case,
        action=Action.APPROVE_TRANSFER_OUT,
        actor=people["cw_out"],
        payload={"contribution_months": 36, "personal_account_balance": "100.00"},
    )
    case = case_transition(case=case, action=Action.CONFIRM_TRANSFER_IN, actor=people["cw_in"])
    response = login(client, people["cw_in"]).post(
        transition_url(case, Action.MOVE_BALANCE), {"version": case.version, "amount": "99.99"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert reload(case).state == CaseState.TRANSFER_IN_CONFIRMED


@pytest.mark.usefixtures("frozen")
def test_unknown_action_is_not_found(client, people, new_case):
    case = new_case()
    login(client, people["cw_out"])
    assert client.get(transition_url(case, "complete_without_balance")).status_code == 404
    assert client.get(transition_url(case, "delete")).status_code == 404


@pytest.mark.usefixtures("frozen")
def test_a_caseworker_takes_and_a_supervisor_assigns(client, people, new_case):
    case = new_case()
    take = reverse("admin:cases_transfercase_take", args=[case.pk])
    assign = reverse("admin:cases_transfercase_assign", args=[case.pk])

    assert login(client, people["cw_in"]).post(take).status_code == 302
    assert reload(case).assignee is None  # not the transfer-in side's move yet

    assert login(client, people["cw_out"]).get(take).status_code == 405
    assert client.post(take).status_code == 302
    assert reload(case).assignee == people["cw_out"]

    login(client, people["supervisor"])
    assert client.get(assign).status_code == 200
    assert client.post(assign, {"assignee": people["supervisor"].pk}).status_code == 302
    assert reload(case).assignee == people["supervisor"]
    assert client.post(assign, {"assignee": ""}).status_code == 302
    assert reload(case).assignee is None
    assert CaseEvent.objects.filter(case=case, action=Action.ASSIGN).count() == 3


# --- read-only inlines and personal data -------------------------------------------------------


@pytest.mark.usefixtures("frozen")
def test_clocks_and_events_are_shown_read_only(client, people, new_case):
    case = new_case()
    response = login(client, people["cw_out"]).get(change_url(case))
    inlines = {f.opts.__class__: f for f in response.context["inline_admin_formsets"]}
    assert set(inlines) == {StageClockInline, AttachmentInline, CaseEventInline}
    for inline in inlines.values():
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
    (event_form,) = list(inlines[CaseEventInline])
    assert event_form.original.action == Action.SUBMIT
    # Nothing to fill in: per row only the hidden keys Django always renders.
    row_inputs = set(re.findall(r'name="(?:events|clocks)-0-([a-z_]+)"', response.content.decode()))
    assert row_inputs == {"id", "case"}


@pytest.mark.usefixtures("frozen")
def test_pages_never_contain_the_plain_id_number(client, people, new_case):
    number = id_number("440306", "19850101")
    case = new_case(number=number)
    login(client, people["cw_out"])
    pages = [
        client.get(CHANGELIST),
        client.get(change_url(case)),
        client.get(transition_url(case, Action.APPROVE_TRANSFER_OUT)),
        client.post(ID_LOOKUP, {"id_number": number}, follow=True),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert number not in html
        assert number[-10:] not in html  # not even the birth date and sequence
        assert case.id_number_masked in html


@pytest.mark.usefixtures("frozen")
def test_lookup_by_id_number_goes_through_the_digest(client, people, new_case):
    number = id_number()
    first = new_case(number=number)
    second = new_case(number=number, insurance_type="resident")
    new_case()
    login(client, people["cw_out"])

    response = client.post(ID_LOOKUP, {"id_number": number.lower()})
    assert response.status_code == 302
    assert number not in response["Location"]
    assert listed(client.get(response["Location"])) == {first.reference, second.reference}

    assert client.post(ID_LOOKUP, {"id_number": "123"}).status_code == 302
    assert client.get(ID_LOOKUP).status_code == 405

    outsider = login(client, people["cw_other"]).post(ID_LOOKUP, {"id_number": number})
    assert outsider["Location"] == CHANGELIST


# --- agencies and accounts ---------------------------------------------------------------------


def test_agency_windows_are_for_administrators_and_the_own_supervisor(client, people):
    shenzhen = reverse("admin:agencies_agency_change", args=[SHENZHEN])
    beijing = reverse("admin:agencies_agency_change", args=[BEIJING])
    windows = {"transfer_out_days": "8", "transfer_in_days": "5", "balance_days": "5"}

    login(client, people["cw_out"])
    assert client.get(reverse("admin:agencies_agency_changelist")).status_code == 200
    assert client.post(shenzhen, windows).status_code == 403

    login(client, people["supervisor"])
    assert client.post(beijing, windows).status_code == 403
    too_long = client.post(shenzhen, {**windows, "transfer_out_days": "11"})
    assert too_long.status_code == 200
    assert too_long.context["adminform"].form.errors["transfer_out_days"]
    assert client.post(shenzhen, {**windows, "name": "改名"}).status_code == 302
    agency = Agency.objects.get(code=SHENZHEN)
    assert (agency.transfer_out_days, agency.name) == (8, "深圳市医疗保障局")

    login(client, people["admin"])
    assert client.get(reverse("admin:agencies_agency_add")).status_code == 200
    assert client.post(reverse("admin:agencies_agency_delete", args=[BEIJING])).status_code == 403


def test_only_administrators_manage_users(client, people):
    users = reverse("admin:accounts_user_changelist")
    for who in ("cw_out", "supervisor"):
        assert login(client, people[who]).get(users).status_code == 403

    applicant = User(username="zhangsan", role=Role.APPLICANT, real_name="张三")
    number = id_number()
    applicant.set_id_number(number)
    applicant.save()
    login(client, people["admin"])
    listing = client.get(users)
    assert listing.status_code == 200
    assert applicant.id_number_masked in listing.content.decode()
    page = client.get(reverse("admin:accounts_user_change", args=[applicant.pk]))
    html = page.content.decode()
    assert number not in html
    assert applicant.id_number_digest not in html
    assert applicant.id_number_encrypted not in html
    assert "is_superuser" not in page.context["adminform"].form.fields

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "new_cw",
            "usable_password": "true",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
            "role": Role.CASEWORKER,
            "agency": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["agency"] == [text(MSG_AGENCY_REQUIRED)]
    assert not User.objects.filter(username="new_cw").exists()


def test_agency_webhook_secret_is_write_only(client, people):
    Agency.objects.filter(code=SHENZHEN).update(
        webhook_url="https://sz.example/hook", webhook_secret="old-s3cret-value"
    )
    url = reverse("admin:agencies_agency_change", args=[SHENZHEN])

    for who in ("cw_out", "supervisor", "admin"):
        page = login(client, people[who]).get(url)
        assert page.status_code == 200
        assert "old-s3cret-value" not in page.content.decode()

    login(client, people["admin"])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: "" if v is None else v for k, v in data.items()}
    # The box comes back empty (the page never holds the secret): the secret stays.
    data["webhook_secret"] = ""
    assert client.post(url, {**data, "transfer_in_days": "4"}).status_code == 302
    agency = Agency.objects.get(code=SHENZHEN)
    assert (agency.transfer_in_days, agency.webhook_secret) == (4, "old-s3cret-value")

    assert client.post(url, {**data, "webhook_secret": "new-s3cret"}).status_code == 302
    assert Agency.objects.get(code=SHENZHEN).webhook_secret == "new-s3cret"


def test_the_case_page_says_the_state_in_the_cases_own_words(client, people, new_case):
    transfer, merge = new_case(), new_case()
    TransferCase.objects.filter(pk=merge.pk).update(kind="merge")
    login(client, people["admin"])
    transfer_page = client.get(change_url(transfer)).content.decode()
    merge_page = client.get(change_url(merge)).content.decode()
    assert "已申请（转出地审核中）" in transfer_page
    assert "已申请（注销地核查中）" in merge_page
    assert "已申请（转出地审核中）" not in merge_page
