"""The limits of a signed log without outside witnesses, stated and counted (issue 13,
"Tamper-evidence, stated honestly"), and the drills of docs/eventlog.md's table:

| drill                                         | no witness   | witness checkpoint |
|-----------------------------------------------|--------------|--------------------|
| edit a row                                    | detected     | detected           |
| delete a middle row                           | detected     | detected           |
| cut off entries after the newest checkpoint   | NOT detected | NOT detected (*)   |
| cut off signed entries, re-sign with the key  | NOT detected | detected           |
| rewrite the log, re-sign with the key         | NOT detected | detected           |

(*) unless the witness's copy is newer than the cut. What is not detected is counted:
`secman eventlog verify` (and the offline verifier) say how many entries no signed and no
witnessed checkpoint covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from secman.cli import main
from secman.eventlog import bundle, checkpoints
from secman.eventlog.models import Event, LogHead
from secman.eventlog.verification import verify_log
from tests.conftest import tamper
from tests.eventlog.test_bundle import auditor
from tests.eventlog.test_tampering import add_entries, rebuild_log, rewrite_authority_of


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EVENTLOG_CHECKPOINT_EVERY = 1000
    settings.EVENTLOG_CHECKPOINT_SECONDS = 3600  # no append signs on its own here
    return settings.DATA_DIR


@pytest.fixture
def witnessed(org, tmp_path) -> Path:
    """The organisation's 34 entries under a checkpoint that a witness keeps outside
    secman (a file saved from the checkpoint mail), and three entries after it."""
    kept = tmp_path / "witness-34.txt"
    kept.write_text(checkpoints.write_checkpoint().note, encoding="utf-8")
    add_entries(3)
    return kept


def verify_json(*args: str | Path) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["eventlog", "verify", "--no-columns", "--json",
                                       *map(str, args)])
    start = result.output.index("{")
    return result.exit_code, json.loads(result.output[start:result.output.rindex("}") + 1])


def verify_text(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eventlog", "verify", "--no-columns", *map(str, args)])
    return result.exit_code, " ".join(result.output.split())


def cut_after(seq: int) -> None:
    """Remove every entry after #seq and set the head back: a log consistent with itself."""
    tamper("DELETE FROM eventlog_event WHERE seq > %s", [seq])
    tamper("DELETE FROM eventlog_node")  # rebuilt from the entries by rebuild_log
    rebuild_log(lambda fields: None)
    LogHead.objects.filter(pk=1).update(seq=seq)


def resign_everything() -> None:
    """What whoever holds the signing key does after a change: drop every checkpoint and
    sign one over the log as it now is."""
    tamper("DELETE FROM eventlog_checkpoint")
    checkpoints.write_checkpoint()


# --- counting what is not covered ------------------------------------------------------------


def test_verify_counts_entries_no_signed_and_no_witnessed_checkpoint_covers(witnessed):
    report = verify_log()
    assert report.problems == []
    assert (report.entries, report.signed, report.not_signed) == (37, 34, 3)
    assert (report.witnessed, report.not_witnessed) == (0, 37)
    code, said = verify_json()
    assert code == 0
    assert said == {"ok": True, "entries": 37, "checkpoints": 2, "problems": [],
                    "signed_up_to": 34, "not_signed": 3,
                    "witnessed_up_to": 0, "not_witnessed": 37}
    code, text = verify_text()
    assert code == 0
    assert ("3 of 37 entries (after #34) are not covered by a signed checkpoint yet (one is "
            "signed within 3600s of new entries)") in text
    assert "No witnessed checkpoint: none of the 37 entries is covered by a checkpoint held " \
           "outside secman" in text


def test_a_witness_checkpoint_given_or_imported_counts_as_witnessed(witnessed):
    code, said = verify_json("--checkpoint", witnessed)
    assert code == 0
    assert (said["witnessed_up_to"], said["not_witnessed"]) == (34, 3)
    assert "3 of 37 entries (after #34) are not covered by a witnessed checkpoint" in \
        verify_text("--checkpoint", witnessed)[1]
    # Imported once (a witness's copy checked and remembered), it counts from then on.
    checkpoints.import_checkpoint(witnessed.read_text(), source="mail of 3 December")
    assert verify_json()[1]["not_witnessed"] == 3
    resign_everything()  # covers all 37 now
    assert verify_json()[1]["not_signed"] == 0
    assert "Signed checkpoints cover all 37 entries." in verify_text()[1]


# --- the drills ------------------------------------------------------------------------------


