"""The input rules of a case: each field's rule, limit and message, defined once.

Every rule is a function that takes what a person typed (or a client sent) and returns the clean
value, or raises Django's ``ValidationError`` with one of the messages below and the code
``RULE_CODE`` (not "invalid": a form field would put its own message for that code in place of
ours). The services (cases/services/) run the rules on every write, whoever calls; the admin's forms
run the same functions as validators, so a person sees the message before submitting; the REST
API's serializers take the limits from here for their shapes (and the OpenAPI schema). What needs
the database or the case (an agency that exists, the amount on the information form) stays in the
services. Tests reuse the messages.

Identity fields (ID number, name, phone) are ``core.identity``'s: accounts use them too.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.states import CaseKind, Channel, InsuranceType, RejectReason
from core.identity import ascii_digits, mask_id_numbers

# --- limits ----------------------------------------------------------------------------------------

NOTE_MAX_LENGTH: Final = 2000
CONTRIBUTION_MONTHS_MAX: Final = 1200
AMOUNT_MAX: Final = Decimal("9999999999.99")
# An amount arrives as text ("1234.56"): longer text is never a valid amount.
AMOUNT_TEXT_MAX_LENGTH: Final = 40
MATERIAL_MAX_LENGTH: Final = 200
MATERIALS_MAX_ITEMS: Final = 50
REPEAT_REASON_MAX_LENGTH: Final = 500
# An ID number as typed, spaces included, before it is normalised to 18 characters.
ID_NUMBER_TEXT_MAX_LENGTH: Final = 32
# The status lookup: a case reference (YB + 14 digits; a little room) and the ID number's last 6.
REFERENCE_MAX_LENGTH: Final = 20
ID_SUFFIX_PATTERN: Final = r"^[0-9]{5}[0-9Xx]$"
# The queue's "due within N working days" filter: a month and a half of working days at most.
DUE_WITHIN_MAX: Final = 30
# The queue's filters that take a word, not a value: whose case, and whose move it is.
ASSIGNEE_FILTERS: Final = ("me", "nobody")
TURN_FILTERS: Final = ("mine",)
# The statistics' date range: compared as Asia/Shanghai instants (a day either side), so clear of
# date.min and date.max; 30 days back by default, a year and a day at most.
SLA_FIRST_DAY: Final = dt.date(1900, 1, 1)
SLA_LAST_DAY: Final = dt.date(9998, 12, 31)
SLA_DEFAULT_DAYS: Final = 30
SLA_MAX_DAYS: Final = 366
# Basic medical insurance for urban employees started with 国发〔1998〕44号.
EARLIEST_INSURANCE_DATE: Final = dt.date(1998, 12, 1)

# --- messages --------------------------------------------------------------------------------------

MSG_NOTE_TOO_LONG: Final = _("A note has at most 2000 characters.")
MSG_AMOUNT: Final = _("Enter an amount in yuan, e.g. 1234.56.")
MSG_AMOUNT_NEGATIVE: Final = _("An amount cannot be negative.")
MSG_AMOUNT_DECIMALS: Final = _("An amount has at most two decimals (fen).")
MSG_AMOUNT_TOO_LARGE: Final = _("The amount is too large.")
MSG_MONTHS: Final = _("Enter the contribution months as a whole number.")
MSG_MONTHS_RANGE: Final = _("Contribution months are between 0 and 1200.")
MSG_DATE: Final = _("Enter a date as YYYY-MM-DD.")
MSG_DATE_FUTURE: Final = _("The date cannot be in the future.")
MSG_DATE_TOO_EARLY: Final = _("The date is before basic medical insurance existed (1998-12).")
MSG_MATERIALS: Final = _('List what is missing, all at once (一次性告知), e.g. ["离职证明"].')
MSG_REPEAT_REASON: Final = _(
    "Materials were already requested once (一次性告知). A further request must say what is wrong "
    "with the resubmitted materials themselves."
)
MSG_REPEAT_REASON_TOO_LONG: Final = _("A repeat reason has at most 500 characters.")
MSG_REJECT_REASON: Final = _("Choose a reason: {choices}.")
MSG_REASON_OTHER_NOTE: Final = _("Explain the reason in the note when it is 'other'.")
MSG_INSURANCE_TYPE: Final = _("Choose employee or resident.")
MSG_CHANNEL: Final = _("Choose one of: {choices}.")
MSG_STOPPED_REQUIRED: Final = _(
    "A transfer needs the date cover stopped at the transfer-out agency."
)
MSG_RETIRED: Final = _(
    "Retirees are outside the transfer rules (医保办发〔2021〕43号 does not cover them): ask the "
    "agency where the pension is paid how your medical insurance continues."
)
MSG_INELIGIBLE_BY_LOCAL_RULE: Final = _(
    "The application does not meet a rule of the transfer-in agency; see errors and rules."
)
MSG_RETIRED_FLAG: Final = _("Say true or false.")
MSG_NO_ARREARS: Final = _(
    "A transfer with contributions in arrears cannot be approved: reject it with the reason "
    "'arrears' instead."
)
MSG_NO_ARREARS_FLAG: Final = _("Say true or false.")
MSG_RECEIVED_AMOUNT: Final = _(
    "The amount received ({amount}) differs from the balance plus declared interest on the "
    "information form ({expected})."
)
MSG_PAY_OUT_AMOUNT: Final = _(
    "The amount paid out ({amount}) differs from the balance plus declared interest ({expected})."
)
MSG_BALANCE_REQUIRED: Final = _("Enter the personal account balance.")
MSG_RESIDENT_BALANCE: Final = _("Resident insurance has no personal account: the balance is 0.")
MSG_AMOUNT_REQUIRED: Final = _("Enter the amount received.")
MSG_ENROLLED_SINCE_AFTER_STOP: Final = _(
    "The enrolment at the transfer-out agency cannot start after its cover stopped."
)
MSG_YEARS_REPAIRED: Final = _("Enter the years paid back as a whole number from 0 to 50.")
MSG_YEARS_REPAIRED_RESIDENT: Final = _(
    "Years paid back shorten the waiting period of resident insurance only."
)
MSG_KIND: Final = _("Choose transfer or merge.")
MSG_PERIOD: Final = _("Enter a month as YYYY-MM, e.g. 2026-11.")
MSG_MERGE_NO_STOP: Final = _(
    "A merge cancels a relationship that is still active: leave the stop date out (the cancelling "
    "agency records the date it cancels)."
)
MSG_MERGE_SINCE_REQUIRED: Final = _(
    "A merge needs the date the person has been enrolled at the cancelling agency since."
)
MSG_MERGE_SINCE_ONLY: Final = _(
    "Only a merge states an enrolment still active at the source; a transfer gives the stop date."
)
MSG_MERGE_EMPLOYEE_KEPT: Final = _(
    "Employee insurance is kept over resident insurance: apply to keep the employee relationship "
    "and cancel the resident one (swap the two agencies)."
)
MSG_MERGE_CONFIRM_EMPLOYEE: Final = _(
    "Confirm that the person works at the keeping agency's place now: between two employee "
    "relationships, the one where the person works is kept."
)
MSG_MERGE_CONFIRM_RESIDENT: Final = _(
    "Confirm that the person lives at the keeping agency's place now: between two resident "
    "relationships, the one where the person lives is kept."
)
MSG_CONFIRM_FLAG: Final = _("Say true or false.")
MSG_AUTO_CHANNEL: Final = _(
    "Only the provincial platform's account starts a transfer automatically (channel auto)."
)
MSG_INSTANT_FIGURES: Final = _(
    "This province completes transfers within it at once (instant mode): the submission must "
    "carry the information form's figures from the provincial system."
)
MSG_INSTANT_FIGURE_REQUIRED: Final = _(
    "Required in instant mode: the figure from the provincial system's information form."
)
MSG_INSTANT_SELF: Final = _(
    "This province completes transfers within it at once, on the figures of the provincial "
    "system: apply through the provincial platform's app or at an agency's window, which bring "
    "them."
)
MSG_FIGURES_STANDARD: Final = _(
    "Only an instant-mode submission carries the information form's figures: in the national "
    "process the transfer-out agency records them on approval."
)
MSG_ALREADY_TRANSFERRED: Final = _(
    "This relationship was already transferred at once (instant mode): it cannot move twice. A "
    "new transfer out of this agency needs cover there that stopped after that transfer."
)
MSG_OVERLAP_REQUIRED: Final = _(
    "Enter the months the person was enrolled at both places (0 if none)."
)
MSG_OVERLAP_TOO_MANY: Final = _(
    "At most {most} month(s): the person was enrolled at both places for no longer (from the "
    "later enrolment to the cancellation)."
)
MSG_REFUND_REQUIRED: Final = _(
    "Enter the refund of the personal contributions paid twice for those months (0.00 if none)."
)
MSG_ACCOUNT_NORMAL: Final = _(
    "A relationship that is not in a normal state cannot be cancelled: have the anomaly resolved "
    "first (request materials), or reject with its reason."
)
MSG_OVERLAP_MERGE_ONLY: Final = _(
    "The cancelling agency records the months enrolled twice on a merge; a transfer's overlap "
    "follows from its dates."
)
MSG_REFUND_NO_OVERLAP: Final = _(
    "There is no overlap on this transfer (enrolled at the target after cover stopped at the "
    "source): there is nothing to refund."
)
MSG_NO_STATUS_MATCH: Final = _(
    "No case matches this reference and ID number suffix. Check both and try again."
)
MSG_ID_SUFFIX: Final = _("Enter the last 6 characters of the ID number: digits, the last may be X.")
MSG_DATE_RANGE: Final = _("Use a date from 1900-01-01 to 9998-12-31.")
MSG_DUE_WITHIN: Final = _("Enter a whole number of working days from 1 to 30.")
MSG_DATE_ORDER: Final = _("The start date is after the end date.")
MSG_RANGE_TOO_LONG: Final = _("The range is at most 366 days.")


RULE_CODE: Final = "rule"

# Digits, then optionally a point and digits: the only way people write yuan. ASCII only (re.ASCII:
# ``\d`` would match any script's digits); more than two decimals is its own message.
_AMOUNT_TEXT: Final = re.compile(r"(\d{1,16})(?:\.(\d{1,16}))?", re.ASCII)
_MONTHS_TEXT_MAX_DIGITS: Final = 4


def _invalid(message: Any) -> ValidationError:
    return ValidationError(message, code=RULE_CODE)


# --- rules -----------------------------------------------------------------------------------------


def note_clean(value: Any) -> str:
    """Free text for the timeline: at most ``NOTE_MAX_LENGTH`` characters, anything shaped like an
    ID number masked (it reaches the applicant's messages, the case document and the events)."""
    note = str(value or "")
    if len(note) > NOTE_MAX_LENGTH:
        raise _invalid(MSG_NOTE_TOO_LONG)
    return mask_id_numbers(note)


def amount_parse(value: Any) -> Decimal:
    """Yuan with at most two decimals, not negative, not absurdly large: ``1234.56`` and nothing
    that only Python reads as a number (``1e3``, ``-0.00``, ``1_000``, ``NaN``, full-width digits)."""
    if isinstance(value, bool):
        raise _invalid(MSG_AMOUNT)
    if isinstance(value, float):
        value = repr(value)  # a JSON number: 1234.5 -> "1234.5"
    elif isinstance(value, Decimal):
        value = format(value, "f")
    text = str(value).strip()
    if text.startswith("-"):
        raise _invalid(MSG_AMOUNT_NEGATIVE)
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None:
        raise _invalid(MSG_AMOUNT)
    if len(match.group(2) or "") > 2:
        raise _invalid(MSG_AMOUNT_DECIMALS)
    amount = Decimal(text)
    if amount > AMOUNT_MAX:
        raise _invalid(MSG_AMOUNT_TOO_LARGE)
    return amount.quantize(Decimal("0.01"))


def months_parse(value: Any) -> int:
    """Contribution months on the information form: a whole number from 0 to 1200, as a JSON
    integer or ASCII digits (``int()`` alone would also take ``"１２"``, ``"+12"`` and ``"1_2"``)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(MSG_MONTHS)
    if isinstance(value, str):
        text = value.strip()
        if not (ascii_digits(text) and len(text) <= _MONTHS_TEXT_MAX_DIGITS):
            raise _invalid(MSG_MONTHS)
        value = int(text)
    if not 0 <= value <= CONTRIBUTION_MONTHS_MAX:
        raise _invalid(MSG_MONTHS_RANGE)
    return value


def date_parse(value: Any) -> dt.date | None:
    """A calendar date (``YYYY-MM-DD`` or a ``date``); None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        raise _invalid(MSG_DATE)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(MSG_DATE) from None


def insurance_date_parse(value: Any, *, today: dt.date) -> dt.date | None:
    """A date of cover (stopped at source, enrolled at target): not in the future, not before
    basic medical insurance existed."""
    day = date_parse(value)
    if day is not None and day > today:
        raise _invalid(MSG_DATE_FUTURE)
    if day is not None and day < EARLIEST_INSURANCE_DATE:
        raise _invalid(MSG_DATE_TOO_EARLY)
    return day


def materials_parse(value: Any) -> list[str]:
    """What is missing, all at once: a non-empty list of short texts (one text is a list of one)."""
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list | tuple)
        or not value
        or len(value) > MATERIALS_MAX_ITEMS
        or not all(
            isinstance(m, str) and m.strip() and len(m) <= MATERIAL_MAX_LENGTH for m in value
        )
    ):
        raise _invalid(MSG_MATERIALS)
    # Sent to the applicant by SMS and shown on every face: never an ID number in full.
    return [mask_id_numbers(m.strip()) for m in value]


