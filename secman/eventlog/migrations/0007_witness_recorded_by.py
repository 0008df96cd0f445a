"""Who brought back a witnessed checkpoint (issue 13): a person through the API, or the
operator's command line (recorded_by empty, the label names the channel and os user).
Copies stored before this migration keep an empty label."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('eventlog', '0006_log_origin'),
        ('people', '0002_seed_teams_and_lists'),
    ]

    operations = [
        migrations.AddField(
            model_name='witnesscheckpoint',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person'),
        ),
        migrations.AddField(
            model_name='witnesscheckpoint',
            name='recorded_by_label',
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
