"""The audit event every write appends, and the notifications that go with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from accounts.models import User
from cases.models import CaseEvent, TransferCase
from cases.notify import case_event_notify
from core.statements import row_insert

# ``CaseEvent.actor_role`` of the steps the system takes on its own.
SYSTEM_ROLE: Final = "system"


def event_append(
    *,
    case: TransferCase,
    action: str,
    from_state: str,
    actor: User | None,
    at: dt.datetime,
    note: str = "",
    reason_code: str = "",
    data: Mapping[str, Any] | None = None,
    notify: bool = True,
) -> CaseEvent:
    """Append one timeline entry (inside the caller's transaction) and the notification rows of a
    state change: the applicant and agency webhooks hear of it in the same transaction.
    ``notify=False``: a step of a chain the system records at once (instant mode), whose last
    step tells them."""
    event = CaseEvent(
        case=case,
        action=action,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        actor_role=actor.role if actor is not None else SYSTEM_ROLE,
        at=at,
        note=note,
        reason_code=reason_code,
        data=dict(data or {}),
    )
    row_insert(event)
    if notify:
        case_event_notify(event)
    return event
