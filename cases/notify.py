"""What applicants and agency systems are told when a case changes state.

``case_event_notify`` is called by ``cases.services.events.event_append`` inside the transition's transaction, so
the notification rows commit (or roll back) with the event. ``notifications`` itself knows nothing
about cases: this module decides who hears what.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import translation

from accounts.models import Role, User
from cases.messages import APPLICANT_LANGUAGE, labels_in_languages, template_render
from cases.states import RejectReason, state_label
from core.identity import mask_id_numbers
from notifications.models import ChannelName
from notifications.services import NotificationDraft, notifications_create

if TYPE_CHECKING:
    from cases.models import CaseEvent


def _detail(event: CaseEvent) -> dict[str, str]:
    if event.to_state == "materials_requested":
        missing = "、".join(event.data.get("missing_materials") or [])
        repeat = event.data.get("repeat_reason")
        if repeat:
            # A repeat request says why: the resubmitted materials themselves were defective.
            return {
                "zh-hans": f"请再次补正材料：{missing}。原因：{repeat}。",
                "en": f"Please send again: {missing}. Why: {repeat}.",
            }
        return {"zh-hans": f"请补正材料：{missing}。", "en": f"Please send: {missing}."}
    if event.action == "pay_out_balance" and event.data.get("amount"):
        amount = event.data["amount"]
        return {
            "zh-hans": f"个人账户余额 {amount} 元已支付给本人。",
            "en": f"The personal account balance of {amount} yuan was paid out to you.",
        }
    if event.to_state == "rejected":
        return {
            "zh-hans": f"原因：{_reason(event, 'zh-hans')}。",
            "en": f"Reason: {_reason(event, 'en')}.",
        }
    return {"zh-hans": "", "en": ""}


def _reason(event: CaseEvent, language: str) -> str:
    """The reason's label in ``language`` (never the bare code), and the caseworker's explanation
    for "other" (anything shaped like an ID number in it masked, as in the logs)."""
    code = event.reason_code
    with translation.override(language):
        label = str(RejectReason(code).label) if code in RejectReason.values else code
    if code == RejectReason.OTHER and event.note.strip():
        label += ("：" if language == "zh-hans" else ": ") + mask_id_numbers(event.note.strip())
    return label


def case_event_notify(event: CaseEvent) -> list[int]:
    """Rows for a state change: the applicant in-app (their account, also when a window submitted
    the case for them), by SMS (the case's phone) and email (their account's address), and each agency of the case that has a webhook. Events that
    change no state (assignment, a recomputed deadline) notify nobody."""
    if not event.to_state or event.from_state == event.to_state:
        return []
    case = event.case
    context = {
        "reference": case.reference,
        "state": labels_in_languages(state_label, event.to_state, case.kind),
        "detail": _detail(event),
    }
    subject, body = template_render("status_changed", context=context, language=APPLICANT_LANGUAGE)
    payload: dict[str, Any] = {
        "case": case.reference,
        "event": event.pk,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "at": event.at.isoformat(),
    }
    key = f"status:{event.pk}"
    common = {
        "kind": "status_changed",
        "subject": subject,
        "body": body,
        "subject_ref": case.reference,
    }
    drafts: list[NotificationDraft] = []
    applicant = _applicant_account(case)
    if applicant is not None:
        applicant_id, email = applicant
        drafts.append(
            NotificationDraft(
                dedup_key=f"{key}:{ChannelName.IN_APP}",
                channel=ChannelName.IN_APP,
                recipient_id=applicant_id,
                payload=payload,
                **common,
            )
        )
        if email:
            drafts.append(
                NotificationDraft(
                    dedup_key=f"{key}:{ChannelName.EMAIL}",
                    channel=ChannelName.EMAIL,
                    recipient_id=applicant_id,
                    address=email,
                    payload=payload,
                    **common,
                )
            )
    if case.phone:
        drafts.append(
            NotificationDraft(
                dedup_key=f"{key}:{ChannelName.SMS}",
                channel=ChannelName.SMS,
                address=case.phone,
                payload=payload,
                **common,
            )
        )
    for agency in {case.from_agency, case.to_agency}:
        if agency.webhook_url:
            drafts.append(
                NotificationDraft(
                    dedup_key=f"{key}:{ChannelName.WEBHOOK}:{agency.code}",
                    channel=ChannelName.WEBHOOK,
                    address=agency.webhook_url,
                    payload={**payload, "agency": agency.code},
                    **common,
                )
            )
    return notifications_create(drafts=drafts, now=event.at)


def _accounts_of(applicant_id: Any, id_number_digest: Any) -> QuerySet[User]:
    """The applicant's account: the case's own, or for a case a window or platform submitted for
    them the one found, as the case list finds it, by the keyed digest of the ID number."""
    if applicant_id is not None:
        return User.objects.filter(pk=applicant_id)
    return User.objects.filter(
        role=Role.APPLICANT, is_active=True, id_number_digest=id_number_digest
    ).order_by("pk")


@functools.cache
def applicant_account_annotations() -> Mapping[str, Any]:
    """``_accounts_of`` as columns of a case query (``_applicant_pk``, ``_applicant_email``), so
    that a move reads the account in the statement that locks the case: the case's own account
    when it has one, else the one found by digest (a NULL ``applicant_id`` finds no own row)."""
    own = _accounts_of(OuterRef("applicant_id"), None)
    found = User.objects.filter(
        role=Role.APPLICANT, is_active=True, id_number_digest=OuterRef("id_number_digest")
    ).order_by("pk")
    # Built once per process (read-only): annotate() resolves a copy of each expression.
    return MappingProxyType(
        {
            f"_applicant_{column}": Coalesce(
                Subquery(own.values(column)[:1]), Subquery(found.values(column)[:1])
            )
            for column in ("pk", "email")
        }
    )


def _applicant_account(case: Any) -> tuple[int, str] | None:
    """The applicant's account as (id, email). Two columns, not a whole account: every state
    change asks; a case read with ``applicant_account_annotations`` has them already."""
    if hasattr(case, "_applicant_pk"):
        return None if case._applicant_pk is None else (case._applicant_pk, case._applicant_email)
    if case.applicant_id is not None and type(case).applicant.is_cached(case):
        return case.applicant.pk, case.applicant.email
    return _accounts_of(case.applicant_id, case.id_number_digest).values_list("pk", "email").first()
