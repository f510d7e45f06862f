"""The supervisors' settlement page (issue 10 item 4): what the funds owe each other, the fund owed
marking a statement settled, and an instant case's page saying what its fund owes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from cases.models import SettlementItem, SettlementStatement, TransferCase
from cases.services.settlement import settlement_statements_draw_due
from tests.conftest import submit_instant
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

AFTER = dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def statement(hunan, personas):
    """Two instant cases Changsha -> Zhuzhou in November (101.01 yuan each), drawn up."""
    for sequence in (31, 33):
        submit_instant(
            personas["cw_in"],
            sequence,
            balance="101.00",
            interest="0.01",
            at=dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI),
        )
    [drawn] = settlement_statements_draw_due(now=AFTER)
    return drawn


def test_the_fund_owed_marks_a_statement_settled_and_the_payer_sees_it(hunan, personas, statement):
    payer = signed_in(hunan["cs_sup"])
    page = payer.get("/desk/settlements/").content.decode()
    assert statement.number in page
    assert "¥202.02" in page  # the two items' sum, to the fen
    settle = f"/desk/settlements/{statement.number}/settle/"
    assert settle not in page  # the paying fund does not say its own money arrived
    refused = payer.post(f"/desk/settlements/{statement.number}/settle/", follow=True)
    assert "只有应收基金" in refused.content.decode()
    statement.refresh_from_db()
    assert statement.settled_at is None

    payee = signed_in(hunan["zz_sup"])
    page = payee.get("/desk/settlements/?period=2026-11").content.decode()
    assert settle in page
    assert "标记为已清算：款项已到账" in page
    done = payee.post(f"/desk/settlements/{statement.number}/settle/", follow=True)
    assert done.status_code == 200
    assert "已标记为已清算" in done.content.decode()
    assert "周主管" in done.content.decode()
    statement.refresh_from_db()
    assert statement.settled_by == hunan["zz_sup"]
    assert not SettlementItem.objects.filter(settled_at__isnull=True).exists()


def test_a_bad_month_is_said_and_others_see_nothing(hunan, personas, statement):
    r = signed_in(hunan["cs_sup"]).get("/desk/settlements/?period=2026-13")
    assert r.status_code == 400
    assert "年-月" in r.content.decode()
    # A choice that is not valid shows nothing rather than everything.
    assert statement.number not in r.content.decode()
    assert signed_in(personas["cw_in"]).get("/desk/settlements/").status_code == 403
    elsewhere = signed_in(personas["supervisor"]).get("/desk/settlements/").content.decode()
    assert statement.number not in elsewhere
    r = signed_in(personas["supervisor"]).post(f"/desk/settlements/{statement.number}/settle/")
    assert r.status_code == 404
    assert SettlementStatement.objects.get().settled_at is None


def test_an_instant_case_page_says_what_its_fund_owes(hunan, personas, statement):
    case = TransferCase.objects.filter(mode="instant").first()
    page = signed_in(personas["cw_in"]).get(f"/desk/cases/{case.reference}/").content.decode()
    assert "先行划入" in page
    assert statement.number in page
    assert "提交即办结" in page
