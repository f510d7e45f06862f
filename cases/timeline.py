"""A timeline entry in words, the same on every face (the applicant's pages, the admin): who did it
as a person may know it, and the facts it carries as sentences — never a code, an account name or
raw data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from agencies.policies import IntraProvinceMode, Stage
from cases.models import CaseEvent, TransferCase
from cases.states import (
    Action,
    CaseKind,
    Channel,
    InsuranceType,
    MainBasis,
    RejectReason,
    choice_label,
)


def yuan(value: Decimal | str | None) -> str:
    """¥1,234.56, whatever the language."""
    if value in (None, ""):
        return ""
    return f"¥{Decimal(value):,.2f}"


def event_actor(event: CaseEvent, *, for_applicant: bool = False) -> str:
    """Who did it: the applicant ("you" to themselves), an agency by name, or the system."""
    if event.actor_role == Role.APPLICANT:
        return _("You") if for_applicant else str(Role.APPLICANT.label)
    actor = event.actor
    agency = getattr(actor, "agency", None) if actor is not None else None
    if agency is not None:
        return agency.name
    if event.actor_role == "system" or actor is None:
        return _("The system")
    return choice_label(Role, event.actor_role) if event.actor_role in Role.values else _("Staff")


def event_actor_named(event: CaseEvent) -> str:
    """For staff: the agency (or role) that acted, with the person's name where the account has
    one."""
    who = event_actor(event)
    if event.actor_role == Role.APPLICANT:
        # The applicant's name is masked on every staff page; the timeline does not undo it.
        return who
    name = getattr(event.actor, "real_name", "") if event.actor else ""
    return f"{name}（{who}）" if name and name != who else who


def event_details(event: CaseEvent) -> list[str]:
    """The facts an entry carries, each as a sentence."""
    data: dict[str, Any] = event.data or {}
    lines: list[str] = []
    if event.action == Action.REQUEST_MATERIALS:
        missing = data.get("missing_materials") or []
        if missing:
            lines.append(_("Missing: {items}").format(items="、".join(missing)))
        if data.get("repeat_reason"):
            lines.append(_("Why again: {reason}").format(reason=data["repeat_reason"]))
    elif event.action == Action.REJECT and event.reason_code in RejectReason.values:
        lines.append(_("Reason: {reason}").format(reason=RejectReason(event.reason_code).label))
    elif event.action == Action.ATTACH and data.get("label"):
        lines.append(_("File: {label}").format(label=data["label"]))
    elif event.action in (Action.MOVE_BALANCE, Action.PAY_OUT_BALANCE) and data.get("amount"):
        lines.append(_("Amount: {amount}").format(amount=yuan(data["amount"])))
    elif (
        event.action == Action.APPROVE_TRANSFER_OUT and data.get("contribution_months") is not None
    ):
        lines.append(_("Contribution months: {months}").format(months=data["contribution_months"]))
    if event.note:
        lines.append(_("Note: {note}").format(note=event.note))
    return lines


# What an entry's data keys mean, where they are not the case's own fields (those are labelled
# by the field). Staff see every fact an entry recorded; applicants see the sentences above.
_DATA_LABELS: Final = {
    "years_repaired": gettext_lazy("years of contributions paid back"),
    "amount": gettext_lazy("amount"),
    "old_due_at": gettext_lazy("due before"),
    "new_due_at": gettext_lazy("due now"),
    "assignee": gettext_lazy("assignee"),
    "previous": gettext_lazy("assigned before"),
    "attachment": gettext_lazy("attachment"),
    "content_type": gettext_lazy("file type"),
    "label": gettext_lazy("label"),
    "account_normal": gettext_lazy("the relationship cancelled is in a normal state"),
}
# Facts recorded as a code of one of our choices: shown by its label, never the code.
_CHOICE_FACTS: Final = {
    "kind": CaseKind,
    "main_basis": MainBasis,
    "mode": IntraProvinceMode,
}
_SHOWN_AS_SENTENCES: Final = {
    "missing_materials",
    "repeat_reason",
    "label",
    "amount",
    "contribution_months",
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _person(user_id: Any) -> str:
    if not isinstance(user_id, int):
        return _("nobody")
    person = User.objects.filter(pk=user_id).values_list("real_name", "username").first()
    if person is None:
        return _("a former account")
    return person[0] or person[1]


def event_facts(event: CaseEvent) -> list[str]:
    """For staff: the sentences, then every other fact the entry recorded, labelled."""
    lines = event_details(event)
    for key, value in (event.data or {}).items():
        if key in _SHOWN_AS_SENTENCES and lines:
            continue
        if key in ("stage",):
            value = choice_label(Stage, value)
            label = _("stage")
        elif key in ("assignee", "previous"):
            # An account id means nothing to a person: the name they know the colleague by.
            label, value = str(_DATA_LABELS[key]), _person(value)
        elif key == "channel":
            value, label = choice_label(Channel, value), _("channel")
        elif key == "target_insurance_type":
            value = choice_label(InsuranceType, value)
            merge = event.case.kind == CaseKind.MERGE
            label = _("insurance type kept") if merge else _("insurance type at the target")
        elif key in _CHOICE_FACTS:
            label = str(TransferCase._meta.get_field(key).verbose_name)
            value = choice_label(_CHOICE_FACTS[key], value)
        elif key in _DATA_LABELS:
            label = str(_DATA_LABELS[key])
        else:
            try:
                label = str(TransferCase._meta.get_field(key).verbose_name)
            except FieldDoesNotExist:
                continue  # an internal key with no meaning for a person
        lines.append(f"{label}：{_value(value)}")
    return lines
