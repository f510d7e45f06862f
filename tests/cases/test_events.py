"""Case events are append-only: the ORM and the database both refuse updates and deletes."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from cases.models import CaseEvent


@pytest.mark.django_db
def test_orm_refuses_update_and_delete(case_in_state):
    case = case_in_state("applied")
    event = CaseEvent.objects.get(case=case)
    event.note = "changed"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(case=case).update(note="x")
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(case=case).delete()
    event.refresh_from_db()
    assert event.note == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    ["UPDATE cases_caseevent SET note = 'x'", "DELETE FROM cases_caseevent"],
)
def test_database_refuses_raw_update_and_delete(statement, case_in_state):
    case = case_in_state("applied")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert CaseEvent.objects.get(case=case).note == ""
