"""Make the development CA and the signing certificates of the agencies that issue documents."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agencies.models import Agency
from cases.models import TransferCase
from documents.pki import dev_ca_ensure, pki_dir, signing_identity


class Command(BaseCommand):
    help = (
        "Create the development CA and a signing certificate for each agency with cases (or the "
        "given codes) under DOCUMENT_PKI_DIR. Development and tests only: production brings each "
        "agency's own certificate and key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="*", help="agency codes (default: those with cases)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DOCUMENT_DEV_PKI:
            raise CommandError(
                "DOCUMENT_DEV_PKI is off (production): install each agency's key and certificate "
                f"as {pki_dir()}/agency-<code>.key and agency-<code>.crt instead."
            )
        dev_ca_ensure()
        codes = options["codes"] or sorted(
            set(TransferCase.objects.values_list("from_agency_id", flat=True))
            | set(TransferCase.objects.values_list("to_agency_id", flat=True))
        )
        agencies = list(Agency.objects.filter(code__in=codes))
        unknown = set(codes) - {a.code for a in agencies}
        if unknown:
            raise CommandError(f"unknown agency codes: {', '.join(sorted(unknown))}")
        for agency in agencies:
            signing_identity(agency)
        self.stdout.write(
            f"Development CA and {len(agencies)} agency certificates in {pki_dir()} "
            "(trusted by nobody else: for trying and testing only)."
        )
