"""A case's notifications are queued for delivery only when the write that made them commits.

A transition or submission that rolls back queues nothing and leaves no rows; one that commits
queues exactly the ids of the rows it wrote (one ``notification_dispatch`` per event), and only
after the commit. ``notification_dispatch`` is replaced by a recorder (no broker); the rows, the
transactions and the on-commit hooks are real.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction

from agencies.models import Agency
from cases.models import CaseEvent, TransferCase
from cases.services import case_transition
from notifications.models import Notification
from workflow.calendar import SHANGHAI

LATER = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
MATERIALS = {"missing_materials": ["离职证明"]}


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], bool]]:
    """What would be queued: (ids, whether a transaction was still open at the time)."""
    calls: list[tuple[list[int], bool]] = []
    monkeypatch.setattr(
        "notifications.services.notification_dispatch",
        lambda *, ids: calls.append((list(ids), connection.in_atomic_block)),
    )
    return calls


@pytest.fixture
def webhook(agencies: dict[str, Agency]) -> None:
    """Changsha's system hears of its cases too, so a state change writes three rows."""
    Agency.objects.filter(code="430100").update(
        webhook_url="https://cs.example/hook", webhook_secret="s3cret"
    )


def rows_of(event: CaseEvent) -> list[int]:
    """The ids of the rows written for ``event``, checking they are the three expected ones."""
    rows = Notification.objects.filter(dedup_key__startswith=f"status:{event.pk}:").order_by("id")
    assert sorted(rows.values_list("dedup_key", flat=True)) == [
        f"status:{event.pk}:in_app",
        f"status:{event.pk}:sms",
        f"status:{event.pk}:webhook:430100",
    ]
    return list(rows.values_list("id", flat=True))


def last_event(case: TransferCase, action: str) -> CaseEvent:
    return CaseEvent.objects.filter(case=case, action=action).latest("id")


def written_since(ids: set[int]) -> list[int]:
    return sorted(Notification.objects.exclude(id__in=ids).values_list("id", flat=True))


# --- on-commit hooks captured inside the test's transaction --------------------------------------


@pytest.mark.django_db
def test_a_transition_registers_the_delivery_of_its_rows_and_sends_nothing_before_commit(
    personas: dict[str, Any],
    case_in_state: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = case_in_state("applied")
    seen = set(Notification.objects.values_list("id", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_transition(
            case=case, action="request_materials", actor=personas["cw_out"], payload=MATERIALS
        )
    rows = rows_of(last_event(case, "request_materials"))
    assert written_since(seen) == sorted(rows)
    # One hook for the event's rows, not run yet: nothing is queued before the commit.
    assert len(callbacks) == 1
    assert queued == []
    callbacks[0]()
    assert [sorted(ids) for ids, _open in queued] == [sorted(rows)]


@pytest.mark.django_db
def test_a_transition_rolled_back_with_its_caller_registers_nothing(
    personas: dict[str, Any],
    case_in_state: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = case_in_state("applied")
    seen = set(Notification.objects.values_list("id", flat=True))
    events = CaseEvent.objects.filter(case=case).count()
    # The caller's transaction (a savepoint of the test's) rolls back after the service returned.
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        case_transition(
            case=case, action="request_materials", actor=personas["cw_out"], payload=MATERIALS
        )
        assert len(written_since(seen)) == 3
        transaction.set_rollback(True)
    assert callbacks == []
    assert queued == []
    assert written_since(seen) == []
    case.refresh_from_db()
    assert (case.state, CaseEvent.objects.filter(case=case).count()) == ("applied", events)


# --- real transactions: the test database commits and rolls back ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_committed_submission_and_transition_queue_exactly_their_rows_after_commit(
    personas: dict[str, Any],
    submit_case: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
) -> None:
    case = submit_case()
    # The submission (its own transaction, committed) queued its rows, with no transaction open.
    assert queued == [(rows_of(last_event(case, "submit")), False)]
    queued.clear()

    seen = set(Notification.objects.values_list("id", flat=True))
    with transaction.atomic():
        case_transition(
            case=case,
            action="request_materials",
            actor=personas["cw_out"],
            payload=MATERIALS,
            now=LATER,
        )
        rows = rows_of(last_event(case, "request_materials"))
        # Written, but the caller's transaction is still open: nothing is queued yet.
        assert queued == []
    assert queued == [(rows, False)]
    assert written_since(seen) == sorted(rows)
    assert Notification.objects.filter(id__in=rows, status="pending").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_completion_without_balance_queues_each_events_rows_after_commit(
    personas: dict[str, Any],
    submit_case: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
) -> None:
    """Confirming a resident case in completes it: two events, each with its rows, one commit."""
    case = submit_case(insurance_type="resident")
    case = case_transition(
        case=case,
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 12, "personal_account_balance": "0"},
        now=LATER - dt.timedelta(days=1),
    )
    queued.clear()
    seen = set(Notification.objects.values_list("id", flat=True))
    case = case_transition(
        case=case, action="confirm_transfer_in", actor=personas["cw_in"], now=LATER
    )
    assert case.state == "balance_moved"
    confirmed = rows_of(last_event(case, "confirm_transfer_in"))
    completed = rows_of(last_event(case, "complete_without_balance"))
    assert queued == [(confirmed, False), (completed, False)]
    assert written_since(seen) == sorted(confirmed + completed)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transition_queues_nothing_and_leaves_no_rows(
    personas: dict[str, Any],
    case_in_state: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
) -> None:
    case = case_in_state("applied")
    queued.clear()
    seen = set(Notification.objects.values_list("id", flat=True))
    version = case.version
    # The caller's transaction rolls back after the service returned.
    with transaction.atomic():
        case_transition(
            case=case, action="request_materials", actor=personas["cw_out"], payload=MATERIALS
        )
        assert len(written_since(seen)) == 3
        transaction.set_rollback(True)
    assert queued == []
    assert written_since(seen) == []
    case.refresh_from_db()
    assert (case.state, case.version) == ("applied", version)
    assert not CaseEvent.objects.filter(case=case, action="request_materials").exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_submission_queues_nothing_and_leaves_no_rows(
    personas: dict[str, Any],
    submit_case: Any,
    webhook: None,
    queued: list[tuple[list[int], bool]],
) -> None:
    seen = set(Notification.objects.values_list("id", flat=True))
    with transaction.atomic():
        case = submit_case()
        assert len(rows_of(last_event(case, "submit"))) == 3
        transaction.set_rollback(True)
    assert queued == []
    assert written_since(seen) == []
    assert not TransferCase.objects.filter(reference=case.reference).exists()
    assert not CaseEvent.objects.filter(case_id=case.pk).exists()
