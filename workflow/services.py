"""Stage clocks: open, close, recompute. Called by cases.services inside its transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from workflow.calendar import get_calendar, local_date
from workflow.models import StageClock
from workflow.policies import STAGE_RESPONSIBLE, Stage, WindowPolicy, window_for


def clock_open(
    *,
    case_id: int,
    stage: str,
    agency: WindowPolicy | None,
    started_at: dt.datetime,
    window_days: int | None = None,
) -> StageClock:
    """Open the clock of ``stage``; its deadline comes from the agency's window on the calendar.

    ``window_days`` overrides the policy window (a clock resumed after a request for materials).
    """
    window = window_days if window_days is not None else window_for(stage, agency)
    due_at = None
    provisional = False
    if window:
        deadline = get_calendar().deadline(started_at, window)
        due_at, provisional = deadline.due_at, deadline.provisional
    return StageClock.objects.create(
        case_id=case_id,
        stage=stage,
        responsible=STAGE_RESPONSIBLE[Stage(stage)],
        agency=agency if window or stage != Stage.MATERIALS_REQUESTED else None,
        window_days=window,
        started_at=started_at,
        due_at=due_at,
        provisional=provisional,
    )


def clock_close(*, case_id: int, at: dt.datetime, closed_by: str) -> int:
    """Close the case's open clock; returns how many rows closed (0 or 1)."""
    return StageClock.objects.filter(case_id=case_id, completed_at__isnull=True).update(
        completed_at=at, closed_by=closed_by
    )


def clock_remaining_days(*, clock: StageClock) -> int:
    """Working days a stopped clock had left when it stopped (at least 1)."""
    if not clock.window_days or clock.completed_at is None:
        return clock.window_days or 0
    used = get_calendar().working_days_between(
        local_date(clock.started_at), local_date(clock.completed_at)
    )
    return max(1, clock.window_days - used)


@dataclass(frozen=True, slots=True)
class ClockChange:
    clock_id: int
    case_id: int
    stage: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime
    old_provisional: bool
    provisional: bool


def clocks_recompute(
    *, due_since: dt.datetime | None = None, now: dt.datetime, batch_size: int = 2000
) -> list[ClockChange]:
    """Recompute open clocks' deadlines from the current calendar with the window each opened with.

    The window is fixed when a stage opens (it is what the applicant was told); the calendar is
    what may change. ``due_since`` limits the work to clocks due on or after an instant (a calendar
    import for year Y cannot move a deadline that falls before 1 January Y). A clock that had been
    flagged overdue but now falls due later is unflagged.
    """
    calendar = get_calendar()
    qs = StageClock.objects.filter(completed_at__isnull=True, window_days__isnull=False)
    if due_since is not None:
        qs = qs.filter(Q(due_at__gte=due_since) | Q(provisional=True))
    changes: list[ClockChange] = []
    pending: list[StageClock] = []
    for clock in qs.order_by("id").iterator(chunk_size=batch_size):
        deadline = calendar.deadline(clock.started_at, clock.window_days)
        if deadline.due_at == clock.due_at and deadline.provisional == clock.provisional:
            continue
        changes.append(
            ClockChange(
                clock_id=clock.pk,
                case_id=clock.case_id,
                stage=clock.stage,
                old_due_at=clock.due_at,
                new_due_at=deadline.due_at,
                old_provisional=clock.provisional,
                provisional=deadline.provisional,
            )
        )
        clock.due_at = deadline.due_at
        clock.provisional = deadline.provisional
        if clock.breached_at is not None and deadline.due_at > now:
            clock.breached_at = None
        pending.append(clock)
        if len(pending) >= batch_size:
            StageClock.objects.bulk_update(pending, ["due_at", "provisional", "breached_at"])
            pending.clear()
    if pending:
        StageClock.objects.bulk_update(pending, ["due_at", "provisional", "breached_at"])
    return changes
