"""The SLA statistics as ``cases.selectors.sla_stats`` computed them before the roll-ups (a scan of
every clock completed in the range and every materials event), kept as the oracle the roll-ups are
checked against (tests/cases/test_sla_rollups.py) and as the reference bench/bench_sla.py times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q

from agencies.models import Agency
from agencies.policies import Stage
from cases.models import CaseEvent
from cases.selectors import supervised_scope
from cases.states import Action
from workflow.calendar import SHANGHAI
from workflow.models import StageClock


def old_sla_stats(
    *, user: Any, date_from: dt.date, date_to: dt.date, now: dt.datetime
) -> dict[str, Any]:
    scope = supervised_scope(user, "agency")
    clocks = StageClock.objects.filter(agency__isnull=False, due_at__isnull=False)
    clocks = clocks.filter(scope) if scope is not None else clocks.none()
    event_scope = supervised_scope(user, "case__from_agency")
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=SHANGHAI)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    completed = (
        clocks.filter(completed_at__gte=start, completed_at__lt=end)
        .exclude(closed_by=Action.REQUEST_MATERIALS)
        .values("stage", "agency_id")
        .annotate(
            completed=Count("id"), on_time=Count("id", filter=Q(completed_at__lte=F("due_at")))
        )
    )
    open_now = (
        clocks.filter(completed_at__isnull=True)
        .values("stage", "agency_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    )
    repeats = (
        CaseEvent.objects.filter(
            event_scope if event_scope is not None else Q(pk__in=[]),
            action=Action.REQUEST_MATERIALS,
            data__has_key="repeat_reason",
            at__gte=start,
            at__lt=end,
        )
        .values("case__from_agency_id")
        .annotate(repeats=Count("id"))
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(stage: str, agency_id: str) -> dict[str, Any]:
        return rows.setdefault(
            (stage, agency_id),
            {
                "stage": stage,
                "agency": agency_id,
                "completed": 0,
                "on_time": 0,
                "open": 0,
                "overdue": 0,
                "repeat_materials_requests": 0,
            },
        )

    for r in completed:
        row(r["stage"], r["agency_id"]).update(completed=r["completed"], on_time=r["on_time"])
    for r in open_now:
        row(r["stage"], r["agency_id"]).update(open=r["open"], overdue=r["overdue"])
    for r in repeats:
        row(Stage.APPLIED, r["case__from_agency_id"])["repeat_materials_requests"] = r["repeats"]
    names = dict(Agency.objects.filter(code__in={a for _s, a in rows}).values_list("code", "name"))
    result = []
    for (_stage, agency_id), r in sorted(rows.items()):
        r["agency"] = {"code": agency_id, "name": names.get(agency_id, "")}
        r["on_time_rate"] = round(r["on_time"] / r["completed"], 4) if r["completed"] else None
        result.append(r)
    totals = {
        k: sum(r[k] for r in result)
        for k in ("completed", "on_time", "open", "overdue", "repeat_materials_requests")
    }
    totals["on_time_rate"] = (
        round(totals["on_time"] / totals["completed"], 4) if totals["completed"] else None
    )
    return {"date_from": date_from, "date_to": date_to, "totals": totals, "rows": result}


def old_sla_series(*, user: Any, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
    """What ``sla_series`` must give, counted from the clocks by the same rules."""
    scope = supervised_scope(user, "agency")
    if scope is None:
        return []
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=SHANGHAI)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    totals: dict[tuple[dt.date, str], list[int]] = {}
    clocks = (
        StageClock.objects.filter(scope, agency__isnull=False, due_at__isnull=False)
        .filter(completed_at__gte=start, completed_at__lt=end)
        .exclude(closed_by=Action.REQUEST_MATERIALS)
    )
    for stage, completed_at, due_at in clocks.values_list("stage", "completed_at", "due_at"):
        total = totals.setdefault((completed_at.astimezone(SHANGHAI).date(), stage), [0, 0])
        total[0] += 1
        total[1] += completed_at <= due_at
    return [
        {
            "day": day,
            "stage": stage,
            "completed": c,
            "on_time": t,
            "on_time_rate": round(t / c, 4),
        }
        for (day, stage), (c, t) in sorted(totals.items())
    ]
