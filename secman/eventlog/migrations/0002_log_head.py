"""The single log head row that appends lock; it starts at the genesis hash."""

from django.db import migrations


def create_head(apps, schema_editor):
    LogHead = apps.get_model("eventlog", "LogHead")
    LogHead.objects.get_or_create(pk=1, defaults={"seq": 0, "head_hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("eventlog", "0001_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
