"""Who holds a case: a caseworker takes it, a supervisor assigns it (or clears it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import (
    assignee_eligible,
    user_may_assign,
    user_may_take,
    user_may_take_from,
)
from cases.errors import ActionForbidden, TransitionNotAllowed
from cases.models import TransferCase
from cases.services.events import event_append
from cases.states import Action
from core.errors import DomainError, InvalidInput

MSG_ASSIGNEE_NOT_ELIGIBLE = _("Assign the case to a caseworker of the agency whose move it is.")
MSG_HELD_BY_COLLEAGUE = _(
    "A colleague holds this case: only a supervisor can hand it to someone else."
)


def case_assign(
    *, case: TransferCase, assignee: User | None, actor: User, now: dt.datetime | None = None
) -> TransferCase:
    """A caseworker takes a case of their agency; a supervisor assigns it (or clears it)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = TransferCase.objects.select_for_update().get(pk=case.pk)
        agency_code = case.responsible_agency_code()
        if agency_code is None:
            raise TransitionNotAllowed(state=case.state, action=Action.ASSIGN, allowed_actions=[])
        taking_it = assignee is not None and assignee.pk == actor.pk
        if not (
            user_may_assign(actor, agency_code) or (taking_it and user_may_take(actor, agency_code))
        ):
            raise ActionForbidden(Action.ASSIGN)
        if assignee is not None and not assignee_eligible(assignee, agency_code):
            raise InvalidInput({"assignee": [str(MSG_ASSIGNEE_NOT_ELIGIBLE)]})
        previous = case.assignee_id
        if (
            taking_it
            and not user_may_assign(actor, agency_code)
            and not user_may_take_from(actor, agency_code, case.assignee)
        ):
            # Two caseworkers taking the same case at once: the second is told, not silently
            # handed a case the first is working on.
            raise InvalidInput({"assignee": [str(MSG_HELD_BY_COLLEAGUE)]})
        if previous == (assignee.pk if assignee else None):
            # Already so (a retried request, a second click): nothing to record.
            return case
        case.assignee = assignee
        case.version += 1
        case.updated_at = now
        case.save(update_fields=["assignee", "version", "updated_at"])
        event_append(
            case=case,
            action=Action.ASSIGN,
            from_state=case.state,
            actor=actor,
            at=now,
            data={"assignee": assignee.pk if assignee else None, "previous": previous},
        )
    return case


def cases_assign(
    *,
    cases: Iterable[TransferCase],
    assignee: User | None,
    actor: User,
    now: dt.datetime | None = None,
) -> list[TransferCase]:
    """``case_assign`` for several cases at once (the workbench's bulk assign): all of them or,
    when one is refused, none. The refusal names the case (``AssignmentRefused``). Returns the
    cases whose assignee changed (one already so is left as it is)."""
    now = now or timezone.now()
    changed = []
    with transaction.atomic():
        for case in cases:
            before = case.version
            try:
                done = case_assign(case=case, assignee=assignee, actor=actor, now=now)
            except DomainError as exc:
                raise AssignmentRefused(reference=case.reference, cause=exc) from exc
            if done.version != before:
                changed.append(done)
    return changed


class AssignmentRefused(DomainError):
    """One case of a bulk assignment was refused: nothing was assigned."""

    code = "assignment_refused"

    def __init__(self, *, reference: str, cause: DomainError) -> None:
        self.reference = reference
        self.cause = cause
        super().__init__(cause.message)
