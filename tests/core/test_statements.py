"""``core.statements.FrozenQuery``: compiled once, run with each key, the same objects as the
queryset makes, the row really locked, and a build that does not bind its key once is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from cases.models import TransferCase
from core.statements import FrozenQuery


def _locked(pk: int):
    return (
        TransferCase.objects.select_for_update(of=("self",))
        .select_related("from_agency", "to_agency")
        .annotate(route=Concat(F("from_agency__name"), Value(" -> "), F("to_agency__name")))
        .filter(pk=pk)
    )


def _fields(case: TransferCase) -> dict:
    return {k: v for k, v in case.__dict__.items() if k != "_state"}


@pytest.mark.django_db
def test_each_key_gets_its_own_row_as_the_queryset_makes_it(submit_case, personas):
    first = submit_case()
    # Another person (a window application), to another agency.
    second = submit_case(actor=personas["cw_out"], to_agency="110000")
    frozen = FrozenQuery(_locked)
    with transaction.atomic():
        a = frozen.get(first.pk)
        with CaptureQueriesContext(connection) as queries:
            b = frozen.get(second.pk)
        expected_a = _locked(first.pk).get()
        expected_b = _locked(second.pk).get()
    # One statement, the same SQL as the first run's, the second key bound.
    assert len(queries.captured_queries) == 1
    assert f"= {second.pk}" in queries.captured_queries[0]["sql"]
    assert _fields(a) == _fields(expected_a)
    assert _fields(b) == _fields(expected_b)
    assert b.reference == second.reference
    assert b.to_agency.name == expected_b.to_agency.name
    assert b.route.endswith(expected_b.to_agency.name)
    # The related agencies came with the row: reading them asks nothing more.
    with CaptureQueriesContext(connection) as queries:
        assert isinstance(b.from_agency, Agency)
        assert isinstance(b.to_agency, Agency)
    assert queries.captured_queries == []
    with transaction.atomic():
        assert frozen.get(10**9) is None


@pytest.mark.django_db
def test_a_build_that_does_not_bind_its_key_once_is_refused(agencies):
    with pytest.raises(ValueError, match="does not reach the statement"):
        FrozenQuery(lambda pk: TransferCase.objects.all()).get(1)
    # A pattern is not the key as it was given.
    with pytest.raises(ValueError, match="does not reach the statement"):
        FrozenQuery(lambda ref: TransferCase.objects.filter(reference__contains=ref)).get("YB")
    with pytest.raises(TypeError):
        FrozenQuery(lambda at: TransferCase.objects.filter(created_at__lte=at)).get(
            dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
        )


@pytest.mark.django_db
def test_a_key_used_twice_and_text_keys_are_bound_everywhere(submit_case, personas):
    first = submit_case()
    second = submit_case(actor=personas["cw_out"], to_agency="110000")
    keys = FrozenQuery(
        lambda agency, reference: TransferCase.objects.filter(
            Q(from_agency_id=agency) | Q(to_agency_id=agency), reference=reference
        ).values_list("pk", "version")
    )
    assert keys.get("430100", first.reference) == (first.pk, first.version)
    assert keys.get("110000", second.reference) == (second.pk, second.version)
    assert keys.get("440300", second.reference) == (second.pk, second.version)
    # Not visible from an agency that is neither side: no row.
    assert keys.get("110000", first.reference) is None


@pytest.mark.django_db(transaction=True)
def test_the_row_is_locked_until_the_transaction_ends(submit_case):
    case = submit_case()
    frozen = FrozenQuery(_locked)
    with pytest.raises(transaction.TransactionManagementError):
        frozen.get(case.pk)  # outside a transaction, as the queryset itself refuses
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            assert frozen.get(case.pk).pk == case.pk
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '100ms'")
                with pytest.raises(DatabaseError):
                    cursor.execute(
                        "SELECT id FROM cases_transfercase WHERE id = %s FOR UPDATE", [case.pk]
                    )
        other.rollback()
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_transfercase WHERE id = %s FOR UPDATE", [case.pk])
            assert cursor.fetchone() == (case.pk,)
    finally:
        other.close()


@pytest.mark.django_db
def test_on_postgresql_a_new_row_is_one_hand_written_insert(submit_case, personas):
    # What it stores is checked against the ORM on both databases (test_statements_portable.py).
    from cases.models import CaseEvent
    from core.statements import row_insert
    from tests.core.test_statements_portable import event_fields

    event = CaseEvent(**event_fields(submit_case(), personas["cw_out"]))
    with CaptureQueriesContext(connection) as queries:
        row_insert(event)
    assert [q["sql"].split(" (")[0] for q in queries.captured_queries] == [
        'INSERT INTO "cases_caseevent"'
    ]
    assert queries.captured_queries[0]["sql"].endswith('RETURNING "id"')
    assert CaseEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_a_key_of_another_type_than_compiled_is_refused_not_bound(submit_case):
    case = submit_case()
    keys = FrozenQuery(
        lambda pk: TransferCase.objects.filter(pk=pk).values_list("reference", flat=True)
    )
    assert keys.get(case.pk) == case.reference
    with pytest.raises(TypeError):
        keys.get(None)  # the ORM would ask IS NULL, not = NULL
    with pytest.raises(TypeError):
        keys.get(str(case.pk))


@pytest.mark.django_db
def test_a_row_with_a_key_of_its_own_is_inserted_by_the_orm(agencies):
    from core.statements import row_insert

    # An agency's key is its code, not generated: the hand-written insert (which leaves the key
    # to the database) is not used, and the row is stored with its code.
    agency = Agency(
        code="990100", name="测试市医疗保障局", province_code="99", province_name="测试省"
    )
    row_insert(agency)
    assert Agency.objects.get(code="990100").name == "测试市医疗保障局"


@pytest.mark.django_db
def test_day_keys_and_every_row_in_order(agencies):
    from agencies.models import AgencyRule

    day = dt.date(2026, 11, 23)
    for since in (dt.date(2026, 1, 1), dt.date(2026, 6, 1), dt.date(2027, 1, 1)):
        AgencyRule.objects.create(agency_id="430100", effective_from=since, max_age_male=70)
    since = FrozenQuery(
        lambda code, on: (
            AgencyRule.objects.filter(agency_id=code, effective_from__lte=on)
            .order_by("-effective_from")
            .values_list("effective_from", flat=True)
        )
    )
    assert since.rows("430100", day) == [dt.date(2026, 6, 1), dt.date(2026, 1, 1)]
    assert since.rows("430100", dt.date(2026, 3, 1)) == [dt.date(2026, 1, 1)]
    assert since.rows("440300", day) == []
