"""Claiming due stage clocks: the time half of the SLA scan. Knows no cases.

Every kind is a precomputed instant on the stage clock (``warn_at``, ``due_at``, ``escalate_at``,
``remind_at``; see ``workflow.services.clock_instants``) plus a claim marker (``warned_at``,
``breached_at``, ``escalated_at``, ``reminded_at``). A partial index holds only the open clocks whose
marker is still empty, so each claim is an index probe over what is due, however many clocks are
open. On PostgreSQL a batch is claimed with one statement:

    WITH due AS (SELECT id ... WHERE marker IS NULL AND instant <= now
                 ORDER BY instant LIMIT batch FOR UPDATE SKIP LOCKED)
    UPDATE clock SET marker = ... FROM due ... RETURNING ...

so claims running at once (overlapping beat ticks, a second beat) take disjoint rows and a clock is
claimed once. A transition locks its case's open clock right after the case row
(``workflow.services.clock_hold``), so a stage being completed right now is skipped, and the next
scan finds it closed. Elsewhere (SQLite for ``make run``) a portable ORM version does the same with a
conditional update. ``cases.reminders`` calls these inside its transaction and decides who is told.

A caller that needs something of the claimed clocks' subjects (their cases, their agencies) names it
as a ``ClaimJoin``: SQL columns over tables it joins to ``claimed`` (the clock as claimed). On
PostgreSQL they come back from the claim's own statement, so a batch costs one round trip and no
second read of 2,000 rows by key (issue 14); elsewhere from one read after the claim. This module
still knows no case: the caller writes the join.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from django.db import connection
from django.db.models import F, QuerySet

from workflow.models import StageClock

OVERDUE: Final = "overdue"
ESCALATION: Final = "escalation"
DUE_SOON: Final = "due_soon"
MATERIALS_REMINDER: Final = "materials_reminder"
# Overdue first: a clock reached only after its deadline gets the overdue message, and its due-soon
# claim is then taken without one (cases.reminders).
KINDS: Final = (OVERDUE, ESCALATION, DUE_SOON, MATERIALS_REMINDER)


@dataclass(frozen=True, slots=True)
class _Claim:
    marker: str
    instant: str
    # The marker's new value: the deadline itself for overdue (when it became late), else now.
    marks_with_due_at: bool = False
    # Escalation only follows an overdue flag.
    needs_breach: bool = False
    # A deadline is the last second of its day: the stage is overdue only once it has passed.
    strict: bool = False


CLAIMS: Final = {
    OVERDUE: _Claim("breached_at", "due_at", marks_with_due_at=True, strict=True),
    ESCALATION: _Claim("escalated_at", "escalate_at", needs_breach=True),
    DUE_SOON: _Claim("warned_at", "warn_at"),
    MATERIALS_REMINDER: _Claim("reminded_at", "remind_at"),
}


@dataclass(frozen=True, slots=True)
class ClaimJoin:
    """Columns to read with the claim: ``columns`` are SQL expressions over ``claimed`` (the clock
    as claimed) and what ``joins`` (``LEFT JOIN t ON t.id = claimed.case_id ...``) brings in; their
    values arrive as ``ClaimedClock.extra``, in order, as the database driver gives them (JSON as
    text). Both are the caller's SQL: no value goes in them."""

    columns: tuple[str, ...]
    joins: str


@dataclass(frozen=True, slots=True)
class ClaimedClock:
    """A clock as the claim left it (``breached_at`` after the claim), with the ``ClaimJoin``'s
    columns as ``extra``."""

    id: int
    case_id: int
    stage: str
    agency_id: str | None
    due_at: dt.datetime | None
    window_days: int | None
    breached_at: dt.datetime | None
    provisional: bool
    extra: tuple = ()


_COLUMNS: Final = (
    "id",
    "case_id",
    "stage",
    "agency_id",
    "due_at",
    "window_days",
    "breached_at",
    "provisional",
)


