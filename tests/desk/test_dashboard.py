"""The supervisor dashboard and its exports (issue 12 item 2), and ``GET /stats/workload/``: who
may open them, the range's rules (the API's), each table the same numbers as the API, CSV and XLSX
files that say what the page says. The charts in a real browser: tests/browser/test_desk.py."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from cases.inputs import MSG_DATE_ORDER, MSG_RANGE_TOO_LONG
from cases.services import Applicant, case_assign
from tests.conftest import make_id_number
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
RANGE = "date_from=2026-11-01&date_to=2026-12-01"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def history(calendar_2026, personas, submit_case, case_in_state):
    """A completed move, one in Changsha's hands, and two open Shenzhen stages, one of them a
    month late and held by the Shenzhen caseworker."""
    case_in_state("balance_moved")
    late = submit_case(
        actor=personas["cw_out"],
        applicant=Applicant(
            name="王五", id_number=make_id_number("440306", "19800101", 5), phone=""
        ),
        now=dt.datetime(2026, 10, 20, 9, 0, tzinfo=SHANGHAI),
        stopped_at_source_on=dt.date(2026, 10, 1),
        enrolled_at_target_on=dt.date(2026, 10, 2),
    )
    case_assign(case=late, assignee=personas["cw_out"], actor=personas["cw_out"])
    submit_case(
        actor=personas["cw_out"],
        applicant=Applicant(
            name="赵六", id_number=make_id_number("440306", "19800101", 6), phone=""
        ),
        now=dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI),
    )
    return late


def test_only_supervisors_open_the_dashboard_and_the_workload(personas, history):
    for who in ("cw_out", "applicant"):
        client = signed_in(personas[who])
        assert client.get("/desk/dashboard/").status_code == 403, who
        assert client.get("/desk/dashboard/stages.csv").status_code == 403, who
        assert client.get("/api/v1/stats/workload/").status_code == 403, who
    assert signed_in(personas["supervisor"]).get("/desk/dashboard/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_workload_counts_lateness_people_and_the_days_ahead(personas, history):
    body = signed_in(personas["supervisor"]).get("/api/v1/stats/workload/").json()
    applied = next(r for r in body["ageing"] if r["stage"] == "applied")
    # Due 2026-11-03 (10 working days from 10-20), 20 working days late on 12-01; the other due
    # 12-14, not yet due.
    assert (applied["on_time"], applied["late_over_10"]) == (1, 1)
    assert applied["late_1_2"] == applied["late_3_5"] == applied["late_6_10"] == 0
    load = {r["assignee"]["username"] if r["assignee"] else None: r for r in body["caseworkers"]}
    assert (load["sz_cw"]["open"], load["sz_cw"]["overdue"]) == (1, 1)
    assert (load[None]["open"], load[None]["overdue"]) == (1, 0)
    assert body["caseworkers"][-1]["assignee"] is None
    days = [r["day"] for r in body["due_ahead"]]
    assert days[0] == "2026-12-01"
    assert len(days) == 10
    assert "2026-12-05" not in days  # a Saturday
    assert {r["day"]: r["due"] for r in body["due_ahead"]}["2026-12-14"] == 1


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_tables_are_the_apis_numbers(personas, history):
    client = signed_in(personas["supervisor"])
    html = client.get(f"/desk/dashboard/?{RANGE}").content.decode()
    stats = client.get(f"/api/v1/stats/sla/?{RANGE}").json()
    assert stats["totals"]["completed"] == 1  # Shenzhen's approval; the rest was Changsha's
    for row in stats["rows"]:
        assert f"<td>{row['completed']}</td><td>{row['on_time']}</td>" in html


@time_machine.travel(NOW, tick=False)
def test_a_bad_range_is_said_and_the_default_shown(personas, history):
    client = signed_in(personas["supervisor"])
    r = client.get("/desk/dashboard/?date_from=2026-12-01&date_to=2025-01-01")
    assert r.status_code == 400
    with translation.override("zh-hans"):
        assert str(MSG_DATE_ORDER) in r.content.decode()
    r = client.get("/desk/dashboard/?date_from=2024-01-01&date_to=2026-12-01")
    assert r.status_code == 400
    with translation.override("zh-hans"):
        assert str(MSG_RANGE_TOO_LONG) in r.content.decode()
    # An export of a range that is not valid leads to the dashboard, which says why.
    r = client.get("/desk/dashboard/all.xlsx?date_from=nonsense")
    assert r.status_code == 302
    assert r["Location"] == "/desk/dashboard/?date_from=nonsense"
    assert client.get("/desk/dashboard/?date_from=２０２６-11-01").status_code == 400


@time_machine.travel(NOW, tick=False)
def test_csv_and_xlsx_say_what_the_page_says(personas, history):
    client = signed_in(personas["supervisor"])
    stats = client.get(f"/api/v1/stats/sla/?{RANGE}").json()
    r = client.get(f"/desk/dashboard/stages.csv?{RANGE}")
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Cache-Control"] == "private, no-store"
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["环节", "经办机构", "经办机构代码", "已办结"]
    assert [[int(c) for c in row[3:5]] for row in rows[1:]] == [
        [r["completed"], r["on_time"]] for r in stats["rows"]
    ]
    book = load_workbook(io.BytesIO(client.get(f"/desk/dashboard/all.xlsx?{RANGE}").content))
    assert book.sheetnames == [
        "各环节、各经办机构按期情况",
        "每日按期情况",
        "在办环节超期情况",
        "经办人员工作量",
        "即将到期",
    ]
    sheet = book["各环节、各经办机构按期情况"]
    values = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [[row[3], row[4]] for row in values] == [
        [r["completed"], r["on_time"]] for r in stats["rows"]
    ]
    workload = client.get("/api/v1/stats/workload/").json()
    people = [list(row) for row in book["经办人员工作量"].iter_rows(min_row=2, values_only=True)]
    assert [[row[1], row[2]] for row in people] == [
        [r["open"], r["overdue"]] for r in workload["caseworkers"]
    ]
    assert client.get(f"/desk/dashboard/nonsense.csv?{RANGE}").status_code == 404
    assert client.get(f"/desk/dashboard/stages.pdf?{RANGE}").status_code == 404


def test_a_cell_that_would_run_as_a_formula_is_written_as_text():
    from desk.exports import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("-1") == "'-1"
    assert _cell("深圳市医疗保障局") == "深圳市医疗保障局"
    assert _cell(3) == 3


def _late_bucket(left: int) -> str:
    """The bucket ``working_days_left`` puts a clock in (the presenters' count of lateness)."""
    if left >= 0:
        return "on_time"
    late = -left
    return (
        "late_1_2"
        if late <= 2
        else "late_3_5"
        if late <= 5
        else "late_6_10"
        if late <= 10
        else "late_over_10"
    )


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI),  # a Tuesday
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI),  # a Saturday
        dt.datetime(2026, 12, 7, 23, 59, tzinfo=SHANGHAI),  # a Monday, late
    ],
)
def test_ageing_buckets_agree_with_working_days_left_at_every_boundary(
    calendar_2026, personas, submit_case, now
):
    from workflow.calendar import end_of_day, get_calendar
    from workflow.models import StageClock

    calendar = get_calendar()
    workdays = [d for d in calendar.workdays_in(dt.date(2026, 10, 1), now.date())][::-1]
    # Deadlines 0 to 12 working days back, and one still ahead.
    dues = [end_of_day(d) for d in workdays[:13]] + [end_of_day(dt.date(2026, 12, 14))]
    for i, due in enumerate(dues):
        case = submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19800101", 100 + i), phone=""
            ),
            now=dt.datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI),
            stopped_at_source_on=dt.date(2026, 8, 1),
            enrolled_at_target_on=dt.date(2026, 8, 2),
        )
        StageClock.objects.filter(case=case, completed_at__isnull=True).update(due_at=due)
    expected = {b: 0 for b in ("on_time", "late_1_2", "late_3_5", "late_6_10", "late_over_10")}
    for due in dues:
        expected[_late_bucket(calendar.working_days_left(due, now))] += 1
    from cases.workload import ageing

    applied = next(
        r for r in ageing(user=personas["supervisor"], now=now) if r["stage"] == "applied"
    )
    assert {b: applied[b] for b in expected} == expected
    # Every bucket is exercised by these deadlines.
    assert all(expected.values()), expected


