"""The information form's other fields (deemed months, declared interest, no-arrears statement),
the balance paid out, and the target's insurance type (a cross-type move when it differs; for
existing cases, the same as the source's)."""

from django.db import migrations, models
from django.db.models import F


def same_type_at_target(apps, schema_editor):
    TransferCase = apps.get_model("cases", "TransferCase")
    TransferCase.objects.update(target_insurance_type=F("insurance_type"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_materials_requests"),
    ]

    operations = [
        migrations.AddField(
            model_name="transfercase",
            name="target_insurance_type",
            field=models.CharField(
                choices=[
                    ("employee", "Employee basic medical insurance"),
                    ("resident", "Urban and rural resident medical insurance"),
                ],
                default="employee",
                max_length=10,
                verbose_name="insurance type at the target",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(same_type_at_target, migrations.RunPython.noop),
        migrations.AddField(
            model_name="transfercase",
            name="deemed_months",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="deemed months"),
        ),
        migrations.AddField(
            model_name="transfercase",
            name="interest",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=14,
                null=True,
                verbose_name="interest declared",
            ),
        ),
        migrations.AddField(
            model_name="transfercase",
            name="no_arrears",
            field=models.BooleanField(blank=True, null=True, verbose_name="no arrears"),
        ),
        migrations.AddField(
            model_name="transfercase",
            name="balance_paid_out",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=14,
                null=True,
                verbose_name="balance paid out",
            ),
        ),
    ]
