"""Identity data (core.identity): ID numbers (check character, birth date, length, lower-case x,
encryption, digests, masks), names and phone numbers, and masking ID numbers in free text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from core import identity
from core.identity import (
    MSG_ID_ADDRESS,
    MSG_ID_BIRTH_DATE,
    MSG_ID_CHECK,
    MSG_ID_DIGITS,
    MSG_ID_LENGTH,
    id_number_decrypt,
    id_number_digest,
    id_number_encrypt,
    id_number_mask,
    id_number_validate,
    name_mask,
    phone_mask,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231002X ", "11010519491231002X"),
        ("440305198805121237", "440305198805121237"),
    ],
)
def test_valid_id_numbers(raw, normalised):
    assert id_number_validate(raw, today=dt.date(2026, 11, 23)) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010519491231002", MSG_ID_LENGTH),
        ("11010519491231002X1", MSG_ID_LENGTH),
        ("", MSG_ID_LENGTH),
        ("110105194912310021", MSG_ID_CHECK),
        ("11010519491231003X", MSG_ID_CHECK),
        ("1101051949123100XX", MSG_ID_DIGITS),
        ("11010519491231002Y", MSG_ID_DIGITS),
        ("11010519490231002X", MSG_ID_BIRTH_DATE),  # 31 February
        ("11010520300101002X", MSG_ID_BIRTH_DATE),  # born in the future
        ("11010518000101002X", MSG_ID_BIRTH_DATE),
        ("00010519491231002X", MSG_ID_ADDRESS),
        ("99010519491231002X", MSG_ID_ADDRESS),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(raw, message):
    with pytest.raises(ValidationError) as err:
        id_number_validate(raw, today=dt.date(2026, 11, 23))
    assert err.value.messages == [str(message)]


def test_the_documented_example_check_character():
    assert identity.id_number_check_char("11010519491231002") == "X"


def test_masks():
    assert id_number_mask("11010519491231002X") == "110105********002X"
    assert phone_mask("13812345678") == "138****5678"
    assert phone_mask("8123456") == "***3456"
    assert phone_mask("0755812345") == "******2345"
    assert phone_mask("1234") == "****"
    assert phone_mask("") == ""  # no number: nothing shown, not four stars
    assert phone_mask("12345") == "****"
    assert name_mask("张三") == "张*"
    assert name_mask("欧阳娜娜") == "欧阳**"
    assert name_mask("") == ""


def test_encryption_round_trip_and_key_rotation():
    token = id_number_encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert id_number_decrypt(token) == "11010519491231002X"
    from cryptography.fernet import Fernet

    new_key = Fernet.generate_key().decode()
    from django.conf import settings

    with override_settings(ID_NUMBER_KEYS=[new_key, *settings.ID_NUMBER_KEYS]):
        assert id_number_decrypt(token) == "11010519491231002X"  # old rows still readable
        rotated = identity.id_number_reencrypt(token)
    with override_settings(ID_NUMBER_KEYS=[new_key]):
        assert id_number_decrypt(rotated) == "11010519491231002X"
        with pytest.raises(ValueError, match="cannot be decrypted") as err:
            id_number_decrypt(token)
        assert "002X" not in str(err.value)


def test_digest_is_keyed_and_stable():
    assert id_number_digest("11010519491231002x") == id_number_digest("11010519491231002X")
    with override_settings(ID_NUMBER_DIGEST_KEY="another-key"):
        other = id_number_digest("11010519491231002X")
    assert other != id_number_digest("11010519491231002X")


def test_names_are_stripped_and_at_most_50_characters():
    assert identity.name_clean(" 张三 ") == "张三"
    assert identity.name_clean("欧" * identity.NAME_MAX_LENGTH) == "欧" * 50
    for bad in ("", "   ", "欧" * 51):
        with pytest.raises(ValidationError) as refused:
            identity.name_clean(bad)
        assert refused.value.messages == [str(identity.MSG_NAME)]


def test_phones_are_7_to_15_digits_or_nothing():
    assert identity.phone_validate(" 13812345678 ") == "13812345678"
    assert identity.phone_validate("") == ""
    for bad in ("123456", "1" * 16, "138-1234-5678", "138 1234 5678"):
        with pytest.raises(ValidationError) as refused:
            identity.phone_validate(bad)
        assert refused.value.messages == [str(identity.MSG_PHONE)]


def test_id_numbers_in_free_text_are_masked():
    assert (
        identity.mask_id_numbers("退回：11010519491231002X 不符") == "退回：110105********002X 不符"
    )
    assert identity.mask_id_numbers("13812345678") == "13812345678"


@pytest.mark.django_db
def test_no_plain_id_number_at_rest(submit_case, personas):
    from cases.services import case_transition

    case = submit_case(actor=personas["cw_out"])
    # A state change writes notification rows (texts, payloads) too.
    case_transition(
        case=case,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
    )
    plain = id_number_decrypt(case.id_number_encrypted)
    assert str(case) == f"{case.reference} {plain[:6]}********{plain[-4:]}"
    with connection.cursor() as cursor:
        for table in (
            "cases_transfercase",
            "cases_caseevent",
            "accounts_user",
            "workflow_stageclock",
            "notifications_notification",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert plain not in dump, table
            assert plain[:17] not in dump, table
