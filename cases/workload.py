"""Reads of the work open now, for supervisors: how late the open stages are (ageing), each
caseworker's load, and what falls due on each of the next working days.

Scoped like ``sla_stats`` (the agencies ``user_supervises``), and read from the open stage clocks
only: the partial index on open clocks bounds the cost by what is open, never by the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from agencies.policies import Stage
from cases.selectors import supervised_scope
from cases.states import OPEN_STATES
from workflow.calendar import SHANGHAI, end_of_day, get_calendar, local_date
from workflow.models import StageClock

# How late an open stage is, in working days past its deadline: (code, label, most days late).
AGEING_BUCKETS: Final = (
    ("on_time", _("Not yet due"), 0),
    ("late_1_2", _("1–2 working days late"), 2),
    ("late_3_5", _("3–5 working days late"), 5),
    ("late_6_10", _("6–10 working days late"), 10),
    ("late_over_10", _("More than 10 working days late"), None),
)
DUE_AHEAD_DAYS: Final = 10


def _open_clocks_for(user: Any) -> Any:
    """Open agency stages in the agencies ``user`` supervises (none for anybody else)."""
    clocks = StageClock.objects.filter(
        completed_at__isnull=True, agency__isnull=False, due_at__isnull=False
    )
    scope = supervised_scope(user, "agency")
    return clocks.none() if scope is None else clocks.filter(scope)


def _working_days_back(today: dt.date, n: int) -> dt.date:
    """The working day ``n`` working days before ``today`` (today counts when it is one)."""
    calendar = get_calendar()
    day, seen = today, 0
    while True:
        if calendar.is_workday(day):
            if seen == n:
                return day
            seen += 1
        day -= dt.timedelta(days=1)


def _ageing_bounds(now: dt.datetime) -> dict[str, Q]:
    """Each bucket of lateness as a condition on the deadline; a stage is ``late_1_2`` once its
    deadline (the end of a working day) has passed and at most 2 working days have ended since."""
    today = local_date(now)
    bounds: dict[str, Q] = {"on_time": Q(due_at__gte=now)}
    upper = now
    for code, _label, most in AGEING_BUCKETS[1:]:
        if most is None:
            bounds[code] = Q(due_at__lt=upper)
            break
        # Late by at most ``most`` working days (as ``working_days_left`` counts them): due on or
        # after the working day ``most`` working days back.
        lower = end_of_day(_working_days_back(today, most))
        bounds[code] = Q(due_at__lt=upper, due_at__gte=lower)
        upper = lower
    return bounds


def _days_ahead(now: dt.datetime) -> list[dt.date]:
    """The next ``DUE_AHEAD_DAYS`` working days, today first when it is one."""
    calendar = get_calendar()
    day = calendar.next_workday_on_or_after(local_date(now))
    days = [day]
    while len(days) < DUE_AHEAD_DAYS:
        day, _provisional = calendar.add_working_days(day, 1)
        days.append(day)
    return days


def _open_counts(*, user: Any, now: dt.datetime) -> dict[str, dict[str, int]]:
    """Per stage: the open stages in each bucket of lateness and falling due on each of the days
    ahead (``due_0`` ...), counted in one pass over the open clocks."""
    conditions = dict(_ageing_bounds(now))
    for i, day in enumerate(_days_ahead(now)):
        start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
        conditions[f"due_{i}"] = Q(due_at__gte=max(start, now), due_at__lte=end_of_day(day))
    rows = (
        _open_clocks_for(user)
        .values("stage")
        .annotate(**{name: Count("id", filter=q) for name, q in conditions.items()})
    )
    return {row["stage"]: row for row in rows}


def ageing(
    *, user: Any, now: dt.datetime, counts: dict[str, dict[str, int]] | None = None
) -> list[dict[str, Any]]:
    """Open stages per stage and bucket of lateness (``AGEING_BUCKETS``)."""
    by_stage = counts if counts is not None else _open_counts(user=user, now=now)
    rows = []
    for stage in (Stage.APPLIED, Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED):
        row = by_stage.get(stage, {})
        rows.append(
            {
                "stage": str(stage),
                "stage_label": str(stage.label),
                **{code: row.get(code, 0) for code, _l, _m in AGEING_BUCKETS},
            }
        )
    return rows


def caseworker_load(*, user: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Each caseworker's open stages and how many are overdue (the supervised agencies' active
    caseworkers, those with none included), then the unassigned ones; most overdue first."""
    counts = {
        row["case__assignee_id"]: row
        # An open stage's case is open: said, so the join reads the open cases' index
        # (case_open_assignee), not every case ever submitted.
        for row in _open_clocks_for(user)
        .filter(case__state__in=OPEN_STATES)
        .values("case__assignee_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    }
    scope = supervised_scope(user, "agency")
    if scope is None:
        return []
    people = User.objects.filter(scope, is_active=True, role=Role.CASEWORKER)
    assignee_ids = [pk for pk in counts if pk is not None]
    people = User.objects.filter(Q(pk__in=people.values("pk")) | Q(pk__in=assignee_ids))
    rows = []
    for person in people.select_related("agency").order_by("username"):
        row = counts.get(person.pk, {})
        rows.append(
            {
                "assignee": {
                    "username": person.username,
                    "name": person.real_name or person.username,
                    "agency": person.agency_id or "",
                },
                "open": row.get("open", 0),
                "overdue": row.get("overdue", 0),
            }
        )
    rows.sort(key=lambda r: (-r["overdue"], -r["open"], r["assignee"]["username"]))
    nobody = counts.get(None, {})
    rows.append(
        {"assignee": None, "open": nobody.get("open", 0), "overdue": nobody.get("overdue", 0)}
    )
    return rows


def due_ahead(
    *, user: Any, now: dt.datetime, counts: dict[str, dict[str, int]] | None = None
) -> list[dict[str, Any]]:
    """How many open stages fall due on each of the next ``DUE_AHEAD_DAYS`` working days, today
    first when it is one (a deadline is the end of a working day, Asia/Shanghai)."""
    by_stage = counts if counts is not None else _open_counts(user=user, now=now)
    return [
        {"day": day, "due": sum(row.get(f"due_{i}", 0) for row in by_stage.values())}
        for i, day in enumerate(_days_ahead(now))
    ]


def workload_stats(*, user: Any, now: dt.datetime) -> dict[str, Any]:
    """The open work of the agencies ``user`` supervises, as ``GET /stats/workload/`` shows it."""
    counts = _open_counts(user=user, now=now)  # one pass for lateness and the days ahead
    return {
        "as_of": now,
        "ageing": ageing(user=user, now=now, counts=counts),
        "caseworkers": caseworker_load(user=user, now=now),
        "due_ahead": due_ahead(user=user, now=now, counts=counts),
    }
