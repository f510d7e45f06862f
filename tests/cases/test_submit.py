"""Intake: what an application must satisfy, and that a refused one stores nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from cases.errors import ActionForbidden
from cases.models import CaseEvent, TransferCase
from cases.services import Applicant, case_submit
from cases.services import submit as submit_service
from core.errors import InvalidInput
from core.identity import id_number_decrypt
from tests.conftest import make_id_number
from workflow.calendar import SHANGHAI
from workflow.models import StageClock


def counts():
    return (
        TransferCase.objects.count(),
        CaseEvent.objects.count(),
        StageClock.objects.count(),
    )


@pytest.mark.django_db
def test_an_applicant_applies_as_themselves(personas, submit_case):
    case = submit_case()
    assert case.state == "applied"
    assert case.reference.startswith("YB20261123")
    assert len(case.reference) == 18
    assert case.scope == "inter_province"
    assert case.applicant_name == "张三"
    assert case.applicant == personas["applicant"]
    assert case.id_number_digest == personas["applicant"].id_number_digest
    assert case.id_number_masked == personas["applicant"].id_number_masked
    clock = StageClock.objects.get(case=case)
    assert (clock.stage, clock.responsible, clock.agency_id, clock.window_days) == (
        "applied",
        "from_agency",
        "440300",
        10,
    )
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_state, event.to_state, event.actor_id) == (
        "submit",
        "",
        "applied",
        personas["applicant"].pk,
    )


@pytest.mark.django_db
def test_intra_province_scope(submit_case):
    assert submit_case(to_agency="440100").scope == "intra_province"


@pytest.mark.django_db
def test_a_window_submits_on_behalf(personas, submit_case):
    case = submit_case(actor=personas["cw_in"])
    assert case.applicant is None
    assert case.submitted_by == personas["cw_in"]
    assert case.channel == "window"
    assert case.id_number_masked.startswith("440306")


@pytest.mark.django_db
def test_an_applicant_cannot_apply_for_someone_else(personas, submit_case):
    with pytest.raises(InvalidInput) as err:
        submit_case(applicant=Applicant(name="x", id_number=make_id_number("110105")))
    assert err.value.code == "not_own_id_number"
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_an_unrelated_window_cannot_submit(personas, submit_case):
    with pytest.raises(InvalidInput) as err:
        submit_case(actor=personas["cw_other"])
    assert "from_agency" in err.value.errors
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_admins_do_not_submit(personas, submit_case):
    from accounts.models import User

    admin = User.objects.create(username="root", role="admin", is_superuser=True)
    with pytest.raises(ActionForbidden):
        submit_case(actor=admin, applicant=Applicant(name="x", id_number=make_id_number()))


BAD_INPUT = [
    ({"from_agency": "999999"}, "from_agency"),
    ({"to_agency": "000000"}, "to_agency"),
    ({"to_agency": "440300"}, "to_agency"),
    ({"insurance_type": "pension"}, "insurance_type"),
    ({"channel": "fax"}, "channel"),
    ({"stopped_at_source_on": "2026-13-01"}, "stopped_at_source_on"),
    ({"stopped_at_source_on": "2027-01-01"}, "stopped_at_source_on"),
    ({"stopped_at_source_on": None}, "stopped_at_source_on"),
    ({"stopped_at_source_on": "1990-01-01"}, "stopped_at_source_on"),
    ({"enrolled_at_target_on": "tomorrow"}, "enrolled_at_target_on"),
    ({"note": "x" * 2001}, "note"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("override", "field"), BAD_INPUT)
def test_bad_input_is_refused_with_field_errors_and_stores_nothing(
    override, field, personas, submit_case
):
    with pytest.raises(InvalidInput) as err:
        submit_case(actor=personas["cw_out"], **override)
    assert field in err.value.errors
    assert all(err.value.errors[field])
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("id_number", "phone"),
    [("11010519491231002", ""), ("110105194912310021", ""), (make_id_number(), "12ab")],
)
def test_bad_applicant_details(id_number, phone, personas, submit_case):
    with pytest.raises(InvalidInput) as err:
        submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(name="王五", id_number=id_number, phone=phone),
        )
    assert any(f.startswith("applicant.") for f in err.value.errors)
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_all_field_errors_come_at_once(personas, submit_case):
    with pytest.raises(InvalidInput) as err:
        submit_case(actor=personas["cw_out"], insurance_type="x", channel="y", to_agency="440300")
    assert {"insurance_type", "channel", "to_agency"} <= set(err.value.errors)


@pytest.mark.django_db
def test_one_open_case_per_person_and_insurance_type(personas, submit_case):
    first = submit_case()
    with pytest.raises(InvalidInput) as err:
        submit_case()
    assert err.value.code == "duplicate_open_case"
    assert first.reference in err.value.errors["applicant.id_number"][0]
    assert counts() == (1, 1, 1)
    # Another insurance type is another relationship.
    submit_case(insurance_type="resident")
    assert TransferCase.objects.count() == 2


@pytest.mark.django_db
def test_a_closed_case_does_not_block_a_new_one(personas, case_in_state, submit_case):
    case_in_state("withdrawn")
    assert submit_case().state == "applied"


@pytest.mark.django_db(transaction=True)
def test_duplicate_submissions_racing_on_postgresql(personas):
    """Two windows submit the same person at once: the database constraint lets one through."""
    assert connection.vendor == "postgresql"
    number = make_id_number("440306", "19800101", 7)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        barrier.wait()
        try:
            case = case_submit(
                actor=personas["cw_out"],
                insurance_type="employee",
                from_agency="440300",
                to_agency="430100",
                channel="window",
                applicant=Applicant(name="赵六", id_number=number),
                stopped_at_source_on=dt.date(2026, 10, 31),
                now=dt.datetime(2026, 11, 23, 9, tzinfo=SHANGHAI),
            )
            results.append(case.reference)
        except InvalidInput as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.startswith("YB") for r in results) == [False, True]
    assert "duplicate_open_case" in results
    assert TransferCase.objects.count() == 1
    assert id_number_decrypt(TransferCase.objects.get().id_number_encrypted) == number
    assert counts() == (1, 1, 1)


@pytest.mark.django_db
def test_a_reference_drawn_twice_is_drawn_again(personas, submit_case, monkeypatch):
    first = submit_case()

    draws = iter([first.reference, first.reference, "YB2026112300000001"])
    monkeypatch.setattr(submit_service, "_new_reference", lambda now: next(draws))
    second = submit_case(actor=personas["cw_out"])
    assert second.reference == "YB2026112300000001"
    assert counts() == (2, 2, 2)


@pytest.mark.django_db
def test_idempotency_records_are_purged_after_their_window(personas):
    from cases.models import IdempotencyRecord
    from cases.services import idempotency_records_purge

    now = dt.datetime(2026, 11, 23, 12, tzinfo=SHANGHAI)
    for key, age_hours in (("old", 25), ("edge", 24), ("fresh", 1)):
        IdempotencyRecord.objects.create(
            user=personas["cw_out"],
            key=key,
            fingerprint="f",
            status_code=201,
            response_body={},
            created_at=now - dt.timedelta(hours=age_hours),
        )
    assert idempotency_records_purge(now=now, batch_size=1) == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"edge", "fresh"}
