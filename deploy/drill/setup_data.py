"""The drill's working calendars and accounts, in the drill's database.

Syncs the official working-day calendars of 2025, 2026 and 2027 (a year that cannot be loaded is
reported on stderr and skipped) and creates the accounts the load generator and the checks log in
with, all with the password given: ``cw_out`` (caseworker at 440300, the transfer-out agency),
``cw_in`` (caseworker at 430100, the transfer-in agency) and ``sup_out`` (supervisor at 440300),
each with an address ``<username>@drill.example`` for the email reminders.

Run by ``deploy/drill/drill.py`` (``Cluster.run_program("setup_data", PASSWORD)``) once the
database is migrated and the agencies loaded; ``DJANGO_SETTINGS_MODULE`` set and the project root
on ``PYTHONPATH``. Usage: ``python deploy/drill/setup_data.py PASSWORD``. Prints nothing.
"""

from __future__ import annotations

import sys

import django

YEARS = (2025, 2026, 2027)
# (username, role, agency code)
ACCOUNTS = [
    ("cw_out", "caseworker", "440300"),
    ("cw_in", "caseworker", "430100"),
    ("sup_out", "supervisor", "440300"),
]


def setup_data(password: str) -> None:
    """Sync the calendars of ``YEARS`` and create ``ACCOUNTS`` with ``password``."""
    from accounts.services import account_create
    from workflow.calendar_data import calendar_sync_year

    for year in YEARS:
        try:
            calendar_sync_year(year=year)
        except Exception as exc:
            print("calendar", year, exc, file=sys.stderr)
    for username, role, agency in ACCOUNTS:
        user = account_create(role=role, username=username, password=password, agency_code=agency)
        user.email = username + "@drill.example"
        user.save(update_fields=["email"])


def main(argv: list[str]) -> int:
    """``argv``: the arguments after the program name, ``[PASSWORD]``."""
    if len(argv) != 1:
        print("usage: setup_data.py PASSWORD", file=sys.stderr)
        return 2
    django.setup()
    setup_data(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
