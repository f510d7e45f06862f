"""Every write to a transfer case goes through here.

Each service is one transaction that writes the state, the stage clocks and the audit event together,
or nothing. Views, admin actions, commands and tasks call these functions; none of them writes a case
directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, has_transition_perm

from accounts.models import Role, User
from cases.errors import (
    MSG_DUPLICATE_OPEN_CASE,
    MSG_NOT_ALLOWED_TO_SUBMIT,
    ActionForbidden,
    InvalidInput,
    StaleCase,
    TransitionNotAllowed,
    UnknownAction,
)
from cases.models import IDEMPOTENCY_TTL, Agency, CaseEvent, IdempotencyRecord, TransferCase
from cases.notify import case_event_notify
from cases.pii import (
    id_number_decrypt,
    id_number_digest,
    id_number_encrypt,
    id_number_mask,
    id_number_validate,
)
from cases.states import (
    OPEN_STATES,
    TERMINAL_STATES,
    USER_ACTIONS,
    Action,
    CaseState,
    Channel,
    InsuranceType,
    RejectReason,
    Scope,
)
from workflow.calendar import local_date
from workflow.models import StageClock
from workflow.policies import Stage
from workflow.services import clock_close, clock_open, clock_remaining_days, clocks_recompute

logger = logging.getLogger(__name__)

SYSTEM_ROLE = "system"
# Basic medical insurance for urban employees started with 国发〔1998〕44号.
EARLIEST_INSURANCE_DATE = dt.date(1998, 12, 1)
MAX_AMOUNT = Decimal("9999999999.99")
MAX_CONTRIBUTION_MONTHS = 1200
MAX_NOTE_LENGTH = 2000

STATE_STAGE = {
    CaseState.APPLIED: Stage.APPLIED,
    CaseState.MATERIALS_REQUESTED: Stage.MATERIALS_REQUESTED,
    CaseState.TRANSFER_OUT_APPROVED: Stage.TRANSFER_OUT_APPROVED,
    CaseState.TRANSFER_IN_CONFIRMED: Stage.TRANSFER_IN_CONFIRMED,
}


# --- small validators shared by submit and the transitions --------------------------------------


def parse_amount(value: Any, *, field: str) -> Decimal:
    """Yuan with at most two decimals, not negative, finite, not absurdly large."""
    if isinstance(value, bool):
        raise InvalidInput({field: [_("Enter an amount in yuan, e.g. 1234.56.")]})
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    try:
        # ASCII only: Decimal() would also read full-width or other scripts' digits.
        if not text.isascii():
            raise ValueError(text)
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInput({field: [_("Enter an amount in yuan, e.g. 1234.56.")]}) from None
    if not amount.is_finite():
        raise InvalidInput({field: [_("Enter an amount in yuan, e.g. 1234.56.")]})
    if amount < 0:
        raise InvalidInput({field: [_("An amount cannot be negative.")]})
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput({field: [_("An amount has at most two decimals (fen).")]})
    if amount > MAX_AMOUNT:
        raise InvalidInput({field: [_("The amount is too large.")]})
    return amount.quantize(Decimal("0.01"))


def _parse_date(value: Any, *, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        raise InvalidInput({field: [_("Enter a date as YYYY-MM-DD.")]})
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput({field: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _merge_errors(*checks: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check()
        except InvalidInput as exc:
            for field, msgs in exc.errors.items():
                errors.setdefault(field, []).extend(msgs)
    return errors


# --- submit -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applicant:
    name: str
    id_number: str
    phone: str = ""


REFERENCE_ATTEMPTS = 5


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
    from_agency: str,
    to_agency: str,
    channel: str,
    applicant: Applicant,
    stopped_at_source_on: Any,
    enrolled_at_target_on: Any,
    note: str,
    today: dt.date,
) -> dict[str, Any]:
    """Check everything that can be checked at intake; all field errors at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    if insurance_type not in InsuranceType.values:
        add("insurance_type", _("Choose employee or resident."))
    if channel not in Channel.values:
        add("channel", _("Choose one of: {choices}.").format(choices=", ".join(Channel.values)))

    agencies = {a.code: a for a in Agency.objects.filter(code__in=[from_agency, to_agency])}
    for field, code in (("from_agency", from_agency), ("to_agency", to_agency)):
        agency = agencies.get(code)
        if agency is None:
            add(field, _("There is no agency with code {code}.").format(code=code))
        elif not agency.is_active:
            add(field, _("Agency {code} does not take transfers.").format(code=code))
    if from_agency and from_agency == to_agency:
        add("to_agency", _("The transfer-in agency must differ from the transfer-out agency."))
    clean["from_agency"] = agencies.get(from_agency)
    clean["to_agency"] = agencies.get(to_agency)

    name = (applicant.name or "").strip()
    if not name or len(name) > 50:
        add("applicant.name", _("Enter the applicant's name (at most 50 characters)."))
    clean["name"] = name
    try:
        clean["id_number"] = id_number_validate(applicant.id_number)
    except ValidationError as exc:
        errors.setdefault("applicant.id_number", []).extend(exc.messages)
    phone = (applicant.phone or "").strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        add("applicant.phone", _("Enter a phone number of 7 to 15 digits."))
    clean["phone"] = phone

    for field, value in (
        ("stopped_at_source_on", stopped_at_source_on),
        ("enrolled_at_target_on", enrolled_at_target_on),
    ):
        try:
            day = _parse_date(value, field=field)
        except InvalidInput as exc:
            errors.setdefault(field, []).extend(exc.errors[field])
            continue
        if day is not None and day > today:
            add(field, _("The date cannot be in the future."))
        elif day is not None and day < EARLIEST_INSURANCE_DATE:
            add(field, _("The date is before basic medical insurance existed (1998-12)."))
        clean[field] = day
    if not stopped_at_source_on:
        add(
            "stopped_at_source_on",
            _("A transfer needs the date cover stopped at the transfer-out agency."),
        )
    if len(note or "") > MAX_NOTE_LENGTH:
        add("note", _("A note has at most 2000 characters."))

    if actor.role in (Role.CASEWORKER, Role.SUPERVISOR, Role.PLATFORM) and not any(
        actor.covers_agency(code) for code in (from_agency, to_agency) if code
    ):
        add(
            "from_agency",
            _("You can only submit on behalf of an applicant at your own agency's window."),
        )
    if errors:
        code = "invalid_id_number" if list(errors) == ["applicant.id_number"] else "invalid"
        raise InvalidInput(errors, code=code)
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
    now: dt.datetime | None = None,
) -> TransferCase:
    """Accept an application: the case, its first stage clock and its first event, or nothing.

    Applicants apply for themselves (their account's verified identity); staff and platform
    accounts apply on someone's behalf at one of their agencies.
    """
    now = now or timezone.now()
    if actor.role == Role.APPLICANT:
        applicant = _applicant_from_account(actor, applicant)
    elif actor.role not in (Role.CASEWORKER, Role.SUPERVISOR, Role.PLATFORM):
        raise ActionForbidden(Action.SUBMIT, str(MSG_NOT_ALLOWED_TO_SUBMIT))
    if applicant is None:
        raise InvalidInput({"applicant": [_("Give the applicant's name and ID number.")]})

    clean = _validate_submit(
        actor=actor,
        insurance_type=insurance_type,
        from_agency=from_agency,
        to_agency=to_agency,
        channel=channel,
        applicant=applicant,
        stopped_at_source_on=stopped_at_source_on,
        enrolled_at_target_on=enrolled_at_target_on,
        note=note,
        today=local_date(now),
    )
    digest = id_number_digest(clean["id_number"])
    src: Agency = clean["from_agency"]
    dst: Agency = clean["to_agency"]

    with transaction.atomic():
        existing = (
            TransferCase.objects.filter(
                id_number_digest=digest, insurance_type=insurance_type, state__in=OPEN_STATES
            )
            .values_list("reference", flat=True)
            .first()
        )
        if existing:
            raise _duplicate_open_case(existing)
        case = TransferCase(
            reference=_new_reference(now),
            insurance_type=insurance_type,
            from_agency=src,
            to_agency=dst,
            scope=Scope.INTRA_PROVINCE if src.code[:2] == dst.code[:2] else Scope.INTER_PROVINCE,
            from_province=src.code[:2],
            to_province=dst.code[:2],
            channel=channel,
            applicant_name=clean["name"],
            id_number_encrypted=id_number_encrypt(clean["id_number"]),
            id_number_digest=digest,
            id_number_masked=id_number_mask(clean["id_number"]),
            phone=clean["phone"],
            applicant=actor if actor.role == Role.APPLICANT else None,
            submitted_by=actor,
            stopped_at_source_on=clean.get("stopped_at_source_on"),
            enrolled_at_target_on=clean.get("enrolled_at_target_on"),
            note=note or "",
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
                    raise _duplicate_open_case("") from None
                if "reference" not in str(exc) or attempt == REFERENCE_ATTEMPTS - 1:
                    raise
                case.pk = None
                case.reference = _new_reference(now)
        clock_open(case_id=case.pk, stage=Stage.APPLIED, agency=src, started_at=now)
        _event(
            case=case,
            action=Action.SUBMIT,
            from_state="",
            actor=actor,
            at=now,
            note=note or "",
            data={"channel": channel},
        )
    logger.info("case submitted reference=%s by=%s", case.reference, actor.pk)
    return case


def _duplicate_open_case(reference: str) -> InvalidInput:
    return InvalidInput(
        {"applicant.id_number": [str(MSG_DUPLICATE_OPEN_CASE).format(reference=reference or "-")]},
        code="duplicate_open_case",
    )


# --- transitions --------------------------------------------------------------------------------


def _event(
    *,
    case: TransferCase,
    action: str,
    from_state: str,
    actor: User | None,
    at: dt.datetime,
    note: str = "",
    reason_code: str = "",
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        actor_role=actor.role if actor is not None else SYSTEM_ROLE,
        at=at,
        note=note,
        reason_code=reason_code,
        data=dict(data or {}),
    )
    # The applicant (and agency webhooks) hear of every state change, in this transaction.
    case_event_notify(event)
    return event


def case_allowed_actions(*, case: TransferCase, user: Any) -> list[str]:
    """The user-requestable actions this user may take on the case now (``next_actions``)."""
    return [
        t.name for t in case.get_available_user_state_transitions(user) if t.name in USER_ACTIONS
    ]


def _clean_payload(case: TransferCase, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the body of an action; returns the keyword arguments of the transition."""
    note = str(payload.get("note") or "")
    errors: dict[str, list[str]] = {}
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = [_("A note has at most 2000 characters.")]
    kwargs: dict[str, Any] = {}

    if action == Action.APPROVE_TRANSFER_OUT:
        months = payload.get("contribution_months")
        if (
            isinstance(months, bool)
            or not isinstance(months, int | str)
            or (isinstance(months, str) and not months.strip().isascii())
        ):
            errors["contribution_months"] = [_("Enter the contribution months as a whole number.")]
        else:
            try:
                months = int(months)
            except ValueError:
                errors["contribution_months"] = [
                    _("Enter the contribution months as a whole number.")
                ]
            else:
                if not 0 <= months <= MAX_CONTRIBUTION_MONTHS:
                    errors["contribution_months"] = [
                        _("Contribution months are between 0 and 1200.")
                    ]
                kwargs["contribution_months"] = months
        raw = payload.get("personal_account_balance")
        if raw in (None, "") and case.insurance_type == InsuranceType.RESIDENT:
            raw = "0"
        if raw in (None, ""):
            errors["personal_account_balance"] = [_("Enter the personal account balance.")]
        else:
            try:
                balance = parse_amount(raw, field="personal_account_balance")
            except InvalidInput as exc:
                errors.update(exc.errors)
            else:
                if case.insurance_type == InsuranceType.RESIDENT and balance != 0:
                    errors["personal_account_balance"] = [
                        _("Resident insurance has no personal account: the balance is 0.")
                    ]
                kwargs["personal_account_balance"] = balance
    elif action == Action.REQUEST_MATERIALS:
        missing = payload.get("missing_materials")
        if isinstance(missing, str):
            missing = [missing]
        if (
            not isinstance(missing, list | tuple)
            or not missing
            or not all(isinstance(m, str) and m.strip() and len(m) <= 200 for m in missing)
        ):
            errors["missing_materials"] = [
                _('List what is missing, all at once (一次性告知), e.g. ["离职证明"].')
            ]
        else:
            kwargs["missing"] = [m.strip() for m in missing]
    elif action == Action.MOVE_BALANCE:
        raw = payload.get("amount")
        if raw in (None, ""):
            errors["amount"] = [_("Enter the amount received.")]
        else:
            try:
                amount = parse_amount(raw, field="amount")
            except InvalidInput as exc:
                errors.update(exc.errors)
            else:
                expected = case.personal_account_balance or Decimal("0.00")
                if amount != expected:
                    errors["amount"] = [
                        _(
                            "The amount received ({amount}) differs from the balance on the "
                            "information form ({expected})."
                        ).format(amount=amount, expected=expected)
                    ]
                kwargs["amount"] = amount
    elif action == Action.REJECT:
        reason = payload.get("reason_code")
        if reason not in RejectReason.values:
            errors["reason_code"] = [
                _("Choose a reason: {choices}.").format(choices=", ".join(RejectReason.values))
            ]
        elif reason == RejectReason.OTHER and not note.strip():
            errors["note"] = [_("Explain the reason in the note when it is 'other'.")]
        kwargs["reason_code"] = reason
    if errors:
        raise InvalidInput(errors)
    return kwargs


def case_transition(
    *,
    case: TransferCase,
    action: str,
    actor: User,
    payload: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> TransferCase:
    """Move a case by a user's action: new state, clocks and event in one transaction.

    Refuses with ``UnknownAction``, ``TransitionNotAllowed`` (not possible in this state),
    ``ActionForbidden`` (this user may not), ``InvalidInput`` (bad body) or ``StaleCase`` (the case
    changed since ``expected_version``, or a concurrent move won), and then changes nothing.
    """
    now = now or timezone.now()
    payload = payload or {}
    if action not in USER_ACTIONS:
        raise UnknownAction(action)
    with transaction.atomic():
        # Row lock: concurrent moves of one case queue here and the later ones see the new state.
        # ConcurrentTransitionMixin's "UPDATE ... WHERE state = old" stays as the second guard.
        locked = TransferCase.objects.select_for_update().select_related("from_agency", "to_agency")
        try:
            case = locked.get(pk=case.pk)
        except TransferCase.DoesNotExist:
            raise StaleCase() from None
        if expected_version is not None and case.version != expected_version:
            raise StaleCase()
        available = {t.name: t for t in case.get_available_state_transitions()}
        if action not in available:
            raise TransitionNotAllowed(
                state=case.state,
                action=action,
                allowed_actions=case_allowed_actions(case=case, user=actor),
            )
        method = getattr(case, action)
        if not has_transition_perm(method, actor):
            raise ActionForbidden(action)
        kwargs = _clean_payload(case, action, payload)
        from_state = case.state
        method(**kwargs)
        _apply(case, action, from_state, actor, now, payload, kwargs)
        if case.state == CaseState.TRANSFER_IN_CONFIRMED and not case.has_balance_step:
            from_state = case.state
            case.complete_without_balance()
            _apply(case, Action.COMPLETE_WITHOUT_BALANCE, from_state, None, now, {}, {})
    logger.info(
        "case moved reference=%s action=%s to=%s by=%s",
        case.reference,
        action,
        case.state,
        actor.pk,
    )
    return case


def _apply(
    case: TransferCase,
    action: str,
    from_state: str,
    actor: User | None,
    now: dt.datetime,
    payload: Mapping[str, Any],
    kwargs: Mapping[str, Any],
) -> None:
    """Save the transition, move the clocks and append the event (inside the caller's atomic)."""
    case.version += 1
    case.updated_at = now
    case.overdue_since = None
    # An assignment belongs to the agency whose move it was (case_assign): when the move passes
    # to the other agency, its queue starts unassigned, so its caseworkers are warned and digested.
    # (Materials requested and resubmitted: the same agency's move again, so the assignment stays.)
    handed_from = _responsible_agency_code(case, from_state)
    handed_to = _responsible_agency_code(case, case.state)
    if None not in (handed_from, handed_to) and handed_from != handed_to:
        case.assignee = None
    if case.state in TERMINAL_STATES:
        case.closed_at = now
    try:
        case.save()
    except ConcurrentTransition:
        raise StaleCase() from None

    clock_close(case_id=case.pk, at=now, closed_by=action)
    stage = STATE_STAGE.get(CaseState(case.state))
    if stage is not None:
        agency = case.to_agency if stage != Stage.APPLIED else case.from_agency
        window = None
        if action == Action.RESUBMIT_MATERIALS:
            window = _window_after_materials(case)
        clock_open(case_id=case.pk, stage=stage, agency=agency, started_at=now, window_days=window)

    data: dict[str, Any] = {}
    for key, value in kwargs.items():
        data[key] = str(value) if isinstance(value, Decimal) else value
    if "missing" in data:
        data["missing_materials"] = data.pop("missing")
    _event(
        case=case,
        action=action,
        from_state=from_state,
        actor=actor,
        at=now,
        note=str(payload.get("note") or ""),
        reason_code=str(kwargs.get("reason_code") or ""),
        data=data,
    )


def _window_after_materials(case: TransferCase) -> int | None:
    """Restart (national rule) or resume the transfer-out window after materials come in."""
    from django.conf import settings

    if settings.MATERIALS_CLOCK_POLICY != "resume":
        return None
    stopped = (
        StageClock.objects.filter(
            case=case, stage=Stage.APPLIED, closed_by=Action.REQUEST_MATERIALS
        )
        .order_by("-completed_at")
        .first()
    )
    return clock_remaining_days(clock=stopped) if stopped else None


# --- assignment ---------------------------------------------------------------------------------


def case_responsible_agency_code(case: TransferCase) -> str | None:
    """The agency whose move it is now, or None for the applicant's turn or a closed case."""
    return _responsible_agency_code(case, case.state)


def _responsible_agency_code(case: TransferCase, state: str) -> str | None:
    if state == CaseState.APPLIED:
        return case.from_agency_id
    if state in (CaseState.TRANSFER_OUT_APPROVED, CaseState.TRANSFER_IN_CONFIRMED):
        return case.to_agency_id
    return None


def case_assign(
    *, case: TransferCase, assignee: User | None, actor: User, now: dt.datetime | None = None
) -> TransferCase:
    """A caseworker takes a case of their agency; a supervisor assigns it (or clears it)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = TransferCase.objects.select_for_update().get(pk=case.pk)
        agency_code = case_responsible_agency_code(case)
        if agency_code is None:
            raise TransitionNotAllowed(state=case.state, action=Action.ASSIGN, allowed_actions=[])
        is_supervisor = actor.role == Role.SUPERVISOR and actor.covers_agency(agency_code)
        taking_it = (
            actor.role == Role.CASEWORKER
            and assignee is not None
            and assignee.pk == actor.pk
            and actor.covers_agency(agency_code)
        )
        if not (is_supervisor or taking_it):
            raise ActionForbidden(Action.ASSIGN)
        if assignee is not None and not (
            assignee.role in (Role.CASEWORKER, Role.SUPERVISOR)
            and assignee.agency_id == agency_code
            and assignee.is_active
        ):
            raise InvalidInput(
                {"assignee": [_("Assign the case to a caseworker of the agency whose move it is.")]}
            )
        previous = case.assignee_id
        case.assignee = assignee
        case.version += 1
        case.updated_at = now
        case.save(update_fields=["assignee", "version", "updated_at"])
        _event(
            case=case,
            action=Action.ASSIGN,
            from_state=case.state,
            actor=actor,
            at=now,
            data={"assignee": assignee.pk if assignee else None, "previous": previous},
        )
    return case


# --- deadlines after a calendar change ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    reference: str
    stage: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime
    provisional: bool


def case_deadlines_recompute(
    *, due_since: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[DeadlineChange]:
    """Recompute open deadlines from the current calendar; an event on every case whose date moved.

    Returns one change per clock whose due date moved (a clock that only stopped being
    provisional is updated silently: the date the applicant saw still holds).
    """
    now = now or timezone.now()
    with transaction.atomic():
        changes = clocks_recompute(due_since=due_since, now=now)
        moved = [c for c in changes if c.old_due_at != c.new_due_at]
        rows = TransferCase.objects.filter(pk__in=[c.case_id for c in moved]).values_list(
            "pk", "reference", "state"
        )
        references = {pk: reference for pk, reference, _state in rows}
        states = {pk: state for pk, _reference, state in rows}
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=c.case_id,
                    action=Action.DEADLINE_RECOMPUTED,
                    from_state=states[c.case_id],
                    to_state=states[c.case_id],
                    actor=None,
                    actor_role=SYSTEM_ROLE,
                    at=now,
                    note="",
                    data={
                        "stage": c.stage,
                        "old_due_at": c.old_due_at.isoformat() if c.old_due_at else None,
                        "new_due_at": c.new_due_at.isoformat(),
                        "provisional": c.provisional,
                    },
                )
                for c in moved
            ],
            batch_size=1000,
        )
        # A case flagged overdue whose current stage is no longer late is unflagged with it.
        TransferCase.objects.filter(
            pk__in=[c.case_id for c in moved if c.new_due_at > now], overdue_since__isnull=False
        ).update(overdue_since=None)
    return [
        DeadlineChange(
            reference=references[c.case_id],
            stage=c.stage,
            old_due_at=c.old_due_at,
            new_due_at=c.new_due_at,
            provisional=c.provisional,
        )
        for c in moved
    ]


# --- housekeeping -------------------------------------------------------------------------------


def idempotency_records_purge(*, now: dt.datetime | None = None, batch_size: int = 5000) -> int:
    """Delete idempotency records past their replay window, in batches; returns how many."""
    now = now or timezone.now()
    cutoff = now - IDEMPOTENCY_TTL
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
