"""``clock_close`` and the day's ``StageTally``: counted once per completed clock, atomically under
concurrent closes of the same (day, stage, agency), on PostgreSQL (one connection per thread).

A transition locks its case's agency rows too (the case is read ``FOR UPDATE`` with its agencies),
which queues the transitions of one agency; these tests close the clocks directly so nothing but
the upsert itself stands between the writers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from core.rollup import rollup_add
from workflow.calendar import SHANGHAI
from workflow.models import StageClock, StageTally
from workflow.services import clock_close, clock_hold

pytestmark = pytest.mark.django_db(transaction=True)
CLOSED = dt.datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
EARLY = {"stopped_at_source_on": dt.date(2026, 9, 1), "enrolled_at_target_on": dt.date(2026, 9, 2)}


def together(calls: list[Callable[[], None]]) -> list[BaseException]:
    """Run each call in its own thread and connection, released at once; the errors raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_closes_of_one_day_stage_and_agency_count_exactly(
    calendar_2026, submit_case, personas
):
    assert connection.vendor == "postgresql"
    n = 12
    cases = [
        submit_case(actor=personas["cw_out"], now=CLOSED - dt.timedelta(days=1), **EARLY)
        for _ in range(n)
    ]
    # Half of them late: their deadline moved before the start of the day they close on.
    late = [c.pk for c in cases[::2]]
    StageClock.objects.filter(case_id__in=late).update(due_at=CLOSED - dt.timedelta(hours=1))

    def close(case_id: int) -> Callable[[], None]:
        def call() -> None:
            with transaction.atomic():
                clock_hold(case_id=case_id)
                assert clock_close(case_id=case_id, at=CLOSED, closed_by="approve") == 1

        return call

    assert together([close(c.pk) for c in cases]) == []
    tally = StageTally.objects.get()
    assert (tally.day, tally.stage, tally.agency_id) == (dt.date(2026, 11, 24), "applied", "440300")
    assert (tally.completed, tally.on_time) == (n, n - len(late))


def test_concurrent_adds_to_a_new_row_all_count(agencies):
    # The first writers of a key race to insert it: none may fail or be lost.
    day = dt.date(2026, 11, 24)

    def add() -> None:
        with transaction.atomic():
            rollup_add(
                StageTally,
                keys={"day": day, "stage": "applied", "agency_id": "440100"},
                add={"completed": 1, "on_time": 1},
            )

    assert together([add] * 16) == []
    assert StageTally.objects.values_list("completed", "on_time").get() == (16, 16)


def test_a_clock_not_completing_its_stage_or_without_a_deadline_is_not_counted(
    calendar_2026, submit_case, personas
):
    stopped, no_deadline, counted = (
        submit_case(actor=personas["cw_out"], now=CLOSED - dt.timedelta(days=1), **EARLY)
        for _ in range(3)
    )
    StageClock.objects.filter(case=no_deadline).update(due_at=None)
    # As its callers do: inside their transaction (the portable path reads the row under a lock).
    with transaction.atomic():
        clock_close(case_id=stopped.pk, at=CLOSED, closed_by="stop", completes_stage=False)
        clock_close(case_id=no_deadline.pk, at=CLOSED, closed_by="approve")
    assert not StageTally.objects.exists()
    with transaction.atomic():
        clock_close(case_id=counted.pk, at=CLOSED, closed_by="approve")
    assert StageTally.objects.values_list("completed", "on_time").get() == (1, 1)
    # Closing again finds no open clock: nothing more is counted.
    with transaction.atomic():
        assert clock_close(case_id=counted.pk, at=CLOSED, closed_by="approve") == 0
    assert StageTally.objects.values_list("completed", "on_time").get() == (1, 1)
