"""What workflow asks of the layer above it, without importing it.

A calendar change (an import, a sync, an admin edit) must recompute the open deadlines and record
on each case whose deadline moved why it did. The clocks are workflow's (``clocks_recompute``); the
cases' timeline is not. So the layer that owns cases registers the recompute here when it starts
(``cases.apps.CasesConfig.ready``), and workflow's commands and admin call ``deadlines_recompute``.
Decision record: docs/decisions/0006-layers.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from workflow.calendar import SHANGHAI


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """One open stage whose deadline moved, as the commands print it."""

    reference: str
    stage: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime
    provisional: bool


class DeadlinesRecompute(Protocol):
    def __call__(self, *, due_since: dt.datetime | None = None) -> Sequence[DeadlineChange]: ...


_recompute: list[DeadlinesRecompute] = []


def deadlines_recompute_register(recompute: DeadlinesRecompute) -> None:
    """Called once per process by the app that owns the cases (idempotent)."""
    _recompute[:] = [recompute]


def deadlines_recompute(*, due_since: dt.datetime | None = None) -> list[DeadlineChange]:
    """Recompute open deadlines after a calendar change; what moved, one entry per stage."""
    if not _recompute:
        raise RuntimeError("no deadline recompute is registered (is the cases app installed?)")
    return list(_recompute[0](due_since=due_since))


def deadline_changes_write(
    write: Callable[[str], object], changes: Sequence[DeadlineChange]
) -> None:
    """One line per moved deadline; shared by every command that changes the calendar."""
    for change in changes:
        old = change.old_due_at.astimezone(SHANGHAI).date() if change.old_due_at else "-"
        new = change.new_due_at.astimezone(SHANGHAI).date()
        flag = " (provisional)" if change.provisional else ""
        write(f"{change.reference} {change.stage}: {old} -> {new}{flag}")
