"""Load the shipped agency list (or another file in the same format)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agencies.services import AGENCIES_FILE, AgencyFileError, agencies_load


class Command(BaseCommand):
    help = (
        "Create or update every agency of the agency list (all provinces and prefecture-level "
        "pooling areas, GB/T 2260 codes). Idempotent; windows and policies edited locally are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            dest="path",
            default=None,
            help=f"a CSV file in the shipped format (default: {AGENCIES_FILE})",
        )

    def handle(self, *args: Any, path: str | None, **options: Any) -> None:
        try:
            result = agencies_load(path=path)
        except AgencyFileError as exc:
            raise CommandError(
                "Nothing was loaded; fix the file and run again:\n" + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.total} agencies: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged; {result.modes_created} intra-province modes "
                "added."
            )
        )
