"""Entries are leaves of an RFC 9162 Merkle tree from here on: the chain links (prev) are
leaf hashes, SHA-256(0x00 || canonical), and the canonical form is version 2.

An Event Log written before this migration cannot be converted without rewriting what
was hashed, which is exactly what the log forbids: the migration refuses to run on one.
"""

from django.db import migrations, models


def refuse_an_existing_log(apps, schema_editor):
    Event = apps.get_model("eventlog", "Event")
    if Event.objects.exists():
        raise RuntimeError(
            "this database holds an Event Log in the format before Merkle checkpoints; "
            "export it (secman dumpdata eventlog) and start a new database"
        )


class Migration(migrations.Migration):
    dependencies = [("eventlog", "0002_log_head")]
    operations = [
        migrations.RunPython(refuse_an_existing_log, migrations.RunPython.noop),
        migrations.RenameField("event", "entry_hash", "leaf_hash"),
        migrations.AlterField("event", "leaf_hash", models.CharField(max_length=64)),
    ]
