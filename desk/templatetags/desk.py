"""Template filters of the workbench: a timeline entry as staff read it (every fact, labelled) and
amounts, both from ``cases.timeline``, the one home the applicant pages and the admin use too."""

from __future__ import annotations

from decimal import Decimal

from django import template

from cases import timeline
from cases.models import CaseEvent
from cases.presenters import MSG_NO_DEADLINE, StageView
from cases.states import stage_label
from desk.dashboard import rate_percent

register = template.Library()


@register.filter
def yuan(value: Decimal | str | None) -> str:
    return timeline.yuan(value)


@register.filter
def staff_actor(event: CaseEvent) -> str:
    return timeline.event_actor_named(event)


@register.filter
def staff_facts(event: CaseEvent) -> list[str]:
    return timeline.event_facts(event)


@register.filter
def percent(rate: float | None) -> str:
    return rate_percent(rate)


@register.filter
def stage_for(stage: str, kind: str) -> str:
    """A stage's name on a case of ``kind`` (a merge's stages say cancel and keep)."""
    return stage_label(stage, kind)


@register.filter
def urgency_words(stage: StageView | None) -> str:
    """The badge's words: how late or how much time is left; no running deadline said so."""
    return stage.urgency_words if stage else str(MSG_NO_DEADLINE)
