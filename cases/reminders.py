"""Who hears what when the SLA scan claims a clock: due-soon warnings, overdue alerts, escalations
and materials reminders (the caseworkers' daily digest is cases/digest.py).

``sla_scan`` asks workflow to claim due clocks (``workflow.claims``, which knows no cases), reads
what it needs of their cases and agencies, and writes the notification rows, all in one transaction
per batch: a rollback un-claims, and the notifications' unique dedup keys stop a second message even
if a marker is cleared later (a deadline recomputed). Memory is bounded by the batch size. Who is
told is ``accounts.permissions``' business (``caseworkers_of``, ``supervisors_over``).

The claimed clocks come in groups whose messages differ only in their case's reference (same kind,
stage, agency, deadline, assignee or applicant): who is told and the texts are worked out once per
group, and the outbox makes each case's rows from the group's (``notifications_fan_out``). On
PostgreSQL a batch is the claim that reads and groups, the reads of who is told (a few rows: the
assignees, the agencies' caseworkers or supervisors, the applicants' addresses) and the INSERT that
fans out, after one probe per kind that anything is due (issue 14: 10,000 overdue clocks cost
within 1.5x of one hand-written statement).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
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
from cases.states import stage_label
from notifications.models import ChannelName
from notifications.services import (
    KEY_SLOT,
    SUBJECT_SLOT,
    DraftFan,
    NotificationDraft,
    notifications_fan_out,
)
from workflow.calendar import SHANGHAI
from workflow.claims import (
    DUE_SOON,
    ESCALATION,
    KINDS,
    MATERIALS_REMINDER,
    OVERDUE,
    ClaimJoin,
    claim_cte,
    clocks_claim,
    clocks_due,
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


@dataclass(slots=True)
class _Group:
    """Claimed clocks of one kind whose messages differ only in their case's reference: same
    stage, agency, deadline, assignee (for the staff's kinds) or applicant (for the applicant's).
    A scan's 10,000 overdue clocks are a few hundred groups, and the messages are worked out once
    per group (``DraftFan``)."""

    agency_id: str | None
    stage: str
    kind: str
    due_at: dt.datetime | None
    provisional: bool
    window_days: int | None
    breached: bool
    webhook_url: str
    province_code: str
    escalation_days: int | None
    assignee_id: int | None
    applicant_id: int | None
    phone: str
    missing_materials: tuple[str, ...]
    clock_ids: list[int] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


def sla_scan(*, now: dt.datetime | None = None, batch_size: int | None = None) -> ScanReport:
    """One scan as of ``now``: claim what is due of every kind and write its notifications."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SCAN_BATCH_SIZE
    report = ScanReport(now=now)
    for kind in KINDS:
        while clocks_due(kind, now=now):
            with transaction.atomic():
                claimed, groups = _claim_groups(kind, now=now, limit=batch_size)
                if not claimed:
                    break
                created = notifications_fan_out(fans=_fans(kind, groups), now=now)
            report.add(kind, [r for g in groups for r in g.references], len(created))
            if claimed < batch_size:
                break
    if report.claimed:
        logger.info(
            "sla scan as of %s: %s; %d notification(s)",
            now.isoformat(),
            ", ".join(f"{k}={v}" for k, v in report.counts.items()),
            report.notifications,
        )
    return report


# The group's columns as the claim reads them: the clock, its case (t), its agency (a).
_GROUP_COLUMNS: Final = (
    "claimed.agency_id",
    "claimed.stage",
    "t.kind",
    "claimed.due_at",
    "claimed.provisional",
    "claimed.window_days",
    "claimed.breached_at IS NOT NULL",
    "coalesce(a.webhook_url, '')",
    "coalesce(a.province_code, '')",
    "a.escalation_days",
)


