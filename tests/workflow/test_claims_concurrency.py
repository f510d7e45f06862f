"""Claims at the same time as other claims and as transitions, on PostgreSQL (two connections).

``FOR UPDATE SKIP LOCKED``: a second scan takes only what the first has not, and a clock that a
transition holds (``clock_hold``, right after the case row) is skipped, not waited for.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from cases.services import Applicant
from tests.cases.sla import SUBMIT, at
from tests.conftest import make_id_number
from workflow.claims import OVERDUE, clocks_claim
from workflow.services import clock_hold

pytestmark = pytest.mark.django_db(transaction=True)
LATE = at("2026-10-30 12:00")


@pytest.fixture
def three_cases(calendar_2026, submit_case, personas):
    return [
        submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19850101", 900 + i)
            ),
            **{**SUBMIT, "now": SUBMIT["now"] + dt.timedelta(days=i)},
        )
        for i in range(3)
    ]


def in_other_connection(
    work: Callable[[], object],
) -> tuple[Callable[[], bool], Callable[[], object]]:
    """Run ``work`` in a transaction on another connection and keep it open until ``finish()``
    (which gives what ``work`` returned); ``still_open()`` says whether it is still open. The
    transaction gives up after 30 s, so a claim that waited for it instead of skipping shows as
    ``still_open() is False`` rather than a hung test."""
    holding, release, result = threading.Event(), threading.Event(), {}

    def run() -> None:
        try:
            with transaction.atomic():
                result["value"] = work()
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(10), "the other connection never got its locks"

    def finish() -> object:
        release.set()
        thread.join(30)
        return result["value"]

    def still_open() -> bool:
        return thread.is_alive() and not release.is_set()

    return still_open, finish


def test_two_claims_at_once_take_disjoint_clocks(three_cases):
    still_open, first = in_other_connection(lambda: clocks_claim(OVERDUE, now=LATE, limit=2))
    with transaction.atomic():
        second = clocks_claim(OVERDUE, now=LATE, limit=10)
    assert still_open(), "the second claim waited for the first instead of skipping its rows"
    taken_first = first()
    assert len(taken_first) == 2
    assert len(second) == 1
    assert {c.id for c in taken_first}.isdisjoint({c.id for c in second})


def test_a_clock_held_by_a_transition_is_skipped_not_waited_for(three_cases):
    held = three_cases[0]
    still_open, finish = in_other_connection(lambda: clock_hold(case_id=held.pk))
    with transaction.atomic():
        claimed = clocks_claim(OVERDUE, now=LATE, limit=10)
    assert still_open(), "the claim waited for the transition instead of skipping its clock"
    finish()
    assert sorted(c.case_id for c in claimed) == sorted(c.pk for c in three_cases[1:])
    # Released (here without closing it): the next scan takes it.
    assert [c.case_id for c in clocks_claim(OVERDUE, now=LATE, limit=10)] == [held.pk]
