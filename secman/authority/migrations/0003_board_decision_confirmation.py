"""Board minutes under four eyes: who confirmed a decision, and when.

Decisions recorded before this migration stay unconfirmed: a confirmation is an action
of a Board member with its own Event Log entry, and a migration is nobody. They
authorise nothing new until a second Board member confirms them (docs/rules.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('authority', '0002_initial'),
        ('people', '0002_seed_teams_and_lists'),
    ]

    operations = [
        migrations.AddField(
            model_name='boarddecision',
            name='confirmed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='boarddecision',
            name='confirmed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person'),
        ),
        migrations.AddConstraint(
            model_name='boarddecision',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('confirmed_at__isnull', True), ('confirmed_by__isnull', True)), models.Q(('confirmed_at__isnull', False), ('confirmed_by__isnull', False), models.Q(('confirmed_by', models.F('recorded_by')), _negated=True)), _connector='OR'), name='minutes_confirmed_by_a_second_person'),
        ),
    ]
