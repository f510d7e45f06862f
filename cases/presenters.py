"""What a face shows of one case: the case with what is computed about it now.

A read model built from the case row, its open stage clock, the working-day calendar, the
continuity rules and the user's permissions. It renders nothing: the REST API's serializers
(api/serializers.py) turn it into the documents of api.md, and the pages to come into HTML. It holds
no personal data in plain form: name, ID number and phone are masked here, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.policies import STAGE_RESPONSIBLE, Stage
from cases.continuity import DUPLICATE_ENROLMENT, Continuity, case_continuity
from cases.models import TransferCase
from cases.services import case_allowed_actions
from cases.states import (
    BalanceOutcome,
    CaseKind,
    CaseState,
    agency_side_labels,
    stage_label,
    state_label,
)
from core.identity import name_mask, phone_mask
from workflow.calendar import WorkingDayCalendar, get_calendar, local_date
from workflow.models import StageClock
from workflow.services import due_soon_days


@dataclass(frozen=True, slots=True)
class MaskedApplicant:
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True, slots=True)
class StageView:
    """The open stage: its window, deadline and how much of it is left."""

    name: str
    label: str
    responsible: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    working_days_allowed: int | None
    working_days_left: int | None
    overdue: bool
    overdue_since: dt.datetime | None
    provisional: bool

    @property
    def urgency(self) -> str:
        """``overdue``, ``due_soon`` (the share of the window the SLA scan warns at) or
        ``on_time``; ``none`` when no deadline runs (the applicant's turn)."""
        if self.due_at is None or self.working_days_left is None:
            return URGENCY_NONE
        if self.overdue:
            return URGENCY_OVERDUE
        if self.working_days_allowed and self.working_days_left <= due_soon_days(
            self.working_days_allowed
        ):
            return URGENCY_DUE_SOON
        return URGENCY_ON_TIME

    @property
    def urgency_words(self) -> str:
        """The badge's words: what the colour says, for everyone."""
        left = self.working_days_left
        if self.urgency == URGENCY_OVERDUE:
            return _("Overdue by {days} working day(s)").format(days=-(left or 0))
        if self.urgency == URGENCY_DUE_SOON:
            if left == 0:
                return _("Due today")
            return _("Due soon: {days} working day(s) left").format(days=left)
        if self.urgency == URGENCY_ON_TIME:
            return _("On time: {days} working day(s) left").format(days=left)
        return str(MSG_NO_DEADLINE)


FINDING_CODES: Final = (DUPLICATE_ENROLMENT,)

URGENCY_OVERDUE: Final = "overdue"
URGENCY_DUE_SOON: Final = "due_soon"
URGENCY_ON_TIME: Final = "on_time"
URGENCY_NONE: Final = "none"
MSG_NO_DEADLINE: Final = gettext_lazy("No deadline running")


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case as ``user`` sees it ``now`` (``next_actions`` are theirs)."""

    case: TransferCase
    stage: StageView | None
    expected: ExpectedCompletion
    continuity: Continuity
    next_actions: list[str]

    @property
    def information_form(self) -> dict[str, Any] | None:
        case = self.case
        if case.contribution_months is None or case.personal_account_balance is None:
            return None
        overlap = self.continuity.overlap_months
        cumulative = case.cumulative_months or 0
        # Months count again only in the same insurance type (domain.md: resident years do not
        # become employee years; employee months count again on rejoining employee).
        carried_in = (
            max(0, cumulative - overlap) if case.insurance_type == case.target_insurance_type else 0
        )
        return {
            "contribution_months": case.contribution_months,
            "deemed_months": case.deemed_months or 0,
            "cumulative_months": cumulative,
            "overlap_months": overlap,
            "months_carried_in": carried_in,
            "cumulative_at_target": (
                None if case.months_at_target is None else case.months_at_target + carried_in
            ),
            "personal_account_balance": case.personal_account_balance,
            "interest": case.interest or Decimal("0.00"),
            "balance_due": case.balance_due,
            "stopped_at_source_on": case.stopped_at_source_on,
            "enrolled_at_source_since": case.enrolled_at_source_since,
            # Cases approved before the statement was recorded: approving stated it.
            "no_arrears": case.no_arrears is not False,
            "refund_amount": case.refund_amount,
        }

    @property
    def balance_outcome(self) -> dict[str, Any] | None:
        outcome = self.case.balance_outcome
        if outcome is None:
            return None
        amount = {
            BalanceOutcome.MOVED: self.case.balance_received,
            BalanceOutcome.PAID_OUT: self.case.balance_paid_out,
            BalanceOutcome.MERGED: self.case.balance_due,
        }.get(BalanceOutcome(outcome))
        return {"outcome": outcome, "amount": amount}

    @property
    def materials_requests(self) -> dict[str, Any]:
        count = self.case.materials_requests
        return {"count": count, "repeat": count > 1}

    @property
    def findings(self) -> list[dict[str, Any]]:
        """What the rules found about this case, for staff and the applicant alike."""
        found: list[dict[str, Any]] = []
        if self.continuity.advice_code == DUPLICATE_ENROLMENT:
            found.append(
                {
                    "code": DUPLICATE_ENROLMENT,
                    "overlap_months": self.continuity.overlap_months,
                    # Recorded by the agency whose cover ends, on approval (None before).
                    "refund_amount": self.case.refund_amount,
                }
            )
        return found

    @property
    def state_label(self) -> str:
        return state_label(self.case.state, self.case.kind)

    @property
    def kind_label(self) -> str:
        return str(CaseKind(self.case.kind).label)

    @property
    def from_agency_label(self) -> str:
        return agency_side_labels(self.case.kind)[0]

    @property
    def to_agency_label(self) -> str:
        return agency_side_labels(self.case.kind)[1]

    @property
    def applicant(self) -> MaskedApplicant:
        return masked_applicant(self.case)

    @property
    def reject_reason(self) -> str | None:
        return self.case.reject_reason or None

    @property
    def assignee(self) -> str | None:
        """The assignee's username (prefetched by the selectors as ``assignee_username``)."""
        if not self.case.assignee_id:
            return None
        prefetched = getattr(self.case, "assignee_username", None)
        return prefetched if prefetched is not None else self.case.assignee.username


@dataclass(frozen=True, slots=True)
class StatusView:
    """The anonymous status lookup's answer: state, stage, due date, next step; nothing personal."""

    case: TransferCase
    stage: StageView | None
    next_step: str
    expected: ExpectedCompletion

    @property
    def state_label(self) -> str:
        return state_label(self.case.state, self.case.kind)

    @property
    def due_at(self) -> dt.datetime | None:
        return self.stage.due_at if self.stage else None


def masked_applicant(case: TransferCase) -> MaskedApplicant:
    """The applicant as every face shows them: name, ID number and phone masked."""
    return MaskedApplicant(
        name=name_mask(case.applicant_name),
        id_number=case.id_number_masked,
        phone=phone_mask(case.phone),
    )


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case in a list (the workbench's queue): what a row shows, and no more (not the
    actions or the continuity advice, which the case's own page computes)."""

    case: TransferCase
    stage: StageView | None

    @property
    def state_label(self) -> str:
        return state_label(self.case.state, self.case.kind)

    @property
    def applicant(self) -> MaskedApplicant:
        return masked_applicant(self.case)


def case_rows(cases: Any, *, now: dt.datetime) -> list[CaseRow]:
    """Rows for cases fetched by ``case_list_for`` (their open clock prefetched)."""
    calendar = get_calendar()
    return [CaseRow(case, stage_view(case, case_open_clock(case), now, calendar)) for case in cases]


def case_open_clock(case: TransferCase) -> StageClock | None:
    """The case's open clock: prefetched as ``open_clocks`` by the selectors, else one query."""
    prefetched = getattr(case, "open_clocks", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return StageClock.objects.filter(case_id=case.pk, completed_at__isnull=True).first()


@dataclass(frozen=True, slots=True)
class ExpectedCompletion:
    """When the case should be done, and whether that rests on a year with no published
    holiday schedule (then it moves when the schedule is loaded)."""

    on: dt.date | None
    provisional: bool = False


def expected_completion(
    case: TransferCase, clock: StageClock | None, now: dt.datetime, calendar: WorkingDayCalendar
) -> ExpectedCompletion:
    """Project the remaining windows over the working-day calendar.

    From the current stage's due date (or today, when it is late or has no agency window), add
    the window of every stage still to come at the agencies' current policies. Provisional when
    the current stage's deadline is, or any window still to come counts days of an unpublished
    year.
    """
    if case.state == CaseState.BALANCE_MOVED:
        return ExpectedCompletion(local_date(case.closed_at) if case.closed_at else None)
    if not case.is_open:
        return ExpectedCompletion(None)
    today = local_date(now)
    stages: list[str] = []
    provisional = False
    if case.state == CaseState.MATERIALS_REQUESTED:
        start = today
        stages = [Stage.APPLIED, Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED]
    else:
        due_on = local_date(clock.due_at) if clock and clock.due_at else today
        if due_on >= today and clock is not None and clock.due_at:
            provisional = clock.provisional
        start = max(due_on, today)
        following = {
            CaseState.APPLIED: [Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED],
            CaseState.TRANSFER_OUT_APPROVED: [Stage.TRANSFER_IN_CONFIRMED],
        }
        stages = following.get(CaseState(case.state), [])
    if not case.expects_balance_step:
        stages = [s for s in stages if s != Stage.TRANSFER_IN_CONFIRMED]
    try:
        for stage in stages:
            days = case.stage_window(stage, exact=False)
            if days:
                start, counted_provisional = calendar.add_working_days(start, days)
                provisional = provisional or counted_provisional
    except ValueError:
        return ExpectedCompletion(None)
    return ExpectedCompletion(start, provisional)


def stage_view(
    case: TransferCase, clock: StageClock | None, now: dt.datetime, calendar: WorkingDayCalendar
) -> StageView | None:
    if clock is None or not case.is_open:
        return None
    overdue = bool(clock.due_at and now > clock.due_at)
    return StageView(
        name=clock.stage,
        label=stage_label(clock.stage, case.kind),
        responsible=clock.responsible or STAGE_RESPONSIBLE[Stage(clock.stage)],
        started_at=clock.started_at,
        due_at=clock.due_at,
        working_days_allowed=clock.window_days,
        working_days_left=calendar.working_days_left(clock.due_at, now) if clock.due_at else None,
        overdue=overdue,
        # The scan flags a late stage with its deadline; until it has, the deadline is the answer.
        overdue_since=(clock.breached_at or clock.due_at) if overdue else None,
        provisional=clock.provisional,
    )


def case_view(case: TransferCase, *, user: Any, now: dt.datetime | None = None) -> CaseView:
    """The case as ``user`` sees it now."""
    now = now or timezone.now()
    calendar = get_calendar()
    clock = case_open_clock(case)
    return CaseView(
        case=case,
        stage=stage_view(case, clock, now, calendar),
        expected=expected_completion(case, clock, now, calendar),
        continuity=case_continuity(case),
        next_actions=case_allowed_actions(case=case, user=user),
    )


def next_step(case: TransferCase) -> str:
    """One sentence for the applicant: who moves next, and what."""
    if case.is_merge and case.state in MERGE_NEXT_STEPS:
        return str(MERGE_NEXT_STEPS[CaseState(case.state)])
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


MERGE_NEXT_STEPS: Final = {
    CaseState.APPLIED: gettext_lazy(
        "The cancelling agency is checking the relationship to be cancelled is in a normal state."
    ),
    CaseState.TRANSFER_OUT_APPROVED: gettext_lazy(
        "The keeping agency is confirming the relationship it keeps."
    ),
    CaseState.TRANSFER_IN_CONFIRMED: gettext_lazy(
        "The keeping agency is crediting the balance of the cancelled account."
    ),
    CaseState.BALANCE_MOVED: gettext_lazy("Nothing: the accounts are merged."),
}


def status_view(case: TransferCase, *, now: dt.datetime | None = None) -> StatusView:
    """What anyone holding the reference and the ID number's last 6 characters may know."""
    now = now or timezone.now()
    calendar = get_calendar()
    clock = case_open_clock(case)
    return StatusView(
        case=case,
        stage=stage_view(case, clock, now, calendar),
        next_step=next_step(case),
        expected=expected_completion(case, clock, now, calendar),
    )
