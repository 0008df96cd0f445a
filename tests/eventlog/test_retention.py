"""Retention by class (SM 4.2.1): purging past the maximum keeps the tree whole, nothing
goes before its minimum, incident records stay, legal holds (SM 4.4.2) keep what a case
needs, and every purge and every change of a period is itself an entry."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from django.utils import timezone

from secman.authority import arbitration
from secman.cli import main
from secman.core.errors import NotAllowed, RuleViolation
from secman.eventlog import checkpoints, merkle, note, proofs, retention, verification
from secman.eventlog.models import Event, RetentionClass, RetentionPolicy
from secman.eventlog.verification import verify_log
from tests.eventlog.test_tampering import add_entries


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def later(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


@pytest.fixture
def mixed(org):
    """The organisation's 34 application entries, and two of each other class."""
    for retention_class in (RetentionClass.LOGIN, RetentionClass.SIGNING_REQUESTS,
                            RetentionClass.CONFIGURATION, RetentionClass.INCIDENT):
        add_entries(2, retention_class)
    return checkpoints.write_checkpoint()


def purged_seqs() -> list[int]:
    return list(Event.objects.filter(purged_at__isnull=False).order_by("seq")
                .values_list("seq", flat=True))


@pytest.fixture
def case(org):
    today = timezone.localdate()
    return arbitration.file_case(
        actor=org.arne, number=f"a{today:%Y%m%d}.1", title="Disputed root key access",
        filed_on=today, arbitrator=org.arne, case_manager=org.cora)


def test_it_purges_past_the_maximum_and_keeps_every_leaf_hash(mixed):
    leaves = dict(Event.objects.values_list("seq", "leaf_hash"))
    result = retention.purge(now=later(400))  # 12 months maximum passed, 36 not
    assert result.purged == {"application": 34, "login": 2}
    assert purged_seqs() == [*range(1, 35), 35, 36]
    gone = Event.objects.get(seq=35)
    assert (gone.canonical, gone.details, gone.actor_label, gone.authority) == ("", {}, "", "")
    assert gone.leaf_hash == leaves[35]
    assert gone.action == "tests.thing" and gone.retention_class == "login"
    assert all(Event.objects.get(seq=s).leaf_hash == h for s, h in leaves.items())
    # The tree, the old checkpoint and the chain still verify.
    assert verify_log().problems == []
    assert verification.verify_chain() == []


def test_it_still_proves_the_remaining_entries_after_a_purge(mixed):
    retention.purge(now=later(400))
    checkpoint = checkpoints.write_checkpoint()
    root = note.CheckpointBody.parse(note.SignedNote.parse(checkpoint.note).text).root
    for seq in (1, 34, 36, 38, 40, 42):  # purged and kept alike
        proof = proofs.inclusion_proof(seq, checkpoint.tree_size)
        assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), seq - 1,
                                       checkpoint.tree_size,
                                       [bytes.fromhex(h) for h in proof["proof"]], root)
    consistency = proofs.consistency_proof(mixed.tree_size, checkpoint.tree_size)
    assert merkle.verify_consistency(
        mixed.tree_size, checkpoint.tree_size, bytes.fromhex(mixed.root_hash), root,
        [bytes.fromhex(h) for h in consistency["proof"]])


def test_it_records_the_purge_as_an_entry(mixed):
    result = retention.purge(now=later(400))
    event = result.event
    assert event == Event.objects.order_by("-seq").first()
    assert (event.action, event.authority, event.retention_class) == (
        "eventlog.purge", "SM 4.2.1", "configuration")
    assert event.actor_label == "retention duty"
    assert event.details == {"purged": {"application": 34, "login": 2},
                             "seq_ranges": {"application": [1, 34], "login": [35, 36]},
                             "held": 0, "before": None}
    assert event.purged_at is None
    # Nothing more to purge: no second entry.
    assert retention.purge(now=later(400)).event is None


def test_it_purges_the_signing_requests_after_36_months(mixed):
    assert retention.purge(now=later(1000)).purged == {"application": 34, "login": 2}
    assert retention.purge(now=later(1100)).purged == {"signing_requests": 2}


def test_it_never_purges_configuration_changes_or_incidents(mixed):
    retention.purge(now=later(365 * 100))
    kept = set(Event.objects.filter(purged_at__isnull=True)
               .values_list("retention_class", flat=True))
    assert kept == {"configuration", "incident"}
    assert purged_seqs() == list(range(1, 39))


def test_it_refuses_to_purge_before_the_minimum_and_writes_nothing(mixed):
    count = Event.objects.count()
    with pytest.raises(RuleViolation) as refused:
        retention.purge(before=later(10), now=later(20))
    assert refused.value.section == "SM 4.2.1"
    assert str(refused.value) == (
        f"Application events entries are kept at least 183 days: purging before "
        f"{later(10):%Y-%m-%d} would remove some too early (SM 4.2.1)")
    assert Event.objects.count() == count
    assert purged_seqs() == []


