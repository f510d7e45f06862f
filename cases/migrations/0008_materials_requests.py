"""The count of materials requests per case (一次性告知: the second and later are repeats), filled in
for existing cases from their events."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_requests(apps, schema_editor):
    TransferCase = apps.get_model("cases", "TransferCase")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    requests = (
        CaseEvent.objects.filter(case=OuterRef("pk"), action="request_materials")
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    TransferCase.objects.filter(
        pk__in=CaseEvent.objects.filter(action="request_materials").values("case")
    ).update(materials_requests=Coalesce(Subquery(requests), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_agency_state_removed"),
    ]

    operations = [
        migrations.AddField(
            model_name="transfercase",
            name="materials_requests",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="materials requests"
            ),
        ),
        migrations.RunPython(count_requests, migrations.RunPython.noop),
    ]
