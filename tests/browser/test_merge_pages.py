"""Merges, instant cases and the settlement page in a real browser (issue 10): a keeping agency's
caseworker reads a merge in its own words and the cancelling agency cancels it from the
workbench; a supervisor of the fund owed marks a statement settled; Chinese throughout,
accessible at 1440 and 360 px, screenshots."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cases.models import SettlementStatement, TransferCase
from cases.services import Applicant, case_submit
from cases.services.settlement import settlement_statements_draw_due
from tests.browser.test_desk import check_page, staff_sign_in
from tests.conftest import make_id_number, submit_instant
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def merge_case(personas, calendar_2026) -> TransferCase:
    from workflow.calendar import calendar_invalidate
    from workflow.calendar_data import calendar_sync_year

    now = dt.datetime.now(dt.UTC)
    calendar_sync_year(year=now.year)
    calendar_invalidate()
    return case_submit(
        actor=personas["cw_out"],
        insurance_type="employee",
        from_agency="440300",
        to_agency="430100",
        channel="window",
        applicant=Applicant(name="王五", id_number=make_id_number("440306", "19800101", 5)),
        kind="merge",
        enrolled_at_source_since=dt.date(2020, 3, 1),
        enrolled_at_target_on=dt.date(2026, 9, 1),
        main_relationship_confirmed=True,
        now=now - dt.timedelta(days=1),
    )


def test_the_cancelling_agency_cancels_a_merge_from_the_workbench(open_page, merge_case):
    page = open_page(width=1440)
    staff_sign_in(page, "sz_cw")
    page.goto("/desk/?kind=merge")
    assert page.locator("a.case-link").all_inner_texts() == [merge_case.reference]
    page.locator("a.case-link").first.click()
    page.wait_for_url(f"**/desk/cases/{merge_case.reference}/")
    body = page.locator("main").inner_text()
    assert "注销地经办机构" in body
    assert "已申请（注销地核查中）" in body
    check_page(page, "merge-case")
    form = page.locator("details.action[open] form")
    form.locator("input[name='approve_transfer_out-contribution_months']").fill("60")
    form.locator("input[name='approve_transfer_out-personal_account_balance']").fill("800.00")
    form.locator("input[name='approve_transfer_out-overlap_months']").fill("3")
    form.locator("input[name='approve_transfer_out-refund_amount']").fill("96.00")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    merge_case.refresh_from_db()
    assert merge_case.state == "transfer_out_approved"
    assert merge_case.refund_amount == 96


def test_the_fund_owed_marks_a_statement_settled(open_page, hunan, personas):
    for sequence in (41, 43):
        submit_instant(
            personas["cw_in"],
            sequence,
            balance="1000.00",
            at=dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI),
        )
    [statement] = settlement_statements_draw_due(now=dt.datetime(2026, 12, 1, 9, tzinfo=SHANGHAI))
    hunan["zz_sup"].set_password("pw-zz_sup")
    hunan["zz_sup"].save()
    page = open_page(width=1440)
    staff_sign_in(page, "zz_sup")
    page.goto("/desk/settlements/")
    assert statement.number in page.locator("#table-statements").inner_text()
    assert "¥2,000.00" in page.locator("main").inner_text()
    check_page(page, "settlements")
    page.get_by_role("button", name="标记为已清算：款项已到账").click()
    page.wait_for_url(re.compile(r"/desk/settlements/$"))
    assert "已标记为已清算" in page.locator(".messages").inner_text()
    assert "周主管" in page.locator("#table-statements").inner_text()
    assert SettlementStatement.objects.get().settled_by == hunan["zz_sup"]
