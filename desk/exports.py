"""The dashboard's tables as files: one table as CSV (UTF-8 with a byte-order mark, so a
spreadsheet opens the Chinese text), or all of them as an XLSX workbook, a sheet each (openpyxl).
The rows are the page's own (``desk.dashboard``), so a file says what the page says."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Final

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.downloads import private_download
from desk.dashboard import Dashboard, rate_percent

XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stage_rows(d: Dashboard) -> list[list[Any]]:
    return [
        [
            r["stage_label"],
            r["agency"]["name"],
            r["agency"]["code"],
            r["completed"],
            r["on_time"],
            rate_percent(r["on_time_rate"]),
            r["open"],
            r["overdue"],
            r["repeat_materials_requests"],
        ]
        for r in d.stage_rows
    ]


def _series_rows(d: Dashboard) -> list[list[Any]]:
    return [
        [
            r["day"].isoformat(),
            r["stage_label"],
            r["completed"],
            r["on_time"],
            rate_percent(r["on_time_rate"]),
        ]
        for r in d.series_rows
    ]


def _ageing_rows(d: Dashboard) -> list[list[Any]]:
    return [[r["label"], *r["counts"]] for r in d.ageing_table]


def _caseworker_rows(d: Dashboard) -> list[list[Any]]:
    return [[r["name"], r["open"], r["overdue"]] for r in d.caseworker_table]


def _due_rows(d: Dashboard) -> list[list[Any]]:
    return [[r["day"].isoformat(), r["due"]] for r in d.workload["due_ahead"]]


# name -> (title, column headers, rows); the headers are functions of the dashboard where they
# depend on it (the ageing buckets).
Table = tuple[Any, Callable[[Dashboard], list[str]], Callable[[Dashboard], list[list[Any]]]]
TABLES: Final[dict[str, Table]] = {
    "stages": (
        gettext_lazy("On time per stage and agency"),
        lambda d: [
            _("Stage"),
            _("Agency"),
            _("Agency code"),
            _("Completed"),
            _("On time"),
            _("On-time rate"),
            _("Open"),
            _("Overdue"),
            _("Repeat materials requests"),
        ],
        _stage_rows,
    ),
    "series": (
        gettext_lazy("On time per day"),
        lambda d: [_("Day"), _("Stage"), _("Completed"), _("On time"), _("On-time rate")],
        _series_rows,
    ),
    "ageing": (
        gettext_lazy("Open stages by lateness"),
        lambda d: [_("Stage"), *(label for _code, label in d.ageing_buckets)],
        _ageing_rows,
    ),
    "caseworkers": (
        gettext_lazy("Caseworkers' load"),
        lambda d: [_("Caseworker"), _("Open"), _("Overdue")],
        _caseworker_rows,
    ),
    "due_ahead": (
        gettext_lazy("Falling due"),
        lambda d: [_("Working day"), _("Due")],
        _due_rows,
    ),
}


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _filename(d: Dashboard, name: str, ext: str) -> str:
    return f"sla-{name}-{d.date_from.isoformat()}-{d.date_to.isoformat()}.{ext}"


def csv_response(d: Dashboard, name: str) -> HttpResponse:
    _title, headers, rows = TABLES[name]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(d))
    for row in rows(d):
        writer.writerow([_cell(v) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(d, name, "csv")}"'
    return private_download(response)


def xlsx_response(d: Dashboard) -> HttpResponse:
    from openpyxl import Workbook  # imported here: only exports need it

    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in TABLES.values():
        # A sheet's name has at most 31 characters.
        sheet = book.create_sheet(title=str(title)[:31])
        sheet.append(headers(d))
        for row in rows(d):
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(d, "all", "xlsx")}"'
    return private_download(response)
