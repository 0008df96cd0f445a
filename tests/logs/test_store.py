"""Storing, classifying, proving, detecting, reading and purging the systems' messages,
in-process (rsyslog itself: test_rsyslog)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog import merkle
from secman.eventlog.models import Event, LegalHold, RetentionClass
from secman.logs import ingest, rules, services, tree
from secman.logs import verify as offline
from secman.logs.models import Anomaly, DetectionRule, Message
from tests.conftest import tamper
from tests.logs.support import failures, line

pytestmark = pytest.mark.django_db


def test_it_classifies_by_the_rules_and_proves_each_message(org):
    ingest.store_lines([
        line("Accepted publickey for sue from 10.0.0.5 port 22 ssh2"),
        line("secman-drop-in IN=eth0 SRC=198.51.100.4 PROTO=TCP DPT=23", program="kernel",
             facility=0, severity=4),
        line("GET /index.php 200", program="apache2", facility=16),
        line("signing request 12 handled", program="CommModule", host="signer"),
        line("Started cron", program="cron", facility=9),
    ])
    classes = dict(Message.objects.values_list("program", "log_class"))
    assert classes == {"sshd": "login", "kernel": "anomalous_traffic",
                       "apache2": "application", "CommModule": "signing_requests",
                       "cron": "system"}
    checkpoint = tree.checkpoint_now()
    assert checkpoint is not None and checkpoint.tree_size == 5
    leaf = bytes.fromhex(Message.objects.get(seq=3).leaf_hash)
    assert merkle.verify_inclusion(leaf, 3, 5, tree.inclusion(3, 5),
                                   bytes.fromhex(checkpoint.root_hash))
    assert tree.verify().ok


def test_it_notices_a_changed_message_and_a_moved_class(org):
    ingest.store_lines([line("Accepted publickey for sue from 10.0.0.5 port 22 ssh2")] * 3)
    tree.checkpoint_now()
    tamper("UPDATE logs_message SET text = 'nothing happened' WHERE seq = 1")
    tamper("UPDATE logs_message SET log_class = 'system' WHERE seq = 2")
    problems = tree.verify().problems
    assert any("#1" in p for p in problems) and any("#2" in p for p in problems)


def test_a_brute_force_is_one_anomaly_and_one_mail(org, smtp, settings):
    settings.SECMAN_SYSADMIN_LIST = "sysadmins@ca.example.org"
    ingest.store_lines(failures(9))
    assert not Anomaly.objects.exists()  # the failures alone are counted, not raised
    ingest.store_lines(failures(3, start=timezone.now() + dt.timedelta(seconds=20)))
    ingest.store_lines(failures(30, start=timezone.now() + dt.timedelta(seconds=40)))
    anomaly = Anomaly.objects.get()
    assert (anomaly.rule.name, anomaly.group_key, anomaly.matches) == (
        "ssh_brute_force", "source_ip=203.0.113.9", 42)
    assert len(smtp.messages) == 1
    recipients, mail = smtp.messages[0]
    assert recipients == ["sysadmins@ca.example.org"]
    assert "SSH brute force" in mail.get_payload() and anomaly.get_absolute_url() in (
        mail.get_payload())


def test_a_restart_keeps_counting_a_brute_force(org):
    from secman.logs import detection

    ingest.store_lines(failures(6))
    detection.reset()  # the ingest process was restarted
    ingest.store_lines(failures(6, start=timezone.now() + dt.timedelta(seconds=10)))
    assert Anomaly.objects.get().matches == 12


def test_the_weekly_examination_waits_for_every_anomaly(org):
    from secman.compliance import services as compliance
    from secman.compliance.models import Duty, Occurrence

    compliance.sync_duties(now=timezone.now() - dt.timedelta(days=15))
    compliance.generate_occurrences()
    duty = Duty.objects.get(control_id="logs.anomaly_examination")
    sue = org.people["sue"]
    compliance.designate(actor=org.people["sam"], duty=duty, person=sue, authority="SM 5.2")
    occurrence = Occurrence.objects.filter(duty=duty, status="open",
                                           period_start__lte=timezone.now()).order_by(
        "due_at").last()
    ingest.store_lines([line("3 incorrect password attempts", program="sudo")])
    anomaly = Anomaly.objects.get()
    with pytest.raises(RuleViolation, match="1 anomaly is not examined"):
        compliance.complete_occurrence(actor=sue, occurrence=occurrence, note="looked")
    with pytest.raises(NotAllowed):
        services.examine(actor=org.people["ola"], anomaly=anomaly, outcome="dismissed",
                         reason="mine")
    services.examine(actor=sue, anomaly=anomaly, outcome="dismissed",
                     reason="bob mistyped his password three times; he confirmed it")
    done = compliance.complete_occurrence(actor=sue, occurrence=occurrence,
                                          note="Examined the week's anomalies.")
    assert done.status == "done"
    assert Event.objects.filter(action="logs.anomaly.dismiss").count() == 1


def test_only_sysadmins_read_and_each_search_is_recorded(org):
    ingest.store_lines([line("Accepted publickey for sue from 10.0.0.5 port 22 ssh2")])
    with pytest.raises(NotAllowed):
        services.search(actor=org.people["bea"], search=services.Search())
    assert not Event.objects.filter(action="logs.search").exists()
    rows, more = services.search(actor=org.people["sue"],
                                 search=services.Search(host="web1", log_class="login"))
    assert [m.program for m in rows] == ["sshd"] and not more
    entry = Event.objects.get(action="logs.search")
    assert entry.actor == org.people["sue"] and entry.details["host"] == "web1"
    with pytest.raises(RuleViolation):
        services.search(actor=org.people["sue"], search=services.Search(log_class="secret"))


def test_the_purge_keeps_leaves_and_held_messages(org):
    from secman.authority import arbitration

    old = timezone.now() - dt.timedelta(days=800)
    ingest.store_lines([line("old login", at=old), line("old login on signer", at=old,
                                                        host="signer"), line("new login")])
    tree.checkpoint_now()
    case = arbitration.file_case(actor=org.people["cora"], number="a20261201.3",
                                 title="Dispute about a login", filed_on=timezone.localdate())
    LegalHold.objects.create(case=case, retention_class=RetentionClass.LOGIN,
                             since=old.date(), until=old.date(),
                             placed_by=org.people["arne"])
    assert services.purge() == {}
    LegalHold.objects.update(released_at=timezone.now())
    assert services.purge() == {"login": 2}
    purged = Message.objects.get(seq=0)
    assert purged.text == "" and purged.purged_at is not None and purged.leaf_hash
    assert Message.objects.get(seq=2).text == "new login"
    assert tree.verify().ok


def test_an_export_verifies_offline_and_a_changed_one_does_not(org, tmp_path):
    ingest.store_lines([line(f"Accepted publickey for sue port {n}") for n in range(40)])
    tree.checkpoint_now()
    whole = tmp_path / "whole"
    services.export(actor=org.people["sue"], directory=whole)
    assert offline.main([str(whole)]) == 0
    part = tmp_path / "part"
    services.export(actor=None, directory=part, search=services.Search(text="port 7"))
    assert offline.check(part, [])[0] == []
    rows = (whole / "messages.jsonl").read_text().splitlines()
    changed = json.loads(rows[5])
    changed["text"] = "nothing to see"
    rows[5] = json.dumps(changed)
    (whole / "messages.jsonl").write_text("\n".join(rows) + "\n")
    assert offline.main([str(whole)]) == 1


def test_rules_change_under_authority_and_bad_rules_are_refused(org):
    sue, ola = org.people["sue"], org.people["ola"]
    rule = DetectionRule.objects.get(name="sudo_failure")
    with pytest.raises(NotAllowed):
        rules.change_detection_rule(actor=ola, rule=rule, authority="SM 5.2", enabled=False)
    rules.change_detection_rule(actor=sue, rule=rule, authority="SM 5.2", enabled=False)
    ingest.store_lines([line("3 incorrect password attempts", program="sudo")])
    assert not Anomaly.objects.exists()
    for bad in ("title: x", "- a list", "title: kw\nname: kw\nlogsource: {product: linux}\n"
                "detection:\n  keywords: [root]\n  condition: keywords\n",
                "title: [unclosed"):
        with pytest.raises(RuleViolation):
            rules.add_detection_rule(actor=sue, yaml_text=bad, authority="SM 5.2")
    with pytest.raises(RuleViolation, match="correlation counts sshd_auth_failure"):
        rules.change_detection_rule(actor=sue, rule=DetectionRule.objects.get(
            name="sshd_auth_failure"), authority="SM 5.2", enabled=False)
    assert Event.objects.filter(action__startswith="logs.detection_rule").count() == 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=300),
                          st.dictionaries(st.sampled_from(["r", "t", "h", "ip", "f", "s", "p",
                                                           "m"]),
                                          st.one_of(st.none(), st.integers(), st.text(),
                                                    # lone surrogates too ("\\ud800")
                                                    st.text(st.characters(
                                                        exclude_categories=())),
                                                    st.floats(), st.booleans()))
                          .map(lambda d: json.dumps(d).encode())),
                min_size=1, max_size=8))
def test_hostile_lines_are_stored_whole_and_never_break_the_tree(org, lines):
    before = Message.objects.count()
    kept = [raw for raw in lines if raw.strip() and b"\n" not in raw.strip()]
    ingest.store_lines([raw.strip() + b"\n" for raw in kept])
    assert Message.objects.count() == before + len(kept)
    for message in Message.objects.filter(seq__gte=before):
        assert 0 <= message.facility <= 23 and 0 <= message.severity <= 7
        assert "\x00" not in message.text + message.host + message.program


def test_an_escaped_lone_surrogate_is_kept_whole_as_an_unparsed_line(org):
    """json would decode it into a str that cannot be encoded again: the ingest stopped
    on that line for good, its offset never moving."""
    raw = b'{"h":"web1","p":"sshd","m":"a\\ud800b"}'
    ingest.store_lines([raw + b"\n"])
    message = Message.objects.get()
    assert (message.host, message.text) == (ingest.UNPARSED_HOST, raw.decode())
    assert tree.verify().ok


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.integers(0, 2**62), st.integers(0, 23))
def test_the_leaf_bytes_are_what_the_offline_verifier_writes(host, program, text, seq, f):
    received = dt.datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=dt.UTC)
    expected = json.dumps([tree.FORMAT, seq, tree.time_text(received), None, host, "",
                           f, 5, program, "system", text],
                          ensure_ascii=False, separators=(",", ":")).encode()
    assert tree.canonical(seq, received, None, host, "", f, 5, program, "system",
                          text) == expected


def test_a_late_spool_counts_by_the_messages_times_and_every_match_once(org):
    """An ingest catching up on yesterday's spool, a brute force spread over many
    batches: one anomaly, each failure counted once, 200 of them linked as evidence."""
    from secman.logs.models import AnomalyMessage

    yesterday = timezone.now() - dt.timedelta(days=1)
    lines = failures(300, start=yesterday)
    for start in range(0, 300, 7):
        ingest.store_lines(lines[start:start + 7])
    anomaly = Anomaly.objects.get()
    assert (anomaly.rule.name, anomaly.matches) == ("ssh_brute_force", 300)
    assert AnomalyMessage.objects.filter(anomaly=anomaly).count() == 200
    assert anomaly.first_seen == yesterday


def test_a_mail_that_failed_goes_out_later(org, smtp, settings):
    from secman.logs import alerts
    from tests.conftest import free_port

    settings.SECMAN_SYSADMIN_LIST = "sysadmins@ca.example.org"
    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens: the mail server is down
    ingest.store_lines([line("3 incorrect password attempts", program="sudo")])
    assert Anomaly.objects.get().mailed_at is None and smtp.messages == []
    settings.EMAIL_PORT = working
    assert alerts.mail_new([])  # what the quiet ingest does every minute
    assert Anomaly.objects.get().mailed_at is not None and len(smtp.messages) == 1
