"""A visit moves only along its lifecycle table (visits.lifecycles.VISIT): a step the
table does not allow from the visit's state is refused, names the states, and writes
nothing; the visit page offers only the steps the table allows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.core.errors import RuleViolation
from secman.eventlog.models import Event
from secman.visits import services
from secman.visits.lifecycles import VISIT
from secman.visits.models import Participant, Visit, VisitReport


def step(org, name: str, visit: Visit):
    steps = {
        "authorise": lambda: services.authorise_visit(actor=org.bea, visit=visit,
                                                      reference="MoU Appendix B"),
        "check_in": lambda: services.check_in(actor=org.axel, visit=visit,
                                              people=[org.axel, org.sam]),
        "check_out": lambda: services.check_out(actor=org.axel, visit=visit,
                                                people=[org.axel, org.sam]),
        "report": lambda: services.file_report(actor=org.sam, visit=visit, kind="accessor",
                                               text="Replaced the disk."),
        "close": lambda: services.close_visit(actor=org.axel, visit=visit),
    }
    return steps[name]()


@pytest.mark.parametrize(("fixture", "name"), [
    ("authorised_visit", "authorise"),   # authorised once
    ("authorised_visit", "check_out"),   # nobody is on site yet
    ("authorised_visit", "report"),      # nobody has been on site
    ("authorised_visit", "close"),
    ("visited", "check_in"),             # everyone has left: the visit is over
    ("visited", "authorise"),
])
def test_a_visit_refuses_a_step_its_table_lacks_and_writes_nothing(request, physical,
                                                                   fixture, name):
    visit = request.getfixturevalue(fixture)
    status = visit.status
    assert not any(t.name == name for t in VISIT.moves_from(status))
    counts = (Event.objects.count(), Participant.objects.count(), VisitReport.objects.count())
    with pytest.raises(RuleViolation) as refused:
        step(physical, name, visit)
    assert refused.value.message.startswith(f"this visit is {VISIT.label(status)};")
    assert refused.value.section
    assert Visit.objects.get(pk=visit.pk).status == status
    assert (Event.objects.count(), Participant.objects.count(),
            VisitReport.objects.count()) == counts


def test_a_closed_visit_does_not_change_any_more(physical, visited):
    step(physical, "report", visited)
    services.file_report(actor=physical.axel, visit=visited, kind="access_engineer",
                         text="Watched the disk being replaced.")
    step(physical, "close", visited)
    before = Event.objects.count()
    with pytest.raises(RuleViolation, match="it does not change any more"):
        step(physical, "report", visited)
    with pytest.raises(RuleViolation, match="it does not change any more"):
        step(physical, "check_in", visited)
    assert Event.objects.count() == before


def forms_on(client, visit: Visit) -> set[str]:
    page = client.get(visit.get_absolute_url()).content.decode()
    return {name for name in ("authorise", "check_in", "check_out", "report", "ruling",
                              "close") if f"/visits/{visit.pk}/{name}/" in page}


def test_the_visit_page_offers_only_the_steps_the_table_allows(client, physical):
    client.force_login(physical.axel.user)
    now = timezone.now()
    visit = services.request_visit(actor=physical.sam, purpose="Disk", systems="signer1",
                                   window_start=now - dt.timedelta(hours=1),
                                   window_end=now + dt.timedelta(hours=2))
    assert forms_on(client, visit) == {"authorise"}
    step(physical, "authorise", visit)
    assert forms_on(client, visit) == {"check_in"}
    step(physical, "check_in", visit)
    assert forms_on(client, visit) == {"check_in", "check_out", "report"}
    step(physical, "check_out", visit)
    assert forms_on(client, visit) == {"report", "close"}
