"""The rules a new installation starts with: the SM 4.2.1 classes by program, facility
and the firewall's log prefix, and the Sigma rules in secman/logs/sigma/. They are data
from here on, changed under authority (logs.rules); this migration never runs again."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import migrations

SIGMA = Path(__file__).resolve().parent.parent / "sigma"

# (class, programs, facilities, hosts, text, note), tried in this order.
CLASS_RULES = [
    ("anomalous_traffic", "kernel", "", "", "secman-drop-",
     "The generated firewall logs what no documented flow allows (SM 3.1.3)."),
    ("signing_requests", "CommModule client.pl server.pl signer", "", "", "",
     "The signing server's and the main server's signing requests (SM 4.2.1: 24/36 months)."),
    ("configuration", "etckeeper puppet-agent ansible-playbook ansible dpkg apt secman-agent",
     "", "", "", "Configuration changes: kept for the system's life and a year after."),
    ("login", "sshd sudo su login systemd-logind", "", "", "",
     "Logins and root access (SM 4.1.1.2)."),
    ("login", "", "4 10", "", "", "Whatever else the auth and authpriv facilities say."),
    ("application", "apache2 nginx postfix slapd php-fpm mysqld mariadbd postgres "
     "openvpn named", "", "", "", "The applications the systems run."),
]


def seed(apps, schema_editor):
    ClassRule = apps.get_model("logs", "ClassRule")
    DetectionRule = apps.get_model("logs", "DetectionRule")
    if not ClassRule.objects.exists():
        for position, (log_class, programs, facilities, hosts, text, note) in enumerate(
                CLASS_RULES, start=1):
            ClassRule.objects.create(position=position * 10, log_class=log_class,
                                     programs=programs, facilities=facilities, hosts=hosts,
                                     text_contains=text, note=note)
    if not DetectionRule.objects.exists():
        for path in sorted(SIGMA.glob("*.yml")):
            text = path.read_text()
            data = yaml.safe_load(text)
            DetectionRule.objects.create(
                name=data["name"], title=data["title"], level=data.get("level", "medium"),
                correlation="correlation" in data, yaml=text)


class Migration(migrations.Migration):
    dependencies = [("logs", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
