
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0005_agency_webhook'),
    ]

    operations = [
        # The table is cases' (cases/0001): only the state moves to this app (decision 0006).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Agency',
                    fields=[
                        ('code', models.CharField(max_length=6, primary_key=True, serialize=False, validators=[django.core.validators.RegexValidator('^[1-8]\\d{5}$', 'An agency code is 6 digits (GB/T 2260).')])),
                        ('name', models.CharField(max_length=60)),
                        ('province_code', models.CharField(max_length=6)),
                        ('province_name', models.CharField(max_length=30)),
                        ('level', models.CharField(choices=[('province', 'Province'), ('prefecture', 'Prefecture'), ('county', 'County')], max_length=12)),
                        ('transfer_out_days', models.PositiveSmallIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)])),
                        ('transfer_in_days', models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                        ('balance_days', models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                        ('balance_policy', models.CharField(choices=[('transfer', 'Transfer the balance'), ('merge', 'Merge accounts (no money moves)')], default='transfer', max_length=10)),
                        ('escalation_days', models.PositiveSmallIntegerField(default=2, validators=[django.core.validators.MinValueValidator(1)])),
                        ('is_active', models.BooleanField(default=True)),
                        ('webhook_url', models.URLField(blank=True, max_length=500)),
                        ('webhook_secret', models.CharField(blank=True, max_length=200)),
                    ],
                    options={
                        'verbose_name': 'agency',
                        'verbose_name_plural': 'agencies',
                        'db_table': 'cases_agency',
                        'ordering': ['code'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('transfer_out_days__gte', 1), ('transfer_out_days__lte', 10)), name='agency_transfer_out_window'), models.CheckConstraint(condition=models.Q(('transfer_in_days__gte', 1), ('transfer_in_days__lte', 5)), name='agency_transfer_in_window'), models.CheckConstraint(condition=models.Q(('balance_days__gte', 1), ('balance_days__lte', 5)), name='agency_balance_window')],
                    },
                ),
            ],
        ),
    ]