def repeat_reason_clean(value: Any) -> str:
    """Why materials are asked for again: required text, at most ``REPEAT_REASON_MAX_LENGTH``
    characters, ID numbers masked (the applicant is told it)."""
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        raise _invalid(MSG_REPEAT_REASON)
    if len(reason) > REPEAT_REASON_MAX_LENGTH:
        raise _invalid(MSG_REPEAT_REASON_TOO_LONG)
    return mask_id_numbers(reason)


def materials_from_lines(text: str) -> list[str]:
    """A form's text box, one item per line, as the list ``materials_parse`` takes."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def reject_reason_clean(value: Any) -> str:
    if value not in RejectReason.values:
        raise _invalid(str(MSG_REJECT_REASON).format(choices=", ".join(RejectReason.values)))
    return str(value)


def insurance_type_clean(value: Any) -> str:
    if value not in InsuranceType.values:
        raise _invalid(MSG_INSURANCE_TYPE)
    return str(value)


# A settlement period: one calendar month, as YYYY-MM.
PERIOD_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def period_parse(value: Any) -> dt.date:
    """A month ``YYYY-MM`` (ASCII digits) as its first day, within the dates the service stores."""
    text = str(value or "").strip()
    if not re.fullmatch(PERIOD_PATTERN, text, re.ASCII):
        raise _invalid(MSG_PERIOD)
    year = int(text[:4])
    if not (SLA_FIRST_DAY.year <= year <= SLA_LAST_DAY.year):
        raise _invalid(MSG_DATE_RANGE)
    return dt.date(year, int(text[5:7]), 1)


def kind_clean(value: Any) -> str:
    if value not in CaseKind.values:
        raise _invalid(MSG_KIND)
    return str(value)


def channel_clean(value: Any) -> str:
    if value not in Channel.values:
        raise _invalid(str(MSG_CHANNEL).format(choices=", ".join(Channel.values)))
    return str(value)


def id_number_suffix_clean(value: Any) -> str:
    """The last 6 characters of an ID number as typed (spaces around it dropped)."""
    text = str(value or "").strip()
    if not re.fullmatch(ID_SUFFIX_PATTERN, text, re.ASCII):
        raise _invalid(MSG_ID_SUFFIX)
    return text.upper()


def reference_clean(value: Any) -> str:
    """A case reference as typed: spaces around it dropped, letters upper-cased (YB...)."""
    return str(value or "").strip().upper()


YEARS_REPAIRED_MAX: Final = 50


def years_repaired_parse(value: Any) -> int:
    """Years of contributions paid back (缴费修复): a whole number, ASCII digits."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,2}", text, re.ASCII) or int(text) > YEARS_REPAIRED_MAX:
        raise _invalid(MSG_YEARS_REPAIRED)
    return int(text)


def due_within_parse(value: Any) -> int | None:
    """The queue's "due within N working days": ASCII digits, 1 to ``DUE_WITHIN_MAX``; None
    when empty."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not (ascii_digits(text) and len(text) <= 2) or not 1 <= int(text) <= DUE_WITHIN_MAX:
        raise _invalid(MSG_DUE_WITHIN)
    return int(text)


def stats_range_clean(
    date_from: dt.date | None, date_to: dt.date | None, *, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The statistics' range asked for, its defaults filled in first, so the limits hold for
    every range (a ``date_from`` alone is checked against today, the default end). Errors are
    keyed by field (``ValidationError.message_dict``)."""
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        if day is not None and not (SLA_FIRST_DAY <= day <= SLA_LAST_DAY):
            raise ValidationError({name: [MSG_DATE_RANGE]}, code=RULE_CODE)
    end = date_to or today
    start = date_from or end - dt.timedelta(days=SLA_DEFAULT_DAYS)
    if start > end:
        raise ValidationError({"date_from": [MSG_DATE_ORDER]}, code=RULE_CODE)
    if (end - start).days > SLA_MAX_DAYS:
        raise ValidationError({"date_to": [MSG_RANGE_TOO_LONG]}, code=RULE_CODE)
    return start, end
