"""Give clocks opened before 0002 the scan instants 0002 added.

0002 added ``warn_at``, ``escalate_at`` and ``remind_at`` as empty columns, and the scan only reads
clocks whose instant is set (partial indexes): without this backfill a stage open at upgrade time
would never be warned about, escalated or have its materials reminder sent. The instants are
computed exactly as ``clock_open`` does, on the working-day calendar stored in the database.
Closed clocks are left alone (the scan never reads them).
"""

from django.db import migrations
from django.db.models import Q

BATCH = 2000


def backfill(apps, schema_editor):
    from workflow.calendar import WorkingDayCalendar
    from workflow.services import clock_instants

    StageClock = apps.get_model("workflow", "StageClock")
    CalendarDay = apps.get_model("workflow", "CalendarDay")
    todo = (
        StageClock.objects.filter(
            completed_at__isnull=True,
            warn_at__isnull=True,
            escalate_at__isnull=True,
            remind_at__isnull=True,
        )
        .filter(Q(window_days__isnull=False) | Q(stage="materials_requested"))
        .select_related("agency")
        .order_by("id")
    )
    if not todo.exists():
        return
    calendar = WorkingDayCalendar.from_days(
        CalendarDay.objects.values_list("date", "is_workday").iterator(chunk_size=5000)
    )
    pending = []
    for clock in todo.iterator(chunk_size=BATCH):
        instants = clock_instants(
            calendar=calendar,
            stage=clock.stage,
            started_at=clock.started_at,
            window=clock.window_days,
            escalation_days=clock.agency.escalation_days if clock.agency_id else None,
        )
        clock.warn_at = instants.warn_at
        clock.escalate_at = instants.escalate_at
        clock.remind_at = instants.remind_at
        pending.append(clock)
        if len(pending) >= BATCH:
            StageClock.objects.bulk_update(pending, ["warn_at", "escalate_at", "remind_at"])
            pending.clear()
    if pending:
        StageClock.objects.bulk_update(pending, ["warn_at", "escalate_at", "remind_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0002_stageclock_scan_instants"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
