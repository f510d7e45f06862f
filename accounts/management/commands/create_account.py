"""Create one account: an applicant, agency staff, a platform service account or an administrator."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role
from accounts.services import account_create
from core.errors import InvalidInput

# 18 random bytes: 24 URL-safe characters, about 144 bits.
GENERATED_PASSWORD_BYTES = 18


class Command(BaseCommand):
    help = (
        "Create an account. Applicants carry their verified name and ID number; caseworker, "
        "supervisor and platform accounts their agency. Without --password a strong password is "
        "generated and printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--password", help="the password (default: generate one and print it once)"
        )
        parser.add_argument(
            "--agency", dest="agency_code", help="agency code (caseworker, supervisor, platform)"
        )
        parser.add_argument(
            "--province-wide",
            action="store_true",
            help="reach every agency of the province (supervisor or platform at a xx0000 agency)",
        )
        parser.add_argument("--name", help="the applicant's verified name")
        parser.add_argument("--id-number", help="the applicant's resident ID number")
        parser.add_argument("--phone", default="", help="mobile phone number")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        try:
            user = account_create(
                role=options["role"],
                username=options["username"],
                password=password,
                agency_code=options["agency_code"],
                name=options["name"],
                id_number=options["id_number"],
                phone=options["phone"],
                province_wide=options["province_wide"],
            )
        except InvalidInput as exc:
            # The messages never repeat the ID number, so they are safe to print.
            lines = [
                f"{field}: {message}" for field, msgs in exc.errors.items() for message in msgs
            ]
            raise CommandError("No account was created.\n" + "\n".join(lines)) from exc

        details = [f"role {user.role}"]
        if user.agency is not None:
            details.append(f"agency {user.agency.code} {user.agency.name}")
        if user.province_wide:
            details.append("province-wide")
        if user.real_name:
            details.append(user.real_name)
        if user.id_number_masked:
            details.append(f"ID {user.id_number_masked}")
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} ({', '.join(details)})."))
        if generated:
            self.stdout.write(f"Password (shown only now; give it to its owner safely): {password}")
