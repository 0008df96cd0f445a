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
