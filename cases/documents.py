"""The case document: what the API shows of one case (api.md, "The case document").

A read model built from the case row, its open stage clock, the working-day calendar and the
continuity rules. It holds no personal data in plain form: name, ID number and phone are masked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.continuity import continuity_assess
from cases.models import TransferCase
from cases.pii import name_mask, phone_mask
from cases.services import case_allowed_actions
from cases.states import CaseState, InsuranceType
from workflow.calendar import SHANGHAI, WorkingDayCalendar, get_calendar, local_date
from workflow.models import StageClock
from workflow.policies import STAGE_RESPONSIBLE, BalancePolicy, Stage, window_for


def _instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def _amount(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def case_open_clock(case: TransferCase) -> StageClock | None:
    """The case's open clock: prefetched as ``open_clocks`` by list selectors, else one query."""
    prefetched = getattr(case, "open_clocks", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return StageClock.objects.filter(case_id=case.pk, completed_at__isnull=True).first()


def _expects_balance_step(case: TransferCase) -> bool:
    """Whether a balance stage is still to come (before approval the balance is unknown)."""
    if case.insurance_type != InsuranceType.EMPLOYEE:
        return False
    if case.to_agency.balance_policy != BalancePolicy.TRANSFER:
        return False
    return case.personal_account_balance is None or case.personal_account_balance > 0


def expected_completion_on(
    case: TransferCase, clock: StageClock | None, now: dt.datetime, calendar: WorkingDayCalendar
) -> dt.date | None:
    """Project the remaining windows over the working-day calendar.

    From the current stage's due date (or today, when it is late or has no agency window), add
    the window of every stage still to come at the agencies' current policies.
    """
    if case.state == CaseState.BALANCE_MOVED:
        return local_date(case.closed_at) if case.closed_at else None
    if not case.is_open:
        return None
    today = local_date(now)
    stages: list[str] = []
    if case.state == CaseState.MATERIALS_REQUESTED:
        start = today
        stages = [Stage.APPLIED, Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED]
    else:
        due_on = local_date(clock.due_at) if clock and clock.due_at else today
        start = max(due_on, today)
        following = {
            CaseState.APPLIED: [Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED],
            CaseState.TRANSFER_OUT_APPROVED: [Stage.TRANSFER_IN_CONFIRMED],
        }
        stages = following.get(CaseState(case.state), [])
    if not _expects_balance_step(case):
        stages = [s for s in stages if s != Stage.TRANSFER_IN_CONFIRMED]
    try:
        for stage in stages:
            agency = case.from_agency if stage == Stage.APPLIED else case.to_agency
            days = window_for(stage, agency)
            if days:
                start, _provisional = calendar.add_working_days(start, days)
    except ValueError:
        return None
    return start


def stage_document(
    case: TransferCase, clock: StageClock | None, now: dt.datetime, calendar: WorkingDayCalendar
) -> dict[str, Any] | None:
    if clock is None or not case.is_open:
        return None
    overdue = bool(clock.due_at and now > clock.due_at)
    overdue_since = None
    if overdue:
        overdue_since = case.overdue_since or clock.breached_at or clock.due_at
    return {
        "name": clock.stage,
        "label": str(Stage(clock.stage).label),
        "responsible": clock.responsible or STAGE_RESPONSIBLE[Stage(clock.stage)],
        "started_at": _instant(clock.started_at),
        "due_at": _instant(clock.due_at),
        "working_days_allowed": clock.window_days,
        "working_days_left": calendar.working_days_left(clock.due_at, now)
        if clock.due_at
        else None,
        "overdue": overdue,
        "overdue_since": _instant(overdue_since),
        "provisional": clock.provisional,
    }


def case_document(
    case: TransferCase, *, user: Any, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The case as api.md shows it, for ``user`` (``next_actions`` are theirs)."""
    now = now or timezone.now()
    calendar = get_calendar()
    clock = case_open_clock(case)
    continuity = continuity_assess(
        insurance_type=case.insurance_type,
        stopped_on=case.stopped_at_source_on,
        enrolled_on=case.enrolled_at_target_on,
    )
    expected = expected_completion_on(case, clock, now, calendar)
    return {
        "reference": case.reference,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "version": case.version,
        "insurance_type": case.insurance_type,
        "scope": case.scope,
        "channel": case.channel,
        "from_agency": {"code": case.from_agency.code, "name": case.from_agency.name},
        "to_agency": {"code": case.to_agency.code, "name": case.to_agency.name},
        "applicant": {
            "name": name_mask(case.applicant_name),
            "id_number": case.id_number_masked,
            "phone": phone_mask(case.phone),
        },
        "stage": stage_document(case, clock, now, calendar),
        "expected_completion_on": expected.isoformat() if expected else None,
        "continuity": {
            "gap_months": continuity.gap_months,
            "waiting_months": continuity.waiting_months,
            "advice_code": continuity.advice_code,
            "advice": str(continuity.advice),
        },
        "stopped_at_source_on": _date(case.stopped_at_source_on),
        "enrolled_at_target_on": _date(case.enrolled_at_target_on),
        "personal_account_balance": _amount(case.personal_account_balance),
        "contribution_months": case.contribution_months,
        "missing_materials": list(case.missing_materials or []),
        "reject_reason": case.reject_reason or None,
        "assignee": _assignee_username(case),
        "next_actions": case_allowed_actions(case=case, user=user),
        "created_at": _instant(case.created_at),
        "updated_at": _instant(case.updated_at),
        "closed_at": _instant(case.closed_at),
    }


def _assignee_username(case: TransferCase) -> str | None:
    if not case.assignee_id:
        return None
    prefetched = getattr(case, "assignee_username", None)
    return prefetched if prefetched is not None else case.assignee.username


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def next_step(case: TransferCase) -> str:
    """One sentence for the applicant: who moves next, and what."""
    messages = {
        CaseState.APPLIED: _("The transfer-out agency is reviewing the application."),
        CaseState.MATERIALS_REQUESTED: _(
            "Send the missing materials the transfer-out agency asked for."
        ),
        CaseState.TRANSFER_OUT_APPROVED: _("The transfer-in agency is receiving the transfer."),
        CaseState.TRANSFER_IN_CONFIRMED: _(
            "The transfer-in agency is crediting the personal account balance."
        ),
        CaseState.BALANCE_MOVED: _("Nothing: the transfer is complete."),
        CaseState.REJECTED: _("Nothing: the application was not accepted. Contact the agency."),
        CaseState.WITHDRAWN: _("Nothing: the application was withdrawn."),
    }
    return str(messages[CaseState(case.state)])


def status_document(case: TransferCase, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The anonymous status lookup's answer: state, stage, due date, next step; nothing personal."""
    now = now or timezone.now()
    calendar = get_calendar()
    clock = case_open_clock(case)
    stage = stage_document(case, clock, now, calendar)
    expected = expected_completion_on(case, clock, now, calendar)
    return {
        "reference": case.reference,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "stage": None
        if stage is None
        else {
            k: stage[k]
            for k in ("name", "label", "responsible", "due_at", "working_days_left", "overdue")
        },
        "due_at": stage["due_at"] if stage else None,
        "next_step": next_step(case),
        "expected_completion_on": expected.isoformat() if expected else None,
        "updated_at": _instant(case.updated_at),
    }
