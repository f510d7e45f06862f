"""Stage clocks: open, close, recompute. Called by cases.services inside its transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from agencies.policies import (
    DEFAULT_ESCALATION_DAYS,
    MATERIALS_REMINDER_DAYS,
    STAGE_RESPONSIBLE,
    Stage,
    WindowPolicy,
    window_for,
)
from core.rollup import rollup_add
from core.statements import row_insert
from workflow.calendar import (
    SHANGHAI,
    WorkingDayCalendar,
    end_of_day,
    get_calendar,
    local_date,
)
from workflow.models import StageClock, StageTally

# A stage is "due soon" once at most this share of its window is left (and at least 1 working day).
DUE_SOON_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class ClockInstants:
    """When the SLA scan acts on a clock (see workflow/claims.py); None where it never does."""

    warn_at: dt.datetime | None
    escalate_at: dt.datetime | None
    remind_at: dt.datetime | None


def due_soon_days(window: int) -> int:
    """Working days left at which a stage of ``window`` working days is due soon."""
    return max(1, int(window * DUE_SOON_SHARE))


def clock_instants(
    *,
    calendar: WorkingDayCalendar,
    stage: str,
    started_at: dt.datetime,
    window: int | None,
    escalation_days: int | None,
) -> ClockInstants:
    """The scan's instants for a clock.

    - ``warn_at``: the first instant at which the stage has at most ``due_soon_days(window)``
      working days left as the case document counts them (today excluded, the due day included):
      00:00 Asia/Shanghai of the ``window - due_soon_days``-th working day after the start, or the
      start itself when the window is that short already.
    - ``escalate_at``: the end of the ``escalation_days``-th working day after the due day.
    - ``remind_at`` (materials stage only): the end of the 5th working day after the request.
    """
    start_day = local_date(started_at)
    warn_at = escalate_at = remind_at = None
    if window:
        lead = window - due_soon_days(window)
        if lead < 1:
            warn_at = started_at
        else:
            day, _provisional = calendar.add_working_days(start_day, lead)
            warn_at = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
        due_on, _provisional = calendar.add_working_days(start_day, window)
        escalated_on, _provisional = calendar.add_working_days(
            due_on, escalation_days or DEFAULT_ESCALATION_DAYS
        )
        escalate_at = end_of_day(escalated_on)
    elif stage == Stage.MATERIALS_REQUESTED:
        remind_at = calendar.deadline(started_at, MATERIALS_REMINDER_DAYS).due_at
    return ClockInstants(warn_at=warn_at, escalate_at=escalate_at, remind_at=remind_at)


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
    calendar = get_calendar()
    due_at = None
    provisional = False
    escalation_days = getattr(agency, "escalation_days", None)
    if window:
        deadline = calendar.deadline(started_at, window)
        due_at, provisional = deadline.due_at, deadline.provisional
        instants = clock_instants(
            calendar=calendar,
            stage=stage,
            started_at=started_at,
            window=window,
            escalation_days=escalation_days,
        )
    elif window_days == 0:
        # Resumed with nothing left (it was late when it stopped): due at once (a second after
        # it opens: a deadline is after its start), so the next scan flags it overdue and
        # escalation counts from today.
        due_at = started_at + dt.timedelta(seconds=1)
        escalated_on, _provisional = calendar.add_working_days(
            local_date(started_at), escalation_days or DEFAULT_ESCALATION_DAYS
        )
        instants = ClockInstants(
            warn_at=started_at, escalate_at=end_of_day(escalated_on), remind_at=None
        )
    else:
        instants = clock_instants(
            calendar=calendar,
            stage=stage,
            started_at=started_at,
            window=window,
            escalation_days=escalation_days,
        )
    clock = StageClock(
        case_id=case_id,
        stage=stage,
        responsible=STAGE_RESPONSIBLE[Stage(stage)],
        agency=agency if window or window_days == 0 or stage != Stage.MATERIALS_REQUESTED else None,
        window_days=window,
        started_at=started_at,
        due_at=due_at,
        provisional=provisional,
        warn_at=instants.warn_at,
        escalate_at=instants.escalate_at,
        remind_at=instants.remind_at,
    )
    row_insert(clock)
    return clock


def clock_hold(*, case_id: int) -> None:
    """Lock the case's open clock for the rest of the caller's transaction (a transition about to
    close it): the SLA scan's claim skips a locked clock (``SKIP LOCKED``), so a stage being
    completed right now is not flagged overdue or warned about on the way out."""
    if connection.vendor == "postgresql":
        # The statement by hand: every transition pays for it, and building it with the ORM cost
        # more than PostgreSQL takes to run it (issue 14).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {StageClock._meta.db_table} "  # noqa: S608 - the model's table
                "WHERE case_id = %s AND completed_at IS NULL FOR UPDATE",
                [case_id],
            )
        return
    list(
        StageClock.objects.select_for_update()
        .filter(case_id=case_id, completed_at__isnull=True)
        .values_list("id", flat=True)
    )


def clock_close(
    *, case_id: int, at: dt.datetime, closed_by: str, completes_stage: bool = True
) -> int:
    """Close the case's open clock; returns how many rows closed (0 or 1).

    ``completes_stage``: whether ``closed_by`` finished the stage (the caller knows what its
    actions mean; a clock merely stopped, such as by a request for materials, is not a completed
    stage). A completed clock with an agency and a deadline is added to the day's ``StageTally``
    in the same transaction, so the roll-up never disagrees with the clocks.
    """
    row = _close_open_clock(case_id=case_id, at=at, closed_by=closed_by)
    if row is None:
        return 0
    stage, agency_id, due_at = row
    if completes_stage and agency_id is not None and due_at is not None:
        stage_tally_add(day=local_date(at), stage=stage, agency_id=agency_id, on_time=at <= due_at)
    return 1


def _close_open_clock(
    *, case_id: int, at: dt.datetime, closed_by: str
) -> tuple[str, str | None, dt.datetime | None] | None:
    """Close the case's open clock; its stage, agency and deadline as closed, or None if none was
    open. On PostgreSQL one ``UPDATE ... RETURNING`` (a transition pays one statement for it, as
    before the roll-up); elsewhere the row is read under the caller's lock, then updated."""
    if connection.vendor == "postgresql":
        table = StageClock._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET completed_at = %s, closed_by = %s "  # noqa: S608 - the model's table
                "WHERE case_id = %s AND completed_at IS NULL RETURNING stage, agency_id, due_at",
                [at, closed_by, case_id],
            )
            return cursor.fetchone()
    row = (
        StageClock.objects.select_for_update()
        .filter(case_id=case_id, completed_at__isnull=True)
        .values_list("id", "stage", "agency_id", "due_at")
        .first()
    )
    if row is None:
        return None
    clock_id, stage, agency_id, due_at = row
    if not StageClock.objects.filter(pk=clock_id, completed_at__isnull=True).update(
        completed_at=at, closed_by=closed_by
    ):
        return None
    return stage, agency_id, due_at


