"""Who hears what when the SLA scan claims a clock: due-soon warnings, overdue alerts, escalations
and materials reminders (the caseworkers' daily digest is cases/digest.py).

``sla_scan`` asks workflow to claim due clocks (``workflow.claims``, which knows no cases), reads
what it needs of their cases and agencies, and writes the notification rows, all in one transaction
per batch: a rollback un-claims, and the notifications' unique dedup keys stop a second message even
if a marker is cleared later (a deadline recomputed). Memory is bounded by the batch size. Who is
told is ``accounts.permissions``' business (``caseworkers_of``, ``supervisors_over``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import (
    assignee_counts,
    caseworkers_of,
    supervisors_over,
    user_covers_agency,
)
from agencies.models import Agency
from cases.messages import APPLICANT_LANGUAGE, dated, labels_in_languages, template_render
from cases.models import TransferCase
from cases.states import CaseKind, stage_label
from notifications.models import ChannelName
from notifications.services import NotificationDraft, notifications_create
from workflow.calendar import SHANGHAI
from workflow.claims import (
    DUE_SOON,
    ESCALATION,
    KINDS,
    MATERIALS_REMINDER,
    OVERDUE,
    ClaimedClock,
    clocks_claim,
)
from workflow.services import due_soon_days

logger = logging.getLogger(__name__)

# The report keeps at most this many references per kind (counts are complete).
REPORT_SAMPLE: Final = 100


@dataclass(slots=True)
class ScanReport:
    now: dt.datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    references: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    notifications: int = 0
    batches: int = 0

    def add(self, kind: str, references: list[str], notifications: int) -> None:
        self.counts[kind] += len(references)
        sample = self.references[kind]
        sample.extend(references[: max(0, REPORT_SAMPLE - len(sample))])
        self.notifications += notifications
        self.batches += 1

    @property
    def claimed(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class _Due:
    """A claimed clock with what the messages need of its case and agency."""

    clock: ClaimedClock
    reference: str
    assignee_id: int | None
    applicant_id: int | None
    phone: str
    missing_materials: list[str]
    webhook_url: str
    province_code: str
    escalation_days: int | None
    kind: str = CaseKind.TRANSFER


def sla_scan(*, now: dt.datetime | None = None, batch_size: int | None = None) -> ScanReport:
    """One scan as of ``now``: claim what is due of every kind and write its notifications."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SCAN_BATCH_SIZE
    report = ScanReport(now=now)
    for kind in KINDS:
        while True:
            with transaction.atomic():
                clocks = clocks_claim(kind, now=now, limit=batch_size)
                if not clocks:
                    break
                due = _with_cases(clocks)
                created = notifications_create(drafts=_drafts(kind, due), now=now)
            report.add(kind, [d.reference for d in due], len(created))
            if len(clocks) < batch_size:
                break
    if report.claimed:
        logger.info(
            "sla scan as of %s: %s; %d notification(s)",
            now.isoformat(),
            ", ".join(f"{k}={v}" for k, v in report.counts.items()),
            report.notifications,
        )
    return report


def _with_cases(clocks: list[ClaimedClock]) -> list[_Due]:
    """The claimed clocks' cases and agencies, in two queries whatever the batch size."""
    cases = {
        row["pk"]: row
        for row in TransferCase.objects.filter(pk__in={c.case_id for c in clocks}).values(
            "pk", "reference", "assignee_id", "applicant_id", "phone", "missing_materials", "kind"
        )
    }
    agencies = {
        row["code"]: row
        for row in Agency.objects.filter(
            code__in={c.agency_id for c in clocks if c.agency_id}
        ).values("code", "webhook_url", "province_code", "escalation_days")
    }
    no_agency = {"webhook_url": "", "province_code": "", "escalation_days": None}
    out = []
    for clock in clocks:
        case = cases[clock.case_id]
        agency = agencies.get(clock.agency_id or "", no_agency)
        out.append(
            _Due(
                clock=clock,
                reference=case["reference"],
                assignee_id=case["assignee_id"],
                applicant_id=case["applicant_id"],
                phone=case["phone"],
                missing_materials=list(case["missing_materials"] or []),
                webhook_url=agency["webhook_url"],
                province_code=agency["province_code"],
                escalation_days=agency["escalation_days"],
                kind=case["kind"],
            )
        )
    return out


# --- who hears about it, and what ----------------------------------------------------------------


def _format_instant(instant: dt.datetime | None) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else "-"


def _staff_recipients(due: Iterable[_Due]) -> dict[int, list[User]]:
    """Clock id -> users to tell: the case's assignee while they count (``assignee_counts``),
    else every caseworker of the clock's agency."""
    due = list(due)
    by_pk = {
        u.pk: u
        for u in User.objects.filter(
            is_active=True, pk__in={d.assignee_id for d in due if d.assignee_id}
        ).only("pk", "agency_id", "email", "is_active")
    }

    def assignee(d: _Due) -> User | None:
        user = by_pk.get(d.assignee_id) if d.assignee_id else None
        if user is None or not d.clock.agency_id:
            return None
        counts = assignee_counts(
            assignee_agency_id=user.agency_id, active=user.is_active, agency_code=d.clock.agency_id
        )
        return user if counts else None

    agencies = {d.clock.agency_id for d in due if d.clock.agency_id and assignee(d) is None}
    by_agency: dict[str, list[User]] = defaultdict(list)
    if agencies:
        for u in caseworkers_of(agencies).only("pk", "agency_id", "email"):
            by_agency[u.agency_id].append(u)
    out: dict[int, list[User]] = {}
    for d in due:
        user = assignee(d)
        out[d.clock.id] = [user] if user is not None else by_agency.get(d.clock.agency_id or "", [])
    return out


