"""CSV import: every row checked first, nothing written if any is bad, each bad row named;
hostile input never crashes the importer."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secman.eventlog.models import Event
from secman.physical import csvio
from secman.physical.models import Computer, Media

HEADER = ",".join(csvio.IMPORT_COMPUTER)


def rows(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_it_imports_computers_and_exports_them_again(org):
    data = rows("CA-1,alpha,Acme,R1,S1,support,R1U1,web,,bought new",
                "CA-2,beta,Acme,R1,S2,support,R1U2,db,,bought new")
    report = csvio.import_computers(data, actor=org.axel, authority="SP 2.2.1")
    assert report.ok and report.created == 2
    import io

    out = io.StringIO()
    csvio.export_computers(out)
    assert "CA-1,alpha,Acme,R1,S1" in out.getvalue()


def test_it_writes_nothing_when_one_row_is_bad_and_names_it(org):
    before = Event.objects.count()
    data = rows("CA-1,alpha,Acme,R1,S1,support,R1U1,web,,",
                "CA-1,beta,Acme,R1,S2,support,R1U2,db,,",
                "CA-3,gamma,Acme,R1")
    report = csvio.import_computers(data, actor=org.axel, authority="SP 2.2.1")
    assert not report.ok
    assert any(e.startswith("line 3: asset_tag 'CA-1' also on line 2") for e in report.errors)
    assert any(e.startswith("line 4:") for e in report.errors)
    assert Computer.objects.count() == 0 and Event.objects.count() == before


def test_it_checks_without_writing_in_a_dry_run(org):
    report = csvio.import_computers(rows("CA-1,alpha,Acme,R1,S1,support,R1U1,web,,"),
                                    actor=org.axel, authority="SP 2.2.1", dry_run=True)
    assert report.ok and report.created == 1
    assert Computer.objects.count() == 0


def test_it_refuses_media_rows_with_bad_values(org):
    data = (b"serial_number,media_type,capacity_gb,description,location,critical_data\n"
            b"M1,floppy,-3,,safe,maybe\n")
    report = csvio.import_media(data, actor=org.sam, present=[org.sam])
    assert len(report.errors) == 3 and Media.objects.count() == 0


def test_it_quotes_cells_a_spreadsheet_would_run(org):
    import io

    csvio.import_computers(rows("=cmd(),x,Acme,R1,S1,support,R1U1,web,,"), actor=org.axel,
                           authority="SP 2.2.1")
    out = io.StringIO()
    csvio.export_computers(out)
    assert "'=cmd()" in out.getvalue()


@pytest.mark.django_db
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=400),
                      st.text(max_size=400).map(lambda t: (HEADER + "\n" + t).encode())))
def test_it_never_crashes_on_hostile_input(data):
    report = csvio.import_computers(data, actor=None, authority="SP 2.2.1", dry_run=True)
    assert isinstance(report.errors, list)
    assert Computer.objects.count() == 0


# --- the bulk path (issue 13, finding 4) ------------------------------------------------


def media_rows(*lines: str) -> bytes:
    return ("\n".join([",".join(csvio.IMPORT_MEDIA), *lines]) + "\n").encode()


def test_each_imported_computer_keeps_its_history_and_the_import_has_one_summary(org):
    import hashlib

    from secman.eventlog.selectors import history_for

    data = rows("CA-2,beta,Acme,R1,S2,support,R1U2,db,,", "CA-1,alpha,Acme,R1,S1,,,,,")
    mark = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    report = csvio.import_computers(data, actor=org.axel, authority="SP 2.2.1")
    assert report.ok and report.created == 2
    written = list(Event.objects.filter(seq__gt=mark).order_by("seq"))
    assert [e.action for e in written] == ["physical.computer.acquire"] * 2 + [
        "physical.computer.import"]
    digest = hashlib.sha256(data).hexdigest()
    summary = written[-1]
    assert summary.details == {"rows": 2, "file_sha256": digest, "asset_tags": "CA-1 … CA-2"}
    assert summary.actor_id == org.axel.pk and summary.subject_type == ""
    computer = Computer.objects.get(asset_tag="CA-1")
    assert computer.status == "acquired" and computer.vendor == "Acme"
    (entry,) = history_for(computer, org.axel)
    assert entry.action == "physical.computer.acquire" and entry.authority == "SP 2.2.1"
    assert entry.details["asset_tag"] == "CA-1" and entry.details["import"] == digest
    assert "maintenance_contact" not in entry.details  # empty values are left out, as before


def test_imported_media_are_provisioned_with_their_report_and_who_was_present(org):
    data = media_rows("M-1,ssd,500,spare,Safe 1,yes", "M-2,hdd,4000,,Safe 2,no")
    report = csvio.import_media(data, actor=org.sam, present=[org.sam, org.sue])
    assert report.ok and report.created == 2
    m1 = Media.objects.get(serial_number="M-1")
    assert (m1.status, m1.capacity_gb, m1.critical_data, m1.location) == (
        "provisioned", 500, True, "Safe 1")
    assert m1.last_erased_at is not None
    (m1_report,) = m1.reports.all()
    assert m1_report.erased and m1_report.to_status == "provisioned"
    assert set(m1_report.present.all()) == {org.sam, org.sue}
    assert m1_report.reported_by == org.sam and str(m1_report.authority) == "SP 2.2.3.1"
    assert not Media.objects.get(serial_number="M-2").critical_data
    actions = list(Event.objects.filter(action__startswith="physical.media.")
                   .order_by("seq").values_list("action", "subject_id"))
    assert actions == [("physical.media.provision", str(m1.pk)),
                       ("physical.media.provision",
                        str(Media.objects.get(serial_number="M-2").pk)),
                       ("physical.media.import", "")]


def test_it_refuses_values_the_inventory_already_holds_naming_the_line(org, rack):
    before = Event.objects.count()
    data = rows("CA-9,other,Acme,R1,S9,,,,,", "CA-0001,x,Acme,R1,S3,,,,,",
                "CA-8,signer,Acme,R1,S4,,,,,", "CA-7,y,Acme,R1,SN-1,,,,,",
                "CA-6,z,Other,R1,SN-1,,,,,")
    for dry_run in (True, False):
        report = csvio.import_computers(data, actor=org.axel, authority="SP 2.2.1",
                                        dry_run=dry_run)
        assert report.errors == [
            "line 3: asset tag CA-0001 is already used: each unit is uniquely identified "
            "(SP 2.2.1)",
            "line 4: nickname signer is already used (SP 2.2.1)",
            "line 5: serial number SN-1 is already in the inventory (SM 2.2.1)"], dry_run
    assert Computer.objects.count() == 1 and Event.objects.count() == before


def test_a_row_the_one_by_one_service_refuses_is_refused_in_bulk_too(org):
    too_long = "x" * 41
    report = csvio.import_computers(rows(f"{too_long},a,,,,,,,,", " ,b,,,,,,,,"),
                                    actor=org.axel, authority="SP 2.2.1")
    assert report.errors == ["line 2: asset tag is longer than 40 characters (41 given)",
                             "line 3: a computer needs an asset tag (SP 2.2.1)"]
    assert Computer.objects.count() == 0


def test_who_may_not_record_hardware_is_refused_and_nothing_is_written(org):
    before = Event.objects.count()
    report = csvio.import_computers(rows("CA-1,alpha,,,,,,,,"), actor=org.aud,
                                    authority="SP 2.2.1")
    assert report.errors == ["recording hardware is done by Access Engineers and Systems "
                             "Administrators (SP 2.2.1)"]
    assert Computer.objects.count() == 0 and Event.objects.count() == before


def test_a_dry_run_writes_no_row_at_all_not_even_the_authority_it_cites(org):
    from secman.authority.models import Authority

    before = Authority.objects.count()
    report = csvio.import_computers(rows("CA-1,alpha,,,,,,,,"), actor=org.axel,
                                    authority="SP 2.2.1.1", dry_run=True)
    assert report.ok and report.created == 1
    assert Authority.objects.count() == before and Computer.objects.count() == 0


def test_an_empty_file_imports_nothing_and_records_nothing(org):
    before = Event.objects.count()
    report = csvio.import_computers(rows(), actor=org.axel, authority="SP 2.2.1")
    assert report.ok and report.created == 0 and Event.objects.count() == before


def test_it_refuses_a_file_over_the_row_cap_or_the_byte_cap(org):
    over_rows = rows(*(f"CA-{n}" + ",,,,,,,,," for n in range(csvio.MAX_ROWS + 1)))
    assert len(over_rows) < csvio.MAX_BYTES
    report = csvio.import_computers(over_rows, actor=org.axel, authority="SP 2.2.1")
    assert report.errors == [f"the file has more than {csvio.MAX_ROWS:,} rows, the most an "
                             "import takes: split it"]
    at_cap = rows(*(f"CA-{n}" + ",,,,,,,,," for n in range(csvio.MAX_ROWS)))
    assert csvio.import_computers(at_cap, actor=org.axel, authority="SP 2.2.1",
                                  dry_run=True).created == csvio.MAX_ROWS
    # Malformed rows count too: a cap that only good rows reach could be walked around.
    malformed = rows(*("a" for _ in range(csvio.MAX_ROWS + 1)))
    report = csvio.import_computers(malformed, actor=org.axel, authority="SP 2.2.1")
    assert (f"the file has more than {csvio.MAX_ROWS:,} rows, the most an import takes: "
            "split it") in report.errors
    assert len(report.errors) == csvio.MAX_ROWS + 1
    over_bytes = rows("CA-1,,,,,,,,," + "x" * csvio.MAX_BYTES)
    report = csvio.import_media(over_bytes, actor=org.sam, present=[org.sam])
    assert report.errors == ["the file is larger than 5 MB, the most an import reads: "
                             "split it"]
    assert Computer.objects.count() == 0 and Media.objects.count() == 0


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(
    st.sampled_from(["CA-1", "CA-2", "CA-3", "", " ", "x" * 41, "CA\x1f", "ÇA-é"]),
    st.sampled_from(["", "alpha", "beta", "=1+1"]),
    st.sampled_from(["", "Acme", "Other"]),
    st.sampled_from(["", "S1", "S2"]),
    st.text(max_size=30)), max_size=6))
def test_a_bulk_import_is_all_or_nothing_and_its_dry_run_says_which(lines):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csvio.IMPORT_COMPUTER)
    for tag, nickname, vendor, serial, notes in lines:
        writer.writerow([tag, nickname, vendor, "R1", serial, "", "", "", "", notes])
    data = out.getvalue().encode()
    events = Event.objects.count()
    dry = csvio.import_computers(data, actor=None, authority="SP 2.2.1", dry_run=True)
    assert Computer.objects.count() == 0 and Event.objects.count() == events
    real = csvio.import_computers(data, actor=None, authority="SP 2.2.1")
    assert (dry.ok, dry.errors, dry.created) == (real.ok, real.errors, real.created)
    if real.ok:
        assert Computer.objects.count() == real.created
        assert Event.objects.count() == events + (real.created + 1 if real.created else 0)
    else:
        assert Computer.objects.count() == 0 and Event.objects.count() == events
    Computer.objects.all().delete()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(
    lambda t: (",".join(csvio.IMPORT_MEDIA) + "\n" + t).encode())))
def test_the_media_importer_never_crashes_on_hostile_input(data):
    from secman.people.models import Person

    present = [Person.objects.get_or_create(email="p@example.org", defaults={"name": "P"})[0]]
    report = csvio.import_media(data, actor=None, present=present, dry_run=True)
    assert isinstance(report.errors, list)
    assert Media.objects.count() == 0
