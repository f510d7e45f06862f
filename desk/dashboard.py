"""What the supervisor dashboard shows: the figures of ``GET /stats/sla/``, ``/stats/sla/series/``
and ``/stats/workload/`` (the same selectors, so a chart, its table, the export and the API always
agree), with the labels a person reads, and each chart's data for the page's script."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from agencies.policies import Stage
from cases import selectors
from cases.workload import AGEING_BUCKETS, workload_stats

# The agency stages, in the order a case goes through them.
STAGES = (Stage.APPLIED, Stage.TRANSFER_OUT_APPROVED, Stage.TRANSFER_IN_CONFIRMED)


@dataclass(frozen=True, slots=True)
class Dashboard:
    date_from: dt.date
    date_to: dt.date
    as_of: dt.datetime
    stats: dict[str, Any]
    series: list[dict[str, Any]]
    workload: dict[str, Any]
    agency: str | None = None

    @property
    def agencies(self) -> list[dict[str, str]]:
        """The agencies with figures in the range (the line chart may show one of them)."""
        seen: dict[str, str] = {}
        for row in self.stats["rows"]:
            seen.setdefault(row["agency"]["code"], row["agency"]["name"])
        return [{"code": c, "name": n} for c, n in sorted(seen.items())]

    @property
    def stage_rows(self) -> list[dict[str, Any]]:
        return [{**r, "stage_label": str(Stage(r["stage"]).label)} for r in self.stats["rows"]]

    @property
    def series_rows(self) -> list[dict[str, Any]]:
        return [{**r, "stage_label": str(Stage(r["stage"]).label)} for r in self.series]

    @property
    def ageing_buckets(self) -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label, _most in AGEING_BUCKETS]

    @property
    def ageing_table(self) -> list[dict[str, Any]]:
        codes = [code for code, _label in self.ageing_buckets]
        return [
            {"label": r["stage_label"], "counts": [r[c] for c in codes]}
            for r in self.workload["ageing"]
        ]

    @property
    def caseworker_table(self) -> list[dict[str, Any]]:
        return [
            {"name": person_name(r), "open": r["open"], "overdue": r["overdue"]}
            for r in self.workload["caseworkers"]
        ]

    def chart_data(self) -> dict[str, Any]:
        """Every chart's numbers, labels included (the script draws, it says nothing itself)."""
        days = []
        day = self.date_from
        while day <= self.date_to:
            days.append(day)
            day += dt.timedelta(days=1)
        by_key = {(r["day"], r["stage"]): r for r in self.series}
        lines = []
        for stage in STAGES:
            rates = []
            for d in days:
                row = by_key.get((d, str(stage)))
                rate = row["on_time_rate"] if row else None
                rates.append(None if rate is None else round(rate * 100, 1))
            if any(r is not None for r in rates):
                lines.append({"name": str(stage.label), "data": rates})
        buckets = self.ageing_buckets
        caseworkers = self.workload["caseworkers"]
        return {
            "on_time": {
                "title": _("On-time rate by day (%)"),
                "x": [d.isoformat() for d in days],
                "series": lines,
            },
            "ageing": {
                "title": _("Open stages by lateness"),
                "x": [row["stage_label"] for row in self.workload["ageing"]],
                "series": [
                    {"name": label, "data": [row[code] for row in self.workload["ageing"]]}
                    for code, label in buckets
                ],
            },
            "caseworkers": {
                "title": _("Each caseworker's open and overdue stages"),
                "x": [person_name(row) for row in caseworkers],
                "series": [
                    {"name": _("Open"), "data": [row["open"] for row in caseworkers]},
                    {"name": _("Overdue"), "data": [row["overdue"] for row in caseworkers]},
                ],
            },
            "due_ahead": {
                "title": _("Falling due on each of the next working days"),
                "x": [row["day"].isoformat() for row in self.workload["due_ahead"]],
                "series": [
                    {
                        "name": _("Due"),
                        "data": [row["due"] for row in self.workload["due_ahead"]],
                    }
                ],
            },
        }


def rate_percent(rate: float | None) -> str:
    """An on-time rate as people read it: 95.0%; a dash where nothing was completed."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def person_name(row: dict[str, Any]) -> str:
    """A caseworker row's person, or "Unassigned" for the cases nobody holds."""
    return row["assignee"]["name"] if row["assignee"] else _("Unassigned")


def dashboard_data(
    *, user: Any, date_from: dt.date, date_to: dt.date, now: dt.datetime, agency: str | None = None
) -> Dashboard:
    """The figures; ``agency`` narrows the line (and its table) to one agency the user oversees."""
    return Dashboard(
        date_from=date_from,
        date_to=date_to,
        as_of=now,
        stats=selectors.sla_stats(user=user, date_from=date_from, date_to=date_to, now=now),
        series=selectors.sla_series(user=user, date_from=date_from, date_to=date_to, agency=agency),
        workload=workload_stats(user=user, now=now),
        agency=agency,
    )
