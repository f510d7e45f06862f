
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0001_initial'),
        # After every foreign key's state points here, so the rename carries them all.
        ('cases', '0007_agency_state_removed'),
    ]

    operations = [
        # cases_agency -> agencies_agency; foreign keys follow the table.
        migrations.AlterModelTable(
            name='agency',
            table=None,
        ),
    ]
