"""Fill ``StageTally`` (0006) from the clocks completed before it existed.

Counted exactly as ``cases.selectors.sla_stats`` counted the clocks before the roll-up: clocks
with an agency and a deadline, completed by anything but a request for materials (which only stops
a clock), per Asia/Shanghai day of completion; on time when completed at or before the deadline.
The clocks are read in ranges of ids, each range summed by the database, so memory is bounded by
the number of (day, stage, agency) rows, never by the number of clocks; the same statements run on
SQLite and PostgreSQL.
"""

import zoneinfo

from django.db import migrations
from django.db.models import Count, F, Max, Min, Q
from django.db.models.functions import TruncDate

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Frozen here: the action that stops a clock without completing its stage (cases.states).
NOT_COMPLETING = ("request_materials",)
CHUNK = 50_000


def backfill(apps, schema_editor, *, chunk=CHUNK):
    StageClock = apps.get_model("workflow", "StageClock")
    StageTally = apps.get_model("workflow", "StageTally")
    counted = StageClock.objects.filter(
        completed_at__isnull=False, agency__isnull=False, due_at__isnull=False
    ).exclude(closed_by__in=NOT_COMPLETING)
    bounds = counted.aggregate(lo=Min("id"), hi=Max("id"))
    totals = {}
    if bounds["lo"] is not None:
        for start in range(bounds["lo"], bounds["hi"] + 1, chunk):
            rows = (
                counted.filter(id__gte=start, id__lt=start + chunk)
                .annotate(day=TruncDate("completed_at", tzinfo=SHANGHAI))
                .values("day", "stage", "agency_id")
                .annotate(
                    completed=Count("id"),
                    on_time=Count("id", filter=Q(completed_at__lte=F("due_at"))),
                )
                .order_by()
            )
            for r in rows:
                total = totals.setdefault((r["day"], r["stage"], r["agency_id"]), [0, 0])
                total[0] += r["completed"]
                total[1] += r["on_time"]
    # The table is new (0006); emptied anyway so the backfill can be run again to the same result.
    StageTally.objects.all().delete()
    StageTally.objects.bulk_create(
        [
            StageTally(day=day, stage=stage, agency_id=agency, completed=c, on_time=t)
            for (day, stage, agency), (c, t) in sorted(totals.items())
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0006_stagetally"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
