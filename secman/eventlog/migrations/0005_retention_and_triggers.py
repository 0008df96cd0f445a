"""SM 4.2.1's retention table as data, and the append-only triggers."""

from django.db import migrations

# class, minimum days, maximum days (None: no automatic purge), the manual's words,
# restricted to Systems Administrators (SM 4.2.2; secman's own application events are
# readable by everyone who may log in, as the transparency the SP asks for).
POLICIES = [
    ("anomalous_traffic", 183, 365, "6 months minimum, 12 months maximum", True),
    ("system", 183, 365, "6 months minimum, 12 months maximum", True),
    ("login", 183, 365, "6 months minimum, 12 months maximum", True),
    ("application", 183, 365, "6 months minimum, 12 months maximum", False),
    ("signing_requests", 730, 1095, "24 months minimum, 36 months maximum", True),
    ("configuration", None, None,
     "system life + 12 months: kept until 12 months after the system is retired", True),
    ("incident", None, None, "indefinitely (SM 4.4.3)", True),
]


def seed(apps, schema_editor):
    RetentionPolicy = apps.get_model("eventlog", "RetentionPolicy")
    for retention_class, minimum, maximum, rule, restricted in POLICIES:
        RetentionPolicy.objects.get_or_create(
            retention_class=retention_class,
            defaults={"minimum_days": minimum, "maximum_days": maximum, "rule": rule,
                      "restricted": restricted},
        )


def install_triggers(apps, schema_editor):
    from secman.eventlog.triggers import install

    install(schema_editor)


def remove_triggers(apps, schema_editor):
    from secman.eventlog.triggers import remove

    remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("eventlog", "0004_checkpoints_retention")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
