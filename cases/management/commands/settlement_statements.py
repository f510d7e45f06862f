"""Draw up the settlement statements of a month (先划转后清算): one per pair of funds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.inputs import period_parse
from cases.services.settlement import Period, settlement_statements_draw, statement_problems
from core.errors import InvalidInput
from workflow.calendar import local_date


class Command(BaseCommand):
    help = (
        "Draw up the settlement statements of a month for every pair of funds with instant-mode "
        "items not yet drawn (default: last month). Idempotent: a pair already drawn is skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", default=None, help="the month, YYYY-MM (Asia/Shanghai)")

    def handle(self, *args: Any, period: str | None, **options: Any) -> None:
        if period is None:
            chosen = Period.of(local_date(timezone.now())).previous()
        else:
            try:
                chosen = Period.of(period_parse(period))
            except ValidationError as exc:
                raise CommandError(f"--period {period!r}: {' '.join(exc.messages)}") from exc
        try:
            drawn = settlement_statements_draw(period=chosen)
        except InvalidInput as exc:
            raise CommandError("; ".join(m for msgs in exc.errors.values() for m in msgs)) from exc
        for statement in drawn:
            problems = statement_problems(statement)
            note = f" PROBLEM: {'; '.join(problems)}" if problems else ""
            self.stdout.write(
                f"{statement.number}: {statement.item_count} items, {statement.total} yuan{note}"
            )
        self.stdout.write(self.style.SUCCESS(f"{chosen.code}: {len(drawn)} statements drawn up."))