@time_machine.travel(NOW, tick=False)
def test_each_supervisor_sees_only_their_agencys_work(personas, history, case_in_state):
    from accounts.models import Role, User

    case_in_state("transfer_out_approved")  # Changsha's move now
    changsha = User.objects.create_user(
        "cs_sup", password="pw", role=Role.SUPERVISOR, agency_id="430100", is_staff=True
    )

    def open_stages(body: dict, stage: str) -> int:
        row = next(r for r in body["ageing"] if r["stage"] == stage)
        return sum(v for k, v in row.items() if k != "stage")

    theirs = signed_in(changsha).get("/api/v1/stats/workload/").json()
    ours = signed_in(personas["supervisor"]).get("/api/v1/stats/workload/").json()
    assert (open_stages(theirs, "applied"), open_stages(theirs, "transfer_out_approved")) == (0, 1)
    assert (open_stages(ours, "applied"), open_stages(ours, "transfer_out_approved")) == (2, 0)
    assert [r["assignee"] for r in theirs["caseworkers"] if r["assignee"]] == [
        {"username": "cs_cw", "name": "cs_cw", "agency": "430100"}
    ]
    html = signed_in(changsha).get("/desk/dashboard/").content.decode()
    assert "深圳" not in html.split('id="table-stages"')[1].split("</table>")[0]


@time_machine.travel(NOW, tick=False)
def test_one_agencys_line_and_never_another_supervisors(personas, history):
    client = signed_in(personas["supervisor"])
    everything = client.get(f"/api/v1/stats/sla/series/?{RANGE}").json()
    ours = client.get(f"/api/v1/stats/sla/series/?{RANGE}&agency=440300").json()
    assert ours["agency"] == "440300"
    assert everything["agency"] is None
    assert ours["rows"] == everything["rows"]
    assert len(ours["rows"]) == 1
    # Changsha completed stages in the range too, but they are not this supervisor's to see.
    assert client.get(f"/api/v1/stats/sla/series/?{RANGE}&agency=430100").json()["rows"] == []
    assert client.get(f"/api/v1/stats/sla/series/?{RANGE}&agency=12").status_code == 400
    html = client.get(f"/desk/dashboard/?{RANGE}&agency=430100").content.decode()
    assert "此期间没有办结的环节。" in html
    html = client.get(f"/desk/dashboard/?{RANGE}&agency=440300").content.decode()
    assert '<option value="440300" selected>' in html
    table = html.split('id="table-series"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + len(ours["rows"])
