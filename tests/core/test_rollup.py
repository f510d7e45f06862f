"""``core.rollup``: adds held by ``rollups_at_end`` are written once, at the end of the block, and
only when it succeeds; an add in a savepoint that rolls back is never counted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.rollup import rollup_add, rollups_at_end
from workflow.models import StageTally

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def tally(**keys: str) -> tuple[int, int] | None:
    row = StageTally.objects.filter(day=DAY, **keys).values_list("completed", "on_time").first()
    return None if row is None else tuple(row)


def add(agency: str, stage: str = "applied", on_time: int = 1) -> None:
    rollup_add(
        StageTally,
        keys={"day": DAY, "stage": stage, "agency_id": agency},
        add={"completed": 1, "on_time": on_time},
    )


def upserts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]


def test_held_adds_are_written_at_the_end_merged_per_row_in_one_order(agencies):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, rollups_at_end():
            add("440300")
            add("430100", on_time=0)
            add("440300", on_time=0)
            # Nothing is written (nor locked) before the block ends.
            assert upserts(queries) == []
            assert tally(agency_id="440300") is None
        # One statement per row, the rows in key order whatever the order of the adds.
        written = upserts(queries)
        assert len(written) == 2
        assert "'430100'" in written[0]
        assert "'440300'" in written[1]
    assert tally(agency_id="440300") == (2, 1)
    assert tally(agency_id="430100") == (1, 0)


def refused_move() -> None:
    with transaction.atomic(), rollups_at_end():
        add("440300")
        raise RuntimeError("the move is refused")


def test_a_block_that_raises_writes_nothing(agencies):
    with pytest.raises(RuntimeError):
        refused_move()
    # The block's own error: its adds were dropped without a statement, the transaction rolled
    # back; and a later add outside any block is written at once again.
    assert tally(agency_id="440300") is None
    add("440300")
    assert tally(agency_id="440300") == (1, 1)


def test_an_add_in_a_savepoint_that_rolls_back_is_not_counted(agencies):
    with transaction.atomic(), rollups_at_end():
        add("440300")
        try:
            with transaction.atomic():
                add("440300")  # written at once inside the savepoint, undone with it
                raise ValueError
        except ValueError:
            pass
    assert tally(agency_id="440300") == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses():
    with pytest.raises(transaction.TransactionManagementError), rollups_at_end():
        pass
