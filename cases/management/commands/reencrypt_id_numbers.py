from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.keys import ReencryptReport, id_numbers_reencrypt

MSG_UNREADABLE = (
    "{count} row(s) in {table} cannot be decrypted with any key in ID_NUMBER_KEYS (ids: {ids}); "
    "put the key they were written with back in the list"
)


class Command(BaseCommand):
    help = (
        "Re-encrypt stored ID numbers (cases and applicant accounts) with the first key of "
        "ID_NUMBER_KEYS, in batches; idempotent and safe to interrupt and run again. "
        "--check only counts what is left and fails when anything is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; exit non-zero while any row is not on the newest key",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        check = options["check"]

        def progress(report: ReencryptReport) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(
                    f"  {report.table}: {report.examined} examined, "
                    f"{report.reencrypted} re-encrypted"
                )

        reports = id_numbers_reencrypt(
            batch_size=options["batch_size"], dry_run=check, on_batch=progress
        )
        verb = "to re-encrypt" if check else "re-encrypted"
        for r in reports:
            self.stdout.write(
                f"{r.table}: {r.examined} examined, {r.reencrypted} {verb}, "
                f"{r.current} already on the newest key, {len(r.unreadable)} unreadable"
            )
        problems = [
            MSG_UNREADABLE.format(
                count=len(r.unreadable),
                table=r.table,
                ids=", ".join(map(str, r.unreadable[:20]))
                + ("..." if len(r.unreadable) > 20 else ""),
            )
            for r in reports
            if r.unreadable
        ]
        if check and any(r.reencrypted for r in reports):
            problems.append("rows remain on an older key: run without --check")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("every ID number is on the newest key"))
