"""Claiming due stage clocks (workflow.claims): what is due, once, most overdue first, no case rows.

Runs on PostgreSQL (one statement per batch) and, in `make test`'s SQLite pass, on the portable
ORM version that `make run` uses.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import TransferCase
from tests.cases.sla import SUBMIT, at
from tests.conftest import make_id_number
from workflow.claims import DUE_SOON, ESCALATION, MATERIALS_REMINDER, OVERDUE, clocks_claim
from workflow.models import StageClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_cases(calendar_2026, submit_case, personas) -> list[TransferCase]:
    from cases.services import Applicant

    return [
        submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19850101", 800 + i)
            ),
            **{**SUBMIT, "now": SUBMIT["now"] + dt.timedelta(days=i)},
        )
        for i in range(3)
    ]


def test_overdue_claims_only_what_is_past_its_deadline_once(three_cases):
    # Due 10-16, 10-19 and 10-20 (the 3 cases started a day apart).
    with transaction.atomic():
        claimed = clocks_claim(OVERDUE, now=at("2026-10-19 12:00"), limit=10)
    assert [c.case_id for c in claimed] == [three_cases[0].pk]
    assert claimed[0].breached_at == claimed[0].due_at == at("2026-10-16 23:59:59")
    assert clocks_claim(OVERDUE, now=at("2026-10-19 12:00"), limit=10) == []
    # The stored marker is the deadline itself, not the instant of the scan.
    stored = StageClock.objects.get(pk=claimed[0].id)
    assert stored.breached_at == at("2026-10-16 23:59:59")


def test_a_deadline_is_overdue_only_after_its_last_second(three_cases):
    assert clocks_claim(OVERDUE, now=at("2026-10-16 23:59:59"), limit=10) == []
    assert len(clocks_claim(OVERDUE, now=at("2026-10-17 00:00"), limit=10)) == 1


def test_batches_take_the_most_overdue_first(three_cases):
    now = at("2026-10-22 12:00")
    first = clocks_claim(OVERDUE, now=now, limit=2)
    second = clocks_claim(OVERDUE, now=now, limit=2)
    assert [c.case_id for c in first] == [three_cases[0].pk, three_cases[1].pk]
    assert [c.case_id for c in second] == [three_cases[2].pk]


def test_escalation_follows_only_an_overdue_flag(three_cases):
    late = at("2026-10-30 12:00")
    assert clocks_claim(ESCALATION, now=late, limit=10) == []
    clocks_claim(OVERDUE, now=late, limit=10)
    escalated = clocks_claim(ESCALATION, now=late, limit=10)
    assert sorted(c.case_id for c in escalated) == sorted(c.pk for c in three_cases)
    assert all(
        c.escalated_at == late for c in StageClock.objects.filter(id__in=[e.id for e in escalated])
    )


def test_due_soon_and_reminders_mark_with_the_scan_instant(three_cases, personas):
    from cases.services import case_transition

    now = at("2026-10-14 00:00")
    warned = clocks_claim(DUE_SOON, now=now, limit=10)
    assert [c.case_id for c in warned] == [three_cases[0].pk]
    assert StageClock.objects.get(pk=warned[0].id).warned_at == now
    case_transition(
        case=three_cases[1],
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
        now=at("2026-10-09 10:00"),
    )
    # Five working days after the request: 10-10 (make-up), 10-12 .. 10-15.
    assert clocks_claim(MATERIALS_REMINDER, now=at("2026-10-15 23:59:58"), limit=10) == []
    reminded = clocks_claim(MATERIALS_REMINDER, now=at("2026-10-15 23:59:59"), limit=10)
    assert [c.case_id for c in reminded] == [three_cases[1].pk]


def test_a_closed_clock_is_never_claimed(three_cases, personas):
    from cases.services import case_transition

    case_transition(
        case=three_cases[0],
        action="approve_transfer_out",
        actor=personas["cw_out"],
        payload={"contribution_months": 60, "personal_account_balance": "100.00"},
        now=at("2026-10-15 10:00"),
    )
    claimed = clocks_claim(OVERDUE, now=at("2026-10-17 00:00"), limit=10)
    assert claimed == []


def test_a_claim_reads_and_writes_no_case_table(three_cases):
    with CaptureQueriesContext(connection) as queries:
        claimed = clocks_claim(OVERDUE, now=at("2026-10-22 12:00"), limit=10)
    assert len(claimed) == 3
    case_table = TransferCase._meta.db_table
    assert queries.captured_queries
    assert not [q["sql"] for q in queries.captured_queries if case_table in q["sql"]]


class NotificationsFailed(Exception):
    pass


def _claim_then_fail(now: dt.datetime) -> None:
    with transaction.atomic():
        assert len(clocks_claim(OVERDUE, now=now, limit=10)) == 1
        raise NotificationsFailed


def test_a_rolled_back_claim_is_claimed_again(three_cases):
    now = at("2026-10-17 00:00")
    with pytest.raises(NotificationsFailed):
        _claim_then_fail(now)
    assert len(clocks_claim(OVERDUE, now=now, limit=10)) == 1


def test_a_claim_reads_its_callers_columns_in_the_same_go(three_cases):
    from workflow.claims import ClaimJoin

    join = ClaimJoin(
        columns=("t.reference", "claimed.stage"),
        joins=f"JOIN {TransferCase._meta.db_table} t ON t.id = claimed.case_id",
    )
    with transaction.atomic():
        claimed = clocks_claim(OVERDUE, now=at("2026-10-22 12:00"), limit=10, join=join)
    assert [c.extra for c in claimed] == [(case.reference, "applied") for case in three_cases]
    assert all(c.breached_at == c.due_at for c in claimed)