def test_an_edited_row_is_detected_without_a_witness(witnessed):
    text = Event.objects.get(seq=5).canonical
    tamper("UPDATE eventlog_event SET canonical = %s WHERE seq = 5",
           [text.replace('"SP 9.1.3"', '"SP 1.1"')])
    assert verify_json()[0] == 1
    assert verify_json("--checkpoint", witnessed)[0] == 1


def test_a_deleted_middle_row_is_detected_without_a_witness(witnessed):
    tamper("DELETE FROM eventlog_event WHERE seq = 6")
    code, said = verify_json()
    assert code == 1
    assert said["problems"][0] == "entry #6 is missing (the next entry is #7)"


def test_entries_after_the_newest_checkpoint_can_be_cut_off_undetected(witnessed):
    """The limit the counts make visible: verify said 3 entries were not covered; cut
    off, nothing tells, with or without the witness (it is older than the cut)."""
    assert verify_json()[1]["not_signed"] == 3
    cut_after(34)
    assert verify_json() == (0, {"ok": True, "entries": 34, "checkpoints": 2, "problems": [],
                                 "signed_up_to": 34, "not_signed": 0,
                                 "witnessed_up_to": 0, "not_witnessed": 34})
    assert verify_json("--checkpoint", witnessed)[0] == 0


def test_signed_entries_cut_off_and_signed_again_are_found_only_by_a_witness(witnessed):
    cut_after(30)
    resign_everything()
    assert verify_json()[0] == 0  # the key holder's cut is invisible from inside
    code, said = verify_json("--checkpoint", witnessed)
    assert code == 1
    assert said["problems"] == [
        f"the log has 30 entries but the checkpoint {witnessed}, held outside covers 34: "
        "entries after #30 were removed"]


def test_a_log_rewritten_and_signed_again_is_found_only_by_a_witness(witnessed, tmp_path):
    checkpoints.import_checkpoint(witnessed.read_text(), source="mail of 3 December")
    rebuild_log(rewrite_authority_of(5, "SP 1.1"))
    resign_everything()
    # The imported copy is in the database: it tells, as long as it is left there.
    code, said = verify_json()
    assert code == 1
    assert said["problems"][0].startswith(
        "the first 34 entries do not match the root in the witness checkpoint from mail of "
        "3 December (imported ")
    # Whoever holds the database deletes it too: only the copy held outside tells.
    tamper("DELETE FROM eventlog_witnesscheckpoint")
    assert verify_json()[0] == 0
    code, said = verify_json("--checkpoint", witnessed)
    assert code == 1
    assert said["problems"] == [
        f"the first 34 entries do not match the root in the checkpoint {witnessed}, held "
        "outside: the log was changed after it was signed"]

    # Offline alike: the bundle of the rewritten log verifies, except against the witness.
    target = tmp_path / "bundle"
    bundle.export(target)
    code, output = auditor(target)
    assert code == 0, output
    code, output = auditor(target, "--checkpoint", witnessed)
    assert code == 1
    assert output == (f"FAIL the first 34 entries do not match the root in the checkpoint "
                      f"{witnessed}, held outside, at 34\n")


# --- the offline verifier counts too ---------------------------------------------------------


def test_the_offline_verifier_counts_what_no_checkpoint_covers(witnessed, tmp_path):
    target = tmp_path / "bundle"
    bundle.export(target)
    code, output = auditor(target)
    assert code == 0, output
    assert output.splitlines()[1:] == [
        "NOTE 3 entries (up to #37) are covered by no signed checkpoint in the bundle: they "
        "could have been cut off the end undetected",
        "NOTE no witnessed checkpoint given (--checkpoint FILE): whoever held the signing key "
        "could have rewritten and signed these entries again undetected"]
    code, output = auditor(target, "--checkpoint", witnessed)
    assert code == 0, output
    assert output.splitlines()[2:] == [
        "NOTE 3 entries (up to #37) are covered by no witnessed checkpoint"]


def test_the_offline_verifier_finds_a_cut_the_witness_saw(witnessed, tmp_path):
    cut_after(30)
    resign_everything()
    target = tmp_path / "bundle"
    bundle.export(target)
    assert auditor(target)[0] == 0
    code, output = auditor(target, "--checkpoint", witnessed)
    assert code == 1
    assert output == (f"FAIL checkpoint {witnessed}, held outside, at 34: the bundle's newest "
                      "checkpoint covers 30 entries: entries were cut off the end of the log "
                      "(or the bundle is older than the witness)\n")