def clocks_claim(
    kind: str, *, now: dt.datetime, limit: int, join: ClaimJoin | None = None
) -> list[ClaimedClock]:
    """Claim up to ``limit`` open clocks of ``kind`` due at ``now``, most overdue first, with
    ``join``'s columns.

    Call inside a transaction that also writes what the claim causes: a rollback un-claims.
    """
    if connection.vendor == "postgresql":
        return _claim_postgresql(kind, now=now, limit=limit, join=join)
    return _claim_portable(CLAIMS[kind], now=now, limit=limit, join=join)


def clocks_due(kind: str, *, now: dt.datetime) -> bool:
    """Whether any open clock of ``kind`` is due at ``now``: one index probe, outside any
    transaction. A scan asks before it claims, so that a tick with nothing due (most of them)
    costs no transaction and no planning of the claim's statement (P2)."""
    return _due(CLAIMS[kind], now).exists()


def _due(claim: _Claim, now: dt.datetime) -> QuerySet[StageClock]:
    due = StageClock.objects.filter(
        completed_at__isnull=True,
        **{
            f"{claim.marker}__isnull": True,
            f"{claim.instant}__{'lt' if claim.strict else 'lte'}": now,
        },
    )
    return due.filter(breached_at__isnull=False) if claim.needs_breach else due


def claim_cte(kind: str) -> tuple[str, str]:
    """The claim of a batch of ``kind`` as PostgreSQL's ``WITH due AS (...), claimed AS (UPDATE
    ... RETURNING c.*)`` (parameters ``now`` and ``limit``), and its order (most overdue first),
    for a caller that reads what it needs of the claimed clocks and their subjects in the same
    statement: ``{cte} SELECT ... FROM claimed JOIN ... ORDER BY {order}``."""
    claim = CLAIMS[kind]
    table = StageClock._meta.db_table
    value = "c.due_at" if claim.marks_with_due_at else "%(now)s"
    breached = "AND c.breached_at IS NOT NULL" if claim.needs_breach else ""
    cte = f"""
        WITH due AS (
            SELECT c.id FROM {table} c
            WHERE c.completed_at IS NULL AND c.{claim.marker} IS NULL
              AND c.{claim.instant} {"<" if claim.strict else "<="} %(now)s {breached}
            ORDER BY c.{claim.instant}
            LIMIT %(limit)s
            FOR UPDATE OF c SKIP LOCKED
        ), claimed AS (
            UPDATE {table} c SET {claim.marker} = {value}
            FROM due WHERE c.id = due.id
            RETURNING c.*
        )
    """  # noqa: S608 - table and column names come from this module, values are parameters
    return cte, f"claimed.{claim.instant}, claimed.id"


def _claim_postgresql(
    kind: str, *, now: dt.datetime, limit: int, join: ClaimJoin | None
) -> list[ClaimedClock]:
    cte, order = claim_cte(kind)
    extra = "".join(f", {column}" for column in join.columns) if join else ""
    sql = (
        f"{cte} SELECT {', '.join(f'claimed.{col}' for col in _COLUMNS)}{extra} "  # noqa: S608 - as above and the caller's join
        f"FROM claimed {join.joins if join else ''} ORDER BY {order}"
    )
    width = len(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": limit})
        return [ClaimedClock(*row[:width], extra=row[width:]) for row in cursor.fetchall()]


def _claim_portable(
    claim: _Claim, *, now: dt.datetime, limit: int, join: ClaimJoin | None
) -> list[ClaimedClock]:
    """The same claim with the ORM (SQLite, one writer at a time): select, then a conditional
    update that only takes rows whose marker is still empty."""
    due = _due(claim, now)
    ids = list(due.order_by(claim.instant, "id").values_list("id", flat=True)[:limit])
    if not ids:
        return []
    value = F("due_at") if claim.marks_with_due_at else now
    StageClock.objects.filter(id__in=ids, **{f"{claim.marker}__isnull": True}).update(
        **{claim.marker: value}
    )
    rows = (
        StageClock.objects.filter(id__in=ids).order_by(claim.instant, "id").values_list(*_COLUMNS)
    )
    if join is None:
        return [ClaimedClock(*row) for row in rows]
    table = StageClock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT claimed.id, {', '.join(join.columns)} FROM {table} claimed {join.joins} "  # noqa: S608 - as above
            f"WHERE claimed.id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        extras = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
    return [ClaimedClock(*row, extra=extras[row[0]]) for row in rows]
