"""Template filters of the pages: amounts as people write them, a timeline entry in words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from accounts.models import Role
from cases.models import CaseEvent
from cases.states import Action, RejectReason

register = template.Library()


@register.filter
def yuan(value: Decimal | str | None) -> str:
    """¥1,234.56, whatever the language."""
    if value in (None, ""):
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.filter
def event_actor(event: CaseEvent) -> str:
    """Who did it, as an applicant may know it: themselves, an agency by name, or the system."""
    if event.actor_role == Role.APPLICANT:
        return _("You")
    actor = event.actor
    agency = getattr(actor, "agency", None) if actor is not None else None
    if agency is not None:
        return agency.name
    if event.actor_role == "system" or actor is None:
        return _("The system")
    return str(Role(event.actor_role).label) if event.actor_role in Role.values else _("Staff")


@register.filter
def event_details(event: CaseEvent) -> list[str]:
    """The facts an entry carries, each as a sentence (never a code or raw data)."""
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
    if event.note:
        lines.append(_("Note: {note}").format(note=event.note))
    return lines
