"""The SLA scan: due-soon warnings, overdue flags, escalations, materials reminders, the digest.

Every kind is a precomputed instant on the stage clock (``warn_at``, ``due_at``, ``escalate_at``,
``remind_at``; see ``workflow.services.clock_instants``) plus a claim marker (``warned_at``,
``breached_at``, ``escalated_at``, ``reminded_at``). A partial index holds only the open clocks whose
marker is still empty, so each query is an index probe over what is due, however many clocks are
open. A batch is claimed and its notification rows written in one transaction:

    UPDATE clock SET marker = ... FROM (SELECT id ... WHERE marker IS NULL AND instant <= now
        ORDER BY instant LIMIT batch FOR UPDATE SKIP LOCKED) ... RETURNING ...

so scans running at once (overlapping beat ticks, a second beat) claim disjoint rows, a clock is
claimed once, and the notifications' unique dedup keys stop a second message even if a marker is
cleared (a deadline recomputed later). Memory is bounded by the batch size.

On PostgreSQL that is one statement per batch; elsewhere (SQLite for ``make run``) a portable ORM
version does the same with a conditional update.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import ChannelName
from notifications.services import NotificationDraft, notifications_create
from notifications.templates import template_render
from workflow.calendar import SHANGHAI, get_calendar, local_date
from workflow.models import StageClock
from workflow.policies import Stage
from workflow.services import due_soon_days

logger = logging.getLogger(__name__)

OVERDUE: Final = "overdue"
ESCALATION: Final = "escalation"
DUE_SOON: Final = "due_soon"
MATERIALS_REMINDER: Final = "materials_reminder"
DIGEST: Final = "digest"
# Overdue first: a clock the scan reaches only after its deadline gets the overdue message, and its
# due-soon claim is then taken without a message (see _drafts).
KINDS: Final = (OVERDUE, ESCALATION, DUE_SOON, MATERIALS_REMINDER)
# The report keeps at most this many references per kind (counts are complete).
REPORT_SAMPLE: Final = 100
APPLICANT_LANGUAGE: Final = "zh-hans"

STAGE_NAMES: Final = {
    Stage.APPLIED: {"zh-hans": "转出地审核", "en": "transfer-out review"},
    Stage.MATERIALS_REQUESTED: {"zh-hans": "待补正", "en": "waiting for materials"},
    Stage.TRANSFER_OUT_APPROVED: {"zh-hans": "转入地接收", "en": "transfer-in review"},
    Stage.TRANSFER_IN_CONFIRMED: {"zh-hans": "个人账户划转", "en": "personal account transfer"},
}


@dataclass(frozen=True, slots=True)
class _Claim:
    """What the scan reads about a claimed clock. Kind -> (marker, instant, value set, extra)."""

    marker: str
    instant: str
    value_sql: str
    extra_sql: str = ""
    lock_case: bool = False
    # A deadline is the last second of its day: the stage is overdue only once it has passed.
    strict: bool = False


CLAIMS: Final = {
    # Overdue locks the case row too (it sets overdue_since), with SKIP LOCKED: a case being moved
    # right now is left for the next scan instead of waiting on (or deadlocking with) the move.
    OVERDUE: _Claim("breached_at", "due_at", "c.due_at", lock_case=True, strict=True),
    ESCALATION: _Claim("escalated_at", "escalate_at", "%(now)s", "AND c.breached_at IS NOT NULL"),
    DUE_SOON: _Claim("warned_at", "warn_at", "%(now)s"),
    MATERIALS_REMINDER: _Claim("reminded_at", "remind_at", "%(now)s"),
}


@dataclass(slots=True)
class ScanReport:
    now: dt.datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    references: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    notifications: int = 0
    batches: int = 0

    def add(self, kind: str, rows: list[dict[str, Any]], notifications: int) -> None:
        self.counts[kind] += len(rows)
        sample = self.references[kind]
        for row in rows[: max(0, REPORT_SAMPLE - len(sample))]:
            sample.append(row["reference"])
        self.notifications += notifications
        self.batches += 1

    @property
    def claimed(self) -> int:
        return sum(self.counts.values())


def sla_scan(*, now: dt.datetime | None = None, batch_size: int | None = None) -> ScanReport:
    """One scan as of ``now``: claim what is due of every kind and write its notifications."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SCAN_BATCH_SIZE
    report = ScanReport(now=now)
    for kind in KINDS:
        while True:
            with transaction.atomic():
                rows = _claim(kind, now=now, limit=batch_size)
                if not rows:
                    break
                drafts = _drafts(kind, rows, now=now)
                created = notifications_create(drafts=drafts, now=now)
            report.add(kind, rows, len(created))
            if len(rows) < batch_size:
                break
    if report.claimed:
        logger.info(
            "sla scan as of %s: %s; %d notification(s)",
            now.isoformat(),
            ", ".join(f"{k}={v}" for k, v in report.counts.items()),
            report.notifications,
        )
    return report


