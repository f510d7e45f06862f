"""Carry the agency's content type over from cases, so the admin's history of agency edits and any
permission rows for agencies stay attached (Django would otherwise create a new content type after
the migration and leave the old one, with its history, orphaned)."""

from django.db import migrations


def forwards(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if content_type.objects.filter(app_label="agencies", model="agency").exists():
        return
    content_type.objects.filter(app_label="cases", model="agency").update(app_label="agencies")


def backwards(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if content_type.objects.filter(app_label="cases", model="agency").exists():
        return
    content_type.objects.filter(app_label="agencies", model="agency").update(app_label="cases")


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0002_table_renamed"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
