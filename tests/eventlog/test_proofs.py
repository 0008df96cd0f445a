"""RFC 9162 inclusion and consistency proofs, from the service, the CLI and the API, each
checked against the roots in signed checkpoints."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from rest_framework.test import APIClient

from secman.cli import main
from secman.eventlog import merkle, note, proofs
from secman.eventlog.checkpoints import write_checkpoint
from secman.eventlog.models import Checkpoint, Event
from tests.eventlog.test_tampering import add_entries


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def checkpoints(org, settings) -> dict[int, bytes]:
    """Signed roots at 1, 34, 40 and 41 entries, read from the notes themselves."""
    write_checkpoint()
    add_entries(6)
    write_checkpoint()
    add_entries(1)
    write_checkpoint()
    return {c.tree_size: note.CheckpointBody.parse(note.SignedNote.parse(c.note).text).root
            for c in Checkpoint.objects.all()}


def hashes(proof: dict) -> list[bytes]:
    return [bytes.fromhex(h) for h in proof["proof"]]


def included(proof: dict, root: bytes) -> bool:
    return merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["seq"] - 1,
                                   proof["tree_size"], hashes(proof), root)


def consistent(proof: dict, roots: dict[int, bytes]) -> bool:
    return merkle.verify_consistency(proof["first"], proof["second"], roots[proof["first"]],
                                     roots[proof["second"]], hashes(proof))


def test_it_proves_every_entry_in_every_checkpoint(checkpoints):
    assert sorted(checkpoints) == [1, 34, 40, 41]
    for size, root in checkpoints.items():
        for seq in range(1, size + 1):
            proof = proofs.inclusion_proof(seq, size)
            assert proof["leaf_hash"] == Event.objects.get(seq=seq).leaf_hash
            assert included(proof, root), (seq, size)
            assert not included(proof, merkle.node_hash(root, root))


def test_it_proves_each_checkpoint_consistent_with_every_later_one(checkpoints):
    for first in checkpoints:
        for second in checkpoints:
            if first <= second:
                proof = proofs.consistency_proof(first, second)
                assert bytes.fromhex(proof["first_root"]) == checkpoints[first]
                assert consistent(proof, checkpoints), (first, second)


def test_it_proves_against_the_whole_log_by_default(checkpoints):
    assert included(proofs.inclusion_proof(7), checkpoints[41])
    assert consistent(proofs.consistency_proof(34), checkpoints)


def test_it_prints_proofs_on_the_command_line(checkpoints):
    result = CliRunner().invoke(main, ["eventlog", "proof", "inclusion", "12", "--size", "34"])
    assert result.exit_code == 0, result.output
    assert included(json.loads(result.output), checkpoints[34])
    result = CliRunner().invoke(main, ["eventlog", "proof", "consistency", "34", "40"])
    assert result.exit_code == 0, result.output
    assert consistent(json.loads(result.output), checkpoints)


@pytest.mark.parametrize(("args", "message"), [
    (["inclusion", "0"], "Invalid value for 'SEQ': 0 is not in the range x>=1."),
    (["inclusion", "5", "--size", "999"], "Error: entry #5 is not in a tree of 999 entries"),
    (["inclusion", "40", "--size", "34"], "Error: entry #40 is not in a tree of 34 entries"),
    (["consistency", "40", "34"],
     "Error: no consistency proof from 40 to 34 entries in a log of 41"),
    (["consistency", "34", "999"],
     "Error: no consistency proof from 34 to 999 entries in a log of 41"),
])
def test_it_says_what_is_wrong_with_a_proof_asked_for_on_the_command_line(
        checkpoints, args, message):
    result = CliRunner().invoke(main, ["eventlog", "proof", *args])
    assert result.exit_code in (1, 2)
    assert message in " ".join(result.output.split())


@pytest.fixture
def api(org):
    client = APIClient()
    client.force_login(org.aud.user)  # proofs are for anyone who checks, auditors first
    return client


def test_it_serves_proofs_through_the_api(checkpoints, api):
    response = api.get("/api/eventlog/proofs/inclusion/?seq=12&size=40")
    assert response.status_code == 200
    assert included(response.json(), checkpoints[40])
    response = api.get("/api/eventlog/proofs/consistency/?first=1&second=41")
    assert response.status_code == 200
    assert consistent(response.json(), checkpoints)
    response = api.get("/api/eventlog/proofs/inclusion/?seq=41")
    assert included(response.json(), checkpoints[41])


def test_it_serves_an_entrys_proof_from_its_page(checkpoints, org):
    from django.test import Client

    client = Client()
    client.force_login(org.aud.user)
    proof = client.get("/events/5/proof.json").json()
    assert included(proof, checkpoints[41])


@pytest.mark.parametrize(("query", "body"), [
    ("inclusion/?seq=0", {"seq": ["Ensure this value is greater than or equal to 1."]}),
    ("inclusion/?seq=x", {"seq": ["A valid integer is required."]}),
    ("inclusion/", {"seq": ["This field is required."]}),
    ("inclusion/?seq=5&size=999", {"detail": "entry #5 is not in a tree of 999 entries"}),
    ("inclusion/?seq=999", {"detail": "entry #999 is not in a tree of 41 entries"}),
    ("consistency/?first=40&second=34",
     {"detail": "no consistency proof from 40 to 34 entries in a log of 41"}),
    ("consistency/?first=0", {"first": ["Ensure this value is greater than or equal to 1."]}),
    ("consistency/?first=5&second=999",
     {"detail": "no consistency proof from 5 to 999 entries in a log of 41"}),
])
def test_it_answers_400_with_the_reason_for_a_bad_proof_request(checkpoints, api, query,
                                                                  body):
    response = api.get(f"/api/eventlog/proofs/{query}")
    assert response.status_code == 400
    assert response.json() == body


def test_it_refuses_bad_proof_requests_in_the_service(checkpoints):
    with pytest.raises(ValueError, match=r"^entry #0 is not in a tree of 41 entries$"):
        proofs.inclusion_proof(0)
    with pytest.raises(ValueError, match=r"^entry #1 is not in a tree of 42 entries$"):
        proofs.inclusion_proof(1, 42)
    with pytest.raises(ValueError, match=r"^no consistency proof from 2 to 1 entries"):
        proofs.consistency_proof(2, 1)
    with pytest.raises(ValueError, match=r"^no consistency proof from 0 to 41 entries"):
        proofs.consistency_proof(0)
