"""Fill ``RepeatRequestTally`` (0018) from the materials requests made before it existed.

Counted exactly as ``cases.selectors.sla_stats`` counted the events before the roll-up: every
``request_materials`` event carrying a ``repeat_reason`` (a request after the case's first), per
Asia/Shanghai day of the event and the case's transfer-out agency. Events are read in ranges of ids,
each range summed by the database (SQLite and PostgreSQL alike), so memory is bounded by the number
of (day, agency) rows.
"""

import zoneinfo

from django.db import migrations
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CHUNK = 50_000


def backfill(apps, schema_editor, *, chunk=CHUNK):
    CaseEvent = apps.get_model("cases", "CaseEvent")
    RepeatRequestTally = apps.get_model("cases", "RepeatRequestTally")
    repeats = CaseEvent.objects.filter(action="request_materials", data__has_key="repeat_reason")
    bounds = repeats.aggregate(lo=Min("id"), hi=Max("id"))
    totals = {}
    if bounds["lo"] is not None:
        for start in range(bounds["lo"], bounds["hi"] + 1, chunk):
            rows = (
                repeats.filter(id__gte=start, id__lt=start + chunk)
                .annotate(day=TruncDate("at", tzinfo=SHANGHAI))
                .values("day", "case__from_agency_id")
                .annotate(repeats=Count("id"))
                .order_by()
            )
            for r in rows:
                key = (r["day"], r["case__from_agency_id"])
                totals[key] = totals.get(key, 0) + r["repeats"]
    # The table is new (0018); emptied anyway so the backfill can be run again to the same result.
    RepeatRequestTally.objects.all().delete()
    RepeatRequestTally.objects.bulk_create(
        [
            RepeatRequestTally(day=day, agency_id=agency, repeats=n)
            for (day, agency), n in sorted(totals.items())
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0018_repeat_request_tally"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
