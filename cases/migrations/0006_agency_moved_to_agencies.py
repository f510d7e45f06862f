
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0001_initial'),
        ('cases', '0005_agency_webhook'),
    ]

    operations = [
        # Same table, same foreign keys: only the model they point at moved to agencies.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='transfercase',
                    name='from_agency',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases_out', to='agencies.agency'),
                ),
                migrations.AlterField(
                    model_name='transfercase',
                    name='to_agency',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases_in', to='agencies.agency'),
                ),
            ],
        ),
        migrations.RemoveIndex(
            model_name='transfercase',
            name='case_overdue',
        ),
        migrations.RemoveField(
            model_name='transfercase',
            name='overdue_since',
        ),
    ]
