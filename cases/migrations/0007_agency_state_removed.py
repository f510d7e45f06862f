
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_agency_moved_to_agencies'),
        ('cases', '0006_agency_moved_to_agencies'),
        ('workflow', '0004_agency_moved_clock_open_breached'),
    ]

    operations = [
        # The table stays: agencies.Agency owns it now (agencies/0001).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Agency',
                ),
            ],
        ),
    ]
