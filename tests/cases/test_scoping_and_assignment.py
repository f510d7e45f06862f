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
from workflow.models import StageClock


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


AT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def assign_events(case):
    """The case's assignment events as (actor, actor_role, from_state, to_state, data, at)."""
    return list(
        CaseEvent.objects.filter(case=case, action="assign")
        .order_by("id")
        .values_list("actor_id", "actor_role", "from_state", "to_state", "data", "at")
    )


def stored(case):
    """What the database holds of the case's assignment: (assignee id, version)."""
    case.refresh_from_db()
    return case.assignee_id, case.version


@pytest.mark.django_db
def test_a_caseworker_takes_a_case_and_a_supervisor_reassigns_it(personas, submit_case):
    cw_out, supervisor = personas["cw_out"], personas["supervisor"]
    case = submit_case()
    assert stored(case) == (None, 1)
    colleague = User.objects.create(
        username="sz_cw2", role=Role.CASEWORKER, agency_id="440300", is_staff=True
    )

    taken = case_assign(case=case, assignee=cw_out, actor=cw_out, now=AT)
    assert (taken.assignee_id, taken.version) == (cw_out.pk, 2)
    assert stored(case) == (cw_out.pk, 2)
    later = AT + dt.timedelta(hours=1)
    reassigned = case_assign(case=case, assignee=colleague, actor=supervisor, now=later)
    assert (reassigned.assignee_id, reassigned.version) == (colleague.pk, 3)
    assert stored(case) == (colleague.pk, 3)
    latest = AT + dt.timedelta(hours=2)
    cleared = case_assign(case=case, assignee=None, actor=supervisor, now=latest)
    assert (cleared.assignee_id, cleared.version) == (None, 4)
    assert stored(case) == (None, 4)
    assert case.updated_at == latest

    # One event per call, by whoever acted, naming the new and the previous holder. Assignment
    # changes no state, so the state is both sides of it.
    assert assign_events(case) == [
        (
            cw_out.pk,
            "caseworker",
            "applied",
            "applied",
            {"assignee": cw_out.pk, "previous": None},
            AT,
        ),
        (
            supervisor.pk,
            "supervisor",
            "applied",
            "applied",
            {"assignee": colleague.pk, "previous": cw_out.pk},
            later,
        ),
        (
            supervisor.pk,
            "supervisor",
            "applied",
            "applied",
            {"assignee": None, "previous": colleague.pk},
            latest,
        ),
    ]
    # The state and the stage clock are untouched.
    assert case.state == "applied"
    assert list(StageClock.objects.filter(case=case).values_list("stage", "completed_at")) == [
        ("applied", None)
    ]


@pytest.mark.django_db
def test_assignment_refusals_change_nothing(personas, submit_case):
    cw_out, cw_in, supervisor = personas["cw_out"], personas["cw_in"], personas["supervisor"]
    case = submit_case()
    case = case_assign(case=case, assignee=cw_out, actor=cw_out, now=AT)
    held = (cw_out.pk, 2)
    assert stored(case) == held
    events = assign_events(case)
    inactive = User.objects.create(
        username="sz_cw_left", role=Role.CASEWORKER, agency_id="440300", is_active=False
    )
    refusals = [
        # The transfer-in caseworker cannot take a case in the transfer-out stage.
        (ActionForbidden, cw_in, cw_in),
        # A caseworker cannot hand a case to someone else, nor clear it.
        (ActionForbidden, supervisor, cw_out),
        (ActionForbidden, None, cw_out),
        # Applicants, other agencies and service accounts assign nothing.
        (ActionForbidden, personas["applicant"], personas["applicant"]),
        (ActionForbidden, personas["cw_other"], personas["cw_other"]),
        (ActionForbidden, cw_out, personas["platform"]),
        # A supervisor cannot assign to another agency's caseworker, or to someone who left.
        (InvalidInput, cw_in, supervisor),
        (InvalidInput, inactive, supervisor),
    ]
    for error, assignee, actor in refusals:
        with pytest.raises(error):
            case_assign(case=case, assignee=assignee, actor=actor, now=AT + dt.timedelta(days=1))
        assert stored(case) == held, (assignee, actor)
    assert assign_events(case) == events

    # A closed case is nobody's move: assigning it is not possible, and it keeps its last holder.
    closed = submit_case(insurance_type="resident")
    closed = case_assign(case=closed, assignee=cw_out, actor=cw_out, now=AT)
    closed = case_transition(
        case=closed, action="reject", actor=cw_out, payload={"reason_code": "arrears"}, now=AT
    )
    before = stored(closed)
    assert before == (cw_out.pk, 3)
    events = assign_events(closed)
    with pytest.raises(TransitionNotAllowed):
        case_assign(case=closed, assignee=supervisor, actor=supervisor)
    assert stored(closed) == before
    assert assign_events(closed) == events


@pytest.mark.django_db
def test_the_assignment_stays_with_the_agency_whose_move_it_was(personas, submit_case):
    """Materials requested and resubmitted: still the transfer-out caseworker's. Transferred out:
    the transfer-in agency's queue starts unassigned, and its caseworker can take it."""
    cw_out, cw_in = personas["cw_out"], personas["cw_in"]
    at = AT
    case = submit_case()
    case = case_assign(case=case, assignee=cw_out, actor=cw_out, now=at)
    for action, payload in (
        ("request_materials", {"missing_materials": ["离职证明"]}),
        ("resubmit_materials", {}),
    ):
        case = case_transition(case=case, action=action, actor=cw_out, payload=payload, now=at)
        assert case.assignee == cw_out
        assert stored(case)[0] == cw_out.pk
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=cw_out,
        payload={"contribution_months": 60, "personal_account_balance": "100.00"},
        now=at,
    )
    # submit 1, assign 2, request 3, resubmit 4, approve 5: the hand-over clears it in the move
    # itself (no assignment event of its own).
    assert stored(case) == (None, 5)
    assert [e[0] for e in assign_events(case)] == [cw_out.pk]
    case = case_assign(case=case, assignee=cw_in, actor=cw_in, now=at)
    assert stored(case) == (cw_in.pk, 6)
    assert assign_events(case)[-1] == (
        cw_in.pk,
        "caseworker",
        "transfer_out_approved",
        "transfer_out_approved",
        {"assignee": cw_in.pk, "previous": None},
        at,
    )
    case = case_transition(case=case, action="confirm_transfer_in", actor=cw_in, now=at)
    # Still the transfer-in agency's move (the balance): the assignment stays.
    assert stored(case) == (cw_in.pk, 7)
    assert case.state == "transfer_in_confirmed"
