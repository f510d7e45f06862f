"""Two connections move the same case at once on PostgreSQL: exactly one wins."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from django.db import connection, transaction

from cases.errors import ActionForbidden, StaleCase, TransitionNotAllowed
from cases.models import CaseEvent, TransferCase
from cases.services import case_transition
from core.errors import DomainError
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

NOW = dt.datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)


def race(calls):
    """Run each (action, actor, payload) in its own thread and connection, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(i: int, case: TransferCase, action: str, actor, payload) -> None:
        try:
            barrier.wait()
            outcomes[i] = case_transition(
                case=case, action=action, actor=actor, payload=payload, now=NOW
            ).state
        except DomainError as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def assert_consistent(case: TransferCase) -> None:
    case.refresh_from_db()
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert events[-1].to_state == case.state
    for earlier, later in itertools.pairwise(events):
        assert later.from_state == earlier.to_state
    open_clocks = list(StageClock.objects.filter(case=case, completed_at__isnull=True))
    if case.is_open:
        assert len(open_clocks) == 1
        assert open_clocks[0].stage == case.state
    else:
        assert open_clocks == []


@pytest.mark.django_db(transaction=True)
def test_conflicting_moves_one_wins(personas, case_in_state):
    assert connection.vendor == "postgresql"
    case = case_in_state("applied")
    outcomes = race(
        [
            (
                case,
                "approve_transfer_out",
                personas["cw_out"],
                {"contribution_months": 1, "personal_account_balance": "1.00"},
            ),
            (case, "request_materials", personas["supervisor"], {"missing_materials": ["x"]}),
            (case, "reject", personas["platform"], {"reason_code": "arrears"}),
        ]
    )
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if not isinstance(o, str)]
    assert len(winners) == 1, outcomes
    # Whichever won, the others find a state their action no longer applies to (or, for the
    # supervisor's reject after approval, a stage that is no longer theirs).
    assert all(isinstance(o, TransitionNotAllowed | StaleCase | ActionForbidden) for o in losers)
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert_consistent(case)
    assert case.state == winners[0]


@pytest.mark.django_db(transaction=True)
def test_the_same_move_twice_at_once_happens_once(personas, case_in_state):
    case = case_in_state("transfer_out_approved")
    outcomes = race([(case, "confirm_transfer_in", personas["cw_in"], {})] * 2)
    assert sorted(isinstance(o, str) for o in outcomes) == [False, True]
    assert CaseEvent.objects.filter(case=case, action="confirm_transfer_in").count() == 1
    assert_consistent(case)


@pytest.mark.django_db(transaction=True)
def test_a_stale_instance_cannot_overwrite_a_newer_state(personas, case_in_state):
    """The compare-and-set guard of ConcurrentTransitionMixin, without the service's row lock."""
    case = case_in_state("applied")
    stale = TransferCase.objects.get(pk=case.pk)
    case_transition(case=case, action="withdraw", actor=personas["applicant"], now=NOW)
    stale.reject(reason_code="arrears")
    from django_fsm import ConcurrentTransition

    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    case.refresh_from_db()
    assert case.state == "withdrawn"
