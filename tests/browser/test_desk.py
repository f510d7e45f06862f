"""The workbench and the dashboard in a real browser (issue 12 item 5): a caseworker signs in,
sees the most urgent case first and acts on it in at most 3 clicks, and the queue updates; a
supervisor sees every chart drawn with the numbers of its table and of the API; axe-core finds
nothing serious at 1440 and 360 px; no English word or raw code on a zh-Hans page; screenshots."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cases.services import Applicant
from tests.browser.conftest import axe_violations, foreign_words, screenshot
from tests.conftest import make_id_number

pytestmark = pytest.mark.django_db(transaction=True)


def staff_sign_in(page, username: str) -> None:
    page.goto("/signin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/$"))


@pytest.fixture
def queue_cases(calendar_2026, submit_case, personas):
    """Three Shenzhen cases on behalf of three people: one submitted a month ago (overdue), one
    a week ago, one today (the live server runs on the real clock: its year's calendar too)."""
    from workflow.calendar import calendar_invalidate
    from workflow.calendar_data import calendar_sync_year

    now = dt.datetime.now(dt.UTC)
    for year in {(now - dt.timedelta(days=31)).year, now.year}:
        calendar_sync_year(year=year)
    calendar_invalidate()

    def on_behalf(days_ago: int, seq: int):
        return submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19800101", seq), phone=""
            ),
            now=now - dt.timedelta(days=days_ago),
        )

    return on_behalf(1, 1), on_behalf(30, 2), on_behalf(7, 3)


def check_page(page, name: str) -> None:
    """Chinese throughout, accessible at both widths, a screenshot of each."""
    assert foreign_words(page) == [], name
    for width in (1440, 360):
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], f"{name} at {width} px"
        # Nothing wider than the phone's screen: tables scroll or stack inside their card.
        if width == 360:
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, name
        screenshot(page, f"desk-{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_caseworker_acts_on_the_most_urgent_case_in_three_clicks(
    open_page, personas, queue_cases
):
    recent, overdue, week = queue_cases
    page = open_page(width=1440)
    staff_sign_in(page, "sz_cw")
    clicks = 0
    first = page.locator("a.case-link").first
    assert first.inner_text() == overdue.reference
    badge = page.locator("tbody tr").first.locator(".badge")
    assert badge.inner_text().startswith("已超期")
    check_page(page, "queue")

    first.click()
    clicks += 1
    page.wait_for_url(f"**/desk/cases/{overdue.reference}/")
    check_page(page, "case")
    # The first action's form is open: fill it, send it.
    form = page.locator("details.action[open] form")
    form.locator("input[name='approve_transfer_out-contribution_months']").fill("60")
    form.locator("input[name='approve_transfer_out-personal_account_balance']").fill("1234.56")
    form.locator("button[type=submit]").click()
    clicks += 1
    page.wait_for_url(re.compile(r"/desk/$"))
    assert clicks <= 3
    assert "已完成" in page.locator(".messages").inner_text()
    refs = page.locator("a.case-link").all_inner_texts()
    # The case went to Changsha: Shenzhen's queue no longer holds it; the next most urgent leads.
    assert overdue.reference not in refs
    assert refs == [week.reference, recent.reference]
    overdue.refresh_from_db()
    assert overdue.state == "transfer_out_approved"


def test_filters_update_the_queue_in_place(open_page, personas, queue_cases):
    overdue = queue_cases[1]
    page = open_page(width=1440)
    staff_sign_in(page, "sz_cw")
    page.evaluate("() => { window.__kept = true; }")
    page.select_option("#id_urgency", "overdue")
    page.wait_for_url(re.compile(r"urgency=overdue"))
    page.wait_for_function("() => document.querySelectorAll('a.case-link').length === 1")
    assert page.locator("a.case-link").all_inner_texts() == [overdue.reference]
    # htmx swapped the list in place: the page (and its script state) stayed.
    assert page.evaluate("() => window.__kept === true")
    # "Take" on the row: one click, back on the queue, the case now the caseworker's.
    page.click(f"#take-{overdue.reference}")
    page.wait_for_url(re.compile(r"/desk/$"))
    overdue.refresh_from_db()
    assert overdue.assignee == personas["cw_out"]
    assert page.query_selector(f"#take-{overdue.reference}") is None


