"""The Event Log: one entry per action, in the action's transaction, append-only and
chained so that a change behind its back is found."""

from __future__ import annotations

import itertools
import json

import pytest
from django.db import transaction

from secman.authority import services as authority_services
from secman.authority.signoff import TASK, dual_control
from secman.core.roles import Role
from secman.eventlog.models import AppendOnly, Event, LogHead
from secman.eventlog.services import GENESIS_HASH, leaf_hex, record, verify_chain
from secman.people import services as people_services
from secman.people.choices import ListKind
from secman.people.models import ListChangeProposal, Person
from tests.conftest import tamper

# No module-wide django_db mark: the `org` fixture brings the database, and one test
# must run with no transaction open.


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def test_it_chains_every_entry_to_the_one_before(org):
    events = list(Event.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.leaf_hash
    for event in events:
        assert leaf_hex(event.canonical.encode()) == event.leaf_hash
        fields = json.loads(event.canonical)
        assert fields["seq"] == event.seq
        assert fields["action"] == event.action
        assert fields["time"].endswith("Z")
    head = LogHead.objects.get(pk=1)
    assert (head.seq, head.head_hash) == (events[-1].seq, events[-1].leaf_hash)
    assert verify_chain() == []


def test_it_records_the_organisation_as_it_was_built(org):
    # conftest: 17 people, 3 Board seats, the decision and its confirmation, 12 team
    # members.
    actions = list(Event.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("people.person.create") == 17
    assert actions.count("people.team.join") == 15
    assert actions.count("authority.decision.record") == 1
    assert actions.count("authority.decision.confirm") == 1
    assert len(actions) == 34


def test_it_leaves_no_entry_when_the_action_is_rolled_back(org):
    seq = last_seq()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        people_services.propose_list_change(
            actor=org.bea, access_list=org.lists[ListKind.SSH_ACCESS], person=org.sid,
            change="add", reason="rolled back")
        assert last_seq() == seq + 1
        1 / 0  # noqa: B018
    assert last_seq() == seq
    assert LogHead.objects.get(pk=1).seq == seq
    assert not ListChangeProposal.objects.exists()
    assert verify_chain() == []
    # The next entry takes the number the rolled-back one had.
    people_services.propose_list_change(
        actor=org.bea, access_list=org.lists[ListKind.SSH_ACCESS], person=org.sid,
        change="add", reason="kept")
    assert last_seq() == seq + 1
    assert verify_chain() == []


def test_it_leaves_no_entry_for_a_refused_action(org):
    seq = last_seq()
    with pytest.raises(Exception):  # noqa: B017
        authority_services.request_signoff(actor=org.aud, action=TASK, title="x",
                                           requirement=dual_control(Role.AUDITOR),
                                           authority="SP 1.2")
    assert last_seq() == seq


def test_it_names_the_first_bad_entry_when_the_canonical_text_is_changed(org):
    event = Event.objects.get(seq=5)
    changed = event.canonical.replace(event.actor_label, "Mallory (#99)")
    assert changed != event.canonical
    tamper("UPDATE eventlog_event SET canonical = %s WHERE seq = %s", [changed, 5])
    problems = verify_chain()
    assert problems[0].seq == 5
    assert "hash does not match" in problems[0].problem
    assert str(problems[0]).startswith("entry #5:")


def test_it_names_the_entry_whose_hash_was_recomputed_and_the_next_one(org):
    event = Event.objects.get(seq=7)
    fields = json.loads(event.canonical)
    fields["details"]["name"] = "Mallory"
    changed = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    tamper("UPDATE eventlog_event SET canonical = %s, leaf_hash = %s WHERE seq = %s",
           [changed, leaf_hex(changed.encode()), 7])
    problems = verify_chain()
    assert problems[0].seq == 7
    assert "column 'details' differs" in problems[0].problem
    assert any(p.seq == 8 and "does not chain" in p.problem for p in problems)


@pytest.mark.parametrize(
    ("column", "value", "name"),
    [("action", "people.person.delete", "action"),
     ("authority", "SP 9.9", "authority"),
     ("actor_label", "Mallory", "actor"),
     ("subject_label", "Somebody else", "subject"),
     ("retention_class", "incident", "class")],
)
def test_it_names_the_entry_whose_column_was_changed(org, column, value, name):
    tamper(f"UPDATE eventlog_event SET {column} = %s WHERE seq = %s", [value, 4])
    problems = verify_chain()
    assert [(p.seq, p.problem) for p in problems] == [
        (4, f"column {name!r} differs from the hashed entry")]


def test_it_names_the_entry_whose_actor_was_changed(org):
    # The Event Log page filters by the actor column: pointing an entry at another person
    # must not pass verification just because the label still reads right.
    by_bea = Event.objects.filter(actor=org.bea).order_by("seq").first()
    tamper("UPDATE eventlog_event SET actor_id = %s WHERE seq = %s", [org.tom.pk, by_bea.seq])
    assert [(p.seq, p.problem) for p in verify_chain()] == [
        (by_bea.seq, "column 'actor' differs from the hashed entry")]


def test_it_names_a_system_entry_given_an_actor(org):
    system = Event.objects.filter(actor__isnull=True).order_by("seq").first()
    tamper("UPDATE eventlog_event SET actor_id = %s WHERE seq = %s", [org.bea.pk, system.seq])
    assert [p.seq for p in verify_chain()] == [system.seq]


def test_it_always_names_the_actor_by_id(org):
    event = record("tests.labelled", actor=org.bea, authority="SP 1.2",
                   actor_label="Bea, on the phone")
    assert event.actor_label == f"Bea, on the phone (#{org.bea.pk})"
    assert verify_chain() == []


def test_it_names_a_missing_entry(org):
    tamper("DELETE FROM eventlog_event WHERE seq = %s", [6])
    problems = verify_chain()
    assert problems[0].seq == 6
    assert "missing" in problems[0].problem


def test_it_notices_entries_cut_off_the_end(org):
    top = last_seq()
    tamper("DELETE FROM eventlog_event WHERE seq = %s", [top])
    problems = verify_chain()
    assert [p.seq for p in problems] == [top]
    assert "log head says" in problems[0].problem


def test_it_refuses_to_change_or_delete_entries_through_the_orm(org):
    event = Event.objects.get(seq=1)
    event.action = "something.else"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        Event.objects.filter(seq=1).update(action="x")
    with pytest.raises(AppendOnly):
        Event.objects.update(action="x")
    with pytest.raises(AppendOnly):
        Event.objects.filter(seq__lte=3).delete()
    with pytest.raises(AppendOnly):
        Event.objects.all().delete()
    assert Event.objects.get(seq=1).action == "people.person.create"
    assert verify_chain() == []


@pytest.mark.parametrize(
    "details",
    [{"password": "x"}, {"api_token": "x"}, {"nested": {"Private_Key": "x"}},
     {"items": [{"passphrase": "x"}]}, {"client_secret": "x"}],
)
def test_it_refuses_details_with_secret_looking_keys(org, details):
    seq = last_seq()
    with pytest.raises(ValueError, match="secrets are never written"):
        record("tests.secret", actor=org.bea, authority="SP 1.2", details=details)
    assert last_seq() == seq


def test_it_refuses_an_entry_without_authority_or_with_an_unknown_class(org):
    with pytest.raises(ValueError, match="authority"):
        record("tests.none", actor=None, authority="")
    with pytest.raises(ValueError, match="retention class"):
        record("tests.none", actor=None, authority="SP 1.2", retention_class="forever")


def test_it_records_the_actor_subject_and_details(org):
    event = record("tests.thing", actor=org.bea, authority="SP 1.2", subject=org.sue,
                   details={"when": org.decision.decided_on})
    assert event.actor_label == f"Bea (#{org.bea.pk})"
    assert (event.subject_type, event.subject_id, event.subject_label) == (
        "people.person", str(org.sue.pk), "Sue")
    assert event.details == {"when": org.decision.decided_on.isoformat()}
    assert verify_chain() == []


def test_it_refuses_to_record_outside_a_transaction():
    # No database access needed: the check comes before any query.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record("tests.outside", actor=None, authority="SP 1.2")


def test_it_never_writes_contact_details_into_the_log(org):
    phone, chat, emergency = "+00 555 424242", "@secret-handle:chat", "Call Zelda at 9191"
    nina = people_services.create_person(
        actor=org.bea, authority="SP 9.1.3", name="Nina", email="nina@example.org",
        phone=phone, chat_handle=chat, emergency_contact=emergency)
    people_services.update_person(actor=nina, person=nina, authority="SP 10.1",
                                  phone="+00 555 737373", emergency_contact="Call Yann 8282")
    people_services.update_person(actor=org.bea, person=nina, authority="SP 10.1",
                                  name="Nina Park", chat_handle="@other-handle:chat")
    texts = list(Event.objects.values_list("canonical", flat=True))
    for secret in (phone, "424242", chat, "Zelda", "737373", "Yann", "other-handle",
                   *[p.phone for p in Person.objects.exclude(phone="")]):
        assert not any(secret in text for text in texts), secret
    update = Event.objects.filter(action="people.person.update").order_by("seq").last()
    assert update.details["contact_details_changed"] == ["chat_handle"]
    assert update.details["changed"] == {"name": {"from": "Nina", "to": "Nina Park"}}


def test_it_adds_one_entry_per_service_call(org, approve):
    expected = []

    def step(action, call):
        seq = last_seq()
        call()
        got = list(Event.objects.filter(seq__gt=seq).order_by("seq")
                   .values_list("action", flat=True))
        expected.append((action, got))

    step(["people.list.propose", "people.list.approve"],
         lambda: approve(ListKind.SSH_ACCESS, org.sid))
    req = authority_services.request_signoff(
        actor=org.sam, action=TASK, title="t", requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR),
        authority="SM 2.2.3")
    step(["signoff.sign"], lambda: authority_services.sign(actor=org.sam, request=req))
    step(["signoff.sign", "signoff.complete"],
         lambda: authority_services.sign(actor=org.sue, request=req))
    for want, got in expected:
        assert got == want
    assert verify_chain() == []


def test_the_quick_look_for_secrets_knows_every_secret_word():
    from secman.eventlog.services import SECRET_WORDS, _suspect

    for word in SECRET_WORDS:
        assert _suspect('{"x":1,"' + word.upper() + '_2":3}')
    assert _suspect('{"a":"\\u0000"}')
    assert not _suspect('{"pass":"word","tok":"en"}')
