"""Identity data: resident ID numbers (GB 11643-1999), phone numbers and names.

Validation, encryption, digests and masks, defined once for every app and face. Plain ID numbers
live only in memory. At rest a case holds the Fernet token (``MultiFernet`` so a new key can be
rolled in while old rows are re-encrypted), a keyed HMAC digest to find a person's cases, and the
masked form for lists. Nothing here logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# GB/T 2260 province codes (mainland, plus 71/81/82 which ID numbers of Taiwan, Hong Kong and
# Macao residents living on the mainland also carry).
_PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

MSG_ID_LENGTH = _("An ID number has 18 characters.")
MSG_ID_DIGITS = _("An ID number is 17 digits followed by a digit or X.")
MSG_ID_BIRTH_DATE = _("The birth date in the ID number is not a real date.")
MSG_ID_CHECK = _("The check character of the ID number is wrong.")
MSG_ID_ADDRESS = _("The address code of the ID number is not valid.")


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more of 0-9 and nothing else.

    ``str.isdigit`` also accepts full-width (``１``), Arabic-Indic (``١``) and superscript (``²``)
    digits, which ``int`` then reads as digits or refuses with a ValueError; people's numbers are
    ASCII digits only, refused otherwise, never normalised silently (domain.md "Identity data").
    """
    return text.isascii() and text.isdigit()


def id_number_normalize(value: str) -> str:
    """Strip spaces and upper-case a trailing x, the two slips people make when typing one."""
    return (value or "").strip().replace(" ", "").upper()


def id_number_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number_validate(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised ID number or raise ``ValidationError`` saying what is wrong with it."""
    number = id_number_normalize(value)
    if len(number) != 18:
        raise ValidationError(MSG_ID_LENGTH, code="invalid_id_number")
    if not ascii_digits(number[:17]) or not (ascii_digits(number[17]) or number[17] == "X"):
        raise ValidationError(MSG_ID_DIGITS, code="invalid_id_number")
    if number[:2] not in _PROVINCE_PREFIXES:
        raise ValidationError(MSG_ID_ADDRESS, code="invalid_id_number")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(MSG_ID_BIRTH_DATE, code="invalid_id_number") from None
    today = today or dt.date.today()  # noqa: DTZ011 - a birth date is a civil date, no zone
    if birth.year < 1900 or birth > today:
        raise ValidationError(MSG_ID_BIRTH_DATE, code="invalid_id_number")
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(MSG_ID_CHECK, code="invalid_id_number")
    return number


def id_number_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_number_is_male(number: str) -> bool:
    return int(number[16]) % 2 == 1


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys])


def _cipher() -> MultiFernet:
    return _fernet(tuple(settings.ID_NUMBER_KEYS))


def personal_bytes_encrypt(data: bytes) -> bytes:
    """Anything that carries a full ID number (a signed information form), under the ID keys."""
    return _cipher().encrypt(data)


def personal_bytes_decrypt(token: bytes) -> bytes:
    return _cipher().decrypt(token)


def id_number_encrypt(number: str) -> str:
    return _cipher().encrypt(number.encode()).decode()


def id_number_decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never include the token or any part of a number in the message.
        raise ValueError("ID number cannot be decrypted with the configured keys") from exc


def id_number_reencrypt(token: str) -> str:
    """Re-encrypt with the first (newest) key; used when rotating keys."""
    return _cipher().rotate(token.encode()).decode()


def id_number_digest(number: str) -> str:
    """Keyed digest for lookups: equal numbers give equal digests, the number cannot be recovered."""
    key = settings.ID_NUMBER_DIGEST_KEY.encode()
    return hmac.new(key, id_number_normalize(number).encode(), hashlib.sha256).hexdigest()


def id_number_mask(number: str) -> str:
    """``110105********002X``: the first 6 and the last 4 characters."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


# --- names ---------------------------------------------------------------------------------------

NAME_MAX_LENGTH: Final = 50
MSG_NAME: Final = _("Enter the applicant's name (at most 50 characters).")
MSG_NAME_CHARACTERS: Final = _(
    "A name cannot contain control or formatting characters (such as a right-to-left override)."
)
# Unicode categories no name has: controls, formatting (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width
# spaces and joiners), surrogates, private use, unassigned, line and paragraph separators. A name
# with them can display as something else than what is stored.
_NOT_IN_NAMES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_hidden_characters(text: str) -> bool:
    """Whether ``text`` holds a control, formatting, surrogate, private-use or unassigned
    character, or a line or paragraph separator (``_NOT_IN_NAMES``): text people give as a name
    or a label never does, and PostgreSQL refuses a NUL outright."""
    return any(unicodedata.category(c) in _NOT_IN_NAMES for c in text)


def name_clean(value: str) -> str:
    """The applicant's name, stripped; ``ValidationError`` when empty, too long, or holding a
    character that changes how it displays."""
    name = (value or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(MSG_NAME, code="rule")
    if has_hidden_characters(name):
        raise ValidationError(MSG_NAME_CHARACTERS, code="rule")
    return name


def name_mask(name: str) -> str:
    """``张*``, ``欧阳**``: the family name, the rest starred."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


# --- phone numbers -------------------------------------------------------------------------------

PHONE_MIN_LENGTH: Final = 7
PHONE_MAX_LENGTH: Final = 15
# A phone number as typed, spaces around it included.
PHONE_TEXT_MAX_LENGTH: Final = 20
MSG_PHONE: Final = _("Enter a phone number of 7 to 15 digits.")


def phone_validate(value: str) -> str:
    """The phone number, stripped (may be empty); ``ValidationError`` unless 7 to 15 digits."""
    phone = (value or "").strip()
    if phone and not (ascii_digits(phone) and PHONE_MIN_LENGTH <= len(phone) <= PHONE_MAX_LENGTH):
        raise ValidationError(MSG_PHONE, code="rule")
    return phone


def phone_mask(phone: str) -> str:
    """``138****1234``; a shorter number (7 to 10 digits) keeps only its last 4, so at least
    3 digits are always hidden (3 + 4 kept of a 7-digit number would be all of it). No number:
    "" (four stars would say there is one)."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    if len(phone) >= 7:
        return f"{'*' * (len(phone) - 4)}{phone[-4:]}"
    return "****"


# --- free text -----------------------------------------------------------------------------------

# 6-digit address, 8-digit birth date, 3-digit sequence, check character; not inside a longer run
# of digits (a phone number or an amount is never 18 characters of this shape).
_ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([1-8]\d{5})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    """Anything shaped like an ID number in free text (a log line, a note) masked."""
    return _ID_NUMBER_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2), text)
