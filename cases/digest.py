"""The caseworkers' daily digest: one message each with their due-soon and overdue cases.

Beat runs it every day at 08:30 Asia/Shanghai; it sends only on working days of the calendar (so not
on holidays, yes on make-up Saturdays).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Final

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import assignee_counts, caseworkers_of
from cases.messages import template_render
from cases.reminders import Message, user_drafts
from notifications.services import NotificationDraft, notifications_create
from workflow.calendar import get_calendar, local_date
from workflow.models import StageClock

logger = logging.getLogger(__name__)

DIGEST: Final = "digest"


@dataclass(slots=True)
class DigestReport:
    day: dt.date
    skipped: bool
    recipients: int = 0
    notifications: int = 0


def sla_digest(*, now: dt.datetime | None = None, sample: int = 50) -> DigestReport:
    """One message per caseworker with their due-soon and overdue cases, on working days only.

    A caseworker's cases are those assigned to them, and the unassigned ones of their agency whose
    move it is. Clocks are read agency by agency, so memory is bounded by the largest agency's
    queue; each message lists at most ``sample`` references per group (the counts are complete).
    """
    now = now or timezone.now()
    day = local_date(now)
    if not get_calendar().is_workday(day):
        logger.info("sla digest: %s is not a working day; nothing sent", day)
        return DigestReport(day=day, skipped=True)
    report = DigestReport(day=day, skipped=False)
    clocks = (
        StageClock.objects.filter(completed_at__isnull=True, agency__isnull=False)
        .filter(Q(breached_at__isnull=False) | Q(warn_at__lte=now))
        .order_by("agency_id", "due_at")
        .values_list(
            "agency_id",
            "case__assignee_id",
            "case__assignee__agency_id",
            "case__assignee__is_active",
            "case__reference",
            "breached_at",
        )
    )

    def flush(agency_id: str | None, items: list[tuple[int | None, str, bool]]) -> None:
        if agency_id is None or not items:
            return
        staff = list(caseworkers_of({agency_id}).only("pk", "email"))
        drafts: list[NotificationDraft] = []
        for user in staff:
            mine = [(r, o) for a, r, o in items if a is None or a == user.pk]
            if not mine:
                continue
            overdue = [r for r, o in mine if o]
            soon = [r for r, o in mine if not o]
            context = {
                "date": day.isoformat(),
                "due_soon_count": len(soon),
                "overdue_count": len(overdue),
                "due_soon": "、".join(soon[:sample]) or "-",
                "overdue": "、".join(overdue[:sample]) or "-",
            }
            subject, body = template_render(DIGEST, context=context)
            payload = {"date": day.isoformat(), "overdue": len(overdue), "due_soon": len(soon)}
            message = Message(DIGEST, f"{DIGEST}:{day.isoformat()}", subject, body, payload)
            drafts += user_drafts(message, user)
            report.recipients += 1
        # A case assigned to someone of the agency who is not a caseworker (a supervisor) is in
        # nobody's digest: its assignee is told by the due-soon and overdue messages.
        if drafts:
            with transaction.atomic():
                report.notifications += len(notifications_create(drafts=drafts, now=now))

    current: str | None = None
    items: list[tuple[int | None, str, bool]] = []
    for agency_id, assignee_id, assignee_agency, active, reference, breached_at in clocks.iterator(
        chunk_size=2000
    ):
        if agency_id != current:
            flush(current, items)
            current, items = agency_id, []
        # As in the due-soon and overdue messages: only an assignee who counts.
        if not assignee_counts(
            assignee_agency_id=assignee_agency, active=bool(active), agency_code=agency_id
        ):
            assignee_id = None
        items.append((assignee_id, reference, breached_at is not None))
    flush(current, items)
    return report
