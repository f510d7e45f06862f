"""Load the demo: agencies, calendar, demo accounts and cases in every state."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from cases.demo import (
    ACCOUNTS,
    DEMO_PASSWORD,
    SZ_APPLICANT,
    DemoConflict,
    DemoResult,
    demo_load,
)
from cases.states import CaseState

# One INFO line per account and per case move is noise here; -v 2 shows them.
QUIET_LOGGERS = ("accounts.services", "cases.services")
MSG_PRODUCTION = (
    "load_demo creates accounts with a published password; it does not run with "
    "DJANGO_ENV=production."
)


class Command(BaseCommand):
    help = (
        "Load agencies, the working-day calendar, demo accounts and demo cases in every state "
        "(some overdue, some due soon). Idempotent. For local demos only."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(MSG_PRODUCTION)
        try:
            with _quiet(QUIET_LOGGERS, enabled=options["verbosity"] < 2):
                result = demo_load()
        except DemoConflict as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from exc
        self._report(result)

    def _report(self, result: DemoResult) -> None:
        out = self.stdout.write
        agencies = result.agencies
        out(
            f"Agencies: {agencies.total} ({agencies.created} created, {agencies.updated} updated, "
            f"{agencies.unchanged} unchanged)."
        )
        years = sorted(result.calendar_days)
        out(f"Calendar: {years[0]}-{years[-1]} loaded from chinesecalendar.")

        out("")
        out(f"Accounts (password: {DEMO_PASSWORD}):")
        users = {
            u.username: u
            for u in User.objects.select_related("agency").filter(
                username__in=[a.username for a in ACCOUNTS]
            )
        }
        for spec in ACCOUNTS:
            user = users[spec.username]
            where = f"{user.agency.code} {user.agency.name}" if user.agency else ""
            if user.province_wide:
                where += "（全省）"
            if user.id_number_masked:
                where = f"{user.real_name} {user.id_number_masked}"
            status = (
                "created"
                if spec.username in result.accounts_created
                else "kept, password unchanged"
            )
            out(f"  {spec.username:<14} {spec.role:<11} {where}  [{status}]")
        if result.background_accounts:
            out(
                f"  (+{result.background_accounts} applicant accounts demo_person_NN that own "
                "their cases and cannot sign in)"
            )
        out(
            self.style.WARNING(
                f"WARNING: every demo account uses the password {DEMO_PASSWORD!r}. Local demos "
                "only: never load the demo on a server anyone else can reach."
            )
        )

        out("")
        out(
            f"Cases: {result.cases_created} created, {result.cases_existing} already there"
            + (
                f", {result.cases_blocked} not created (the person has another open case)"
                if result.cases_blocked
                else ""
            )
            + "."
        )
        for state in CaseState:
            out(f"  {state.value:<22} {result.states.get(state.value, 0):>4}  {state.label}")
        out(
            f"  open stages overdue now: {result.open_overdue}; due within 3 days: "
            f"{result.open_due_soon}"
        )

        out("")
        out("What to try, with the service running (make run, or manage.py runserver):")
        out(
            "  - http://127.0.0.1:8000/ : look a case up by its reference and the last 6 "
            "characters of the ID number, or sign in as sz_applicant / cs_applicant."
        )
        out("  - /admin/ as admin; /api/docs/ for the API (POST /api/v1/auth/token/ for a token).")
        out(
            "  - GET /api/v1/cases/?overdue=true as sz_caseworker or cs_caseworker: the late ones "
            "first; ?side=in / ?side=out for each desk."
        )
        out("  - GET /api/v1/stats/sla/ as sz_supervisor or cs_supervisor.")
        if "overdue" in result.examples:
            out(
                f"  - {result.examples['overdue']} is overdue: move it with "
                "POST /api/v1/cases/<reference>/transitions/<action>/ as its agency's caseworker."
            )
        if "withdraw" in result.examples:
            out(
                f"  - As sz_applicant: see {result.examples['withdraw']} (transfer-out review in "
                "Shenzhen) and withdraw it."
            )
        if "resubmit" in result.examples:
            out(
                f"  - As cs_applicant: {result.examples['resubmit']} waits for materials; upload "
                "one on its page (/me/cases/<reference>/), send them, and watch the "
                "10-working-day clock start afresh."
            )
        if "documents" in result.examples:
            out(
                f"  - As cs_applicant: {result.examples['documents']} has its signed documents: "
                "download the information form and open the verification page its QR code names."
            )
        if "paid_out" in result.examples:
            out(
                f"  - {result.examples['paid_out']}: employee insurance to resident insurance in "
                "Changsha; the balance plus interest was paid out to the person (balance_outcome)."
            )
        if "repeat_materials" in result.examples:
            out(
                f"  - {result.examples['repeat_materials']}: materials asked for a second time, "
                "with the reason; the deadline resumes instead of restarting (materials_requests)."
            )
        if "duplicate_enrolment" in result.examples:
            out(
                f"  - {result.examples['duplicate_enrolment']}: enrolled in Shenzhen before cover "
                "stopped in Changsha: a duplicate_enrolment finding with its months."
            )
        if "merge" in result.examples:
            out(
                f"  - {result.examples['merge']}: a merge (a person insured at two places at "
                "once): Guangzhou checks and cancels its relationship (approve_transfer_out with "
                "overlap_months and refund_amount), Shenzhen keeps its own; "
                f"{result.examples.get('merge_done', '-')} is a merge already done."
            )
        if "instant" in result.examples:
            out(
                f"  - {result.examples['instant']}: Hunan's instant mode (即时办结): completed at "
                f"submission; GET /api/v1/settlements/ as cs_supervisor or hn_platform shows "
                f"what the funds owe each other ({result.statements} statement(s) drawn up)."
            )
        out("  - GET /api/v1/agencies/430100/rules/: Changsha's (demo) local rule.")
        if "withdraw" in result.examples:
            out(
                "  - Anonymously: POST /api/v1/status-lookup/ with "
                f'{{"reference": "{result.examples["withdraw"]}", '
                f'"id_number_suffix": "{SZ_APPLICANT.id_number[-6:]}"}}.'
            )
        out(
            "  - As gd_platform: submit on someone's behalf for any Guangdong agency "
            "(channel provincial_app)."
        )


@contextmanager
def _quiet(names: tuple[str, ...], *, enabled: bool) -> Iterator[None]:
    """Raise the given loggers to WARNING for the duration, then restore their levels."""
    loggers = [logging.getLogger(name) for name in names] if enabled else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
