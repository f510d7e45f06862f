
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0001_initial'),
        ('cases', '0006_agency_moved_to_agencies'),
        ('workflow', '0003_backfill_scan_instants'),
    ]

    operations = [
        # Same table, same foreign key: only the model it points at moved to agencies.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='stageclock',
                    name='agency',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='agencies.agency'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='stageclock',
            index=models.Index(condition=models.Q(('breached_at__isnull', False), ('completed_at__isnull', True)), fields=['due_at'], name='clock_open_breached'),
        ),
    ]
