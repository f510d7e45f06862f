"""Fixtures for the working-day calendar: real chinesecalendar data loaded through the services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accounts.models import Role, User
from workflow.calendar_data import calendar_sync
from workflow.models import CalendarDay, CalendarRevision, CalendarYear


def calendar_revision() -> int:
    return CalendarRevision.objects.filter(pk=1).values_list("revision", flat=True).first() or 0


def calendar_snapshot() -> tuple[int, int, int, int]:
    """What a refused write must leave untouched: row counts, revision, days not from the sync."""
    return (
        CalendarDay.objects.count(),
        CalendarYear.objects.count(),
        calendar_revision(),
        CalendarDay.objects.exclude(source="chinesecalendar").count(),
    )


@pytest.fixture
def calendar_all(db: Any) -> None:
    """Every year chinesecalendar covers (2004-2026)."""
    calendar_sync()


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to a file called ``name`` and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def calendar_admin(db: Any) -> User:
    return User.objects.create_superuser(
        username="calendar_admin", password="pw-calendar-admin", role=Role.ADMIN
    )