def test_it_refuses_to_purge_indefinite_classes_by_date(mixed):
    with pytest.raises(RuleViolation, match="Configuration changes entries are kept "
                                            "indefinitely"):
        retention.purge(before=later(1), now=later(2000))
    assert purged_seqs() == []


def test_it_refuses_an_early_purge_on_the_command_line(mixed):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    count = Event.objects.count()
    result = CliRunner().invoke(main, ["eventlog", "purge", "--before", f"{tomorrow}"])
    assert result.exit_code == 1
    assert "kept at least 183 days" in result.output and "(SM 4.2.1)" in result.output
    assert Event.objects.count() == count


def test_it_keeps_entries_under_a_legal_hold(mixed, case, org):
    hold = retention.place_hold(actor=org.cora, case=case,
                                retention_class=RetentionClass.LOGIN)
    result = retention.purge(now=later(400))
    # The organisation's entries and the case are application events; the hold's own entry
    # is kept with the case file (incident class, indefinitely).
    assert result.purged == {"application": 35}
    assert Event.objects.get(action="eventlog.hold.place").purged_at is None
    assert result.held == 2
    assert Event.objects.filter(retention_class="login", purged_at__isnull=True).count() == 2
    assert result.event.details["held"] == 2
    retention.release_hold(actor=org.arne, hold=hold)
    # The two held entries go now; the release's own entry stays with the case file.
    assert retention.purge(now=later(400)).purged == {"login": 2}
    assert verify_log().problems == []


def test_it_holds_by_action_and_subject(mixed, case, org):
    person_events = Event.objects.filter(subject_type="people.person",
                                         subject_id=str(org.sid.pk)).count()
    assert person_events
    retention.place_hold(actor=org.arne, case=case, subject_type="people.person",
                         subject_id=str(org.sid.pk))
    # The hold is recorded under the case's authority.
    placed = Event.objects.get(action="eventlog.hold.place")
    assert placed.authority == case.number and placed.actor == org.arne
    result = retention.purge(now=later(400))
    assert result.held == person_events
    assert result.purged["application"] == 35 - person_events  # with the case


def test_it_lets_only_the_arbitrator_or_case_manager_place_a_hold(mixed, case, org):
    for person in (org.sam, org.bea, org.aud):
        with pytest.raises(NotAllowed) as refused:
            retention.place_hold(actor=person, case=case, retention_class="login")
        assert refused.value.section == "SM 4.4.2"
    hold = retention.place_hold(actor=org.cora, case=case, action_prefix="tests.")
    with pytest.raises(NotAllowed, match="released by the Arbitrator"):
        retention.release_hold(actor=org.cora, hold=hold)
    with pytest.raises(RuleViolation, match="a hold on everything is not a hold"):
        retention.place_hold(actor=org.arne, case=case)


def test_it_changes_a_retention_period_with_authority_and_role(mixed, org):
    policy = retention.update_retention(
        actor=org.sam, retention_class="login", minimum_days=183, maximum_days=730,
        rule="6 months minimum, 24 months maximum", restricted=True,
        authority=org.decision)
    assert RetentionPolicy.objects.get(retention_class="login").maximum_days == 730
    entry = Event.objects.get(action="eventlog.retention.update")
    assert (entry.authority, entry.retention_class) == (org.decision.minute_id,
                                                        "configuration")
    assert entry.details["before"]["maximum_days"] == 365
    assert entry.details["after"]["maximum_days"] == 730
    assert policy.rule == "6 months minimum, 24 months maximum"
    # The new maximum is what the purge applies.
    assert retention.purge(now=later(400)).purged == {"application": 34}


@pytest.mark.parametrize(("who", "authority", "refusal"), [
    ("abby", "SM 4.2.1", NotAllowed),
    ("aud", "SM 4.2.1", NotAllowed),
    ("sam", "because I say so", RuleViolation),
    ("sam", "", RuleViolation),
])
def test_it_refuses_a_retention_change_without_role_or_authority(mixed, org, who, authority,
                                                                 refusal):
    count = Event.objects.count()
    with pytest.raises(refusal):
        retention.update_retention(
            actor=getattr(org, who), retention_class="login", minimum_days=1,
            maximum_days=2, rule="two days", restricted=False, authority=authority)
    assert RetentionPolicy.objects.get(retention_class="login").maximum_days == 365
    assert Event.objects.count() == count


def test_it_refuses_a_minimum_longer_than_the_maximum(mixed, org):
    with pytest.raises(RuleViolation, match="minimum period is longer than the maximum"):
        retention.update_retention(
            actor=org.bea, retention_class="login", minimum_days=400, maximum_days=365,
            rule="x", restricted=True, authority="SM 4.2.1")
