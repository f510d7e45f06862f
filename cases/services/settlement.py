"""Settlement between the funds (先划转后清算, domain.md "Provinces' own modes").

An instant-mode case credits (or pays out) the balance at the transfer-in agency at once; the
transfer-out agency's fund owes it that amount: a ``SettlementItem``, opened in the case's own
transaction. Once a period is over, its items are drawn into one ``SettlementStatement`` per pair of
funds (a command and a daily beat task), whose total is the sum of its items; the fund owed marks
the statement settled, once, with who and when, and its items with it. A statement, once drawn up,
never changes otherwise, nor do its items.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.db import models, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import user_may_settle
from cases.errors import ActionForbidden
from cases.models import SettlementItem, SettlementStatement, TransferCase
from core.errors import InvalidInput
from workflow.calendar import local_date

logger = logging.getLogger(__name__)

SETTLE: Final = "settle"
MSG_PERIOD_NOT_OVER: Final = _(
    "The period is not over yet: a statement is drawn up once its last day has passed."
)
MSG_MAY_NOT_SETTLE: Final = _(
    "Only the fund that is owed (its supervisors or platform account) marks a statement settled."
)


@dataclass(frozen=True, slots=True)
class Period:
    """A settlement period: one calendar month, Asia/Shanghai dates."""

    start: dt.date
    end: dt.date

    @property
    def code(self) -> str:
        return self.start.strftime("%Y-%m")

    @classmethod
    def of(cls, day: dt.date) -> Period:
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return cls(start=start, end=following - dt.timedelta(days=1))

    def previous(self) -> Period:
        return Period.of(self.start - dt.timedelta(days=1))


def settlement_item_open(
    *, case: TransferCase, amount: Decimal, now: dt.datetime
) -> SettlementItem:
    """The fund of ``case.from_agency`` owes ``case.to_agency``'s ``amount`` (inside the caller's
    transaction: the item exists exactly when the instant case does)."""
    return SettlementItem.objects.create(
        case=case,
        payer_id=case.from_agency_id,
        payee_id=case.to_agency_id,
        amount=amount,
        opened_at=now,
        day=local_date(now),
    )


def _number(period: Period, payer: str, payee: str) -> str:
    return f"QS{period.start:%Y%m}-{payer}-{payee}"


def settlement_statements_draw(
    *, period: Period, now: dt.datetime | None = None
) -> list[SettlementStatement]:
    """Draw up the statements of ``period`` (over by now) for every pair of funds with items not
    yet drawn; the ones drawn up now (an empty list when all were already: idempotent). Each pair
    is its own transaction: its items locked, the statement written with their sum, the items
    bound to it."""
    now = now or timezone.now()
    if period.end >= local_date(now):
        raise InvalidInput({"period": [str(MSG_PERIOD_NOT_OVER)]}, code="period_not_over")
    undrawn = SettlementItem.objects.filter(
        statement__isnull=True, day__gte=period.start, day__lte=period.end
    )
    pairs = list(
        undrawn.values_list("payer_id", "payee_id").distinct().order_by("payer_id", "payee_id")
    )
    drawn: list[SettlementStatement] = []
    for payer, payee in pairs:
        with transaction.atomic():
            if SettlementStatement.objects.filter(
                payer_id=payer, payee_id=payee, period_start=period.start
            ).exists():
                continue  # drawn by a concurrent run; its items are bound to it
            items = list(
                undrawn.filter(payer_id=payer, payee_id=payee)
                .select_for_update()
                .order_by("id")
                .values_list("id", "amount")
            )
            if not items:
                continue
            statement = SettlementStatement.objects.create(
                number=_number(period, payer, payee),
                payer_id=payer,
                payee_id=payee,
                period_start=period.start,
                period_end=period.end,
                total=sum((amount for _id, amount in items), Decimal("0.00")),
                item_count=len(items),
                created_at=now,
            )
            # The one write to items outside their creation: bound to the statement whose total
            # was just taken from them, under the lock that keeps them as they were summed.
            models.QuerySet.update(
                SettlementItem.objects.filter(pk__in=[pk for pk, _amount in items]),
                statement=statement,
            )
            drawn.append(statement)
    if drawn:
        logger.info("settlement drawn period=%s statements=%d", period.code, len(drawn))
    return drawn


def settlement_statements_draw_due(*, now: dt.datetime | None = None) -> list[SettlementStatement]:
    """Draw up every period that is over and still has items not drawn (the beat task's and the
    demo's call: a month missed is caught up by the next run)."""
    now = now or timezone.now()
    current = Period.of(local_date(now))
    days = (
        SettlementItem.objects.filter(statement__isnull=True, day__lt=current.start)
        .values_list("day", flat=True)
        .distinct()
    )
    periods = sorted({Period.of(day) for day in days}, key=lambda p: p.start)
    drawn: list[SettlementStatement] = []
    for period in periods:
        drawn += settlement_statements_draw(period=period, now=now)
    return drawn


def settlement_statement_settle(
    *, statement: SettlementStatement, actor: Any, now: dt.datetime | None = None
) -> SettlementStatement:
    """Mark a statement settled (the money arrived at the fund owed), and its items with it, in
    one transaction. Settling a settled statement changes nothing (a retried request)."""
    now = now or timezone.now()
    if not user_may_settle(actor, statement.payee_id):
        raise ActionForbidden(SETTLE, str(MSG_MAY_NOT_SETTLE))
    with transaction.atomic():
        locked = SettlementStatement.objects.select_for_update().get(pk=statement.pk)
        if locked.is_settled:
            return locked
        locked.settled_at = now
        locked.settled_by = actor
        locked.save(update_fields=["settled_at", "settled_by"])
        models.QuerySet.update(
            SettlementItem.objects.filter(statement=locked), settled_at=now, settled_by=actor
        )
    logger.info("settlement settled number=%s by=%s", locked.number, actor.pk)
    return locked


def statement_problems(statement: SettlementStatement) -> list[str]:
    """How a statement differs from its items (none: it is whole). The check the database's
    trigger makes on PostgreSQL, for every backend and for operators."""
    found = SettlementItem.objects.filter(statement=statement).aggregate(
        total=Sum("amount"), count=Count("id")
    )
    problems = []
    total = found["total"] or Decimal("0.00")
    if total != statement.total:
        problems.append(f"total {statement.total} but items sum to {total}")
    if found["count"] != statement.item_count:
        problems.append(f"{statement.item_count} items stated but {found['count']} bound")
    if (
        statement.is_settled
        and SettlementItem.objects.filter(statement=statement, settled_at__isnull=True).exists()
    ):
        problems.append("settled, but not all its items are")
    return problems
