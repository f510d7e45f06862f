
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_manager'),
        ('agencies', '0001_initial'),
    ]

    operations = [
        # Same table, same foreign key: only the model it points at moved to agencies.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='user',
                    name='agency',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='staff', to='agencies.agency'),
                ),
            ],
        ),
    ]
