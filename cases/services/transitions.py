"""Moving a case by an action: new state, clocks and event in one transaction, or nothing."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, has_transition_perm

from accounts.models import User
from agencies.policies import Stage
from cases.continuity import overlap_months
from cases.errors import ActionForbidden, StaleCase, TransitionNotAllowed, UnknownAction
from cases.inputs import (
    MSG_ACCOUNT_NORMAL,
    MSG_AMOUNT_REQUIRED,
    MSG_BALANCE_REQUIRED,
    MSG_ENROLLED_SINCE_AFTER_STOP,
    MSG_NO_ARREARS,
    MSG_NO_ARREARS_FLAG,
    MSG_OVERLAP_MERGE_ONLY,
    MSG_OVERLAP_REQUIRED,
    MSG_OVERLAP_TOO_MANY,
    MSG_PAY_OUT_AMOUNT,
    MSG_REASON_OTHER_NOTE,
    MSG_RECEIVED_AMOUNT,
    MSG_REFUND_NO_OVERLAP,
    MSG_REFUND_REQUIRED,
    MSG_RESIDENT_BALANCE,
    MSG_YEARS_REPAIRED_RESIDENT,
    amount_parse,
    insurance_date_parse,
    materials_parse,
    months_parse,
    note_clean,
    reject_reason_clean,
    repeat_reason_clean,
    years_repaired_parse,
)
from cases.models import RepeatRequestTally, TransferCase
from cases.notify import applicant_account_annotations
from cases.selectors import case_action_ever_permitted
from cases.services.events import event_append
from cases.services.settlement import settlement_item_open
from cases.states import (
    STATE_STAGE,
    STOPS_WITHOUT_COMPLETING,
    TERMINAL_STATES,
    USER_ACTIONS,
    Action,
    CaseState,
    InsuranceType,
    RejectReason,
)
from core.errors import FieldErrors
from core.rollup import rollup_add, rollups_at_end
from core.statements import FrozenQuery
from workflow.calendar import local_date
from workflow.models import StageClock
from workflow.services import clock_close, clock_hold, clock_open, clock_remaining_days

logger = logging.getLogger(__name__)


def case_allowed_actions(*, case: TransferCase, user: Any) -> list[str]:
    """The user-requestable actions this user may take on the case now (``next_actions``)."""
    return [
        t.name for t in case.get_available_user_state_transitions(user) if t.name in USER_ACTIONS
    ]


def _clean_payload(
    case: TransferCase, action: str, payload: Mapping[str, Any], *, today: dt.date
) -> tuple[dict[str, Any], str]:
    """The action's body through the input rules (cases.inputs), plus the rules that need the
    case; returns the keyword arguments of the transition and the clean note. All field errors at
    once."""
    errors = FieldErrors()
    note = errors.check("note", note_clean, payload.get("note")) or ""
    kwargs: dict[str, Any] = {}

    if action == Action.APPROVE_TRANSFER_OUT:
        months = errors.check(
            "contribution_months", months_parse, payload.get("contribution_months")
        )
        if months is not None:
            kwargs["contribution_months"] = months
        raw = payload.get("personal_account_balance")
        if raw in (None, "") and case.insurance_type == InsuranceType.RESIDENT:
            raw = "0"
        if raw in (None, ""):
            errors.add("personal_account_balance", MSG_BALANCE_REQUIRED)
        else:
            balance = errors.check("personal_account_balance", amount_parse, raw)
            if balance is not None:
                if case.insurance_type == InsuranceType.RESIDENT and balance != 0:
                    errors.replace("personal_account_balance", MSG_RESIDENT_BALANCE)
                kwargs["personal_account_balance"] = balance
        deemed = payload.get("deemed_months")
        if deemed not in (None, ""):
            deemed = errors.check("deemed_months", months_parse, deemed)
            if deemed is not None:
                kwargs["deemed_months"] = deemed
        interest = payload.get("interest")
        if interest not in (None, ""):
            interest = errors.check("interest", amount_parse, interest)
            if interest is not None:
                if case.insurance_type == InsuranceType.RESIDENT and interest != 0:
                    errors.add("interest", MSG_RESIDENT_BALANCE)
                kwargs["interest"] = interest
        # Approving states "no arrears" (the information form's statement); arrears are a
        # rejection with that reason, never an approval.
        no_arrears = payload.get("no_arrears", True)
        if no_arrears is False:
            errors.add("no_arrears", MSG_NO_ARREARS)
        elif no_arrears is not True:
            errors.add("no_arrears", MSG_NO_ARREARS_FLAG)
        # The information form carries the actual stop date at source; what the applicant said
        # at intake is replaced by it when the agency sends one.
        stopped = errors.check(
            "stopped_at_source_on",
            insurance_date_parse,
            payload.get("stopped_at_source_on"),
            today=today,
        )
        if stopped is not None:
            kwargs["stopped_at_source_on"] = stopped
        # The enrolment period at source starts here (the information form's "enrolled since").
        since = errors.check(
            "enrolled_at_source_since",
            insurance_date_parse,
            payload.get("enrolled_at_source_since"),
            today=today,
        )
        if since is not None:
            end = stopped or case.stopped_at_source_on
            if end is not None and since > end:
                errors.add("enrolled_at_source_since", MSG_ENROLLED_SINCE_AFTER_STOP)
            kwargs["enrolled_at_source_since"] = since
        _clean_duplicate_enrolment(case, payload, errors, kwargs, today=today)
    elif action == Action.CONFIRM_TRANSFER_IN:
        # The months the person already had at the target (same insurance type); none sent: 0.
        before = payload.get("months_at_target")
        if before not in (None, ""):
            before = errors.check("months_at_target", months_parse, before)
            if before is not None:
                kwargs["months_at_target"] = before
        # Resident insurance: years of contributions paid back (缴费修复) at the target.
        repaired = payload.get("years_repaired")
        if repaired not in (None, ""):
            repaired = errors.check("years_repaired", years_repaired_parse, repaired)
            if repaired is not None:
                if repaired and case.target_insurance_type != InsuranceType.RESIDENT:
                    errors.add("years_repaired", MSG_YEARS_REPAIRED_RESIDENT)
                kwargs["years_repaired"] = repaired
    elif action == Action.REQUEST_MATERIALS:
        missing = errors.check(
            "missing_materials", materials_parse, payload.get("missing_materials")
        )
        if missing is not None:
            kwargs["missing"] = missing
        if case.materials_requested_before:
            reason = errors.check(
                "repeat_reason", repeat_reason_clean, payload.get("repeat_reason")
            )
            if reason:
                kwargs["repeat_reason"] = reason
    elif action in (Action.MOVE_BALANCE, Action.PAY_OUT_BALANCE):
        raw = payload.get("amount")
        if raw in (None, ""):
            errors.add("amount", MSG_AMOUNT_REQUIRED)
        else:
            amount = errors.check("amount", amount_parse, raw)
            if amount is not None:
                # The form's balance plus the interest declared on it, to the fen.
                expected = case.balance_due or Decimal("0.00")
                if amount != expected:
                    message = (
                        MSG_RECEIVED_AMOUNT if action == Action.MOVE_BALANCE else MSG_PAY_OUT_AMOUNT
                    )
                    errors.add("amount", str(message).format(amount=amount, expected=expected))
                kwargs["amount"] = amount
    elif action == Action.REJECT:
        reason = errors.check("reason_code", reject_reason_clean, payload.get("reason_code"))
        if reason == RejectReason.OTHER and not note.strip():
            errors.replace("note", MSG_REASON_OTHER_NOTE)
        kwargs["reason_code"] = reason
    errors.raise_if_any()
    return kwargs, note


def _clean_duplicate_enrolment(
    case: TransferCase,
    payload: Mapping[str, Any],
    errors: FieldErrors,
    kwargs: dict[str, Any],
    *,
    today: dt.date,
) -> None:
    """What the information form records of a duplicate enrolment. A merge: the cancelling
    agency's statement that the relationship is normal, the cancellation date (the stop date;
    today unless given), the months enrolled twice and the refund, all required. A transfer: a
    refund only where its dates overlap (the months follow from the dates)."""
    overlap = payload.get("overlap_months")
    refund = payload.get("refund_amount")
    if case.is_merge:
        normal = payload.get("account_normal", True)
        if normal is False:
            errors.add("account_normal", MSG_ACCOUNT_NORMAL)
        elif normal is not True:
            errors.add("account_normal", MSG_NO_ARREARS_FLAG)
        else:
            kwargs["account_normal"] = True
        kwargs.setdefault("stopped_at_source_on", today)
        cancelled: dt.date = kwargs["stopped_at_source_on"]
        since = kwargs.get("enrolled_at_source_since") or case.enrolled_at_source_since
        if since is not None and cancelled < since:
            errors.add("stopped_at_source_on", MSG_ENROLLED_SINCE_AFTER_STOP)
        if overlap in (None, ""):
            errors.add("overlap_months", MSG_OVERLAP_REQUIRED)
        else:
            months = errors.check("overlap_months", months_parse, overlap)
            # No more months enrolled twice than there were months at both places.
            starts = [d for d in (since, case.enrolled_at_target_on) if d is not None]
            most = overlap_months(cancelled, max(starts)) if starts else None
            if months is not None and most is not None and months > most:
                errors.add("overlap_months", str(MSG_OVERLAP_TOO_MANY).format(most=most))
            elif months is not None:
                kwargs["overlap_months"] = months
        if refund in (None, ""):
            errors.add("refund_amount", MSG_REFUND_REQUIRED)
        else:
            amount = errors.check("refund_amount", amount_parse, refund)
            if amount is not None:
                kwargs["refund_amount"] = amount
        return
    if overlap not in (None, ""):
        errors.add("overlap_months", MSG_OVERLAP_MERGE_ONLY)
    if refund not in (None, ""):
        amount = errors.check("refund_amount", amount_parse, refund)
        stopped = kwargs.get("stopped_at_source_on") or case.stopped_at_source_on
        enrolled = case.enrolled_at_target_on
        if amount is not None:
            if stopped is None or enrolled is None or enrolled >= stopped:
                errors.add("refund_amount", MSG_REFUND_NO_OVERLAP)
            else:
                kwargs["refund_amount"] = amount


# The case a move reads under its row lock, with its agencies and the applicant's account.
_LOCKED_CASE: FrozenQuery[TransferCase] = FrozenQuery(
    lambda pk: (
        TransferCase.objects.select_for_update(of=("self",))
        .select_related("from_agency", "to_agency")
        .annotate(**applicant_account_annotations())
        .filter(pk=pk)
    )
)


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

    ``case`` is read again under a row lock: only its key is used (a view that checked the case is
    visible passes ``TransferCase(pk=...)`` and reads it once). The case returned carries its
    open clock as ``open_clocks``, so the case document after the move reads nothing more.

    Refuses with ``UnknownAction``, ``TransitionNotAllowed`` (not possible in this state),
    ``ActionForbidden`` (this user may not), ``InvalidInput`` (bad body) or ``StaleCase`` (the case
    changed since ``expected_version``, or a concurrent move won), and then changes nothing.
    """
    now = now or timezone.now()
    payload = payload or {}
    if action not in USER_ACTIONS:
        raise UnknownAction(action)
    # The roll-ups (the stage tally of the closed clock, a repeat request's) are written last:
    # every move of an agency on one day adds to the same tally row, and its lock is then held
    # for one statement and the commit instead of the whole move (core.rollup).
    with transaction.atomic(), rollups_at_end():
        # Row lock: concurrent moves of one case queue here and the later ones see the new state.
        # ConcurrentTransitionMixin's "UPDATE ... WHERE state = old" stays as the second guard.
        # The case's row only (OF self): the joined agencies are read, not locked, or every move
        # at one agency would queue behind every other.
        # With the applicant's account (id, email) the notifications need: one statement.
        # Compiled once per process (core.statements): building it was 2 ms of every move's CPU.
        found = _LOCKED_CASE.get(case.pk)
        if found is None:
            raise StaleCase()
        case = found
        case._values_read = _field_values(case)
        # 403 means "you may never" (in no state): said first, whatever the state or version.
        if not case_action_ever_permitted(case=case, user=actor, action=action):
            raise ActionForbidden(action)
        if expected_version is not None and case.version != expected_version:
            raise StaleCase()
        # Then the open clock (always in this order, so no deadlock with another transition): the
        # SLA scan skips it while this move decides its fate.
        clock_hold(case_id=case.pk)
        available = {t.name: t for t in case.get_available_state_transitions()}
        if action not in available:
            raise TransitionNotAllowed(
                state=case.state,
                action=action,
                allowed_actions=case_allowed_actions(case=case, user=actor),
            )
        method = getattr(case, action)
        if not has_transition_perm(method, actor):
            # Permitted in another state (an agency that may reject, but not while it is the other
            # agency's turn): refused as any move this state does not allow.
            raise TransitionNotAllowed(
                state=case.state,
                action=action,
                allowed_actions=case_allowed_actions(case=case, user=actor),
            )
        kwargs, note = _clean_payload(case, action, payload, today=local_date(now))
        from_state = case.state
        method(**kwargs)
        _apply(case, action, from_state, actor, now, note, kwargs)
        if case.state == CaseState.TRANSFER_IN_CONFIRMED and not case.has_balance_step:
            from_state = case.state
            case.complete_without_balance()
            _apply(case, Action.COMPLETE_WITHOUT_BALANCE, from_state, None, now, "", {})
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
    note: str,
    kwargs: Mapping[str, Any],
    *,
    notify: bool = True,
    extra: Mapping[str, Any] | None = None,
    tally: bool = True,
) -> None:
    """Save the transition, move the clocks and append the event (inside the caller's atomic)."""
    case.version += 1
    case.updated_at = now
    # An assignment belongs to the agency whose move it was (case_assign): when the move passes
    # to the other agency, its queue starts unassigned, so its caseworkers are warned and digested.
    # (Materials requested and resubmitted: the same agency's move again, so the assignment stays.)
    handed_from = case.responsible_agency_code(from_state)
    handed_to = case.responsible_agency_code(case.state)
    if None not in (handed_from, handed_to) and handed_from != handed_to:
        case.assignee = None
    if case.state in TERMINAL_STATES:
        case.closed_at = now
    try:
        _save_changed(case)
    except ConcurrentTransition:
        raise StaleCase() from None

    clock_close(
        case_id=case.pk,
        at=now,
        closed_by=action,
        completes_stage=tally and action not in STOPS_WITHOUT_COMPLETING,
    )
    stage = STATE_STAGE.get(CaseState(case.state))
    if stage is not None:
        agency = case.stage_agency(stage)
        window = None
        if action == Action.RESUBMIT_MATERIALS:
            window = _window_after_materials(case)
        if window is None:
            # Through the per-process memo: the rule in force on the submission's day never
            # changes (a rule in force is never edited or deleted, a new one starts tomorrow at
            # the earliest: agencies.rules.rule_change_problem), and saving a rule clears the
            # memo; only a data load with past dates in another process is seen up to a minute
            # late. One query fewer on every move (issue 14).
            window = case.stage_window(stage, exact=False)
        clock = clock_open(
            case_id=case.pk, stage=stage, agency=agency, started_at=now, window_days=window
        )
        # What cases.presenters.case_open_clock looks for: the document needs no query for it.
        case.open_clocks = [clock]
    else:
        case.open_clocks = []

    data: dict[str, Any] = {}
    for key, value in kwargs.items():
        data[key] = str(value) if isinstance(value, Decimal | dt.date) else value
    if "missing" in data:
        data["missing_materials"] = data.pop("missing")
    data.update(extra or {})
    event_append(
        case=case,
        action=action,
        from_state=from_state,
        actor=actor,
        at=now,
        note=note,
        reason_code=str(kwargs.get("reason_code") or ""),
        data=data,
        notify=notify,
    )
    if action == Action.REQUEST_MATERIALS and "repeat_reason" in data:
        # The same test as the statistics made on the events (a repeat carries its reason), in the
        # same transaction: the roll-up counts exactly the repeat events there are.
        rollup_add(
            RepeatRequestTally,
            keys={"day": local_date(now), "agency_id": case.from_agency_id},
            add={"repeats": 1},
        )


