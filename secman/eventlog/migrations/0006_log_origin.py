"""The log's name kept in the database (LogHead.origin) instead of derived from the
settings at every start. An existing log keeps the name its newest checkpoint was signed
under (or, without checkpoints, its newest unretired key's)."""

from django.db import migrations, models


def fix_origin(apps, schema_editor):
    LogHead = apps.get_model("eventlog", "LogHead")
    Checkpoint = apps.get_model("eventlog", "Checkpoint")
    SigningKey = apps.get_model("eventlog", "SigningKey")
    head = LogHead.objects.filter(pk=1).first()
    if head is None or head.origin:
        return
    newest = Checkpoint.objects.order_by("-tree_size", "-id").first()
    key = newest.key if newest is not None else (
        SigningKey.objects.filter(retired_at__isnull=True).order_by("-created_at").first())
    if key is not None:
        head.origin = key.name
        head.save(update_fields=["origin"])


class Migration(migrations.Migration):
    dependencies = [("eventlog", "0005_retention_and_triggers")]
    operations = [
        migrations.AddField(model_name="loghead", name="origin",
                            field=models.CharField(blank=True, default="", max_length=200)),
        migrations.RunPython(fix_origin, migrations.RunPython.noop),
    ]
