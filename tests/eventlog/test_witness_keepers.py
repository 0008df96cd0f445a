"""Issue 13, finding 9: a witnessed checkpoint is kept with its free-text source, so only
those the checkpoints are mailed to store one (the addresses in SECMAN_EVENTLOG_WITNESSES,
and the Systems Administrators, SM 4.2.2), and secman keeps who brought it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rest_framework.test import APIClient

from secman.cli import main
from secman.core.errors import NotAllowed
from secman.eventlog import checkpoints
from secman.eventlog.models import Checkpoint, Event, WitnessCheckpoint
from tests.eventlog.test_tampering import add_entries

URL = "/api/eventlog/witness/"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EVENTLOG_WITNESSES = ["sysadmins@ca.example.org", "bea@example.org"]


@pytest.fixture
def kept(org) -> Checkpoint:
    checkpoint = checkpoints.write_checkpoint()
    add_entries(2)
    return checkpoint


def api(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


@pytest.mark.parametrize("login", ["aud", "nobody", "admin", "axel", "arne"])
def test_who_receives_no_checkpoints_stores_none(kept, org, login):
    before = Event.objects.count()
    response = api(org.people[login]).post(URL, {"note": kept.note, "source": "probe"},
                                           format="json")
    assert response.status_code == 403, (login, response.content)
    assert "SECMAN_EVENTLOG_WITNESSES" in response.json()["detail"]
    # Refused before the body is read: even an empty one is refused, not "invalid".
    assert api(org.people[login]).post(URL, {}, format="json").status_code == 403
    assert not WitnessCheckpoint.objects.exists() and Event.objects.count() == before
    assert not checkpoints.may_store_witness(org.people[login])
    with pytest.raises(NotAllowed):
        checkpoints.import_checkpoint(kept.note, source="probe", actor=org.people[login])
    assert not WitnessCheckpoint.objects.exists()


@pytest.mark.parametrize("login", ["sam", "bea"])  # a Systems Administrator; a witness
def test_a_witness_stores_one_and_is_named_with_it(kept, org, login, client):
    person = org.people[login]
    response = api(person).post(URL, {"note": kept.note, "source": "my mailbox"},
                                format="json")
    assert response.status_code == 201, response.content
    stored = WitnessCheckpoint.objects.get()
    assert stored.recorded_by == person
    assert stored.recorded_by_label == f"{person.name} (api)"
    org.sam.refresh_from_db()
    client.force_login(org.sam.user)
    page = client.get("/events/checkpoints/").content.decode()
    witnesses = page[page.index("Checkpoints brought back by witnesses"):]
    assert f"{person.name} (api)" in witnesses and "my mailbox" in witnesses


def test_the_command_line_records_the_operator(kept, tmp_path):
    path = tmp_path / "checkpoint.txt"
    path.write_text(kept.note, encoding="utf-8")
    result = CliRunner().invoke(main, ["eventlog", "import-checkpoint", str(path)])
    assert result.exit_code == 0, result.output
    stored = WitnessCheckpoint.objects.get()
    assert stored.recorded_by is None
    assert stored.recorded_by_label.startswith("secman command line (cli, os user ")


def test_a_source_with_control_characters_is_refused_and_nothing_is_kept(kept, org):
    response = api(org.bea).post(URL, {"note": kept.note, "source": "mail \u202egpj.exe"},
                                 format="json")
    assert response.status_code == 400, response.content
    assert "U+202E" in response.json()["detail"]
    assert not WitnessCheckpoint.objects.exists()