def _supervisors(due: Iterable[_Due]) -> dict[int, list[User]]:
    """Clock id -> the supervisors over its agency (its own and province-wide ones)."""
    due = list(due)
    users = list(
        supervisors_over(
            agency_codes={d.clock.agency_id for d in due if d.clock.agency_id},
            provinces={d.province_code for d in due if d.province_code},
        ).only("pk", "agency_id", "email", "province_wide", "role")
    )
    return {d.clock.id: [u for u in users if user_covers_agency(u, d.clock.agency_id)] for d in due}


@dataclass(frozen=True, slots=True)
class Message:
    """One text about one thing (``key``), to be sent on several channels to several people; each
    draft's dedup key is ``<key>:<who>:<channel>``."""

    kind: str
    key: str
    subject: str
    body: str
    payload: dict[str, Any]
    subject_ref: str = ""

    def to(
        self, channel: str, *, who: str, recipient_id: int | None = None, address: str = ""
    ) -> NotificationDraft:
        return NotificationDraft(
            dedup_key=f"{self.key}:{who}:{channel}",
            kind=self.kind,
            channel=channel,
            recipient_id=recipient_id,
            address=address,
            subject=self.subject,
            body=self.body,
            payload=self.payload,
            subject_ref=self.subject_ref,
        )


def user_drafts(message: Message, user: User) -> list[NotificationDraft]:
    """A staff member: in the inbox, and by email where the account has an address."""
    who = f"u{user.pk}"
    drafts = [message.to(ChannelName.IN_APP, who=who, recipient_id=user.pk)]
    if user.email:
        drafts.append(
            message.to(ChannelName.EMAIL, who=who, recipient_id=user.pk, address=user.email)
        )
    return drafts


def _applicant_drafts(message: Message, d: _Due, email: str) -> list[NotificationDraft]:
    """The applicant: in-app (own account), SMS (the case's phone), email (own account)."""
    drafts: list[NotificationDraft] = []
    if d.applicant_id:
        drafts.append(
            message.to(ChannelName.IN_APP, who=f"u{d.applicant_id}", recipient_id=d.applicant_id)
        )
    if d.phone:
        drafts.append(message.to(ChannelName.SMS, who="applicant", address=d.phone))
    if email:
        drafts.append(
            message.to(
                ChannelName.EMAIL, who="applicant", recipient_id=d.applicant_id, address=email
            )
        )
    return drafts


def _drafts(kind: str, due: list[_Due]) -> list[NotificationDraft]:
    if kind == DUE_SOON:
        # Claimed too late to be news: the overdue message has gone (or goes) instead.
        due = [d for d in due if d.clock.breached_at is None]
    recipients: dict[int, list[User]] = {}
    if kind in (DUE_SOON, OVERDUE):
        recipients = _staff_recipients(due)
    elif kind == ESCALATION:
        recipients = _supervisors(due)
    applicant_emails: dict[int, str] = {}
    if kind == MATERIALS_REMINDER:
        applicant_emails = dict(
            User.objects.filter(pk__in={d.applicant_id for d in due if d.applicant_id})
            .exclude(email="")
            .values_list("pk", "email")
        )
    drafts: list[NotificationDraft] = []
    for d in due:
        clock = d.clock
        key = f"{kind}:{clock.id}"
        context = {
            "reference": d.reference,
            "stage": labels_in_languages(stage_label, clock.stage, d.kind),
            "due_at": dated(_format_instant(clock.due_at), provisional=clock.provisional),
            "days_left": due_soon_days(clock.window_days) if clock.window_days else 0,
            "escalation_days": d.escalation_days or "",
            "missing": "、".join(d.missing_materials) or "-",
        }
        payload = {
            "case": d.reference,
            "stage": clock.stage,
            "agency": clock.agency_id,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
            "due_provisional": clock.provisional,
        }
        language = APPLICANT_LANGUAGE if kind == MATERIALS_REMINDER else None
        subject, body = template_render(kind, context=context, language=language)
        message = Message(kind, key, subject, body, payload, subject_ref=d.reference)
        if kind == MATERIALS_REMINDER:
            drafts += _applicant_drafts(message, d, applicant_emails.get(d.applicant_id or 0, ""))
            continue
        for user in recipients.get(clock.id, []):
            drafts += user_drafts(message, user)
        if kind in (OVERDUE, ESCALATION) and d.webhook_url:
            drafts.append(message.to(ChannelName.WEBHOOK, who="agency", address=d.webhook_url))
    return drafts