def case_complete_instantly(
    *, case: TransferCase, figures: Mapping[str, Any], now: dt.datetime
) -> TransferCase:
    """An instant-mode case (即时办结): every step at submission, each a system event with its
    clocks opened and closed at once, in the submission's transaction. The transfer-in agency
    credits (or pays out) the balance first and a settlement item between the two funds opens
    for it (先划转后清算). Only the last step notifies: the applicant hears once that it is done."""
    # No agency worked these stages: their clocks close at once but never count as stages
    # completed on time (the supervisors' on-time rates measure the agencies' own work).
    quiet = {"notify": False, "extra": _INSTANT, "tally": False}
    from_state = case.state
    case.approve_transfer_out(**figures, no_arrears=True)
    _apply(case, Action.APPROVE_TRANSFER_OUT, from_state, None, now, "", figures, **quiet)
    from_state = case.state
    case.confirm_transfer_in()
    # The months the person already had at the target are not known here: left empty, not 0.
    case.months_at_target = None
    _apply(case, Action.CONFIRM_TRANSFER_IN, from_state, None, now, "", {}, **quiet)
    from_state = case.state
    last = {"extra": _INSTANT, "tally": False}
    if not case.has_balance_step:
        case.complete_without_balance()
        _apply(case, Action.COMPLETE_WITHOUT_BALANCE, from_state, None, now, "", {}, **last)
        return case
    due = case.balance_due or Decimal("0.00")
    action = Action.MOVE_BALANCE if case.balance_accepted else Action.PAY_OUT_BALANCE
    getattr(case, action)(amount=due)
    _apply(case, action, from_state, None, now, "", {"amount": due}, **last)
    settlement_item_open(case=case, amount=due, now=now)
    return case


