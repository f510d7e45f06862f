"""The input rules of a case (cases.inputs), and that every face runs the same one.

The REST API's serializers, the admin's forms and the services each run the rule with its message:
a change to a rule or a message is a change in one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.serializers import CaseSubmitInputSerializer, TransitionInputSerializer
from cases.forms import ApproveTransferOutForm, MoveBalanceForm, RequestMaterialsForm
from cases.inputs import (
    AMOUNT_TEXT_MAX_LENGTH,
    CONTRIBUTION_MONTHS_MAX,
    MATERIAL_MAX_LENGTH,
    MATERIALS_MAX_ITEMS,
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


def api_move(case, persona, action: str, body: dict) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(persona)}")
    response = client.post(
        f"/api/v1/cases/{case.reference}/transitions/{action}/", body, format="json"
    )
    assert response.status_code == 400, response.content
    return response.json()["errors"]


def test_the_api_the_admin_and_the_service_refuse_an_amount_with_the_same_words(
    case_in_state, personas
):
    expected = [str(MSG_AMOUNT_DECIMALS)]
    case = case_in_state("transfer_in_confirmed")
    assert api_move(case, personas["cw_in"], "move_balance", {"amount": "1.234"}) == {
        "amount": expected
    }
    form = MoveBalanceForm(data={"version": 1, "amount": "1.234"})
    assert not form.is_valid()
    assert form.errors["amount"] == expected
    with pytest.raises(InvalidInput) as refused:
        case_transition(
            case=case, action="move_balance", actor=personas["cw_in"], payload={"amount": "1.234"}
        )
    assert refused.value.errors == {"amount": expected}


def test_the_admin_and_the_service_say_the_months_rule_in_its_own_words(case_in_state, personas):
    expected = [str(MSG_MONTHS_RANGE)]
    form = ApproveTransferOutForm(
        data={"version": 1, "contribution_months": 1201, "personal_account_balance": "1"}
    )
    assert not form.is_valid()
    assert form.errors == {"contribution_months": expected}
    with pytest.raises(InvalidInput) as refused:
        case_transition(
            case=case_in_state("applied"),
            action="approve_transfer_out",
            actor=personas["cw_out"],
            payload={"contribution_months": 1201, "personal_account_balance": "1"},
        )
    assert refused.value.errors == {"contribution_months": expected}


def test_a_long_note_is_one_message_in_the_admin_and_the_service(case_in_state, personas):
    note = "x" * (NOTE_MAX_LENGTH + 1)
    form = ApproveTransferOutForm(
        data={"version": 1, "contribution_months": 1, "personal_account_balance": "1", "note": note}
    )
    assert not form.is_valid()
    assert form.errors == {"note": [str(MSG_NOTE_TOO_LONG)]}
    with pytest.raises(InvalidInput) as refused:
        case_transition(
            case=case_in_state("applied"),
            action="request_materials",
            actor=personas["cw_out"],
            payload={"missing_materials": ["离职证明"], "note": note},
        )
    assert refused.value.errors == {"note": [str(MSG_NOTE_TOO_LONG)]}


def test_the_api_schema_takes_its_limits_from_the_rules():
    fields = TransitionInputSerializer().fields
    assert fields["note"].max_length == NOTE_MAX_LENGTH
    assert fields["contribution_months"].max_value == CONTRIBUTION_MONTHS_MAX
    assert fields["amount"].max_length == AMOUNT_TEXT_MAX_LENGTH
    assert fields["missing_materials"].child.max_length == MATERIAL_MAX_LENGTH
    assert fields["missing_materials"].max_length == MATERIALS_MAX_ITEMS
    assert CaseSubmitInputSerializer().fields["note"].max_length == NOTE_MAX_LENGTH


def test_a_body_field_of_another_action_is_not_judged(case_in_state, personas):
    """The service reads only the fields of the action it runs: a stray balance on a rejection
    is not an error (the serializer checks shapes, not meanings)."""
    case = case_in_state("applied")
    moved = case_transition(
        case=case,
        action="reject",
        actor=personas["cw_out"],
        payload={"reason_code": "arrears", "personal_account_balance": "x"},
    )
    assert moved.state == "rejected"


def test_the_admin_materials_box_runs_the_materials_rule():
    form = RequestMaterialsForm(data={"version": 1, "missing_materials": "x" * 201})
    assert not form.is_valid()
    assert form.errors["missing_materials"] == [str(MSG_MATERIALS)]
    too_many = "\n".join(f"材料{i}" for i in range(MATERIALS_MAX_ITEMS + 1))
    form = RequestMaterialsForm(data={"version": 1, "missing_materials": too_many})
    assert not form.is_valid()
    assert form.errors["missing_materials"] == [str(MSG_MATERIALS)]
    form = RequestMaterialsForm(data={"version": 1, "missing_materials": "离职证明\n参保凭证"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["missing_materials"] == ["离职证明", "参保凭证"]


def test_id_numbers_typed_into_free_text_are_masked_everywhere_they_go(case_in_state, personas):
    from cases.models import CaseEvent
    from notifications.models import Notification

    typed = "11010519491231002X"
    assert note_clean(f"核对 {typed}") == "核对 110105********002X"
    assert materials_parse([f"{typed} 的离职证明"]) == ["110105********002X 的离职证明"]
    case = case_in_state("applied")
    moved = case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": [f"{typed} 的离职证明"], "note": f"申请人 {typed}"},
    )
    event = CaseEvent.objects.filter(case=case, action="request_materials").get()
    assert typed not in event.note
    assert typed not in str(event.data)
    assert typed not in str(moved.missing_materials)
    sms = Notification.objects.get(
        subject_ref=case.reference, channel="sms", payload__event=event.pk
    )
    assert "110105********002X 的离职证明" in sms.body
    assert typed not in sms.body