def stage_tally_add(*, day: dt.date, stage: str, agency_id: str, on_time: bool) -> None:
    """Count one completed stage in the day's tally (one atomic upsert; see core.rollup)."""
    rollup_add(
        StageTally,
        keys={"day": day, "stage": stage, "agency_id": agency_id},
        add={"completed": 1, "on_time": int(on_time)},
    )


def clock_remaining_days(*, clock: StageClock) -> int:
    """Working days a stopped clock had left when it stopped; 0 when it was already late (a clock
    resumed with 0 is due at once: no agency gains time by stopping a late clock)."""
    if not clock.window_days or clock.completed_at is None:
        return clock.window_days or 0
    if clock.due_at is not None and clock.completed_at > clock.due_at:
        return 0
    used = get_calendar().working_days_between(
        local_date(clock.started_at), local_date(clock.completed_at)
    )
    return max(0, clock.window_days - used)


@dataclass(frozen=True, slots=True)
class ClockChange:
    clock_id: int
    case_id: int
    stage: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime
    provisional: bool


def clocks_recompute(
    *, due_since: dt.datetime | None = None, now: dt.datetime, batch_size: int = 2000
) -> list[ClockChange]:
    """Recompute open clocks' deadlines from the current calendar with the window each opened with.

    The window is fixed when a stage opens (it is what the applicant was told); the calendar is
    what may change. ``due_since`` limits the work to clocks due on or after an instant (a calendar
    import for year Y cannot move a deadline that falls before 1 January Y, but can move the
    escalation counted after it). A clock that had been flagged overdue but now falls due later is
    unflagged. Returns the clocks whose deadline changed; a clock whose warning or escalation
    instant alone moved is updated without a change.
    """
    calendar = get_calendar()
    qs = StageClock.objects.filter(completed_at__isnull=True).filter(
        Q(window_days__isnull=False) | Q(remind_at__isnull=False, reminded_at__isnull=True)
    )
    if due_since is not None:
        # The escalation is counted past the deadline, so it can fall in the year while the
        # deadline does not.
        qs = qs.filter(
            Q(due_at__gte=due_since)
            | Q(provisional=True)
            | Q(escalate_at__gte=due_since)
            | Q(remind_at__gte=due_since)
        )
    fields = [
        "due_at",
        "provisional",
        "breached_at",
        "warn_at",
        "escalate_at",
        "remind_at",
        "warned_at",
        "escalated_at",
    ]
    changes: list[ClockChange] = []
    pending: list[StageClock] = []
    for clock in qs.select_related("agency").order_by("id").iterator(chunk_size=batch_size):
        instants = clock_instants(
            calendar=calendar,
            stage=clock.stage,
            started_at=clock.started_at,
            window=clock.window_days,
            escalation_days=getattr(clock.agency, "escalation_days", None),
        )
        if not clock.window_days:
            # A materials clock has no deadline; only its reminder can move.
            if instants.remind_at != clock.remind_at:
                clock.remind_at = instants.remind_at
                pending.append(clock)
            continue
        deadline = calendar.deadline(clock.started_at, clock.window_days)
        due_changed = deadline.due_at != clock.due_at or deadline.provisional != clock.provisional
        if not due_changed and (instants.warn_at, instants.escalate_at) == (
            clock.warn_at,
            clock.escalate_at,
        ):
            continue
        if due_changed:
            changes.append(
                ClockChange(
                    clock_id=clock.pk,
                    case_id=clock.case_id,
                    stage=clock.stage,
                    old_due_at=clock.due_at,
                    new_due_at=deadline.due_at,
                    provisional=deadline.provisional,
                )
            )
        clock.due_at = deadline.due_at
        clock.provisional = deadline.provisional
        clock.warn_at = instants.warn_at
        clock.escalate_at = instants.escalate_at
        # A marker whose instant moved into the future is cleared, so the scan acts again then
        # (the notification dedup keys still allow one message per stage and kind).
        if clock.breached_at is not None and deadline.due_at > now:
            clock.breached_at = None
        if clock.warned_at is not None and instants.warn_at and instants.warn_at > now:
            clock.warned_at = None
        if clock.escalated_at is not None and instants.escalate_at and instants.escalate_at > now:
            clock.escalated_at = None
        pending.append(clock)
        if len(pending) >= batch_size:
            _write_open(pending, fields)
            pending.clear()
    if pending:
        _write_open(pending, fields)
    return changes


def _write_open(clocks: list[StageClock], fields: list[str]) -> None:
    # Only clocks still open: one completed since it was read keeps the deadline it was completed
    # against, which its StageTally row counted on time or late (a transition holds the row lock
    # while it closes it, and the UPDATE re-checks the condition after that lock is released).
    StageClock.objects.filter(completed_at__isnull=True).bulk_update(clocks, fields)
