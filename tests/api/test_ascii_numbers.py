"""Numbers people type are ASCII digits only (issue 9, defect 1; domain.md "Identity data").

Before: an ID number typed with full-width digits was stored as typed, its digest differed from
the ASCII number's, and the same person got a second open case; a superscript digit gave a 500;
phones, months (converted by DRF before the rule) and amounts took full-width digits; "1e3" and
"-0.00" were amounts; a name could start with a right-to-left override.
"""

from __future__ import annotations

from typing import Any

import pytest

from cases.inputs import MSG_AMOUNT, MSG_AMOUNT_NEGATIVE, MSG_MONTHS, amount_parse, months_parse
from cases.models import CaseEvent, TransferCase
from core.identity import MSG_ID_DIGITS, MSG_NAME_CHARACTERS, MSG_PHONE
from tests.api.conftest import submit_body
from tests.conftest import make_id_number

pytestmark = pytest.mark.django_db

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def window_body(**applicant: Any) -> dict[str, Any]:
    person = {"name": "王五", "id_number": make_id_number("440306", "19850101"), "phone": ""}
    person.update(applicant)
    return submit_body(channel="window", applicant=person)


def field_errors(response: Any) -> dict[str, list[str]]:
    return response.json().get("errors", {})


def test_a_full_width_id_number_does_not_open_a_second_case_for_the_same_person(client_for):
    number = make_id_number("320102", "19880101")
    client = client_for("cw_out")
    assert (
        client.post("/api/v1/cases/", window_body(id_number=number), format="json").status_code
        == 201
    )
    for variant in (number.translate(FULL_WIDTH), number[:2] + number[2:].translate(ARABIC_INDIC)):
        r = client.post("/api/v1/cases/", window_body(id_number=variant), format="json")
        assert r.status_code == 400, r.content
        assert field_errors(r) == {"applicant.id_number": [str(MSG_ID_DIGITS)]}
    assert TransferCase.objects.count() == 1


def test_a_superscript_digit_is_a_clear_400_not_a_500(client_for):
    number = make_id_number("320102", "19880101")
    r = client_for("cw_out").post(
        "/api/v1/cases/", window_body(id_number=number[:5] + "²" + number[6:]), format="json"
    )
    assert r.status_code == 400
    assert field_errors(r) == {"applicant.id_number": [str(MSG_ID_DIGITS)]}


def test_phones_take_ascii_digits_only(client_for):
    r = client_for("cw_out").post(
        "/api/v1/cases/", window_body(phone="13812345678".translate(FULL_WIDTH)), format="json"
    )
    assert r.status_code == 400
    assert field_errors(r) == {"applicant.phone": [str(MSG_PHONE)]}


@pytest.mark.parametrize("name", ["\u202e三张", "张\u200b三", "张\x07三", "张\u2028三"])
def test_a_name_with_a_formatting_character_is_refused(client_for, name):
    r = client_for("cw_out").post("/api/v1/cases/", window_body(name=name), format="json")
    assert r.status_code == 400
    assert field_errors(r) == {"applicant.name": [str(MSG_NAME_CHARACTERS)]}
    assert TransferCase.objects.count() == 0


def test_names_keep_what_names_have():
    from core.identity import name_clean

    assert name_clean("阿依古丽·买买提") == "阿依古丽·买买提"
    assert name_clean("Zhang San") == "Zhang San"


def test_a_full_width_stop_date_is_refused(client_for):
    body = submit_body(stopped_at_source_on="２０２６-１０-３１")
    r = client_for("applicant").post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400
    assert "stopped_at_source_on" in field_errors(r)
    assert TransferCase.objects.count() == 0


@pytest.mark.parametrize(
    ("months", "balance"),
    [("１２", "100.00"), ("+12", "100.00"), ("1_2", "100.00"), (12, "1e3"), (12, "１００")],
)
def test_approval_refuses_numbers_that_only_python_reads(
    client_for, case_in_state, months, balance
):
    case = case_in_state("applied")
    events = CaseEvent.objects.count()
    r = client_for("cw_out").post(
        f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
        {"contribution_months": months, "personal_account_balance": balance},
        format="json",
        HTTP_IF_MATCH=f'"{case.version}"',
    )
    assert r.status_code == 400, r.content
    case.refresh_from_db()
    assert case.state == "applied"
    assert CaseEvent.objects.count() == events


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e3", MSG_AMOUNT),
        ("1E3", MSG_AMOUNT),
        ("-0.00", MSG_AMOUNT_NEGATIVE),
        ("-0", MSG_AMOUNT_NEGATIVE),
        ("+5", MSG_AMOUNT),
        ("1_000", MSG_AMOUNT),
        (".5", MSG_AMOUNT),
        ("5.", MSG_AMOUNT),
        ("Infinity", MSG_AMOUNT),
        ("１２.５０", MSG_AMOUNT),
        ("١٢", MSG_AMOUNT),
    ],
)
def test_amounts_are_written_as_people_write_yuan(typed, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        amount_parse(typed)
    assert refused.value.messages == [str(message)]


@pytest.mark.parametrize("typed", ["１２", "+12", "1_2", "٣", "²", " 12 3"])
def test_months_are_ascii_digits(typed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        months_parse(typed)
    assert refused.value.messages == [str(MSG_MONTHS)]
    assert months_parse(" 12 ") == 12
