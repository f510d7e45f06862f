"""The input rules of a case (cases.inputs), and that every face runs the same one.

The REST API's serializers, the admin's forms and the services each run the rule with its message:
a change to a rule or a message is a change in one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from api.serializers import CaseSubmitInputSerializer, TransitionInputSerializer
from cases.admin import ApproveTransferOutForm, MoveBalanceForm, RequestMaterialsForm
from cases.inputs import (
    MSG_AMOUNT,
    MSG_AMOUNT_DECIMALS,
    MSG_AMOUNT_NEGATIVE,
    MSG_AMOUNT_TOO_LARGE,
    MSG_DATE,
    MSG_DATE_FUTURE,
    MSG_DATE_TOO_EARLY,
    MSG_MATERIALS,
    MSG_MONTHS,
    MSG_MONTHS_RANGE,
    MSG_NOTE_TOO_LONG,
    NOTE_MAX_LENGTH,
    amount_parse,
    insurance_date_parse,
    materials_from_lines,
    materials_parse,
    months_parse,
    note_clean,
)
from cases.services import case_transition
from core.errors import InvalidInput


def messages(rule, value, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        rule(value, **kwargs)
    return caught.value.messages


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1234.5", Decimal("1234.50")), (" 0 ", Decimal("0.00")), (12, Decimal("12.00"))],
)
def test_amounts_are_yuan_with_two_decimals(typed, amount):
    assert amount_parse(typed) == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", MSG_AMOUNT),
        ("NaN", MSG_AMOUNT),
        ("１２", MSG_AMOUNT),
        (True, MSG_AMOUNT),
        ("-1.00", MSG_AMOUNT_NEGATIVE),
        ("1.234", MSG_AMOUNT_DECIMALS),
        ("99999999999", MSG_AMOUNT_TOO_LARGE),
    ],
)
def test_bad_amounts_say_why(typed, message):
    assert messages(amount_parse, typed) == [str(message)]


def test_contribution_months_are_a_whole_number_up_to_1200():
    assert months_parse("60") == 60
    assert months_parse(0) == 0
    assert messages(months_parse, "6.5") == [str(MSG_MONTHS)]
    assert messages(months_parse, True) == [str(MSG_MONTHS)]
    assert messages(months_parse, 1201) == [str(MSG_MONTHS_RANGE)]


def test_notes_and_materials():
    assert note_clean(None) == ""
    assert note_clean("x" * NOTE_MAX_LENGTH) == "x" * NOTE_MAX_LENGTH
    assert messages(note_clean, "x" * (NOTE_MAX_LENGTH + 1)) == [str(MSG_NOTE_TOO_LONG)]
    assert materials_parse(" 离职证明 ") == ["离职证明"]
    assert materials_from_lines("离职证明\n\n 参保凭证 \n") == ["离职证明", "参保凭证"]
    assert messages(materials_parse, []) == [str(MSG_MATERIALS)]
    assert messages(materials_parse, ["x" * 201]) == [str(MSG_MATERIALS)]


def test_dates_of_cover():
    today = dt.date(2026, 12, 1)
    assert insurance_date_parse("2026-10-31", today=today) == dt.date(2026, 10, 31)
    assert insurance_date_parse("", today=today) is None
    assert messages(insurance_date_parse, "31/10/2026", today=today) == [str(MSG_DATE)]
    assert messages(insurance_date_parse, "2026-12-02", today=today) == [str(MSG_DATE_FUTURE)]
    assert messages(insurance_date_parse, "1998-11-30", today=today) == [str(MSG_DATE_TOO_EARLY)]


# --- the same rule in every face -----------------------------------------------------------------


def test_the_api_the_admin_and_the_service_refuse_an_amount_with_the_same_words(
    case_in_state, personas
):
    expected = [str(MSG_AMOUNT_DECIMALS)]
    body = TransitionInputSerializer(data={"amount": "1.234"})
    assert not body.is_valid()
    assert [str(m) for m in body.errors["amount"]] == expected
    form = MoveBalanceForm(data={"version": 1, "amount": "1.234"})
    assert not form.is_valid()
    assert form.errors["amount"] == expected
    case = case_in_state("transfer_in_confirmed")
    with pytest.raises(InvalidInput) as refused:
        case_transition(
            case=case, action="move_balance", actor=personas["cw_in"], payload={"amount": "1.234"}
        )
    assert refused.value.errors["amount"] == expected


def test_the_api_the_admin_and_the_service_refuse_a_long_note_with_the_same_limit(
    case_in_state, personas
):
    note = "x" * (NOTE_MAX_LENGTH + 1)
    body = TransitionInputSerializer(data={"note": note})
    assert not body.is_valid()
    assert "note" in body.errors
    assert not CaseSubmitInputSerializer(data={"note": note}).is_valid()
    form = ApproveTransferOutForm(
        data={"version": 1, "contribution_months": 1, "personal_account_balance": "1", "note": note}
    )
    assert not form.is_valid()
    assert str(MSG_NOTE_TOO_LONG) in form.errors["note"]
    with pytest.raises(InvalidInput) as refused:
        case_transition(
            case=case_in_state("applied"),
            action="request_materials",
            actor=personas["cw_out"],
            payload={"missing_materials": ["离职证明"], "note": note},
        )
    assert refused.value.errors["note"] == [str(MSG_NOTE_TOO_LONG)]


def test_the_admin_materials_box_runs_the_materials_rule():
    form = RequestMaterialsForm(data={"version": 1, "missing_materials": "x" * 201})
    assert not form.is_valid()
    assert form.errors["missing_materials"] == [str(MSG_MATERIALS)]
    form = RequestMaterialsForm(data={"version": 1, "missing_materials": "离职证明\n参保凭证"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["missing_materials"] == ["离职证明", "参保凭证"]
