"""Who sees which cases (selectors), and who may assign them."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role, User
from cases.errors import ActionForbidden, TransitionNotAllowed
from cases.models import CaseEvent
from cases.selectors import case_get_for, case_queryset_for
from cases.services import case_assign, case_transition
from core.errors import InvalidInput
from workflow.calendar import SHANGHAI


@pytest.fixture
def three_cases(personas, submit_case):
    mine = submit_case()  # applicant's own: Shenzhen -> Changsha
    window = submit_case(actor=personas["cw_out"], to_agency="440100")  # Shenzhen -> Guangzhou
    beijing = submit_case(actor=personas["cw_other"], from_agency="110000", to_agency="430100")
    return mine, window, beijing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("applicant", {"mine"}),
        ("other_applicant", set()),
        ("cw_out", {"mine", "window"}),
        ("cw_in", {"mine", "beijing"}),
        ("cw_other", {"beijing"}),
        ("supervisor", {"mine", "window"}),
        ("platform", {"mine", "window"}),  # province-wide: Shenzhen and Guangzhou are Guangdong
    ],
)
def test_who_sees_what(persona, visible, personas, three_cases):
    names = dict(zip(("mine", "window", "beijing"), three_cases, strict=True))
    seen = set(case_queryset_for(personas[persona]).values_list("reference", flat=True))
    assert seen == {names[n].reference for n in visible}
    for name, case in names.items():
        found = case_get_for(user=personas[persona], reference=case.reference)
        assert (found is not None) == (name in visible)


@pytest.mark.django_db
def test_a_window_submitted_case_is_visible_to_its_applicant(personas, submit_case):
    from cases.services import Applicant

    applicant = personas["other_applicant"]
    from core.identity import id_number_decrypt

    case = submit_case(
        actor=personas["cw_in"],
        applicant=Applicant(
            name="李四", id_number=id_number_decrypt(applicant.id_number_encrypted)
        ),
    )
    assert case_get_for(user=applicant, reference=case.reference) == case


@pytest.mark.django_db
def test_inactive_and_anonymous_see_nothing(personas, three_cases):
    from django.contrib.auth.models import AnonymousUser

    user = personas["cw_out"]
    user.is_active = False
    assert not case_queryset_for(user).exists()
    assert not case_queryset_for(AnonymousUser()).exists()


@pytest.mark.django_db
def test_a_caseworker_takes_a_case_and_a_supervisor_reassigns_it(personas, submit_case):
    case = submit_case()
    case = case_assign(case=case, assignee=personas["cw_out"], actor=personas["cw_out"])
    assert case.assignee == personas["cw_out"]
    colleague = User.objects.create(
        username="sz_cw2", role=Role.CASEWORKER, agency_id="440300", is_staff=True
    )
    case = case_assign(case=case, assignee=colleague, actor=personas["supervisor"])
    assert case.assignee == colleague
    assert list(
        CaseEvent.objects.filter(case=case, action="assign").values_list("data", flat=True)
    ) == [
        {"assignee": personas["cw_out"].pk, "previous": None},
        {"assignee": colleague.pk, "previous": personas["cw_out"].pk},
    ]


@pytest.mark.django_db
def test_assignment_refusals_change_nothing(personas, submit_case, case_in_state):
    case = submit_case()
    version = case.version
    # The transfer-in caseworker cannot take a case in the transfer-out stage.
    with pytest.raises(ActionForbidden):
        case_assign(case=case, assignee=personas["cw_in"], actor=personas["cw_in"])
    # A caseworker cannot hand a case to someone else.
    with pytest.raises(ActionForbidden):
        case_assign(case=case, assignee=personas["supervisor"], actor=personas["cw_out"])
    # A supervisor cannot assign to another agency's caseworker.
    with pytest.raises(InvalidInput):
        case_assign(case=case, assignee=personas["cw_in"], actor=personas["supervisor"])
    case.refresh_from_db()
    assert (case.assignee, case.version) == (None, version)
    closed = case_in_state("rejected", insurance_type="resident")
    with pytest.raises(TransitionNotAllowed):
        case_assign(case=closed, assignee=personas["cw_out"], actor=personas["supervisor"])


@pytest.mark.django_db
def test_the_assignment_stays_with_the_agency_whose_move_it_was(personas, submit_case):
    """Materials requested and resubmitted: still the transfer-out caseworker's. Transferred out:
    the transfer-in agency's queue starts unassigned, and its caseworker can take it."""
    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    case = submit_case()
    case = case_assign(case=case, assignee=personas["cw_out"], actor=personas["cw_out"])
    for action, payload in (
        ("request_materials", {"missing_materials": ["离职证明"]}),
        ("resubmit_materials", {}),
    ):
        case = case_transition(
            case=case, action=action, actor=personas["cw_out"], payload=payload, now=at
        )
        assert case.assignee == personas["cw_out"]
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "100.00"},
        now=at,
    )
    case.refresh_from_db()
    assert case.assignee is None
    case = case_assign(case=case, assignee=personas["cw_in"], actor=personas["cw_in"])
    case = case_transition(case=case, action="confirm_transfer_in", actor=personas["cw_in"], now=at)
    case.refresh_from_db()
    assert (case.state, case.assignee) == ("transfer_in_confirmed", personas["cw_in"])
