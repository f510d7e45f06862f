"""Submitting an application: the case, its first stage clock and its first event, or nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import (
    user_is_applicant,
    user_may_submit,
    user_may_submit_at,
    user_may_submit_automatically,
    user_may_supply_figures,
    user_submits_on_behalf,
)
from agencies.models import Agency
from agencies.policies import IntraProvinceMode, Stage
from agencies.rules import agency_rule_in_force, case_mode, rule_problems
from cases.errors import (
    MSG_DUPLICATE_OPEN_CASE,
    MSG_DUPLICATE_OPEN_CASE_UNSEEN,
    MSG_NOT_ALLOWED_TO_SUBMIT,
    ActionForbidden,
)
from cases.inputs import (
    MSG_ALREADY_TRANSFERRED,
    MSG_AUTO_CHANNEL,
    MSG_CONFIRM_FLAG,
    MSG_FIGURES_STANDARD,
    MSG_INELIGIBLE_BY_LOCAL_RULE,
    MSG_INSTANT_FIGURE_REQUIRED,
    MSG_INSTANT_FIGURES,
    MSG_INSTANT_SELF,
    MSG_MERGE_CONFIRM_EMPLOYEE,
    MSG_MERGE_CONFIRM_RESIDENT,
    MSG_MERGE_EMPLOYEE_KEPT,
    MSG_MERGE_NO_STOP,
    MSG_MERGE_SINCE_ONLY,
    MSG_MERGE_SINCE_REQUIRED,
    MSG_REFUND_NO_OVERLAP,
    MSG_RESIDENT_BALANCE,
    MSG_RETIRED,
    MSG_RETIRED_FLAG,
    MSG_STOPPED_REQUIRED,
    amount_parse,
    channel_clean,
    insurance_date_parse,
    insurance_type_clean,
    kind_clean,
    months_parse,
    note_clean,
)
from cases.models import TransferCase
from cases.selectors import case_get_for
from cases.services.events import event_append
from cases.services.transitions import case_complete_instantly
from cases.states import (
    OPEN_STATES,
    Action,
    CaseKind,
    Channel,
    InsuranceType,
    MainBasis,
    RejectReason,
    Scope,
)
from core.errors import FieldErrors, InvalidInput
from core.identity import (
    id_number_decrypt,
    id_number_digest,
    id_number_encrypt,
    id_number_mask,
    id_number_validate,
    name_clean,
    phone_validate,
)
from workflow.calendar import SHANGHAI, local_date
from workflow.services import clock_open

logger = logging.getLogger(__name__)

REFERENCE_ATTEMPTS: Final = 5
# The information form's figures an instant-mode submission carries (api.md "Additions").
INSTANT_FIGURES: Final = ("contribution_months", "personal_account_balance")


@dataclass(frozen=True, slots=True)
class Applicant:
    name: str
    id_number: str
    phone: str = ""


def scope_of(from_code: str, to_code: str) -> str:
    """Within a province (the codes' first two digits agree) or between provinces."""
    return Scope.INTRA_PROVINCE if from_code[:2] == to_code[:2] else Scope.INTER_PROVINCE


def _new_reference(now: dt.datetime) -> str:
    """``YB`` + the Asia/Shanghai date + 8 random digits. Not guessable in sequence; uniqueness is
    the database's (``case_submit`` draws again on the rare collision)."""
    return f"YB{local_date(now).strftime('%Y%m%d')}{secrets.randbelow(10**8):08d}"


def _applicant_from_account(user: User, given: Applicant | None) -> Applicant:
    """An applicant applies as themselves: their verified identity, not what they typed."""
    own_number = id_number_decrypt(user.id_number_encrypted)
    if given is not None and given.id_number:
        try:
            typed = id_number_validate(given.id_number)
        except ValidationError as exc:
            raise InvalidInput(
                {"applicant.id_number": exc.messages}, code="invalid_id_number"
            ) from None
        if typed != own_number:
            raise InvalidInput(
                {"applicant.id_number": [_("You can only apply for yourself.")]},
                code="not_own_id_number",
            )
    phone = (given.phone if given and given.phone else "") or user.phone
    return Applicant(name=user.real_name or user.username, id_number=own_number, phone=phone)


def _validate_submit(
    *,
    actor: User,
    insurance_type: str,
    target_insurance_type: str | None,
    retired: Any,
    from_agency: str,
    to_agency: str,
    channel: str,
    applicant: Applicant,
    stopped_at_source_on: Any,
    enrolled_at_target_on: Any,
    note: str,
    today: dt.date,
    kind: Any = CaseKind.TRANSFER,
    enrolled_at_source_since: Any = None,
    main_relationship_confirmed: Any = None,
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every intake rule (cases.inputs, core.identity) plus those that need the database; all
    field errors at once."""
    errors = FieldErrors()
    clean: dict[str, Any] = {}
    errors.check("insurance_type", insurance_type_clean, insurance_type)
    clean["kind"] = errors.check("kind", kind_clean, kind or CaseKind.TRANSFER)
    # A cross-type move names the type at the target; by default the same (domain.md).
    clean["target_insurance_type"] = (
        errors.check("target_insurance_type", insurance_type_clean, target_insurance_type)
        if target_insurance_type not in (None, "")
        else insurance_type
    )
    # Retirees are outside the 2021 rules; stated by the applicant, never guessed from the age.
    if retired is True:
        errors.add("retired", MSG_RETIRED)
    elif retired not in (None, False):
        errors.add("retired", MSG_RETIRED_FLAG)
    errors.check("channel", channel_clean, channel)
    if channel == Channel.AUTO and not user_may_submit_automatically(actor):
        errors.add("channel", MSG_AUTO_CHANNEL)

    agencies = {a.code: a for a in Agency.objects.filter(code__in=[from_agency, to_agency])}
    for field, code in (("from_agency", from_agency), ("to_agency", to_agency)):
        agency = agencies.get(code)
        if agency is None:
            errors.add(field, _("There is no agency with code {code}.").format(code=code))
        elif not agency.is_active:
            errors.add(field, _("Agency {code} does not take transfers.").format(code=code))
    if from_agency and from_agency == to_agency:
        errors.add(
            "to_agency", _("The transfer-in agency must differ from the transfer-out agency.")
        )
    clean["from_agency"] = agencies.get(from_agency)
    clean["to_agency"] = agencies.get(to_agency)

    clean["name"] = errors.check("applicant.name", name_clean, applicant.name)
    clean["id_number"] = errors.check(
        "applicant.id_number", id_number_validate, applicant.id_number
    )
    clean["phone"] = errors.check("applicant.phone", phone_validate, applicant.phone) or ""
    for field, value in (
        ("stopped_at_source_on", stopped_at_source_on),
        ("enrolled_at_target_on", enrolled_at_target_on),
        ("enrolled_at_source_since", enrolled_at_source_since),
    ):
        clean[field] = errors.check(field, insurance_date_parse, value, today=today)
    if clean["kind"] == CaseKind.MERGE:
        _validate_merge(
            errors,
            clean,
            insurance_type=insurance_type,
            stopped_at_source_on=stopped_at_source_on,
            enrolled_at_source_since=enrolled_at_source_since,
            confirmed=main_relationship_confirmed,
        )
    else:
        if not stopped_at_source_on:
            errors.add("stopped_at_source_on", MSG_STOPPED_REQUIRED)
        if enrolled_at_source_since not in (None, ""):
            errors.add("enrolled_at_source_since", MSG_MERGE_SINCE_ONLY)
    clean["note"] = errors.check("note", note_clean, note)

    # The province's mode, as in force today; a merge always runs its checks (an instant
    # cancellation would skip the cancelling agency's check of a normal state).
    mode = IntraProvinceMode.STANDARD
    if clean["from_agency"] is not None and clean["to_agency"] is not None:
        mode = case_mode(from_agency, to_agency, today)
        if clean["kind"] == CaseKind.MERGE and mode == IntraProvinceMode.INSTANT:
            mode = IntraProvinceMode.STANDARD
    clean["mode"] = mode
    if clean["from_agency"] is not None and clean["to_agency"] is not None:
        # Judged only once the agencies (and so the mode) are known: with an agency mistyped
        # the figures are neither required nor refused, the agency's error says what is wrong.
        clean["figures"] = _validate_figures(
            errors,
            figures or {},
            mode=mode,
            insurance_type=insurance_type,
            actor=actor,
            dates=(clean.get("stopped_at_source_on"), clean.get("enrolled_at_target_on")),
        )

    if user_submits_on_behalf(actor) and not user_may_submit_at(actor, [from_agency, to_agency]):
        errors.add(
            "from_agency",
            _("You can only submit on behalf of an applicant at your own agency's window."),
        )
    # The transfer-in agency's own conditions, as in force today; judged only on an otherwise
    # valid application (they need the ID number, the agencies and the types).
    if not errors.errors and clean["to_agency"] is not None:
        dst = clean["to_agency"]
        problems = rule_problems(
            agency_rule_in_force(dst.code, today),
            agency_name=dst.name,
            target_insurance_type=clean["target_insurance_type"],
            id_number=clean["id_number"],
            inter_province=scope_of(from_agency, to_agency) == Scope.INTER_PROVINCE,
            on=today,
        )
        if problems:
            raise InvalidInput(
                {"to_agency": [p.message for p in problems]},
                code=str(RejectReason.INELIGIBLE_BY_LOCAL_RULE),
                message=str(MSG_INELIGIBLE_BY_LOCAL_RULE),
                extra={"rules": [p.rule for p in problems]},
            )
    if clean["mode"] == IntraProvinceMode.INSTANT and set(errors.errors) <= set(INSTANT_FIGURES):
        # Only the figures are missing or wrong: say it is the mode that asks for them.
        errors.raise_if_any(code="instant_mode_figures_required", message=str(MSG_INSTANT_FIGURES))
    clean.setdefault("figures", {})
    only_id_number = list(errors.errors) == ["applicant.id_number"]
    only_retired = list(errors.errors) == ["retired"] and retired is True
    errors.raise_if_any(
        code="invalid_id_number" if only_id_number else "retired" if only_retired else "invalid"
    )
    return clean


def _validate_merge(
    errors: FieldErrors,
    clean: dict[str, Any],
    *,
    insurance_type: str,
    stopped_at_source_on: Any,
    enrolled_at_source_since: Any,
    confirmed: Any,
) -> None:
    """A merge's intake: active at both ends (a start date at the source, no stop date), and the
    relationship kept the main one by the rule (domain.md "Several relationships at once")."""
    if stopped_at_source_on not in (None, ""):
        errors.add("stopped_at_source_on", MSG_MERGE_NO_STOP)
    if enrolled_at_source_since in (None, ""):
        errors.add("enrolled_at_source_since", MSG_MERGE_SINCE_REQUIRED)
    kept = clean["target_insurance_type"]
    if insurance_type not in InsuranceType.values or kept not in InsuranceType.values:
        return
    if insurance_type == InsuranceType.EMPLOYEE and kept == InsuranceType.RESIDENT:
        errors.add("target_insurance_type", MSG_MERGE_EMPLOYEE_KEPT)
    elif insurance_type != kept:
        clean["main_basis"] = MainBasis.EMPLOYEE_OVER_RESIDENT
    elif confirmed not in (None, True, False):
        errors.add("main_relationship_confirmed", MSG_CONFIRM_FLAG)
    elif confirmed is not True:
        errors.add(
            "main_relationship_confirmed",
            MSG_MERGE_CONFIRM_EMPLOYEE
            if kept == InsuranceType.EMPLOYEE
            else MSG_MERGE_CONFIRM_RESIDENT,
        )
    else:
        clean["main_basis"] = (
            MainBasis.WORKS_THERE if kept == InsuranceType.EMPLOYEE else MainBasis.LIVES_THERE
        )


def _validate_figures(
    errors: FieldErrors,
    figures: dict[str, Any],
    *,
    mode: str,
    insurance_type: str,
    actor: User,
    dates: tuple[dt.date | None, dt.date | None],
) -> dict[str, Any]:
    """The information form's figures: required in instant mode (the provincial system's
    numbers, the case completes on them), refused otherwise (the agency records its own). Only
    the provincial platform or an agency's staff bring them: a person's own figures would credit
    a balance nobody checked."""
    given = {k: v for k, v in figures.items() if v not in (None, "")}
    if mode != IntraProvinceMode.INSTANT:
        for field in given:
            errors.add(field, MSG_FIGURES_STANDARD)
        return {}
    if not user_may_supply_figures(actor):
        errors.add("contribution_months", MSG_INSTANT_SELF)
        return {}
    stopped, enrolled = dates
    if "refund_amount" in given and not (stopped and enrolled and enrolled < stopped):
        errors.add("refund_amount", MSG_REFUND_NO_OVERLAP)
        given.pop("refund_amount")
    if insurance_type == InsuranceType.RESIDENT:
        given.setdefault("personal_account_balance", "0")
    clean: dict[str, Any] = {}
    for field in INSTANT_FIGURES:
        if field not in given:
            errors.add(field, MSG_INSTANT_FIGURE_REQUIRED)
    for field, rule in (
        ("contribution_months", months_parse),
        ("deemed_months", months_parse),
        ("personal_account_balance", amount_parse),
        ("interest", amount_parse),
        ("refund_amount", amount_parse),
    ):
        if field in given:
            value = errors.check(field, rule, given[field])
            if value is not None:
                clean[field] = value
    if insurance_type == InsuranceType.RESIDENT and (
        clean.get("personal_account_balance") or clean.get("interest")
    ):
        errors.add("personal_account_balance", MSG_RESIDENT_BALANCE)
    return clean


def case_submit(
    *,
    actor: User,
    insurance_type: str,
    from_agency: str,
    to_agency: str,
    channel: str,
    applicant: Applicant | None = None,
    stopped_at_source_on: Any = None,
    enrolled_at_target_on: Any = None,
    note: str = "",
    target_insurance_type: str | None = None,
    retired: Any = None,
    kind: Any = CaseKind.TRANSFER,
    enrolled_at_source_since: Any = None,
    main_relationship_confirmed: Any = None,
    contribution_months: Any = None,
    deemed_months: Any = None,
    personal_account_balance: Any = None,
    interest: Any = None,
    refund_amount: Any = None,
    now: dt.datetime | None = None,
) -> TransferCase:
    """Accept an application: the case, its first stage clock and its first event, or nothing.

    Applicants apply for themselves (their account's verified identity); staff and platform
    accounts apply on someone's behalf at one of their agencies. A merge (``kind="merge"``) keeps
    the relationship at ``to_agency`` and cancels the one at ``from_agency``. Within a province in
    instant mode the case completes in the same transaction (``case_complete_instantly``) on the
    information form's figures the submission carries.
    """
    now = now or timezone.now()
    if not user_may_submit(actor):
        raise ActionForbidden(Action.SUBMIT, str(MSG_NOT_ALLOWED_TO_SUBMIT))
    if user_is_applicant(actor):
        applicant = _applicant_from_account(actor, applicant)
    if applicant is None:
        raise InvalidInput({"applicant": [_("Give the applicant's name and ID number.")]})

    clean = _validate_submit(
        actor=actor,
        insurance_type=insurance_type,
        target_insurance_type=target_insurance_type,
        retired=retired,
        from_agency=from_agency,
        to_agency=to_agency,
        channel=channel,
        applicant=applicant,
        stopped_at_source_on=stopped_at_source_on,
        enrolled_at_target_on=enrolled_at_target_on,
        note=note,
        today=local_date(now),
        kind=kind,
        enrolled_at_source_since=enrolled_at_source_since,
        main_relationship_confirmed=main_relationship_confirmed,
        figures={
            "contribution_months": contribution_months,
            "deemed_months": deemed_months,
            "personal_account_balance": personal_account_balance,
            "interest": interest,
            "refund_amount": refund_amount,
        },
    )
    digest = id_number_digest(clean["id_number"])
    src: Agency = clean["from_agency"]
    dst: Agency = clean["to_agency"]

    with transaction.atomic():
        if clean["mode"] == IntraProvinceMode.INSTANT:
            _person_lock(digest, insurance_type)
        existing = (
            TransferCase.objects.filter(
                id_number_digest=digest, insurance_type=insurance_type, state__in=OPEN_STATES
            )
            .values_list("reference", flat=True)
            .first()
        )
        if existing:
            raise _duplicate_open_case(existing, actor=actor)
        if clean["mode"] == IntraProvinceMode.INSTANT and _instant_twin(
            digest=digest, insurance_type=insurance_type, clean=clean
        ):
            raise _already_transferred()
        case = TransferCase(
            reference=_new_reference(now),
            kind=clean["kind"],
            mode=clean["mode"],
            main_basis=clean.get("main_basis", ""),
            insurance_type=insurance_type,
            target_insurance_type=clean["target_insurance_type"],
            from_agency=src,
            to_agency=dst,
            scope=scope_of(src.code, dst.code),
            from_province=src.code[:2],
            to_province=dst.code[:2],
            channel=channel,
            applicant_name=clean["name"],
            id_number_encrypted=id_number_encrypt(clean["id_number"]),
            id_number_digest=digest,
            id_number_masked=id_number_mask(clean["id_number"]),
            phone=clean["phone"],
            applicant=actor if user_is_applicant(actor) else None,
            submitted_by=actor,
            stopped_at_source_on=clean["stopped_at_source_on"],
            enrolled_at_target_on=clean["enrolled_at_target_on"],
            enrolled_at_source_since=clean["enrolled_at_source_since"],
            note=clean["note"],
            created_at=now,
            updated_at=now,
        )
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                # A savepoint, so a lost race on the "one open case" constraint (or a reference
                # drawn twice) leaves the outer transaction usable.
                with transaction.atomic():
                    case.save(force_insert=True)
                break
            except IntegrityError as exc:
                if "one_open_case_per_person_and_type" in str(exc):
                    raise _duplicate_open_case("", actor=actor) from None
                if "one_instant_transfer_per_relationship" in str(exc):
                    raise _already_transferred() from None
                if "reference" not in str(exc) or attempt == REFERENCE_ATTEMPTS - 1:
                    raise
                case.pk = None
                case.reference = _new_reference(now)
        clock = clock_open(
            case_id=case.pk,
            stage=Stage.APPLIED,
            agency=src,
            started_at=now,
            window_days=case.stage_window(Stage.APPLIED),
        )
        # What cases.presenters.case_open_clock looks for: the document after the submission
        # reads no clock (a transition does the same; an instant case's steps replace it).
        case.open_clocks = [clock]
        event_append(
            case=case,
            action=Action.SUBMIT,
            from_state="",
            actor=actor,
            at=now,
            note=clean["note"],
            data={
                "channel": channel,
                "target_insurance_type": clean["target_insurance_type"],
                **({"kind": case.kind} if case.is_merge else {}),
                **({"main_basis": case.main_basis} if case.main_basis else {}),
                **({"mode": case.mode} if case.mode != IntraProvinceMode.STANDARD else {}),
            },
        )
        if case.is_instant:
            case_complete_instantly(case=case, figures=clean["figures"], now=now)
    logger.info(
        "case submitted reference=%s kind=%s mode=%s by=%s",
        case.reference,
        case.kind,
        case.mode,
        actor.pk,
    )
    return case


def _instant_twin(*, digest: str, insurance_type: str, clean: dict[str, Any]) -> bool:
    """Whether an instant case already moved this relationship: the same person and type out of
    the same agency, submitted on or after the day the cover now said to have stopped there. A
    second move is possible only for a later enrolment, one that stopped after the first move
    (whatever stop date is typed, an earlier one cannot move the same balance twice). Callers
    hold ``_person_lock``, so concurrent submissions see each other's cases; the constraint
    ``one_instant_transfer_per_relationship`` is the database's own line (same stop date)."""
    stopped: dt.date = clean["stopped_at_source_on"]
    return TransferCase.objects.filter(
        mode=IntraProvinceMode.INSTANT,
        id_number_digest=digest,
        insurance_type=insurance_type,
        from_agency=clean["from_agency"],
        created_at__gte=dt.datetime.combine(stopped, dt.time.min, tzinfo=SHANGHAI),
    ).exists()


def _person_lock(digest: str, insurance_type: str) -> None:
    """Serialise one person's submissions of one type until the transaction ends (PostgreSQL's
    transaction-level advisory lock): an instant case is closed by the time it commits, so no
    unique index on open cases can see two racing; elsewhere (SQLite) writes are serial anyway."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(
        hashlib.sha256(f"{digest}:{insurance_type}".encode()).digest()[:8], "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _already_transferred() -> InvalidInput:
    return InvalidInput(
        {"stopped_at_source_on": [str(MSG_ALREADY_TRANSFERRED)]}, code="already_transferred"
    )


def _duplicate_open_case(reference: str, *, actor: User) -> InvalidInput:
    """The refusal names the open case only to a caller who may see it (its applicant, staff of
    either of its agencies): to anyone else it would reveal that case and, through the status
    lookup, its progress."""
    if reference and case_get_for(user=actor, reference=reference) is not None:
        message = str(MSG_DUPLICATE_OPEN_CASE).format(reference=reference)
    else:
        message = str(MSG_DUPLICATE_OPEN_CASE_UNSEEN)
    return InvalidInput({"applicant.id_number": [message]}, code="duplicate_open_case")
