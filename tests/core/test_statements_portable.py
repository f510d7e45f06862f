"""``core.statements`` on whichever database the run has (the suite's PostgreSQL, and SQLite in
make test's SQLite pass: `make run`'s database, where a frozen read is the queryset built anew and
a row is inserted by the ORM): the same rows and the same stored row either way."""

from __future__ import annotations

import datetime as dt

import pytest

from agencies.models import AgencyRule
from agencies.rules import agency_rule_in_force
from cases.models import CaseEvent
from core.statements import FrozenQuery, row_insert

pytestmark = pytest.mark.django_db


def _since(code: str, on: dt.date):
    return (
        AgencyRule.objects.filter(agency_id=code, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("effective_from", flat=True)
    )


def test_a_frozen_read_returns_what_its_queryset_returns_for_each_key(agencies):
    for since in (dt.date(2026, 1, 1), dt.date(2026, 6, 1), dt.date(2027, 1, 1)):
        AgencyRule.objects.create(agency_id="430100", effective_from=since, max_age_male=70)
    frozen = FrozenQuery(_since)
    for code, day in (
        ("430100", dt.date(2026, 11, 23)),
        ("430100", dt.date(2026, 3, 1)),
        ("440300", dt.date(2026, 11, 23)),
    ):
        assert frozen.rows(code, day) == list(_since(code, day))
    assert frozen.rows("430100", dt.date(2026, 11, 23)) == [
        dt.date(2026, 6, 1),
        dt.date(2026, 1, 1),
    ]


def test_the_rule_in_force_is_the_agencys_own_else_its_provinces(agencies):
    day = dt.date(2026, 11, 23)
    province = AgencyRule.objects.create(
        agency_id="440000", effective_from=dt.date(2026, 1, 1), max_age_male=65
    )
    assert agency_rule_in_force("440300", day) == province
    own = AgencyRule.objects.create(
        agency_id="440300", effective_from=dt.date(2026, 3, 1), max_age_male=70
    )
    assert agency_rule_in_force("440300", day) == own
    assert agency_rule_in_force("440300", dt.date(2026, 2, 1)) == province
    # A rule from tomorrow is not in force today.
    AgencyRule.objects.create(agency_id="440300", effective_from=day + dt.timedelta(days=1))
    assert agency_rule_in_force("440300", day) == own
    assert agency_rule_in_force("440000", day) == province


def event_fields(case, actor) -> dict:
    """A case event with values that need care on the way in: quotes, a backslash, JSON."""
    return {
        "case": case,
        "action": "note",
        "from_state": "applied",
        "to_state": "applied",
        "actor": actor,
        "actor_role": "caseworker",
        "at": case.created_at,
        "note": "引号 ' \" 与 \\ 反斜杠",
        "data": {"amount": "1234.56", "list": ["离职证明", None], "nested": {"n": 1}},
    }


def test_a_row_inserted_by_row_insert_is_stored_as_the_orm_stores_it(submit_case, personas):
    case = submit_case()
    fields = event_fields(case, personas["cw_out"])
    event = CaseEvent(**fields)
    row_insert(event)
    assert event.pk is not None
    assert not event._state.adding
    columns = [f.attname for f in CaseEvent._meta.concrete_fields if not f.primary_key]
    stored = CaseEvent.objects.filter(pk=event.pk).values(*columns).get()
    expected = CaseEvent.objects.filter(pk=CaseEvent.objects.create(**fields).pk)
    assert stored == expected.values(*columns).get()
