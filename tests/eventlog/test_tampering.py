"""Tampering with the Event Log behind secman's back, as someone who owns the database
would, and the precise message verification gives for each (issue 4)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from secman.cli import main
from secman.eventlog import (
    bundle,
    canonical,
    checkpoints,
    merkle,
    note,
    retention,
    services,
    verification,
    verify,
)
from secman.eventlog.models import Checkpoint, Event, LogHead, Node, RetentionClass
from secman.eventlog.verification import verify_log
from tests.conftest import tamper


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Signing keys in a directory of the test's own."""
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


# --- what an attacker with database access does -------------------------------------------


def label(checkpoint: Checkpoint) -> str:
    return f"checkpoint at {checkpoint.tree_size} (signed {checkpoint.time:%Y-%m-%d %H:%M})"


def add_entries(count: int, retention_class: str = RetentionClass.APPLICATION) -> None:
    with transaction.atomic():
        for number in range(count):
            services.record("tests.thing", actor=None, authority="SM 4.2",
                            details={"number": number}, retention_class=retention_class)


def rebuild_log(change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite every entry with `change` applied to its fields, re-chain and re-hash them,
    rebuild the tree nodes and the head: a log that is consistent with itself."""
    compact = merkle.CompactRange()
    nodes: list[Node] = []
    prev = canonical.GENESIS
    rows = list(Event.objects.order_by("seq").values_list("seq", "canonical"))
    for seq, text in rows:
        fields = canonical.decode(text.encode())
        fields["prev"] = prev
        change(fields)
        data = canonical.encode(fields)
        leaf = merkle.leaf_hash(data)
        if data.decode() != text:
            tamper("UPDATE eventlog_event SET canonical = %s, leaf_hash = %s, prev_hash = %s, "
                   "authority = %s WHERE seq = %s",
                   [data.decode(), leaf.hex(), prev, fields["authority"], seq])
        compact.append(leaf, lambda level, index, h: nodes.append(
            Node(level=level, index=index, hash=h.hex())))
        prev = leaf.hex()
    tamper("DELETE FROM eventlog_node")
    Node.objects.bulk_create(nodes)
    LogHead.objects.filter(pk=1).update(
        head_hash=prev, frontier=",".join(h.hex() for h in compact.hashes))


def rewrite_authority_of(seq: int, authority: str) -> Callable[[dict[str, Any]], None]:
    def change(fields: dict[str, Any]) -> None:
        if fields["seq"] == seq:
            fields["authority"] = authority

    return change


def forge(note_text: str, **changes: Any) -> str:
    """The note with its body changed and its signature kept."""
    signed = note.SignedNote.parse(note_text)
    body = note.CheckpointBody.parse(signed.text)
    fields = {"origin": body.origin, "size": body.size, "root": body.root,
              "time": body.time, "prev": body.prev, **changes}
    signature_lines = note_text[len(signed.text):]
    return note.CheckpointBody(**fields).text() + signature_lines


def cli_verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eventlog", "verify", *args])
    return result.exit_code, squash(result.output)


def squash(text: str) -> str:
    """Without white space: rich wraps long lines anywhere, even inside a path."""
    return "".join(text.split())


@pytest.fixture
def signed(org) -> Checkpoint:
    """The organisation's log with a checkpoint over all of it."""
    return checkpoints.write_checkpoint()


# --- the tests ------------------------------------------------------------------------------


def test_it_finds_nothing_wrong_with_an_untouched_log(signed):
    report = verify_log()
    assert report.problems == []
    assert report.entries == signed.tree_size == 34
    assert report.root.hex() == signed.root_hash
    assert cli_verify()[0] == 0


def test_it_names_an_entry_whose_payload_was_edited_in_place(signed):
    text = Event.objects.get(seq=5).canonical
    tamper("UPDATE eventlog_event SET canonical = %s WHERE seq = 5",
           [text.replace('"SP 9.1.3"', '"SP 1.1"')])
    problems = verify_log().problems
    assert problems[0] == ("entry #5: its stored bytes do not hash to its leaf hash (the "
                           "entry was changed after it was written)")
    assert problems[1] == (f"the first 34 entries do not match the root in the {label(signed)}: "
                           "the log was changed after it was signed")
    code, output = cli_verify()
    assert code == 1
    assert squash("entry #5: its stored bytes do not hash to its leaf hash") in output


def test_it_names_a_deleted_entry(signed):
    tamper("DELETE FROM eventlog_event WHERE seq = 6")
    problems = verify_log().problems
    assert problems[:2] == [
        "entry #6 is missing (the next entry is #7)",
        "entry #7: does not chain to entry #6 (an entry before it was changed, removed or "
        "moved)",
    ]
    code, output = cli_verify()
    assert code == 1
    assert squash("entry #6 is missing (the next entry is #7)") in output


def test_it_names_two_entries_that_were_swapped(signed):
    tamper("UPDATE eventlog_event SET seq = -8 WHERE seq = 8")
    tamper("UPDATE eventlog_event SET seq = 8 WHERE seq = 9")
    tamper("UPDATE eventlog_event SET seq = 9 WHERE seq = -8")
    problems = verify_log().problems
    assert problems[:4] == [
        "entry #8: holds the bytes of entry #9 (entries were moved or swapped)",
        "entry #8: does not chain to entry #7 (an entry before it was changed, removed or "
        "moved)",
        "entry #9: holds the bytes of entry #8 (entries were moved or swapped)",
        "entry #9: does not chain to entry #8 (an entry before it was changed, removed or "
        "moved)",
    ]
    code, output = cli_verify()
    assert code == 1
    assert squash("entry #8: holds the bytes of entry #9 (entries were moved or swapped)") \
        in output


def test_it_notices_a_truncated_tail_against_an_earlier_checkpoint(signed):
    # The attacker removes the last four entries and sets the head back, so the log is
    # consistent with itself: only the checkpoint remembers the entries.
    tamper("DELETE FROM eventlog_event WHERE seq > 29")
    head = Event.objects.get(seq=29)
    LogHead.objects.filter(pk=1).update(seq=29, head_hash=head.leaf_hash)
    assert verify_log().problems == [
        f"the log has 29 entries but the {label(signed)} covers 34: entries after #29 were "
        "removed"]
    code, output = cli_verify("--no-columns")
    assert code == 1
    assert squash(f"the {label(signed)} covers 34: entries after #29 were removed") in output


def test_it_notices_a_truncated_tail_against_a_checkpoint_held_outside(signed, tmp_path):
    outside = tmp_path / "mailed-checkpoint.txt"
    outside.write_text(signed.note, encoding="utf-8")
    tamper("DELETE FROM eventlog_event WHERE seq > 29")
    tamper("DELETE FROM eventlog_checkpoint WHERE tree_size > 29")
    LogHead.objects.filter(pk=1).update(seq=29, head_hash=Event.objects.get(seq=29).leaf_hash)
    assert verify_log(outside=[("mailed-checkpoint.txt", signed.note)]).problems == [
        "the log has 29 entries but the checkpoint mailed-checkpoint.txt, held outside "
        "covers 34: entries after #29 were removed"]
    code, output = cli_verify("--no-columns", "--checkpoint", str(outside))
    assert code == 1
    assert squash(f"checkpoint {outside}, held outside covers 34") in output


def test_it_notices_the_stored_checkpoints_when_the_whole_log_was_rebuilt(signed):
    rebuild_log(rewrite_authority_of(5, "SP 1.1"))
    # Every entry hashes and chains again: only the signed checkpoint tells.
    problems = verify_log().problems
    assert problems == [f"the first 34 entries do not match the root in the {label(signed)}: "
                        "the log was changed after it was signed"]
    code, output = cli_verify()
    assert code == 1
    assert squash("the first 34 entries do not match the root") in output


def test_it_notices_that_every_checkpoint_was_deleted(signed):
    tamper("DELETE FROM eventlog_checkpoint")
    assert verify_log().problems == [
        "the log has 34 entries but no signed checkpoint: checkpoints were removed"]


def test_it_notices_a_rebuilt_log_with_a_checkpoint_held_outside(signed, tmp_path):
    kept = tmp_path / "checkpoint-34.txt"
    kept.write_text(signed.note, encoding="utf-8")
    add_entries(3)
    rebuild_log(rewrite_authority_of(5, "SP 1.1"))
    tamper("DELETE FROM eventlog_checkpoint")  # and the checkpoints are gone too
    problems = verify_log(outside=[("checkpoint-34.txt", signed.note)]).problems
    assert problems == ["the first 34 entries do not match the root in the checkpoint "
                        "checkpoint-34.txt, held outside: the log was changed after it was "
                        "signed",
                        "the log has 37 entries but no signed checkpoint: checkpoints were "
                        "removed"]
    code, output = cli_verify("--checkpoint", str(kept))
    assert code == 1
    assert squash(f"the first 34 entries do not match the root in the checkpoint {kept}, held "
            "outside: the log was changed after it was signed") in output


def test_it_names_a_checkpoint_whose_signed_text_was_forged(signed):
    forged = forge(signed.note, root=bytes(32))
    Checkpoint.objects.filter(pk=signed.pk).update(note=forged)
    problems = verify_log().problems
    assert problems == [f"{label(signed)}: its signature does not verify with key "
                        f"{signed.key.key_id} (forged, or signed by another key)"]
    assert cli_verify()[0] == 1


def test_it_names_a_checkpoint_signed_with_another_key(signed, settings):
    mallory = Ed25519PrivateKey.generate()
    body = note.SignedNote.parse(signed.note).text
    other = note.sign(body, settings.EVENTLOG_ORIGIN, mallory)
    Checkpoint.objects.filter(pk=signed.pk).update(note=other)
    mallory_id = note.key_id(settings.EVENTLOG_ORIGIN, note.raw_public(mallory.public_key()))
    assert verify_log().problems == [
        f"{label(signed)}: signed by an unknown key (key id {mallory_id:08x})"]


def test_it_names_a_checkpoint_whose_signature_was_made_by_another_key_under_our_id(signed):
    # The key id is only a hint: the signature itself must verify with secman's key.
    mallory = Ed25519PrivateKey.generate()
    signed_note = note.SignedNote.parse(signed.note)
    (name, key_id, _), = signed_note.signatures
    blob = key_id.to_bytes(4, "big") + mallory.sign(signed_note.text.encode())
    fake = f"{signed_note.text}\n{note.DASH} {name} {base64.b64encode(blob).decode()}\n"
    assert verify_log(outside=[("fake.txt", fake)]).problems == [
        f"checkpoint fake.txt: its signature does not verify with key {key_id:08x} (forged, "
        "or signed by another key)"]


def test_it_refuses_checkpoints_when_the_auditor_pins_another_key(signed, settings):
    stranger = Ed25519PrivateKey.generate()
    pinned = note.verifier_key(settings.EVENTLOG_ORIGIN, note.raw_public(stranger.public_key()))
    problems = verify_log(pinned_keys=[pinned]).problems
    assert len(problems) == Checkpoint.objects.count() == 2
    assert all(": signed by an unknown key (key id " in p for p in problems)


def test_it_notices_a_purged_entrys_leaf_hash_being_altered(signed):
    # Purged entries keep only their leaf hash; changing it changes the tree.
    result = retention.purge(now=timezone.now() + timezone.timedelta(days=400))
    assert result.purged["application"] == 34
    purged = Event.objects.get(seq=3)
    assert purged.canonical == "" and purged.purged_at is not None
    assert verify_log().problems == []
    tamper("UPDATE eventlog_event SET leaf_hash = %s WHERE seq = 3", ["ab" * 32])
    assert verify_log().problems == [
        f"the first 34 entries do not match the root in the {label(signed)}: the log was "
        "changed after it was signed"]
    assert cli_verify()[0] == 1


def test_it_names_a_bundle_with_a_missing_file(signed, tmp_path):
    target = tmp_path / "bundle"
    bundle.export(target)
    (target / "checkpoints.txt").unlink()
    assert verify.verify_bundle(target) == ["the bundle is missing checkpoints.txt"]
    assert verify.main([str(target)]) == 1


def test_it_keeps_the_database_triggers_against_a_careless_owner(signed):
    # Without dropping the triggers first, the database itself refuses.
    from django.db import DatabaseError, connection

    for sql in ("UPDATE eventlog_event SET authority = 'SP 1.1' WHERE seq = 5",
                "DELETE FROM eventlog_event WHERE seq = 5",
                "DELETE FROM eventlog_node", "DELETE FROM eventlog_checkpoint"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert verify_log().problems == []


def test_the_column_check_counts_every_entry_it_checks(org):
    """`secman eventlog verify` shows the column check's progress from these counts."""
    with transaction.atomic():
        services.record_batch([services.Entry(action="tests.bulk", authority="SM 4.2")
                               for _ in range(4500)])
    told: list[int] = []
    assert verification.verify_chain(progress=told.append) == []
    assert told[:2] == [2000, 2000] and sum(told) == Event.objects.count() > 4500
