from django.db import migrations, models
from django.db.models.functions import Substr


def fill(apps, schema_editor):
    TransferCase = apps.get_model("cases", "TransferCase")
    TransferCase.objects.update(
        from_province=Substr("from_agency_id", 1, 2), to_province=Substr("to_agency_id", 1, 2)
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_events_append_only")]

    operations = [
        migrations.AddField(
            model_name="transfercase",
            name="from_province",
            field=models.CharField(default="", editable=False, max_length=2),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="transfercase",
            name="to_province",
            field=models.CharField(default="", editable=False, max_length=2),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="transfercase",
            index=models.Index(fields=["from_province", "state"], name="case_from_province_state"),
        ),
        migrations.AddIndex(
            model_name="transfercase",
            index=models.Index(fields=["to_province", "state"], name="case_to_province_state"),
        ),
    ]