# --- claiming ------------------------------------------------------------------------------------

_COLUMNS = (
    "id",
    "case_id",
    "stage",
    "agency_id",
    "due_at",
    "window_days",
    "breached_at",
    "reference",
    "assignee_id",
    "applicant_id",
    "phone",
    "missing_materials",
    "webhook_url",
    "province_code",
    "escalation_days",
)


def _claim(kind: str, *, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    if connection.vendor == "postgresql":
        return _claim_postgresql(CLAIMS[kind], now=now, limit=limit)
    return _claim_portable(kind, CLAIMS[kind], now=now, limit=limit)


def _claim_postgresql(claim: _Claim, *, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    clocks = StageClock._meta.db_table
    cases = apps.get_model("cases", "TransferCase")._meta.db_table
    agencies = apps.get_model("cases", "Agency")._meta.db_table
    join = f"JOIN {cases} t ON t.id = c.case_id" if claim.lock_case else ""
    lock = "FOR UPDATE OF c, t SKIP LOCKED" if claim.lock_case else "FOR UPDATE OF c SKIP LOCKED"
    flag = (
        f", flag AS (UPDATE {cases} t SET overdue_since = claimed.due_at FROM claimed "  # noqa: S608
        "WHERE t.id = claimed.case_id)"
        if claim.lock_case
        else ""
    )
    sql = f"""
        WITH due AS (
            SELECT c.id FROM {clocks} c {join}
            WHERE c.completed_at IS NULL AND c.{claim.marker} IS NULL
              AND c.{claim.instant} {"<" if claim.strict else "<="} %(now)s {claim.extra_sql}
            ORDER BY c.{claim.instant}
            LIMIT %(limit)s
            {lock}
        ), claimed AS (
            UPDATE {clocks} c SET {claim.marker} = {claim.value_sql}
            FROM due WHERE c.id = due.id
            RETURNING c.id, c.case_id, c.stage, c.agency_id, c.due_at, c.window_days,
                      c.breached_at
        ){flag}
        SELECT claimed.*, t.reference, t.assignee_id, t.applicant_id, t.phone,
               t.missing_materials, a.webhook_url, a.province_code, a.escalation_days
        FROM claimed
        JOIN {cases} t ON t.id = claimed.case_id
        LEFT JOIN {agencies} a ON a.code = claimed.agency_id
    """  # noqa: S608 - table and column names come from this module, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": limit})
        rows = [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        # Django reads jsonb as text (JSONField decodes it); a raw cursor does the same.
        if isinstance(row["missing_materials"], str):
            row["missing_materials"] = json.loads(row["missing_materials"])
    return rows


def _claim_portable(
    kind: str, claim: _Claim, *, now: dt.datetime, limit: int
) -> list[dict[str, Any]]:
    """The same claim with the ORM (SQLite, one writer at a time): select, then a conditional
    update that only takes rows whose marker is still empty."""
    due = StageClock.objects.filter(
        completed_at__isnull=True,
        **{
            f"{claim.marker}__isnull": True,
            f"{claim.instant}__{'lt' if claim.strict else 'lte'}": now,
        },
    )
    if kind == ESCALATION:
        due = due.filter(breached_at__isnull=False)
    ids = list(due.order_by(claim.instant).values_list("id", flat=True)[:limit])
    if not ids:
        return []
    value = F("due_at") if kind == OVERDUE else now
    StageClock.objects.filter(id__in=ids, **{f"{claim.marker}__isnull": True}).update(
        **{claim.marker: value}
    )
    rows = [
        {
            "id": r["id"],
            "case_id": r["case_id"],
            "stage": r["stage"],
            "agency_id": r["agency_id"],
            "due_at": r["due_at"],
            "window_days": r["window_days"],
            "breached_at": r["breached_at"],
            "reference": r["case__reference"],
            "assignee_id": r["case__assignee_id"],
            "applicant_id": r["case__applicant_id"],
            "phone": r["case__phone"],
            "missing_materials": r["case__missing_materials"],
            "webhook_url": r["agency__webhook_url"],
            "province_code": r["agency__province_code"],
            "escalation_days": r["agency__escalation_days"],
        }
        for r in StageClock.objects.filter(id__in=ids).values(
            "id",
            "case_id",
            "stage",
            "agency_id",
            "due_at",
            "window_days",
            "breached_at",
            "case__reference",
            "case__assignee_id",
            "case__applicant_id",
            "case__phone",
            "case__missing_materials",
            "agency__webhook_url",
            "agency__province_code",
            "agency__escalation_days",
        )
    ]
    if kind == OVERDUE:
        cases = apps.get_model("cases", "TransferCase")
        for row in rows:
            cases.objects.filter(pk=row["case_id"]).update(overdue_since=row["due_at"])
    return rows


# --- who hears about it, and what ----------------------------------------------------------------


def _format_instant(instant: dt.datetime | None) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else "-"


def _staff_recipients(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Clock id -> users to tell: the case's assignee, else every caseworker of the agency.

    An assignee counts only while they are of the clock's agency: one left over from the other
    side's stage (or a moved or deactivated account) cannot act, so the agency's caseworkers are
    told instead.
    """
    rows = list(rows)
    user_model = get_user_model()
    assignees = {r["assignee_id"] for r in rows if r["assignee_id"]}
    by_pk = {
        u["pk"]: u
        for u in user_model.objects.filter(is_active=True, pk__in=assignees).values(
            "pk", "agency_id", "email"
        )
    }

    def assignee(r: dict[str, Any]) -> dict[str, Any] | None:
        user = by_pk.get(r["assignee_id"])
        return user if user is not None and user["agency_id"] == r["agency_id"] else None

    agencies = {r["agency_id"] for r in rows if r["agency_id"] and assignee(r) is None}
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if agencies:
        for u in user_model.objects.filter(
            is_active=True, role="caseworker", agency_id__in=agencies
        ).values("pk", "agency_id", "email"):
            by_agency[u["agency_id"]].append(u)
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        user = assignee(r)
        out[r["id"]] = [user] if user is not None else by_agency.get(r["agency_id"], [])
    return out


def _supervisors(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Clock id -> the supervisors of its agency (and province-wide ones of its province)."""
    rows = list(rows)
    user_model = get_user_model()
    agencies = {r["agency_id"] for r in rows if r["agency_id"]}
    provinces = {r["province_code"] for r in rows if r["province_code"]}
    users = list(
        user_model.objects.filter(is_active=True, role="supervisor")
        .filter(
            Q(agency_id__in=agencies) | Q(province_wide=True, agency__province_code__in=provinces)
        )
        .values("pk", "agency_id", "email", "province_wide", "agency__province_code")
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out[r["id"]] = [
            u
            for u in users
            if u["agency_id"] == r["agency_id"]
            or (u["province_wide"] and u["agency__province_code"] == r["province_code"])
        ]
    return out


def _user_drafts(
    kind: str, key: str, user: dict[str, Any], subject: str, body: str, common: dict[str, Any]
) -> list[NotificationDraft]:
    drafts = [
        NotificationDraft(
            dedup_key=f"{key}:u{user['pk']}:{ChannelName.IN_APP}",
            kind=kind,
            channel=ChannelName.IN_APP,
            recipient_id=user["pk"],
            subject=subject,
            body=body,
            **common,
        )
    ]
    if user.get("email"):
        drafts.append(
            NotificationDraft(
                dedup_key=f"{key}:u{user['pk']}:{ChannelName.EMAIL}",
                kind=kind,
                channel=ChannelName.EMAIL,
                recipient_id=user["pk"],
                address=user["email"],
                subject=subject,
                body=body,
                **common,
            )
        )
    return drafts


def _drafts(kind: str, rows: list[dict[str, Any]], *, now: dt.datetime) -> list[NotificationDraft]:
    drafts: list[NotificationDraft] = []
    if kind == DUE_SOON:
        # Claimed too late to be news: the overdue message has gone (or goes) instead.
        rows = [r for r in rows if r["breached_at"] is None]
    if kind in (DUE_SOON, OVERDUE):
        recipients = _staff_recipients(rows)
    elif kind == ESCALATION:
        recipients = _supervisors(rows)
    else:
        recipients = {}
    applicant_emails: dict[int, str] = {}
    if kind == MATERIALS_REMINDER:
        ids = {r["applicant_id"] for r in rows if r["applicant_id"]}
        applicant_emails = dict(
            get_user_model().objects.filter(pk__in=ids).exclude(email="").values_list("pk", "email")
        )
    for r in rows:
        key = f"{kind}:{r['id']}"
        context = {
            "reference": r["reference"],
            "stage": STAGE_NAMES.get(r["stage"], {"zh-hans": r["stage"], "en": r["stage"]}),
            "due_at": _format_instant(r["due_at"]),
            "days_left": due_soon_days(r["window_days"]) if r["window_days"] else 0,
            "escalation_days": r["escalation_days"] or "",
            "missing": "、".join(r["missing_materials"] or []) or "-",
        }
        payload = {
            "case": r["reference"],
            "stage": r["stage"],
            "agency": r["agency_id"],
            "due_at": r["due_at"].isoformat() if r["due_at"] else None,
        }
        common = {"payload": payload, "subject_ref": r["reference"]}
        if kind == MATERIALS_REMINDER:
            subject, body = template_render(kind, context=context, language=APPLICANT_LANGUAGE)
            if r["applicant_id"]:
                drafts += _user_drafts(
                    kind, key, {"pk": r["applicant_id"], "email": ""}, subject, body, common
                )
            if r["phone"]:
                drafts.append(
                    NotificationDraft(
                        dedup_key=f"{key}:applicant:{ChannelName.SMS}",
                        kind=kind,
                        channel=ChannelName.SMS,
                        address=r["phone"],
                        subject=subject,
                        body=body,
                        **common,
                    )
                )
            email = applicant_emails.get(r["applicant_id"])
            if email:
                drafts.append(
                    NotificationDraft(
                        dedup_key=f"{key}:applicant:{ChannelName.EMAIL}",
                        kind=kind,
                        channel=ChannelName.EMAIL,
                        recipient_id=r["applicant_id"],
                        address=email,
                        subject=subject,
                        body=body,
                        **common,
                    )
                )
            continue
        subject, body = template_render(kind, context=context)
        for user in recipients.get(r["id"], []):
            drafts += _user_drafts(kind, key, user, subject, body, common)
        if kind in (OVERDUE, ESCALATION) and r["webhook_url"]:
            drafts.append(
                NotificationDraft(
                    dedup_key=f"{key}:agency:{ChannelName.WEBHOOK}",
                    kind=kind,
                    channel=ChannelName.WEBHOOK,
                    address=r["webhook_url"],
                    subject=subject,
                    body=body,
                    **common,
                )
            )
    return drafts


# --- the daily digest ----------------------------------------------------------------------------


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
    user_model = get_user_model()
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
        staff = list(
            user_model.objects.filter(
                is_active=True, role="caseworker", agency_id=agency_id
            ).values("pk", "email")
        )
        assigned_elsewhere = {a for a, _r, _o in items if a} - {u["pk"] for u in staff}
        drafts: list[NotificationDraft] = []
        for user in staff:
            mine = [(r, o) for a, r, o in items if a is None or a == user["pk"]]
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
            drafts += _user_drafts(
                DIGEST,
                f"{DIGEST}:{day.isoformat()}",
                user,
                subject,
                body,
                {
                    "payload": {
                        "date": day.isoformat(),
                        "overdue": len(overdue),
                        "due_soon": len(soon),
                    }
                },
            )
            report.recipients += 1
        if assigned_elsewhere:
            # Assigned to someone of the agency who is not a caseworker (a supervisor): they are
            # told by the due-soon and overdue messages; the digest goes to caseworkers.
            logger.debug(
                "digest: %d assignee(s) of agency %s are not caseworkers",
                len(assigned_elsewhere),
                agency_id,
            )
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
        # As in the due-soon and overdue messages: only an active assignee of the agency counts.
        if assignee_agency != agency_id or not active:
            assignee_id = None
        items.append((assignee_id, reference, breached_at is not None))
    flush(current, items)
    return report