def _person_columns(kind: str) -> tuple[str, ...]:
    """Who the message is about besides the stage: the assignee decides who of the agency is told
    of a due or late stage; the applicant is the one reminded of materials; nobody else."""
    if kind in (DUE_SOON, OVERDUE):
        return ("t.assignee_id", "CAST(NULL AS bigint)", "''", "NULL")
    if kind == MATERIALS_REMINDER:
        return ("CAST(NULL AS bigint)", "t.applicant_id", "t.phone", "t.missing_materials")
    return ("CAST(NULL AS bigint)", "CAST(NULL AS bigint)", "''", "NULL")


def _joins() -> str:
    cases, agencies = TransferCase._meta.db_table, Agency._meta.db_table
    return (
        f"JOIN {cases} t ON t.id = claimed.case_id "
        f"LEFT JOIN {agencies} a ON a.code = claimed.agency_id"
    )


def _group(row: tuple[Any, ...]) -> _Group:
    *head, missing = row
    # JSON arrives as text from a raw read (psycopg, as Django registers it, and SQLite).
    materials = json.loads(missing) if isinstance(missing, str) else missing
    return _Group(*head, missing_materials=tuple(materials or ()))


def _claim_groups(kind: str, *, now: dt.datetime, limit: int) -> tuple[int, list[_Group]]:
    """Claim a batch of ``kind``: how many clocks, in groups. On PostgreSQL the claim, the read of
    the cases and agencies and the grouping are one statement."""
    columns = (*_GROUP_COLUMNS, *_person_columns(kind))
    if connection.vendor == "postgresql":
        cte, order = claim_cte(kind)
        keys = ", ".join(str(i) for i in range(1, len(columns) + 1))
        sql = (
            f"{cte} SELECT {', '.join(columns)}, array_agg(claimed.id ORDER BY {order}), "  # noqa: S608 - this module's SQL, values are parameters
            f"array_agg(t.reference ORDER BY {order}), min({order.split(',')[0]}), min(claimed.id) "
            f"FROM claimed {_joins()} GROUP BY {keys} ORDER BY {len(columns) + 3}, {len(columns) + 4}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {"now": now, "limit": limit})
            groups = []
            for *row, ids, references, _first, _first_id in cursor.fetchall():
                group = _group(tuple(row))
                group.clock_ids, group.references = ids, references
                groups.append(group)
        return sum(len(g.clock_ids) for g in groups), groups
    # Elsewhere (SQLite): claim with the same columns, group here.
    clocks = clocks_claim(
        kind,
        now=now,
        limit=limit,
        join=ClaimJoin(columns=("t.reference", *columns), joins=_joins()),
    )
    by_key: dict[tuple[Any, ...], _Group] = {}
    for clock in clocks:
        reference, *row = clock.extra
        # SQLite gives the deadline as text and the flags as 0/1: the clock's own typed values.
        row[3], row[4], row[6] = clock.due_at, clock.provisional, clock.breached_at is not None
        key = tuple(row)
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = _group(key)
        group.clock_ids.append(clock.id)
        group.references.append(reference)
    return len(clocks), list(by_key.values())


# --- who hears about it, and what ----------------------------------------------------------------


def _format_instant(instant: dt.datetime | None) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else "-"


def _staff_recipients(groups: list[_Group]) -> list[list[User]]:
    """Users to tell, by group: the case's assignee while they count (``assignee_counts``), else
    every caseworker of the clock's agency."""
    by_pk = {
        u.pk: u
        for u in User.objects.filter(
            is_active=True, pk__in={g.assignee_id for g in groups if g.assignee_id}
        ).only("pk", "agency_id", "email", "is_active")
    }

    def assignee(g: _Group) -> User | None:
        user = by_pk.get(g.assignee_id) if g.assignee_id else None
        if user is None or not g.agency_id:
            return None
        counts = assignee_counts(
            assignee_agency_id=user.agency_id, active=user.is_active, agency_code=g.agency_id
        )
        return user if counts else None

    agencies = {g.agency_id for g in groups if g.agency_id and assignee(g) is None}
    by_agency: dict[str, list[User]] = defaultdict(list)
    if agencies:
        for u in caseworkers_of(agencies).only("pk", "agency_id", "email"):
            by_agency[u.agency_id].append(u)
    out = []
    for g in groups:
        user = assignee(g)
        out.append([user] if user is not None else by_agency.get(g.agency_id or "", []))
    return out


def _supervisors(groups: list[_Group]) -> list[list[User]]:
    """The supervisors over each group's agency (its own and province-wide ones)."""
    users = list(
        supervisors_over(
            agency_codes={g.agency_id for g in groups if g.agency_id},
            provinces={g.province_code for g in groups if g.province_code},
        ).only("pk", "agency_id", "email", "province_wide", "role")
    )
    return [[u for u in users if user_covers_agency(u, g.agency_id)] for g in groups]


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


def _applicant_drafts(message: Message, g: _Group, email: str) -> list[NotificationDraft]:
    """The applicant: in-app (own account), SMS (the case's phone), email (own account)."""
    drafts: list[NotificationDraft] = []
    if g.applicant_id:
        drafts.append(
            message.to(ChannelName.IN_APP, who=f"u{g.applicant_id}", recipient_id=g.applicant_id)
        )
    if g.phone:
        drafts.append(message.to(ChannelName.SMS, who="applicant", address=g.phone))
    if email:
        drafts.append(
            message.to(
                ChannelName.EMAIL, who="applicant", recipient_id=g.applicant_id, address=email
            )
        )
    return drafts


def _fans(kind: str, groups: list[_Group]) -> list[DraftFan]:
    """Each group's drafts, once, for all its cases (``SUBJECT_SLOT`` for the reference)."""
    if kind == DUE_SOON:
        # Claimed too late to be news: the overdue message has gone (or goes) instead.
        groups = [g for g in groups if not g.breached]
    recipients: list[list[User]] = [[] for _g in groups]
    if kind in (DUE_SOON, OVERDUE):
        recipients = _staff_recipients(groups)
    elif kind == ESCALATION:
        recipients = _supervisors(groups)
    applicant_emails: dict[int, str] = {}
    if kind == MATERIALS_REMINDER:
        applicant_emails = dict(
            User.objects.filter(pk__in={g.applicant_id for g in groups if g.applicant_id})
            .exclude(email="")
            .values_list("pk", "email")
        )
    language = APPLICANT_LANGUAGE if kind == MATERIALS_REMINDER else None
    fans = []
    for g, users in zip(groups, recipients, strict=True):
        context = {
            "reference": SUBJECT_SLOT,
            "stage": labels_in_languages(stage_label, g.stage, g.kind),
            "due_at": dated(_format_instant(g.due_at), provisional=g.provisional),
            "days_left": due_soon_days(g.window_days) if g.window_days else 0,
            "escalation_days": g.escalation_days or "",
            "missing": "、".join(g.missing_materials) or "-",
        }
        subject, body = template_render(kind, context=context, language=language)
        payload = {
            "case": SUBJECT_SLOT,
            "stage": g.stage,
            "agency": g.agency_id,
            "due_at": g.due_at.isoformat() if g.due_at else None,
            "due_provisional": g.provisional,
        }
        message = Message(kind, f"{kind}:{KEY_SLOT}", subject, body, payload, SUBJECT_SLOT)
        drafts: list[NotificationDraft] = []
        if kind == MATERIALS_REMINDER:
            drafts += _applicant_drafts(message, g, applicant_emails.get(g.applicant_id or 0, ""))
        for user in users:
            drafts += user_drafts(message, user)
        if kind in (OVERDUE, ESCALATION) and g.webhook_url:
            drafts.append(message.to(ChannelName.WEBHOOK, who="agency", address=g.webhook_url))
        fans.append(
            DraftFan(drafts=drafts, keys=[str(i) for i in g.clock_ids], references=g.references)
        )
    return fans
