"""Open deadlines after a calendar change: the clocks move (workflow), each case's timeline says so.

Registered with ``workflow.hooks`` when the app starts, so workflow's calendar commands and admin
call it without importing cases.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cases.models import CaseEvent, TransferCase
from cases.services.events import SYSTEM_ROLE
from cases.states import Action
from workflow.hooks import DeadlineChange
from workflow.services import clocks_recompute


def case_deadlines_recompute(
    *, due_since: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[DeadlineChange]:
    """Recompute open deadlines from the current calendar; an event on every case whose date moved.

    Returns one change per clock whose due date moved (a clock that only stopped being
    provisional is updated silently: the date the applicant saw still holds). A clock flagged
    overdue whose deadline moved past now is unflagged by ``clocks_recompute``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        changes = clocks_recompute(due_since=due_since, now=now)
        moved = [c for c in changes if c.old_due_at != c.new_due_at]
        rows = TransferCase.objects.filter(pk__in=[c.case_id for c in moved]).values_list(
            "pk", "reference", "state"
        )
        references = {pk: reference for pk, reference, _state in rows}
        states = {pk: state for pk, _reference, state in rows}
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=c.case_id,
                    action=Action.DEADLINE_RECOMPUTED,
                    from_state=states[c.case_id],
                    to_state=states[c.case_id],
                    actor=None,
                    actor_role=SYSTEM_ROLE,
                    at=now,
                    note="",
                    data={
                        "stage": c.stage,
                        "old_due_at": c.old_due_at.isoformat() if c.old_due_at else None,
                        "new_due_at": c.new_due_at.isoformat(),
                        "provisional": c.provisional,
                    },
                )
                for c in moved
            ],
            batch_size=1000,
        )
    return [
        DeadlineChange(
            reference=references[c.case_id],
            stage=c.stage,
            old_due_at=c.old_due_at,
            new_due_at=c.new_due_at,
            provisional=c.provisional,
        )
        for c in moved
    ]
