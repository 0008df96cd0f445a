"""SM 4.1.1's Console Access List, the sixth list (secman.people.rules)."""

from django.db import migrations, models


def seed(apps, schema_editor):
    from secman.people.rules import LIST_RULES

    Team = apps.get_model("people", "Team")
    AccessList = apps.get_model("people", "AccessList")
    for rule in LIST_RULES.values():
        AccessList.objects.get_or_create(
            kind=rule.kind.value,
            defaults={
                "name": rule.kind.label,
                "who": rule.who.value,
                "purpose": rule.purpose,
                "relationship": rule.relationship,
                "manager": Team.objects.get(kind=rule.manager.value),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0003_free_text_maxima")]
    operations = [
        migrations.AlterField(
            model_name='accesslist',
            name='kind',
            field=models.CharField(choices=[('physical_control', 'Physical Control List'), ('physical_access', 'Physical Access List'), ('ssh_access', 'SSH Access List'), ('repository_access', 'Repository Access List'), ('support_access', 'Support Access List'), ('console_access', 'Console Access List')], max_length=40, unique=True),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