# What the events of an instant case say of themselves.
_INSTANT: dict[str, Any] = {"mode": "instant"}


def _field_values(case: TransferCase) -> dict[str, Any]:
    """The case's columns as read (lists and dicts copied: a transition may change them in
    place)."""
    values = {}
    for field in case._meta.concrete_fields:
        if not field.primary_key:
            value = getattr(case, field.attname)
            values[field.attname] = copy.copy(value) if isinstance(value, list | dict) else value
    return values


def _save_changed(case: TransferCase) -> None:
    """Save the columns that changed since the case was read under its lock (``_values_read``),
    or all of them for a case read otherwise. The row is rewritten either way; what this saves is
    building and sending an UPDATE of some forty columns for the handful a move changes."""
    before = getattr(case, "_values_read", None)
    if before is None:
        case.save()
        return
    changed = [name for name, value in before.items() if getattr(case, name) != value]
    case.save(update_fields=changed)
    case._values_read = _field_values(case)


def _window_after_materials(case: TransferCase) -> int | None:
    """The transfer-out window after materials come in: after the first request, afresh (the
    national rule) or the remaining days (``MATERIALS_CLOCK_POLICY = "resume"``); after a repeat
    request, always the remaining days: no agency extends its own deadline by asking again."""
    if settings.MATERIALS_CLOCK_POLICY != "resume" and case.materials_requests <= 1:
        return None
    stopped = (
        StageClock.objects.filter(
            case=case, stage=Stage.APPLIED, closed_by=Action.REQUEST_MATERIALS
        )
        .order_by("-completed_at")
        .first()
    )
    return clock_remaining_days(clock=stopped) if stopped else None