def _table(page, table_id: str) -> list[list[str]]:
    return page.evaluate(
        """(id) => [...document.querySelectorAll('#' + id + ' tbody tr')].map(
            tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()))""",
        table_id,
    )


def _chart_drawn(page, name: str) -> bool:
    """The chart's canvas has pixels of more than one colour (drawn, not blank)."""
    return page.evaluate(
        """(name) => {
            const canvas = document.querySelector('#chart-' + name + ' canvas');
            if (!canvas || !canvas.width || !canvas.height) return false;
            const ctx = canvas.getContext('2d');
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            const first = data.slice(0, 4).join();
            for (let i = 4; i < data.length; i += 4 * 97) {
                if (data.slice(i, i + 4).join() !== first) return true;
            }
            return false;
        }""",
        name,
    )


def _series(page, name: str) -> list[list]:
    return page.evaluate(
        """(name) => echarts.getInstanceByDom(document.getElementById('chart-' + name))
            .getOption().series.map(s => s.data)""",
        name,
    )


def test_the_supervisor_sees_each_chart_drawn_with_its_tables_and_the_apis_numbers(
    open_page, personas, case_in_state, queue_cases
):
    case_in_state("balance_moved")
    case_in_state("transfer_in_confirmed")
    personas["cw_out"].real_name = "陈晓"
    personas["cw_out"].save()
    page = open_page(width=1440)
    staff_sign_in(page, "sz_sup")
    # Assign one case from the queue (bulk assign), so the load chart has a person with work.
    page.check(f"#pick-{queue_cases[1].reference}")
    page.select_option("#bulk_assignee", str(personas["cw_out"].pk))
    page.click("#bulk button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/"))
    assert "已分派 1 件案件：陈晓" in page.locator(".messages").inner_text()

    page.click("nav >> text=监控看板")
    page.wait_for_url(re.compile(r"/desk/dashboard/$"))
    page.wait_for_function("() => document.querySelectorAll('[data-drawn=true]').length === 4")
    for name in ("on_time", "ageing", "caseworkers", "due_ahead"):
        assert _chart_drawn(page, name), name

    api = page.request
    stats = api.get("/api/v1/stats/sla/").json()
    workload = api.get("/api/v1/stats/workload/").json()
    series = api.get("/api/v1/stats/sla/series/").json()

    # On time per stage and agency: the table's counts are the API's.
    table = _table(page, "table-stages")
    assert [[r[2], r[3], r[5], r[6]] for r in table] == [
        [str(r["completed"]), str(r["on_time"]), str(r["open"]), str(r["overdue"])]
        for r in stats["rows"]
    ]
    assert stats["totals"]["completed"] >= 2
    # The line chart draws the series' rates, the table lists its rows.
    rates = {r["stage"]: r for r in series["rows"]}
    assert rates
    drawn = [v for line in _series(page, "on_time") for v in line if v is not None]
    assert sorted(drawn) == sorted(round(r["on_time_rate"] * 100, 1) for r in series["rows"])
    assert len(_table(page, "table-series")) == len(series["rows"])
    # Ageing: chart, table and API agree, bucket by bucket.
    buckets = ["on_time", "late_1_2", "late_3_5", "late_6_10", "late_over_10"]
    api_ageing = [[row[b] for row in workload["ageing"]] for b in buckets]
    assert _series(page, "ageing") == api_ageing
    assert [[int(n) for n in r[1:]] for r in _table(page, "table-ageing")] == [
        [row[b] for b in buckets] for row in workload["ageing"]
    ]
    # Caseworkers: the person holding the case is counted, and the unassigned row comes last.
    load = _table(page, "table-caseworkers")
    assert load == [
        [
            row["assignee"]["name"] if row["assignee"] else "未分派",
            str(row["open"]),
            str(row["overdue"]),
        ]
        for row in workload["caseworkers"]
    ]
    assert ["陈晓", "1", "1"] in load
    assert _series(page, "caseworkers") == [
        [row["open"] for row in workload["caseworkers"]],
        [row["overdue"] for row in workload["caseworkers"]],
    ]
    # Due ahead: ten working days, the same counts.
    assert _series(page, "due_ahead") == [[row["due"] for row in workload["due_ahead"]]]
    assert len(workload["due_ahead"]) == 10
    check_page(page, "dashboard")
