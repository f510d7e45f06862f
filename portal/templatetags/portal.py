"""Template filters of the pages: amounts as people write them, a timeline entry in words (both
from ``cases.timeline``, the one home the admin uses too)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from cases import timeline
from cases.models import CaseEvent

register = template.Library()


@register.filter
def yuan(value: Decimal | str | None) -> str:
    return timeline.yuan(value)


@register.filter
def event_actor(event: CaseEvent) -> str:
    """On the applicant's own pages: "you" for their own entries."""
    return timeline.event_actor(event, for_applicant=True)


@register.filter
def event_details(event: CaseEvent) -> list[str]:
    return timeline.event_details(event)
