"""Every state x action x persona: allowed or refused, and a refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from cases.errors import ActionForbidden, StaleCase, TransitionNotAllowed
from cases.models import CaseEvent
from cases.services import case_allowed_actions, case_transition
from cases.states import USER_ACTIONS
from core.errors import InvalidInput
from tests.conftest import _user
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

PERSONAS = ["applicant", "other_applicant", "cw_out", "cw_in", "cw_other", "supervisor", "platform"]
# The supervisor is Shenzhen's. The platform account covers Guangdong (so Shenzhen) but a service
# account only credits balances, and the balance is Changsha's move.
FROM_SIDE = {"cw_out", "supervisor"}

# Written out from domain.md, not derived from the code under test.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("applied", "approve_transfer_out"): FROM_SIDE,
    ("applied", "request_materials"): FROM_SIDE,
    ("applied", "reject"): FROM_SIDE,
    ("applied", "withdraw"): {"applicant"},
    ("materials_requested", "resubmit_materials"): {"applicant", "cw_in"} | FROM_SIDE,
    ("materials_requested", "withdraw"): {"applicant"},
    ("transfer_out_approved", "confirm_transfer_in"): {"cw_in"},
    ("transfer_out_approved", "reject"): {"cw_in"},
    ("transfer_in_confirmed", "move_balance"): {"cw_in"},
}
# Actions a persona may take on other cases but never on this one: paying the balance out is for
# a target that keeps no personal account (a move to resident insurance); the shared case goes to
# employee insurance. Refused as a move this case does not allow (409), never as forbidden (403).
ELSEWHERE: dict[str, set[str]] = {"pay_out_balance": {"cw_in"}}
STATES = [
    "applied",
    "materials_requested",
    "transfer_out_approved",
    "transfer_in_confirmed",
    "balance_moved",
    "rejected",
    "withdrawn",
]
PAYLOADS = {
    "approve_transfer_out": {"contribution_months": 48, "personal_account_balance": "1234.56"},
    "request_materials": {"missing_materials": ["离职证明"]},
    "resubmit_materials": {},
    "confirm_transfer_in": {},
    "move_balance": {"amount": "1234.56"},
    "pay_out_balance": {"amount": "1234.56"},
    "reject": {"reason_code": "arrears"},
    "withdraw": {},
}
LATER = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def snapshot(case):
    case.refresh_from_db()
    clocks = list(
        StageClock.objects.filter(case=case)
        .order_by("id")
        .values_list("id", "stage", "completed_at", "due_at")
    )
    events = list(CaseEvent.objects.filter(case=case).values_list("id", "action"))
    return case.state, case.version, case.updated_at, clocks, events


def test_the_table_covers_every_user_action():
    assert {action for _, action in ALLOWED} | set(ELSEWHERE) == set(USER_ACTIONS)


# Where each allowed (state, action) leads, written out by hand (not read from cases.states): the
# target state and the clock that runs there as (stage, responsible, agency code), or None for a
# closed case. The case is the shared one: employee insurance, a 1234.56 balance, Shenzhen
# (440300) -> Changsha (430100), whose policy moves the balance, so confirming it in waits for the
# money (the system's own completion without a balance step: test_balance_step_completes_by_itself).
TARGETS: dict[tuple[str, str], tuple[str, tuple[str, str, str | None] | None]] = {
    ("applied", "approve_transfer_out"): (
        "transfer_out_approved",
        ("transfer_out_approved", "to_agency", "430100"),
    ),
    ("applied", "request_materials"): (
        "materials_requested",
        ("materials_requested", "applicant", None),
    ),
    ("applied", "reject"): ("rejected", None),
    ("applied", "withdraw"): ("withdrawn", None),
    ("materials_requested", "resubmit_materials"): (
        "applied",
        ("applied", "from_agency", "440300"),
    ),
    ("materials_requested", "withdraw"): ("withdrawn", None),
    ("transfer_out_approved", "confirm_transfer_in"): (
        "transfer_in_confirmed",
        ("transfer_in_confirmed", "to_agency", "430100"),
    ),
    ("transfer_out_approved", "reject"): ("rejected", None),
    ("transfer_in_confirmed", "move_balance"): ("balance_moved", None),
}
# The role each persona acts in (CaseEvent.actor_role).
ROLES = {
    "applicant": "applicant",
    "other_applicant": "applicant",
    "cw_out": "caseworker",
    "cw_in": "caseworker",
    "cw_other": "caseworker",
    "supervisor": "supervisor",
    "platform": "platform",
}


def test_the_targets_cover_the_allowed_moves():
    assert set(TARGETS) == set(ALLOWED)


def open_clocks(case):
    return list(
        StageClock.objects.filter(case=case, completed_at__isnull=True).values_list(
            "stage", "responsible", "agency_id", "started_at"
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(USER_ACTIONS))
@pytest.mark.parametrize("state", STATES)
def test_state_action_persona_matrix(state, action, persona, personas, case_in_state):
    allowed_personas = ALLOWED.get((state, action), set())
    case = case_in_state(state)
    before = snapshot(case)
    if persona in allowed_personas:
        target, stage = TARGETS[(state, action)]
        actor = personas[persona]
        [open_before] = StageClock.objects.filter(case=case, completed_at__isnull=True)
        moved = case_transition(
            case=case, action=action, actor=actor, payload=PAYLOADS[action], now=LATER
        )
        assert moved.state == target
        case.refresh_from_db()
        assert (case.state, case.version, case.updated_at) == (target, before[1] + 1, LATER)
        assert case.closed_at == (LATER if stage is None else None)
        # Exactly one event, this move's, by this persona in their role.
        new_events = list(
            CaseEvent.objects.filter(case=case).exclude(id__in=[i for i, _ in before[4]])
        )
        assert [
            (e.action, e.from_state, e.to_state, e.actor_id, e.actor_role, e.at) for e in new_events
        ] == [(action, state, target, actor.pk, ROLES[persona], LATER)]
        assert new_events[0].actor is not None
        # The stage that ran is closed by this action; the next one (if any) is the one open.
        open_before.refresh_from_db()
        assert (open_before.completed_at, open_before.closed_by) == (LATER, action)
        expected_open = [] if stage is None else [(*stage, LATER)]
        assert open_clocks(case) == expected_open
    else:
        # Forbidden for a persona who may never take this action, in whatever state (the API's
        # 403); one who may in another state is refused as for a move this state lacks (409).
        ever = any(
            persona in who for (_s, a), who in ALLOWED.items() if a == action
        ) or persona in ELSEWHERE.get(action, set())
        expected = TransitionNotAllowed if ever else ActionForbidden
        with pytest.raises(expected):
            case_transition(
                case=case,
                action=action,
                actor=personas[persona],
                payload=PAYLOADS[action],
                now=LATER,
            )
        assert snapshot(case) == before


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_next_actions_match_the_table(state, personas, case_in_state):
    case = case_in_state(state)
    for persona in PERSONAS:
        expected = {a for (s, a), who in ALLOWED.items() if s == state and persona in who}
        assert set(case_allowed_actions(case=case, user=personas[persona])) == expected


@pytest.mark.django_db
def test_transition_not_allowed_names_state_and_allowed_actions(personas, case_in_state):
    case = case_in_state("transfer_out_approved")
    # The transfer-in caseworker credits balances, but not before the transfer-in is confirmed.
    with pytest.raises(TransitionNotAllowed) as err:
        case_transition(
            case=case, action="move_balance", actor=personas["cw_in"], payload={"amount": "1"}
        )
    assert err.value.state == "transfer_out_approved"
    assert set(err.value.allowed_actions) == {"confirm_transfer_in", "reject"}
    # One that may never approve a transfer out is told so, in any state.
    with pytest.raises(ActionForbidden):
        case_transition(
            case=case, action="approve_transfer_out", actor=personas["cw_in"], payload={}
        )


@pytest.mark.django_db
def test_each_transition_closes_one_clock_and_opens_the_next(personas, case_in_state):
    case = case_in_state("balance_moved")
    clocks = list(StageClock.objects.filter(case=case).order_by("id"))
    assert [c.stage for c in clocks] == [
        "applied",
        "transfer_out_approved",
        "transfer_in_confirmed",
    ]
    assert all(c.completed_at is not None for c in clocks)
    assert [c.closed_by for c in clocks] == [
        "approve_transfer_out",
        "confirm_transfer_in",
        "move_balance",
    ]
    assert [c.window_days for c in clocks] == [10, 5, 5]
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("submit", "", "applied"),
        ("approve_transfer_out", "applied", "transfer_out_approved"),
        ("confirm_transfer_in", "transfer_out_approved", "transfer_in_confirmed"),
        ("move_balance", "transfer_in_confirmed", "balance_moved"),
    ]
    case.refresh_from_db()
    assert case.closed_at is not None
    assert case.balance_received == Decimal("1234.56")
    assert events[1].data == {"contribution_months": 60, "personal_account_balance": "1234.56"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("insurance_type", "balance", "policy"),
    [
        ("resident", "0", "transfer"),
        ("employee", "0.00", "transfer"),
        ("employee", "99.10", "merge"),
    ],
)
def test_balance_step_completes_by_itself(
    insurance_type, balance, policy, personas, submit_case, agencies
):
    """Nothing to credit: the transfer-in caseworker's confirmation and the system's completion,
    two events and two versions in the one transaction."""
    # A merge policy applies within a province only: Shenzhen -> Guangzhou (both Guangdong), with
    # a Guangzhou caseworker; the transfers go to Changsha.
    target = "440100" if policy == "merge" else "430100"
    agencies[target].balance_policy = policy
    agencies[target].save()
    case = submit_case(insurance_type=insurance_type, to_agency=target)
    confirmer = (
        personas["cw_in"]
        if target == "430100"
        else _user("gz_cw", Role.CASEWORKER, agency_id="440100", is_staff=True)
    )
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 12, "personal_account_balance": balance},
        now=LATER - dt.timedelta(days=1),
    )
    version = case.version
    seen = list(CaseEvent.objects.filter(case=case).values_list("id", flat=True))
    moved = case_transition(case=case, action="confirm_transfer_in", actor=confirmer, now=LATER)
    assert moved.state == "balance_moved"
    case.refresh_from_db()
    assert (case.state, case.version, case.closed_at) == ("balance_moved", version + 2, LATER)
    events = CaseEvent.objects.filter(case=case).exclude(id__in=seen).order_by("id")
    assert [
        (e.action, e.from_state, e.to_state, e.actor_id, e.actor_role, e.at) for e in events
    ] == [
        (
            "confirm_transfer_in",
            "transfer_out_approved",
            "transfer_in_confirmed",
            confirmer.pk,
            "caseworker",
            LATER,
        ),
        (
            "complete_without_balance",
            "transfer_in_confirmed",
            "balance_moved",
            None,
            "system",
            LATER,
        ),
    ]
    assert not StageClock.objects.filter(case=case, completed_at__isnull=True).exists()
    assert list(
        StageClock.objects.filter(case=case).order_by("id").values_list("stage", "closed_by")
    ) == [
        ("applied", "approve_transfer_out"),
        ("transfer_out_approved", "confirm_transfer_in"),
        ("transfer_in_confirmed", "complete_without_balance"),
    ]


@pytest.mark.django_db
def test_a_positive_employee_balance_waits_for_the_money(personas, case_in_state):
    case = case_in_state("transfer_in_confirmed")
    assert case.state == "transfer_in_confirmed"
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    assert (clock.stage, clock.responsible, clock.agency_id) == (
        "transfer_in_confirmed",
        "to_agency",
        "430100",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "state", "payload", "field"),
    [
        ("move_balance", "transfer_in_confirmed", {"amount": "1234.55"}, "amount"),
        ("move_balance", "transfer_in_confirmed", {"amount": "1234.567"}, "amount"),
        ("move_balance", "transfer_in_confirmed", {}, "amount"),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": 12},
            "personal_account_balance",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": -1, "personal_account_balance": "1"},
            "contribution_months",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": 12, "personal_account_balance": "-0.01"},
            "personal_account_balance",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": 12, "personal_account_balance": "NaN"},
            "personal_account_balance",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": 12, "personal_account_balance": "1e30"},
            "personal_account_balance",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": 12, "personal_account_balance": "１２"},
            "personal_account_balance",
        ),
        (
            "approve_transfer_out",
            "applied",
            {"contribution_months": "１２", "personal_account_balance": "12"},
            "contribution_months",
        ),
        ("reject", "applied", {"reason_code": "bored"}, "reason_code"),
        ("reject", "applied", {"reason_code": "other", "note": " "}, "note"),
        ("request_materials", "applied", {"missing_materials": []}, "missing_materials"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(
    action, state, payload, field, personas, case_in_state
):
    case = case_in_state(state)
    actor = personas["cw_out" if state == "applied" else "cw_in"]
    before = snapshot(case)
    with pytest.raises(InvalidInput) as err:
        case_transition(case=case, action=action, actor=actor, payload=payload)
    assert field in err.value.errors
    assert snapshot(case) == before


@pytest.mark.django_db
def test_a_stale_version_is_refused(personas, case_in_state):
    case = case_in_state("applied")
    before = snapshot(case)
    with pytest.raises(StaleCase):
        case_transition(
            case=case,
            action="request_materials",
            actor=personas["cw_out"],
            payload={"missing_materials": ["x"]},
            expected_version=case.version - 1,
        )
    assert snapshot(case) == before


@pytest.mark.django_db
def test_state_cannot_be_assigned_directly(case_in_state):
    case = case_in_state("applied")
    with pytest.raises(AttributeError):
        case.state = "balance_moved"


@pytest.mark.django_db
def test_the_fund_systems_service_account_credits_the_balance(personas, case_in_state):
    from accounts.models import Role, User

    fund = User.objects.create(username="hn_fund", role=Role.PLATFORM, agency_id="430100")
    case = case_in_state("transfer_in_confirmed")
    assert case_allowed_actions(case=case, user=fund) == ["move_balance"]
    case = case_transition(
        case=case, action="move_balance", actor=fund, payload={"amount": "1234.56"}, now=LATER
    )
    assert case.state == "balance_moved"
    # ... and nothing else: it may not confirm a transfer in or reject.
    other = case_in_state("transfer_out_approved")
    with pytest.raises(ActionForbidden):
        case_transition(case=other, action="confirm_transfer_in", actor=fund, now=LATER)
