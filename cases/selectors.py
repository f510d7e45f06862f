"""Reads of transfer cases. Who may see what is decided here, once."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import AGENCY_ROLES, Role
from cases.models import CaseEvent, TransferCase


def case_visibility_filter(user: Any) -> Q | None:
    """The cases ``user`` may see as a filter, or None for none at all.

    Applicants: cases whose ID number is their own (also those a window or a platform submitted
    for them). Staff and platform accounts: cases where an agency they act for is either side
    (a province-wide account: any agency of its province). Administrators: all.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser or user.role == Role.ADMIN:
        return Q()
    if user.role == Role.APPLICANT:
        return Q(id_number_digest=user.id_number_digest) if user.id_number_digest else None
    if user.role in AGENCY_ROLES and user.agency_id:
        if user.province_wide:
            prefix = user.agency_id[:2]
            return Q(from_province=prefix) | Q(to_province=prefix)
        return Q(from_agency_id=user.agency_id) | Q(to_agency_id=user.agency_id)
    return None


def case_queryset_for(user: Any) -> QuerySet[TransferCase]:
    visible = case_visibility_filter(user)
    if visible is None:
        return TransferCase.objects.none()
    return TransferCase.objects.filter(visible)


def case_get_for(*, user: Any, reference: str) -> TransferCase | None:
    """One case by reference if ``user`` may see it, else None (callers answer 404 either way)."""
    return (
        case_queryset_for(user)
        .select_related("from_agency", "to_agency", "assignee")
        .filter(reference=reference)
        .first()
    )


def case_events(*, case: TransferCase) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("at", "id")
