"""The teams of SP 9.1 and the access control lists of SP 3.4.2 exist from the start."""

from django.db import migrations

TEAMS = [
    ("access", "Access", "Controls access to the critical hardware and maintains it."),
    ("systems_administration", "Critical System Administration",
     "Maintains the core services and their integrity."),
    ("software_assessment", "Software Assessment",
     "Maintains the code base and signs off patches and releases."),
    ("support", "Support", "The human interface with users."),
    ("board", "Board", "Authorises new individuals and accesses; coordinates overall."),
    ("arbitration", "Arbitration",
     "Conducts Arbitrated Background Checks and authorises exceptions to policy."),
    ("audit", "External audit", "Reviews practices and policies; reads, changes nothing."),
]


def seed(apps, schema_editor):
    from secman.people.rules import LIST_RULES

    Team = apps.get_model("people", "Team")
    AccessList = apps.get_model("people", "AccessList")
    teams = {}
    for kind, name, purpose in TEAMS:
        teams[kind], _ = Team.objects.get_or_create(
            kind=kind, defaults={"name": name, "purpose": purpose}
        )
    for rule in LIST_RULES.values():
        AccessList.objects.get_or_create(
            kind=rule.kind.value,
            defaults={
                "name": rule.kind.label,
                "who": rule.who.value,
                "purpose": rule.purpose,
                "relationship": rule.relationship,
                "manager": teams[rule.manager.value],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
